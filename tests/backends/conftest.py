"""Fixtures for backend tests: a backend factory per registered name, small jobs, a recording reporter.

To drive another backend through the contract suite, add its name to BACKEND_NAMES and a factory to
_FACTORIES; a factory may enter context managers (an emulator) on the ExitStack it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import helpers.jobs
import pytest

from joypix_recipes.backends.contract import Backend, BackendOptions, JobResult, Ledger
from joypix_recipes.backends.registry import BACKENDS
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.job.model import Job

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
    """A JobReporter that keeps everything it is told; the identity it hands over is its own, not computed."""

    def __init__(self, identity: str = "0123456789abcdef0123456789abcdef", input_hash: str = "") -> None:
        self.identity = identity
        self.input_hash = input_hash
        self.stages: list[str] = []
        self.warnings: list[str] = []
        self.replies: list[str] = []
        self.ledgers: list[Ledger] = []

    def stage(self, text: str) -> None:
        self.stages.append(text)

    def record(self, ledger: Ledger) -> None:
        self.ledgers.append(ledger)

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


# Backend tests render small: the shared job factory with this suite's export.
make_job = functools.partial(helpers.make_job, export=SMALL)
