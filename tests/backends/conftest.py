"""Fixtures for backend tests: a backend factory per registered name, small images, jobs, a recording reporter.

To drive another backend through the contract suite, add its name to BACKEND_NAMES and a factory to
_FACTORIES; a factory may enter context managers (an emulator) on the ExitStack it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from joypix_recipes.actions import Action
from joypix_recipes.backends import BACKENDS, Backend, BackendOptions, JobResult
from joypix_recipes.export import ExportSettings
from joypix_recipes.job import Job, JobInput, PlannedStep, UnknownPhrases

BACKEND_NAMES = ["local", "nemo"]

SMALL = ExportSettings(resolution="480p", aspect="1:1", fps=24)
"""Small and short enough to keep the suite fast; 480x480 at 24 fps."""


def _nemo_against_the_emulator(stack: contextlib.ExitStack) -> Backend:
    """The cloud backend talking to a real emulator on 127.0.0.1, with its own token home."""
    from joypix_recipes.emulator import Emulator, Knobs

    home = Path(stack.enter_context(tempfile.TemporaryDirectory()))
    emulator = stack.enter_context(Emulator(Knobs(heartbeat_interval=0.05), workdir=home / "emulator"))
    options = BackendOptions(base_url=emulator.base_url, poll_interval=0.05, home=home / "joypix", language="en")
    return BACKENDS["nemo"](options)


_FACTORIES: dict[str, Callable[[contextlib.ExitStack], Backend]] = {
    "local": lambda stack: BACKENDS["local"](BackendOptions(workers=2)),
    "nemo": _nemo_against_the_emulator,
}


class RecordingReporter:
    """A JobReporter that keeps everything it is told."""

    def __init__(self) -> None:
        self.stages: list[str] = []
        self.warnings: list[str] = []
        self.replies: list[str] = []
        self.checkpoints: list[tuple[str | None, str | None]] = []

    def stage(self, text: str) -> None:
        self.stages.append(text)

    def checkpoint(self, session_id: str | None = None, render_id: str | None = None) -> None:
        self.checkpoints.append((session_id, render_id))

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def reply(self, text: str) -> None:
        self.replies.append(text)


class BackendMaker:
    """Makes backends by name and runs their coroutines on one event loop for the whole test.

    One loop matters: a cloud backend's connections belong to the loop that opened them.
    """

    def __init__(self, stack: contextlib.ExitStack) -> None:
        self._stack = stack
        self._loop = stack.enter_context(asyncio.Runner())
        self.made: list[Backend] = []

    def __call__(self, name: str) -> Backend:
        backend = _FACTORIES[name](self._stack)
        self.made.append(backend)
        return backend

    def run_job(self, backend: Backend, job: Job, reporter: RecordingReporter | None = None) -> JobResult:
        """Run one job to completion on the test's loop."""
        return self._loop.run(backend.run_job(job, reporter or RecordingReporter()))

    def close_all(self) -> None:
        for backend in self.made:
            self._loop.run(backend.aclose())


MakeBackend = BackendMaker


@pytest.fixture
def make_backend() -> Iterator[BackendMaker]:
    """``make_backend(name)`` gives a fresh backend, closed (and its servers stopped) after the test."""
    with contextlib.ExitStack() as stack:
        maker = BackendMaker(stack)
        yield maker
        maker.close_all()


@pytest.fixture
def reporter() -> RecordingReporter:
    return RecordingReporter()


def write_image(path: Path, size: tuple[int, int] = (640, 480), seed: int = 0) -> Path:
    """A textured test photo (smooth gradients plus noise), saved in the format its suffix names."""
    width, height = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)], axis=-1)
    pixels = np.clip(pixels + rng.integers(-20, 20, pixels.shape), 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def write_tone(path: Path, seconds: float = 2.0, rate: int = 44100) -> Path:
    """A mono 440 Hz WAV file."""
    samples = (np.sin(np.arange(int(seconds * rate)) * 2 * np.pi * 440 / rate) * 12000).astype(np.int16)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(samples.tobytes())
    return path


def make_job(
    image: Path,
    steps: list[Action] | tuple[Action, ...] = (),
    *,
    output: Path | None = None,
    export: ExportSettings = SMALL,
    unknown_phrases: UnknownPhrases = "fail",
    recipe_path: Path | None = None,
    url: str | None = None,
) -> Job:
    """A job over one image, as the planner would make it, with steps named "<kind> <n>"."""
    planned = tuple(
        PlannedStep(f"{type(action).__name__.lower()} {n}", action) for n, action in enumerate(steps, start=1)
    )
    job_input = JobInput(
        name=image.name, stem=image.stem, suffix=image.suffix, index=0, path=None if url else image, url=url
    )
    return Job(
        recipe_name="test recipe",
        recipe_path=recipe_path or image.parent / "recipe.yaml",
        input=job_input,
        variant=None,
        steps=planned,
        export=export,
        output=output or image.parent / "out" / f"{image.stem}.mp4",
        unknown_phrases=unknown_phrases,
    )
