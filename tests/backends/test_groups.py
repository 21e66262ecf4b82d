"""A group of images as one clip, end to end: planned from a recipe, made by each backend, decoded with PyAV."""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from joypix_recipes.backends.contract import Backend, BackendOptions, JobResult
from joypix_recipes.backends.registry import BACKENDS
from joypix_recipes.cli.main import main
from joypix_recipes.emulator import Emulator, Knobs
from joypix_recipes.job.model import Job
from joypix_recipes.recipe import load_recipe
from joypix_recipes.recipe.plan import plan_jobs

from .conftest import RecordingReporter

COLOURS = {"1-red": (230, 20, 20), "2-green": (20, 200, 20), "3-blue": (20, 20, 230)}
FPS = 30
IMAGE_MS, CROSSFADE_MS = 1000, 400
CLIP_FRAMES = (3 * IMAGE_MS - 2 * CROSSFADE_MS) * FPS // 1000  # 66


def write_group_recipe(folder: Path) -> Path:
    look = folder / "look"
    look.mkdir(parents=True)
    for name, colour in COLOURS.items():
        Image.new("RGB", (96, 96), colour).save(look / f"{name}.png")
    recipe = folder / "group.yaml"
    recipe.write_text(
        textwrap.dedent(
            f"""
            version: 1
            inputs:
              - images: ["look/*.png"]
            steps:
              - animate: {{motion: none, duration: {IMAGE_MS / 1000}}}
              - transition: {{kind: crossfade, duration: {CROSSFADE_MS / 1000}}}
            export: {{aspect: "1:1", resolution: 480p, fps: {FPS}, quality: low}}
            """
        ).lstrip()
    )
    return recipe


def centre_colours(video: Path) -> list[np.ndarray]:
    with av.open(str(video)) as container:
        return [frame.to_ndarray(format="rgb24")[240, 240].astype(int) for frame in container.decode(video=0)]


def frame_at(ms: float) -> int:
    return round(ms * FPS / 1000)


def assert_group_clip(video: Path) -> None:
    colours = centre_colours(video)
    assert len(colours) == CLIP_FRAMES
    with av.open(str(video)) as container:
        assert container.duration is not None and container.duration / 1_000_000 == pytest.approx(2.2, abs=1e-3)
    step = IMAGE_MS - CROSSFADE_MS
    # The middle of each image's time alone on screen shows that image: the group plays in order.
    for index, colour in enumerate(COLOURS.values()):
        alone_from = index * step + (CROSSFADE_MS if index else 0)
        alone_to = index * step + IMAGE_MS - (CROSSFADE_MS if index < 2 else 0)
        assert np.abs(colours[frame_at((alone_from + alone_to) / 2)] - colour).max() < 25
    # Half way through the first crossfade, red and green are mixed evenly.
    red, green, _ = colours[frame_at(step + CROSSFADE_MS / 2)]
    assert abs(red - green) < 30 and 90 < red < 150


def test_local_backend_makes_one_clip_of_a_group_in_order_with_exact_duration(tmp_path: Path) -> None:
    recipe = write_group_recipe(tmp_path)
    assert main(["run", str(recipe), "--out", str(tmp_path / "out")]) == 0
    assert_group_clip(tmp_path / "out" / "1-red.mp4")
    (entry,) = json.loads((tmp_path / "out" / "manifest.json").read_text())["jobs"]
    assert [Path(image).name for image in entry["images"]] == [f"{name}.png" for name in COLOURS]


def test_nemo_backend_uploads_the_group_into_one_session_and_gets_the_same_clip(
    knobs: Knobs, emulator: Emulator, tmp_path: Path
) -> None:
    knobs.stub_render = False  # the emulator renders the session's timeline
    (job,) = plan_jobs(load_recipe(write_group_recipe(tmp_path)), out_dir=tmp_path / "out", backend="nemo").jobs
    options = BackendOptions(base_url=emulator.base_url, poll_interval=0.05, home=tmp_path / "home", language="en")
    reporter = RecordingReporter()
    result = asyncio.run(_run(BACKENDS["nemo"](options), job, reporter))
    assert isinstance(result, JobResult)
    assert reporter.replies and not any("did not understand" in reply for reply in reporter.replies)
    assert emulator.state.counters.sessions_created == 1
    assert emulator.state.counters.uploads == len(COLOURS)
    assert_group_clip(job.output)


async def _run(backend: Backend, job: Job, reporter: RecordingReporter) -> JobResult:
    try:
        return await backend.run_job(job, reporter)
    finally:
        await backend.aclose()
