"""`joypix preview` and `joypix run --preview`: drafts a third of the size at a lower frame rate, in
OUT/previews/, never touching a final or its journal, manifest and report; a cloud recipe's draft is
rendered here, free, without a request."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import pytest
from helpers.audio import write_wav
from helpers.images import write_image
from helpers.recipes import recipe_file
from helpers.runs import events_of, run_joypix

from joypix_recipes.cli.main import main
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


Joypix = Callable[[list[str]], subprocess.CompletedProcess[str]]


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOYPIX_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def joypix(capsys: pytest.CaptureFixture[str]) -> Joypix:
    """The command line in this process (a render's start-up costs a second a process on a loaded machine)."""

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        capsys.readouterr()
        code = main(args)
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    return run


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


def _planned_seconds(joypix: Joypix, recipe: Path) -> float:
    listed = joypix(["run", str(recipe), "--dry-run", "--json", "--out", "out"])
    assert listed.returncode == 0, listed.stderr
    (job,) = [json.loads(line) for line in listed.stdout.splitlines()]
    return float(job["length_s"])


def _setup(tmp_path: Path, text: str) -> Path:
    write_image(tmp_path / "a.jpg", (320, 480))
    write_wav(tmp_path / "tone.wav", seconds=2.0)
    return recipe_file(tmp_path, text)


def test_preview_is_a_third_of_the_final_at_a_lower_rate_beside_an_untouched_final(tmp_path: Path, joypix: Joypix) -> None:
    recipe = _setup(tmp_path, RECIPE)
    final = joypix(["run", str(recipe), "--out", "out", "-q"])
    assert final.returncode == 0, final.stderr
    out = tmp_path / "out"
    kept = {name: _digest(out / name) for name in ("a.mp4", "a.jpg", "manifest.json", "report.html")}

    made = joypix(["preview", str(recipe), "--out", "out", "--json"])

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
    assert abs(frames / rate - _planned_seconds(joypix, recipe)) <= 1 / rate
    assert sounds == final_sounds == 1
    assert (out / PREVIEW_FOLDER / "a.jpg").is_file()
    # The finals, their manifest and report are as the final run left them, and name no preview.
    assert {name: _digest(out / name) for name in kept} == kept
    assert PREVIEW_FOLDER not in (out / "manifest.json").read_text()
    with Journal.open(out) as journal:
        assert [record.output for record in journal.records()] == [out / "a.mp4"]
    manifest = json.loads((out / PREVIEW_FOLDER / "manifest.json").read_text())
    assert PREVIEW_FOLDER in json.dumps(manifest)


def test_an_unchanged_preview_is_skipped_and_a_changed_one_rendered_again(tmp_path: Path, joypix: Joypix) -> None:
    recipe = _setup(tmp_path, RECIPE)
    first = joypix(["run", str(recipe), "--preview", "--out", "out", "--json"])
    assert first.returncode == 0, first.stderr
    assert not (tmp_path / "out" / "a.mp4").exists()

    again = joypix(["preview", str(recipe), "--out", "out", "--json"])
    changed = joypix(["preview", str(recipe), "--out", "out", "--json", "--set", "steps[1].text.content=Soon"])

    assert [event["event"] for event in events_of(again.stdout) if event["event"].startswith("job_")] == ["job_skipped"]
    assert "job_done" in [event["event"] for event in events_of(changed.stdout)]
    out = tmp_path / "out"
    assert not (out / "a.mp4").exists()
    # A final run after the previews neither skips because of them nor lists them.
    final = joypix(["run", str(recipe), "--out", "out", "--json"])
    assert [event["event"] for event in events_of(final.stdout) if event["event"].startswith("job_")][-1] == "job_done"
    assert PREVIEW_FOLDER not in (out / "manifest.json").read_text()
    with Journal.open(out) as journal:
        assert [record.output for record in journal.records()] == [out / "a.mp4"]
    assert _clip(out / "a.mp4")[:2] == (480, 854)


def test_a_cloud_recipe_previews_here_for_free_without_a_request(tmp_path: Path, emulator: Emulator, joypix: Joypix) -> None:
    recipe = _setup(tmp_path, CLOUD)

    made = joypix(["preview", str(recipe), "--out", "out", "--base-url", emulator.base_url])

    assert made.returncode == 0, made.stderr
    assert made.stderr.count(FREE_LINE) == 1
    assert emulator.state.requests.all() == []
    width, height, rate, _, _ = _clip(tmp_path / "out" / PREVIEW_FOLDER / "a.mp4")
    assert (width, height, rate) == (160, 160, 12)


def test_preview_with_dry_run_is_a_usage_error(tmp_path: Path, joypix: Joypix) -> None:
    recipe = _setup(tmp_path, RECIPE)

    refused = joypix(["run", str(recipe), "--preview", "--dry-run"])

    assert refused.returncode == 2
    assert "--preview" in refused.stderr and "Traceback" not in refused.stderr


def test_preview_help_shows_examples(tmp_path: Path) -> None:
    shown = run_joypix(["preview", "--help"], tmp_path)

    assert shown.returncode == 0
    assert "examples:" in shown.stdout
    assert "joypix preview recipes/quickstart.yaml" in shown.stdout
    assert "previews/" in shown.stdout
