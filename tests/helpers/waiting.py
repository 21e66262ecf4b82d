"""Waiting, with a deadline, until something outside the test is true (a file appears, a server answers)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

POLL_SECONDS = 0.02


def wait_until(
    condition: Callable[[], object], timeout: float, message: str, *, process: subprocess.Popen[str] | None = None
) -> None:
    """Return once ``condition()`` holds; fail with ``message`` after ``timeout`` seconds.

    With ``process``, fail at once (showing what it wrote) if that process ends before the condition holds.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{message}: the process ended with {process.returncode}: {process.communicate()}")
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(POLL_SECONDS)
