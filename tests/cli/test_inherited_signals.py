"""A process owns its stop signals: started with them ignored or blocked (a script's `joypix watch &`,
`nohup`, a supervisor's mask), SIGINT, SIGTERM and SIGHUP still stop `joypix run` and `joypix watch`
with exit 130, no traceback, nothing partial and no process left behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.processes import command_lines, inherit_deaf_signals, session_members
from helpers.repo import REPO, SAMPLE
from helpers.runs import partials_under, start_joypix
from helpers.waiting import wait_until

RECIPE = """\
version: 1
name: long
steps:
  - animate: {motion: zoom-in, duration: 8}
export: {resolution: 720p}
"""

STOPS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


def long_recipe(folder: Path) -> Path:
    recipe = folder / "long.yaml"
    recipe.write_text(RECIPE, encoding="utf-8")
    return recipe


def assert_stopped_cleanly(process: subprocess.Popen[str], session: int, out: Path) -> None:
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted" in stderr
    assert partials_under(out) == []
    assert not list(out.glob("*.mp4"))
    with contextlib.suppress(AssertionError):
        wait_until(lambda: not session_members(session), 10, "")
    leftovers = session_members(session)
    assert not leftovers, f"processes outlived the stopped run: {command_lines(leftovers)}"


def end_session(session: int) -> None:
    """Whatever the outcome, leave no process of the test behind."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(session, signal.SIGKILL)


@pytest.mark.parametrize("stop", STOPS, ids=[stop.name for stop in STOPS])
def test_run_started_with_stop_signals_ignored_and_blocked_still_stops_on_each(tmp_path: Path, stop: signal.Signals) -> None:
    (tmp_path / "photo.jpg").write_bytes(SAMPLE.read_bytes())
    out = tmp_path / "out"
    process = start_joypix(
        ["run", str(long_recipe(tmp_path)), "--input", str(tmp_path / "photo.jpg"), "--out", str(out)],
        tmp_path,
        preexec_fn=inherit_deaf_signals(),
    )

    wait_until(lambda: partials_under(out), 60, "the render never started", process=process)
    process.send_signal(stop)  # the run alone, as `kill $PID` does: its workers are its own business

    try:
        assert_stopped_cleanly(process, process.pid, out)
    finally:
        end_session(process.pid)


@pytest.mark.parametrize("stop", STOPS, ids=[stop.name for stop in STOPS])
def test_watch_started_as_a_scripts_background_job_stops_on_each(tmp_path: Path, stop: signal.Signals) -> None:
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / "photo.jpg").write_bytes(SAMPLE.read_bytes())
    # `joypix watch ... & wait`: a non-interactive shell starts its background jobs with SIGINT ignored.
    script = '"$@" >&2 & echo $!; wait $!'
    joypix = [sys.executable, "-m", "joypix_recipes", "watch", str(folder), "--recipe", str(long_recipe(tmp_path)), "--out", str(out)]
    shell = subprocess.Popen(
        ["bash", "-c", script, "bash", *joypix],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert shell.stdout is not None
    watcher = int(shell.stdout.readline())

    wait_until(lambda: partials_under(out), 60, "the render never started", process=shell)
    os.kill(watcher, stop)

    try:
        assert_stopped_cleanly(shell, shell.pid, out)
    finally:
        end_session(shell.pid)
