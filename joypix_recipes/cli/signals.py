"""Running a command's coroutine so that SIGTERM and SIGHUP (a closed terminal) stop it as Ctrl-C does."""

from __future__ import annotations

import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_until_interrupted(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on a fresh loop; SIGTERM and SIGHUP behave like Ctrl-C, so runs stop cleanly."""
    import asyncio  # here, not at the top: `joypix validate` should not pay for it

    def _terminate(signum: int, frame: Any) -> None:
        # asyncio.run answers SIGINT by cancelling the main task, letting it clean up, then raising
        # KeyboardInterrupt; raising that here instead would cut through cleanup at any line.
        signal.raise_signal(signal.SIGINT)

    stopping = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
    previous = {signum: signal.signal(signum, _terminate) for signum in stopping}
    try:
        return asyncio.run(coroutine)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
