"""A notify command runs in a session of its own, and whatever it started in the background ends with it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

from helpers.images import write_image
from helpers.runs import run_joypix
from helpers.waiting import wait_until

from joypix_recipes.atomic import process_alive
from joypix_recipes.run.notify import Notifier, NotifySettings, NotifyTarget


def background_sleepers(pids: Path) -> list[int]:
    return [int(line) for line in pids.read_text(encoding="utf-8").split()] if pids.exists() else []


def kill_leftovers(pids: Path) -> None:
    for pid in background_sleepers(pids):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_a_notify_command_that_starts_a_background_child_leaves_nothing_running_after_the_run(tmp_path: Path) -> None:
    write_image(tmp_path / "photo.jpg", (64, 48))
    pids = tmp_path / "sleepers"
    command = ["sh", "-c", f"sleep 30 & echo $! >> {pids}; echo started"]
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "version: 1\nname: r\ninputs: [photo.jpg]\nsteps:\n  - animate: {motion: none, duration: 0.2}\n"
        f"export: {{resolution: 480p, fps: 10}}\nnotify: {{command: {json.dumps(command)}}}\n",
        encoding="utf-8",
    )
    try:
        started = time.monotonic()
        finished = run_joypix(["run", str(recipe), "--out", str(tmp_path / "out"), "-q"], tmp_path, timeout=60)
        elapsed = time.monotonic() - started

        assert finished.returncode == 0, finished.stderr
        assert len(background_sleepers(pids)) == 2  # one per event: the job's and the run's
        assert not [pid for pid in background_sleepers(pids) if process_alive(pid)]
        # The child holding the command's stdout open did not hold up the run until the time limit.
        assert elapsed < 12, finished.stderr  # held to the time limit, it would take 15 s or more
        assert "failed" not in finished.stderr
    finally:
        kill_leftovers(pids)


def test_a_notify_command_past_its_time_limit_is_stopped_with_its_background_children(tmp_path: Path) -> None:
    pids = tmp_path / "sleepers"
    hanging = ("sh", "-c", f"sleep 30 & echo $! >> {pids}; sleep 30")
    notifier = Notifier(NotifySettings((NotifyTarget(command=hanging),), timeout_s=0.5, attempts=1))
    try:
        notifier.send({"event": "job.finished"})
        wait_until(lambda: background_sleepers(pids), 10, "the notify command never ran")
        notifier.close()

        # The kill lands as the time limit passes; a loaded machine may take a moment to deliver it.
        wait_until(lambda: not [pid for pid in background_sleepers(pids) if process_alive(pid)], 5, "a child outlived it")
    finally:
        kill_leftovers(pids)
