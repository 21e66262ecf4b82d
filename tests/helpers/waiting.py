"""Waiting, with a deadline, until something outside the test is true (a file appears, a server answers)."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from typing import TypeVar

POLL_SECONDS = 0.02

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T], timeout: float, message: str, *, process: subprocess.Popen[str] | None = None
) -> T:
    """What ``condition()`` returns once it is true; fail with ``message`` after ``timeout`` seconds.

    With ``process``, fail at once (showing what it wrote) if that process ends before the condition holds.
    """
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{message}: the process ended with {process.returncode}: {process.communicate()}")
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(POLL_SECONDS)
    return result


async def wait_until_async(condition: Callable[[], T], timeout: float, message: str) -> T:
    """``wait_until`` for code on an event loop: the loop runs on while it waits."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(POLL_SECONDS)
    return result
