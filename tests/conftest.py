"""Suite-wide fixtures: no thread left running, no ambient token, and a fast emulator for cloud tests."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# The real-browser fixtures (the system Chromium through Playwright), for any test that asks for them.
from helpers.browser import browser_page, chromium_browser  # noqa: F401
from helpers.outfolders import two_runs  # noqa: F401

from joypix_recipes.emulator import Emulator, Knobs

_GRACE_SECONDS = 5.0


@pytest.fixture(autouse=True)
def no_leftover_threads(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves a thread alive (a server, an observer or a pool not shut down).

    ``@pytest.mark.thread_grace(seconds)`` asks for a shorter wait where threads must stop promptly.
    """
    marker = request.node.get_closest_marker("thread_grace")
    grace = float(marker.args[0]) if marker else _GRACE_SECONDS
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + grace
    leftovers: list[threading.Thread] = []
    while time.monotonic() < deadline:
        leftovers = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leftovers:
            return
        time.sleep(0.05)
    names = ", ".join(sorted(t.name for t in leftovers))
    pytest.fail(f"test left threads running: {names}")


@pytest.fixture(autouse=True)
def _no_ambient_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests decide where the token comes from; the developer's own environment must not leak in."""
    for name in ("NEMO_TOKEN", "JOYPIX_BASE_URL", "JOYPIX_POLL_INTERVAL", "JOYPIX_HOME"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def knobs() -> Knobs:
    """Fast knobs: no latency, every turn speaks, tiny stub renders (tests that want otherwise say so)."""
    return Knobs(no_text_ratio=0.0, heartbeat_interval=0.05, stub_render=True)


@pytest.fixture
def emulator(knobs: Knobs, tmp_path: Path) -> Iterator[Emulator]:
    """A running emulator writing into the test's tmp_path."""
    with Emulator(knobs, workdir=tmp_path / "emulator") as running:
        yield running


@pytest.fixture
def logging_restored() -> Iterator[None]:
    """``main`` configures logging for a command-line run; put it back for the tests that follow."""
    loggers = [logging.getLogger(name) for name in ("", "httpx", "httpcore", "aiohttp", "uvicorn.access")]
    levels, handlers = [logger.level for logger in loggers], list(logging.getLogger().handlers)
    yield
    for logger, level in zip(loggers, levels):
        logger.setLevel(level)
    logging.getLogger().handlers[:] = handlers
