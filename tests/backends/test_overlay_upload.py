"""An overlay through the cloud backend: its image is uploaded once (a paid upload the ledger records first),
asked for in words by its uploaded name, and the emulator's draft renders frame for frame like the local one."""

from __future__ import annotations

from pathlib import Path

from helpers.images import write_image
from helpers.video import same_pictures
from PIL import Image

from joypix_recipes.job.actions import Animate, Overlay
from joypix_recipes.job.model import Job

from .conftest import MakeBackend, RecordingReporter, make_job


def _logo(path: Path) -> Path:
    logo = Image.new("RGBA", (40, 20), (0, 0, 0, 0))
    logo.paste(Image.new("RGBA", (20, 20), (255, 0, 0, 200)), (0, 0))
    logo.save(path)
    return path


def test_an_overlay_is_uploaded_recorded_asked_for_and_rendered_like_the_local_one(
    make_backend: MakeBackend, tmp_path: Path
) -> None:
    image = write_image(tmp_path / "photo.jpg", (96, 128), seed=2)
    logo = _logo(tmp_path / "logo.png")
    steps = [
        Animate(motion="none", duration=1.0),
        Overlay(str(logo), "bottom-right", width=0.3, opacity=0.7, start=0.2, end=0.8, fade_out=0.2),
    ]

    def job_for(backend: str) -> Job:
        return make_job(image, steps, output=tmp_path / backend / "photo.mp4")

    reporter = RecordingReporter()
    local = make_backend.run_job(make_backend("local"), job_for("local"))
    cloud = make_backend.run_job(make_backend("nemo"), job_for("nemo"), reporter)

    sources = [upload.source for upload in reporter.ledgers[-1].uploads]
    assert sources == ["image 1:photo.jpg", "overlay:logo.png"]
    before_sent = [ledger for ledger in reporter.ledgers if any(u.source == "overlay:logo.png" for u in ledger.uploads)]
    assert before_sent[0].upload_named("overlay:logo.png").name is None, "recorded before it was paid for"
    assert "Overlay: logo.png (0.2-0.8s)" in cloud.summary
    assert "Video: " in cloud.summary and cloud.summary.count("Video: ") == 1, "the logo is no clip of its own"
    assert same_pictures(local.output, cloud.output)
