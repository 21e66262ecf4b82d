"""The fault matrix of paid requests: kill `joypix run` while each one is in flight, rerun, count what was paid.

Each cell starts an emulator staging one fault, runs a one-photo, three-step cloud recipe as a real
process in its own process group, kills the whole group with SIGKILL once the emulator has taken the
request in question, then runs the recipe again to its end. The emulator counts what was paid; the
clip is checked by decoding it. Used by the tests (every cell must pay the minimum) and by
benchmarks/spending.py (which prints the figures).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.recipes import write_photo_batch
from helpers.runs import start_joypix
from helpers.video import probe
from joypix_recipes.emulator import Emulator, Knobs
from joypix_recipes.emulator.state import EmulatorState

STEPS = 3
RECIPE = """\
version: 1
name: spend-once
backend: nemo
inputs: ["photos/*.jpg"]
export: {aspect: "1:1", resolution: 480p, fps: 24, quality: low}
steps:
  - animate: {motion: zoom-in, duration: 1}
  - text: {content: Spend once, position: top}
  - fade: {in: 0.2}
"""


@dataclass(frozen=True)
class Fault:
    """One cell: knobs the emulator stages the fault with, and when the run is killed (never, for None)."""

    name: str
    knobs: dict[str, Any] = field(default_factory=dict)
    kill_when: Callable[[EmulatorState], bool] | None = None


def _turns_taken(count: int) -> Callable[[EmulatorState], bool]:
    return lambda state: state.counters.turns >= count


FAULTS: tuple[Fault, ...] = (
    Fault("killed during the upload", {"hold_upload_reply_s": 3.0}, lambda state: state.counters.uploads >= 1),
    Fault("killed during turn 1", {"turn_latency": 1.0}, _turns_taken(1)),
    Fault("killed during turn 2", {"turn_latency": 1.0}, _turns_taken(2)),
    Fault("killed during turn 3", {"turn_latency": 1.0}, _turns_taken(3)),
    Fault("killed during the render POST", {"hold_render_reply_s": 3.0}, lambda state: state.counters.renders_started >= 1),
    Fault("killed while the render runs", {"render_latency": 2.0}, lambda state: state.counters.polls >= 1),
    Fault("killed during the download", {"hold_download_s": 3.0}, lambda state: state.counters.downloads >= 1),
    Fault("the first download link expired", {"expire_first_link": True}),
)


@dataclass(frozen=True)
class Spent:
    """What one cell paid, as the emulator counted it, and whether the clip came out whole."""

    uploads: int
    turns: int
    renders: int
    clip: tuple[int, int] | None
    """The decoded clip's frame size; None when there is no clip."""

    @property
    def minimal(self) -> bool:
        """One upload, one turn per step and one render: what a run that nothing interrupted pays."""
        return (self.uploads, self.turns, self.renders) == (1, STEPS, 1)


def run_cell(fault: Fault, folder: Path, *, timeout: float = 60.0) -> Spent:
    """Stage ``fault``, run (and maybe kill) then rerun the recipe; what was paid across both runs."""
    recipe = write_photo_batch(folder, RECIPE, [(180, 90, 40)], (320, 240))
    knobs = Knobs(stub_render=True, no_text_ratio=0.0, heartbeat_interval=0.1, **fault.knobs)
    env = {"JOYPIX_HOME": str(folder / "home"), "JOYPIX_POLL_INTERVAL": "0.1"}
    with Emulator(knobs, workdir=folder / "emulator") as cloud:
        args = ["run", str(recipe), "--json", "--base-url", cloud.base_url]
        first = start_joypix(args, env=env)
        try:
            if fault.kill_when is not None:
                _kill_when(first, cloud.state, fault.kill_when, timeout)
            first.communicate(timeout=timeout)
        finally:
            _reap(first)
        cloud.state.knobs = Knobs(stub_render=True, no_text_ratio=0.0, heartbeat_interval=0.1)  # the fault is over
        rerun = start_joypix(args, env=env)
        try:
            _, stderr = rerun.communicate(timeout=timeout)
        finally:
            _reap(rerun)
        if rerun.returncode != 0:
            raise AssertionError(f"{fault.name}: the rerun failed: {stderr}")
        counters = cloud.state.counters
        clip = folder / "out" / "p0.mp4"
        size = probe(clip)["size"] if clip.exists() else None
        return Spent(counters.uploads, counters.turns, counters.renders_started, size)  # type: ignore[arg-type]


def _reap(process: subprocess.Popen[str]) -> None:
    """Whatever went wrong, the run's whole group is gone and its pipes are closed."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _kill_when(
    process: subprocess.Popen[str], state: EmulatorState, condition: Callable[[EmulatorState], bool], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while not condition(state):
        if process.poll() is not None:
            raise AssertionError("the run ended before the request to kill it in was made")
        if time.monotonic() > deadline:
            raise AssertionError("the request to kill the run in never came")
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
