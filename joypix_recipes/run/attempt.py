"""One attempt at one job: what an error means, and the one channel for the job's replies and warnings.

The runner, the farm worker and the hot folder read errors the same way (``attempt``):

- cancelled: not caught here; ``attempt_job`` lets its caller record it, then the cancellation goes on up;
- ``RunError``: this work failed and no new work may start (no credits, the farm unreachable);
- ``JoypixError``: this work failed, the rest goes on;
- anything else is a bug: it fails with the caller's internal-error message, and the redacted
  traceback is kept as ``Failure.detail`` for a log or ``-v``, never for the user's one line.

``attempt_job`` runs a backend's job under that chain with a reporter that passes every event on
and keeps each reply and warning once: outcomes, farm records and manifests take them from the
``Attempt``, never from the backend's result as well.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from joypix_recipes.backends.contract import JobReporter, Ledger
from joypix_recipes.errors import JoypixError, RunError
from joypix_recipes.redact import redact

T = TypeVar("T")

INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Failure:
    """Why work failed: the user's one line (redacted), whether the run must stop, and a bug's traceback."""

    message: str
    stops_run: bool = False
    detail: str | None = None


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """How one attempt at a job ended: what it made or why it failed, what it said on the way, and when."""

    result: T | Failure
    replies: tuple[str, ...]
    warnings: tuple[str, ...]
    started_at: float
    duration_s: float


def _failure_of(error: Exception, internal_error: str) -> Failure:
    """What an error means: a RunError stops the run, a JoypixError fails this work, anything else is a bug."""
    if isinstance(error, RunError):
        return Failure(redact(str(error)), stops_run=True)
    if isinstance(error, JoypixError):
        return Failure(redact(str(error)))
    return Failure(internal_error, detail=redact("".join(traceback.format_exception(error))))


async def attempt(work: Callable[[], Awaitable[T]], *, internal_error: str) -> T | Failure:
    """What ``work`` made, or the Failure its error means; cancellation goes through untouched."""
    try:
        return await work()
    except Exception as error:  # noqa: BLE001 - one piece of work must never take the rest down with it
        return _failure_of(error, internal_error)


async def attempt_job(
    work: Callable[[JobReporter], Awaitable[T]],
    reporter: JobReporter,
    *,
    internal_error: str,
    on_cancel: Callable[[Attempt[T]], Awaitable[None]],
) -> Attempt[T]:
    """Run ``work`` with a reporter passing events on to ``reporter``; how it ended, with its replies and warnings.

    When cancelled, ``on_cancel`` is awaited with the attempt so far (failed "interrupted") before the
    cancellation goes on.
    """
    transcript = _Transcript(reporter)
    started_at, began = time.time(), time.monotonic()

    def ended(result: T | Failure) -> Attempt[T]:
        return Attempt(
            result=result,
            replies=tuple(transcript.replies),
            warnings=tuple(transcript.warnings),
            started_at=started_at,
            duration_s=time.monotonic() - began,
        )

    try:
        result = await attempt(lambda: work(transcript), internal_error=internal_error)
    except asyncio.CancelledError:
        await on_cancel(ended(Failure(INTERRUPTED)))
        raise
    return ended(result)


class _Transcript:
    """The JobReporter a backend talks to: passes every event on, and keeps each reply and warning once."""

    def __init__(self, inner: JobReporter) -> None:
        self.inner = inner
        self.identity = inner.identity
        self.input_hash = inner.input_hash
        self.replies: list[str] = []
        self.warnings: list[str] = []

    def stage(self, text: str) -> None:
        self.inner.stage(text)

    def record(self, ledger: Ledger) -> None:
        self.inner.record(ledger)

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.inner.warn(message)

    def reply(self, text: str) -> None:
        self.replies.append(text)
        self.inner.reply(text)
