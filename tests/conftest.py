"""Suite-wide fixtures: no test may leave a thread running behind it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

_GRACE_SECONDS = 5.0


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    """Fail a test that leaves a thread alive (a server, an observer or a pool not shut down)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + _GRACE_SECONDS
    leftovers: list[threading.Thread] = []
    while time.monotonic() < deadline:
        leftovers = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leftovers:
            return
        time.sleep(0.05)
    names = ", ".join(sorted(t.name for t in leftovers))
    pytest.fail(f"test left threads running: {names}")
