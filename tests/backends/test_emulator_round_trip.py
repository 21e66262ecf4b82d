"""The emulator's draft round-trip: the cloud backend's turns build, in the emulator, the draft the local backend builds.

Both render with our renderer, so equal frames prove the prompts, the draft JSON going out and coming
back, and the render request lose nothing on the way. They prove nothing about the real service.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from helpers.images import write_image
from helpers.video import luma_frames, same_pictures

from joypix_recipes.job.actions import Animate, Fade, Prompt, Text
from joypix_recipes.job.model import Job

from .conftest import MakeBackend, make_job


def test_draft_built_through_the_emulator_renders_frame_for_frame_like_the_local_one(
    make_backend: MakeBackend, tmp_path: Path
) -> None:
    image = write_image(tmp_path / "photo.jpg", seed=3)
    steps = [
        Prompt("animate this image into a smooth 1-second video clip with a slow zoom in"),
        Text("Sale", position="top", start=0.0),
        Fade(fade_in=0.25, fade_out=0.25),
        Animate(motion="pan-left", duration=1.0, zoom=1.2),
    ]

    def job_for(backend: str) -> Job:
        return make_job(image, steps, output=tmp_path / backend / "photo.mp4")

    local = make_backend.run_job(make_backend("local"), job_for("local"))
    cloud = make_backend.run_job(make_backend("nemo"), job_for("nemo"))

    local_frames, cloud_frames = luma_frames(local.output), luma_frames(cloud.output)
    assert len(local_frames) == len(cloud_frames) == 24
    assert same_pictures(local.output, cloud.output), "the draft came back from the emulator unchanged"
    early, late = local_frames[8], local_frames[16]  # inside the fades
    assert float(np.abs(early.astype(int) - late.astype(int)).mean()) > 1.0, "the camera moved"
    assert float(local_frames[0].mean()) < float(early.mean()), "the clip fades in from black"
