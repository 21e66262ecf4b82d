"""The command line in a child process, and what a run leaves behind: JSON events, partial files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers.repo import REPO


def start_joypix(
    args: list[str], cwd: Path | None = None, *, env: dict[str, str] | None = None, **streams: Any
) -> subprocess.Popen[str]:
    """Start ``joypix ARGS`` in its own process group (so a signal to the group takes its workers too).

    Both output streams are pipes unless ``streams`` says otherwise; ``env`` adds to this process's environment.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "joypix_recipes", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        text=True,
        start_new_session=True,
        **{"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **streams},
    )


def run_joypix(
    args: list[str], cwd: Path | None = None, *, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``joypix ARGS`` to its end: its exit code and what it wrote; past ``timeout`` its whole group is killed."""
    process = start_joypix(args, cwd, env=env)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def events_of(text: str) -> list[dict[str, Any]]:
    """The JSON events among the lines a ``--json`` run printed."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def partials_under(*folders: Path) -> list[Path]:
    """Every file under ``folders`` still being written (a ``.partial`` in its name)."""
    return [path for folder in folders for path in folder.rglob("*") if ".partial" in path.name]
