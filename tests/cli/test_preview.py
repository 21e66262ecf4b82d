"""`joypix preview` and `joypix run --preview`: drafts a third of the size at a lower frame rate, in
OUT/previews/, never touching a final or its journal, manifest and report; a cloud recipe's draft is
rendered here, free, without a request."""

from __future__ import annotations

import hashlib
import json
import subprocess
from fractions import Fraction
from pathlib import Path

import av
from helpers.audio import write_wav
from helpers.images import write_image
from helpers.recipes import recipe_file
from helpers.runs import events_of, run_joypix

from joypix_recipes.emulator import Emulator
from joypix_recipes.run.journal import Journal
from joypix_recipes.run.preview import FREE_LINE, PREVIEW_FOLDER

RECIPE = """
version: 1
inputs: [a.jpg]
steps:
  - animate: {duration: 1.3, motion: zoom-in}
  - text: {content: Sale, position: bottom}
  - audio: {file: tone.wav}
  - fade: {in: 0.2, out: 0.3}
export: {aspect: "9:16", resolution: 480p, fps: 30, quality: low}
"""

CLOUD = """
version: 1
backend: nemo
inputs: [a.jpg]
steps:
  - prompt: animate this image into a smooth 1-second clip with a slow zoom in
export: {aspect: "1:1", resolution: 480p, fps: 24, quality: low}
"""


def _joypix(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return run_joypix(args, tmp_path, env={"JOYPIX_HOME": str(tmp_path / "home")}, timeout=90)


def _clip(path: Path) -> tuple[int, int, Fraction, int, int]:
    """Width, height, frame rate, decoded frames and audio streams of a clip."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video))
        rate = video.average_rate
        assert rate is not None
        return video.width, video.height, Fraction(rate), frames, len(container.streams.audio)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _planned_seconds(tmp_path: Path, recipe: Path) -> float:
    listed = _joypix(["run", str(recipe), "--dry-run", "--json", "--out", "out"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    (job,) = [json.loads(line) for line in listed.stdout.splitlines()]
    return float(job["length_s"])


def _setup(tmp_path: Path, text: str) -> Path:
    write_image(tmp_path / "a.jpg", (320, 480))
    write_wav(tmp_path / "tone.wav", seconds=2.0)
    return recipe_file(tmp_path, text)


def test_preview_is_a_third_of_the_final_at_a_lower_rate_beside_an_untouched_final(tmp_path: Path) -> None:
    recipe = _setup(tmp_path, RECIPE)
    final = _joypix(["run", str(recipe), "--out", "out", "-q"], tmp_path)
    assert final.returncode == 0, final.stderr
    out = tmp_path / "out"
    kept = {name: _digest(out / name) for name in ("a.mp4", "a.jpg", "manifest.json", "report.html")}

    made = _joypix(["preview", str(recipe), "--out", "out", "--json"], tmp_path)

    assert made.returncode == 0, made.stderr
    draft = out / PREVIEW_FOLDER / "a.mp4"
    assert [event["event"] for event in events_of(made.stdout) if event["event"].startswith("job_")][-1] == "job_done"
    width, height, rate, frames, sounds = _clip(draft)
    final_width, final_height, final_rate, _, final_sounds = _clip(out / "a.mp4")
    assert (final_width, final_height) == (480, 854)
    assert (width, height) == (160, 284)
    assert width % 2 == 0 and height % 2 == 0
    assert abs(width / height - final_width / final_height) < 0.01
    assert rate == 12 < final_rate
    assert abs(frames / rate - _planned_seconds(tmp_path, recipe)) <= 1 / rate
    assert sounds == final_sounds == 1
    assert (out / PREVIEW_FOLDER / "a.jpg").is_file()
    # The finals, their manifest and report are as the final run left them, and name no preview.
    assert {name: _digest(out / name) for name in kept} == kept
    assert PREVIEW_FOLDER not in (out / "manifest.json").read_text()
    with Journal.open(out) as journal:
        assert [record.output for record in journal.records()] == [out / "a.mp4"]
    manifest = json.loads((out / PREVIEW_FOLDER / "manifest.json").read_text())
    assert PREVIEW_FOLDER in json.dumps(manifest)


def test_an_unchanged_preview_is_skipped_and_a_changed_one_rendered_again(tmp_path: Path) -> None:
    recipe = _setup(tmp_path, RECIPE)
    first = _joypix(["run", str(recipe), "--preview", "--out", "out", "--json"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert not (tmp_path / "out" / "a.mp4").exists()

    again = _joypix(["preview", str(recipe), "--out", "out", "--json"], tmp_path)
    changed = _joypix(["preview", str(recipe), "--out", "out", "--json", "--set", "steps[1].text.content=Soon"], tmp_path)

    assert [event["event"] for event in events_of(again.stdout) if event["event"].startswith("job_")] == ["job_skipped"]
    assert "job_done" in [event["event"] for event in events_of(changed.stdout)]
    assert not (tmp_path / "out" / "a.mp4").exists()


def test_a_cloud_recipe_previews_here_for_free_without_a_request(tmp_path: Path, emulator: Emulator) -> None:
    recipe = _setup(tmp_path, CLOUD)

    made = _joypix(["preview", str(recipe), "--out", "out", "--base-url", emulator.base_url], tmp_path)

    assert made.returncode == 0, made.stderr
    assert made.stderr.count(FREE_LINE) == 1
    assert emulator.state.requests.all() == []
    width, height, rate, _, _ = _clip(tmp_path / "out" / PREVIEW_FOLDER / "a.mp4")
    assert (width, height, rate) == (160, 160, 12)


def test_preview_with_dry_run_is_a_usage_error(tmp_path: Path) -> None:
    recipe = _setup(tmp_path, RECIPE)

    refused = _joypix(["run", str(recipe), "--preview", "--dry-run"], tmp_path)

    assert refused.returncode == 2
    assert "--preview" in refused.stderr and "Traceback" not in refused.stderr


def test_preview_help_shows_examples(tmp_path: Path) -> None:
    shown = _joypix(["preview", "--help"], tmp_path)

    assert shown.returncode == 0
    assert "examples:" in shown.stdout
    assert "joypix preview recipes/quickstart.yaml" in shown.stdout
    assert "previews/" in shown.stdout
