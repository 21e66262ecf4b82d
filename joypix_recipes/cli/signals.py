"""The process owns its stop signals: Ctrl-C, SIGTERM and SIGHUP (a closed terminal) stop any command.

A process inherits its signal dispositions and mask: a shell's background job (``joypix watch &`` in a
script, a CI step, a Docker entrypoint) starts with SIGINT ignored, and a supervisor may start it with
signals blocked. So nothing is taken from the parent: every stop signal gets its handler here, whatever
was inherited, and is unblocked.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Coroutine, Iterator
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")

STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""What stops a command; SIGTERM and SIGHUP stop it as Ctrl-C does."""


@contextlib.contextmanager
def owned_signals() -> Iterator[None]:
    """While inside: Ctrl-C raises KeyboardInterrupt, SIGTERM and SIGHUP do what Ctrl-C does now; all unblocked.

    "What Ctrl-C does now" is looked up when the signal arrives: inside ``asyncio.run`` that is cancelling
    the main task so it cleans up, and a command serving with its own SIGINT handler gets that one.
    Only the main thread can own signals; elsewhere (a command run from a test's thread) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    blocked = _unblock(STOP_SIGNALS)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in STOP_SIGNALS:
        if signum != signal.SIGINT:
            signal.signal(signum, _like_ctrl_c)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            # None: set outside Python; nothing better to go back to than the default.
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        if blocked:
            _block(blocked)


def run_until_interrupted(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on a fresh loop; Ctrl-C, SIGTERM and SIGHUP cancel it cleanly (KeyboardInterrupt afterwards)."""
    import asyncio  # here, not at the top: `joypix validate` should not pay for it

    # asyncio.run answers SIGINT by cancelling the main task, but only if SIGINT's handler is Python's
    # default when it starts; owned_signals makes it so even when SIGINT was inherited as ignored.
    with owned_signals():
        return asyncio.run(coroutine)


def _like_ctrl_c(signum: int, frame: FrameType | None) -> None:
    # Calling the SIGINT handler rather than raising SIGINT: it works while SIGINT is ignored or
    # blocked, and raising KeyboardInterrupt here would cut through cleanup at any line.
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)
        return
    raise KeyboardInterrupt


def _unblock(signals: tuple[signal.Signals, ...]) -> set[signal.Signals]:
    """Unblock ``signals``; those that were blocked (to block again when done)."""
    if not hasattr(signal, "pthread_sigmask"):
        return set()
    mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, signals)
    return {signum for signum in signals if signum in mask}


def _block(signals: set[signal.Signals]) -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
