"""Text the frame cannot hold as asked, through `joypix run`: it wraps and shrinks into a valid clip, or fails
with one clear line; and a subtitles file of any length costs only the cues the frames show."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import numpy as np
import pytest
from helpers.images import write_image
from helpers.runs import run_joypix
from helpers.video import decoded_frames, probe

from joypix_recipes.render.text import MAX_TEXT_CHARS

FPS = 10
SIZE = (480, 854)  # 9:16 at 480p
LIME = np.array((0, 255, 0))


def _recipe(folder: Path, step: str, seconds: float) -> Path:
    write_image(folder / "photo.jpg", (320, 568))
    recipe = folder / "recipe.yaml"
    recipe.write_text(
        "version: 1\nname: text\ninputs: [photo.jpg]\nsteps:\n"
        f"  - animate: {{motion: none, duration: {seconds}}}\n"
        f"  - {step}\n"
        f"export: {{aspect: '9:16', resolution: 480p, fps: {FPS}, quality: low, output: clip.mp4}}\n",
        encoding="utf-8",
    )
    return recipe


def _caption(text: str, size: int) -> str:
    return "text: " + json.dumps({"content": text, "size": size, "position": "center", "animate": "none"})


def _timestamp(ms: int) -> str:
    return f"{ms // 3_600_000:02}:{ms // 60_000 % 60:02}:{ms // 1000 % 60:02},{ms % 1000:03}"


def _lime_columns(frame: np.ndarray) -> int:
    """How many columns of the band across the frame's middle show the lime plate (above or below the letters)."""
    middle = frame.shape[0] // 2
    band = frame[middle - 60 : middle + 60].astype(int)
    return int((np.abs(band - LIME).max(axis=-1) < 60).any(axis=0).sum())


def test_a_hundred_thousand_cues_render_a_one_second_clip_in_seconds_showing_the_right_cue(tmp_path: Path) -> None:
    # Cue n is on screen from 10n to 10n+10 ms; the frame at 500 ms shows cue 50 alone, the only wide one.
    cues = [
        f"{n + 1}\n{_timestamp(10 * n)} --> {_timestamp(10 * n + 10)}\n{'WWWWWWWWWW' if n == 50 else 'i'}\n"
        for n in range(100_000)
    ]
    (tmp_path / "many.srt").write_text("\n".join(cues), encoding="utf-8")
    style = {"file": "many.srt", "position": "center", "size": 60, "animate": "none", "box": {"color": "lime"}}
    recipe = _recipe(tmp_path, "subtitles: " + json.dumps(style), 1)

    # CPU time of joypix and its render workers, so tests running beside this one cannot stretch it.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_joypix(["run", str(recipe), "--out", str(tmp_path / "out")], timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    took = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    assert result.returncode == 0, result.stderr
    # About 6 s of CPU, mostly reading and planning the cues; before, 10k cues took 24 s and 100k never ended.
    assert took < 20, f"took {took:.1f} s of CPU"
    frames = decoded_frames(tmp_path / "out" / "clip.mp4")
    assert len(frames) == FPS
    widths = [_lime_columns(frame) for frame in frames]
    assert all(width > 0 for width in widths), widths  # some cue shows in every frame
    assert widths[5] > 3 * max(widths[4], widths[6]), widths  # cue 50 in the frame at 500 ms, not its neighbours'


LONG_TEXTS = {
    "78 Ws at size 20": ("W" * 78, 20),
    "200 wide ligatures": ("\ufdfd" * 200, 20),
    "a long sentence at size 72": (" ".join(["caption"] * 120), 72),
}


@pytest.mark.parametrize("text,size", LONG_TEXTS.values(), ids=LONG_TEXTS.keys())
def test_text_too_wide_for_the_frame_wraps_and_shrinks_into_a_valid_clip(tmp_path: Path, text: str, size: int) -> None:
    plain = _recipe(tmp_path / "plain", "fade: {in: 0, out: 0}", 0.3)
    captioned = _recipe(tmp_path / "captioned", _caption(text, size), 0.3)

    for recipe in (plain, captioned):
        result = run_joypix(["run", str(recipe), "--out", str(recipe.parent / "out")], timeout=120)
        assert result.returncode == 0, result.stderr

    clip = captioned.parent / "out" / "clip.mp4"
    assert probe(clip)["size"] == SIZE and probe(clip)["frames"] == 3
    without, with_text = (decoded_frames(folder / "out" / "clip.mp4")[1].astype(int) for folder in (plain.parent, captioned.parent))
    changed = np.abs(with_text - without).max(axis=-1) > 60
    rows, columns = np.nonzero(changed)
    assert rows.size > 200, "the text is drawn"
    assert columns.min() > 0 and columns.max() < SIZE[0] - 1, "inside the frame's sides"


def test_text_past_the_length_limit_fails_the_job_with_one_clear_line(tmp_path: Path) -> None:
    accents = "a" + "\u0301" * 5000  # one letter under five thousand combining marks
    recipe = _recipe(tmp_path, _caption(accents, 20), 0.3)

    result = run_joypix(["run", str(recipe), "--out", str(tmp_path / "out")], timeout=120)

    assert result.returncode == 1
    (failed,) = [line for line in result.stdout.splitlines() if line.startswith("failed")]
    assert f"has 5,001 characters; a title or caption may have at most {MAX_TEXT_CHARS:,}" in failed
    assert "\u0301" * 3 not in failed, "the message shows the text without its pile of accents"
    assert "OpenCV" not in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "clip.mp4").exists()


def test_a_letter_too_wide_for_the_frame_even_at_the_smallest_size_fails_with_one_clear_line(tmp_path: Path) -> None:
    # The default face draws each accent it lacks as a box beside the letter: one unbreakable 5000 px letter.
    recipe = _recipe(tmp_path, _caption("a" + "\u0301" * 900, 20), 0.3)

    result = run_joypix(["run", str(recipe), "--out", str(tmp_path / "out")], timeout=120)

    assert result.returncode == 1
    (failed,) = [line for line in result.stdout.splitlines() if line.startswith("failed")]
    assert "does not fit a 480x854 frame even at 12 px" in failed
    assert "OpenCV" not in result.stdout + result.stderr and "Traceback" not in result.stderr
