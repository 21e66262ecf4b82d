"""The Backend protocol's promises, checked by driving every registered backend through the same jobs."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import pytest
from helpers.audio import write_wav
from helpers.images import write_image
from helpers.video import probe

from joypix_recipes.errors import JobError
from joypix_recipes.job.actions import Action, Animate, Audio, Fade, Reframe, Text
from joypix_recipes.job.export import ExportSettings, parse_fps
from joypix_recipes.timeline.draft import Draft

from .conftest import BACKEND_NAMES, MakeBackend, RecordingReporter, make_job

pytestmark = pytest.mark.parametrize("backend_name", BACKEND_NAMES)


def test_output_decodes_with_the_exported_size_and_duration(
    backend_name: str, make_backend: MakeBackend, tmp_path: Path
) -> None:
    job = make_job(write_image(tmp_path / "photo.jpg"), [Animate(motion="pan-left", duration=1.5)])
    reporter = RecordingReporter()
    result = make_backend.run_job(make_backend(backend_name), job, reporter)

    assert result.output == job.output and job.output.is_file()
    assert probe(job.output) == {
        "codec": "h264", "size": (480, 480), "pix_fmt": "yuv420p", "frames": 36, "fps": Fraction(24), "audio": 0,
    }  # fmt: skip
    assert result.poster is not None and result.poster.read_bytes()[:3] == b"\xff\xd8\xff"
    assert result.duration_s == pytest.approx(1.5)
    assert result.summary.startswith("Timeline (1 track): 1. Video:")
    draft = Draft.from_json(result.draft_json)
    assert (draft.width, draft.height, draft.duration_ms) == (480, 480, 1500)
    assert reporter.stages, "a backend reports the stages it goes through"


def test_every_structured_step_is_honoured(backend_name: str, make_backend: MakeBackend, tmp_path: Path) -> None:
    image = write_image(tmp_path / "photo.png")
    tone = write_wav(tmp_path / "tone.wav")
    steps: list[Action] = [
        Reframe(aspect="16:9"),
        Animate(motion="zoom-out", duration=1.0, zoom=1.3, easing="linear"),
        Text("Hello", position="top", start=0.0, end=0.5),
        Audio(file=str(tone), volume=0.5, fade_in=0.2),
        Fade(fade_in=0.25, fade_out=0.25),
    ]
    result = make_backend.run_job(make_backend(backend_name), make_job(image, steps))

    seen = probe(result.output)
    assert (seen["size"], seen["frames"], seen["audio"]) == ((854, 480), 24, 1)
    draft = Draft.from_json(result.draft_json)
    assert (draft.fade_in_ms, draft.fade_out_ms, len(draft.text), len(draft.audio)) == (250, 250, 1, 1)
    assert draft.video[0].motion == "zoom-out" and draft.audio[0].volume == 0.5


def test_a_broken_image_is_a_job_error_with_a_one_line_message(
    backend_name: str, make_backend: MakeBackend, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not an image at all\n" * 10)
    with pytest.raises(JobError) as caught:
        make_backend.run_job(make_backend(backend_name), make_job(broken, [Animate(duration=1.0)]))
    message = str(caught.value)
    assert "\n" not in message and "broken.jpg" in message
    assert not (tmp_path / "out" / "broken.mp4").exists()


def test_a_second_run_replaces_the_output_atomically(
    backend_name: str, make_backend: MakeBackend, tmp_path: Path
) -> None:
    job = make_job(write_image(tmp_path / "photo.jpg"), [Animate(duration=0.5)])
    backend = make_backend(backend_name)
    make_backend.run_job(backend, job)
    first_bytes = job.output.read_bytes()
    first_inode = os.stat(job.output).st_ino

    with job.output.open("rb") as reader_of_the_old_file:
        make_backend.run_job(backend, job)
        assert reader_of_the_old_file.read() == first_bytes, "a reader of the old file never sees a mix"

    assert os.stat(job.output).st_ino != first_inode, "the new file is renamed into place, not written over"
    assert probe(job.output)["frames"] == 12
    assert sorted(path.name for path in job.output.parent.iterdir()) == ["photo.jpg", "photo.mp4"]


def test_an_ntsc_frame_rate_is_kept_exactly(backend_name: str, make_backend: MakeBackend, tmp_path: Path) -> None:
    export = ExportSettings(resolution="480p", aspect="1:1", fps=parse_fps("29.97"))
    job = make_job(write_image(tmp_path / "photo.jpg"), [Animate(duration=1.0)], export=export)
    result = make_backend.run_job(make_backend(backend_name), job)

    seen = probe(result.output)
    assert (seen["fps"], seen["frames"]) == (Fraction(30000, 1001), 30)
    assert Draft.from_json(result.draft_json).fps == Fraction(30000, 1001)
