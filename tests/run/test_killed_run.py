"""`kill -9` of `joypix run` alone (not its group): its render workers die with it and publish nothing.

The run held the output folder's lock and kept its journal; once it is gone, a clip a worker renamed
into place would be a file nobody recorded, written outside the lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

from helpers.processes import command_lines, session_members
from helpers.recipes import write_photo_batch
from helpers.runs import start_joypix
from helpers.waiting import wait_until

RECIPE = """\
version: 1
name: many-short
inputs: ["photos/*.jpg"]
steps:
  - animate: {motion: zoom-in, duration: 1}
export: {resolution: 480p, fps: 24, quality: low}
"""

COLOURS = [(20 * index, 100, 200 - 20 * index) for index in range(10)]


def test_workers_of_a_sigkilled_run_stop_and_publish_nothing(tmp_path: Path) -> None:
    recipe = write_photo_batch(tmp_path, RECIPE, COLOURS, (640, 480))
    out = tmp_path / "out"
    process = start_joypix(["run", str(recipe), "--out", str(out), "--json", "--concurrency", "4"])
    try:
        assert process.stdout is not None
        # Workers finish clips one after another from here on: at the kill, some render is about to be published.
        for line in process.stdout:
            if json.loads(line).get("event") == "job_done":
                break
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)  # dead for sure: anything published from now on was published by an orphan
        published = {path.name for path in out.glob("*.mp4")}

        with contextlib.suppress(AssertionError):
            wait_until(lambda: not session_members(process.pid), 5, "")
        leftovers = session_members(process.pid)
        assert not leftovers, f"processes outlived the killed run: {command_lines(leftovers)}"
        time.sleep(0.5)
        assert {path.name for path in out.glob("*.mp4")} == published
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=10)
