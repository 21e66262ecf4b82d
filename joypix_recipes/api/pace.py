"""How long to wait before the next render poll: the poll interval, or longer while the render's own progress,
or how long this client's recent renders took, says its end is still far off.

Every poll is a request the client pays for in CPU (and the service in load). A render's progress
usually grows steadily, so once two polls have shown it move, the wait aims a little short of the
predicted end. Without such a figure (a service that shows none, or a render that has shown one only
once), a render this client has just posted is expected to take about as long as the quickest of its
recent renders did, and the wait aims a little short of that end instead. A wait is never shorter than
the poll interval and never longer than ``LONGEST_IN_INTERVALS`` intervals, so a render that speeds
up is still seen soon; a render running past every estimate is polled at the plain interval.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

AIM = 0.8
"""Share of the predicted remaining time to wait: short of the end, so a finished render is seen promptly."""
LONGEST_IN_INTERVALS = 8
"""The longest wait, in poll intervals: the progress figure's unit is not documented, and a misread one
(a fraction taken for a percentage) must not hide a finished render for long."""
EXPECTED_AIM = 0.95
"""Share of the time left before the end recent renders predict to wait. Closer than ``AIM``: that end is
the quickest recent render's, and each of those figures already runs up to one poll past its real end."""
REMEMBERED_RENDERS = 16
"""Recent renders whose durations the expectation for the next one is drawn from."""


@dataclass
class RenderTimes:
    """How long this client's recent renders took from their POST to the poll that found them done.

    Shared by every render of one client: renders of one batch are alike, so the quickest of the recent
    ones is a safe guess (each figure runs up to one poll late, never early) at when the next will end.
    """

    _recent: deque[float] = field(default_factory=lambda: deque(maxlen=REMEMBERED_RENDERS))

    def add(self, seconds: float) -> None:
        """A render posted ``seconds`` ago was just found done."""
        if seconds > 0.0:
            self._recent.append(seconds)

    @property
    def expected_s(self) -> float | None:
        """How long the next render is expected to take from its POST (None until one has ended)."""
        return min(self._recent) if self._recent else None


@dataclass
class RenderPace:
    """Waits between the polls of one render."""

    interval_s: float
    posted_at: float | None = None
    """When this client posted the render (monotonic), if it did; None for a render found in a ledger."""
    times: RenderTimes | None = None
    """How long this client's recent renders took: asked at every wait, so a render posted before any had
    ended learns from the first of its batch to end."""
    _first: tuple[float, float] | None = None
    """(time, progress) of the first poll that showed the render under way."""

    def first_wait(self) -> float:
        """Seconds to wait after the POST before the first poll (a poll right after it can only say "queued")."""
        if self.posted_at is None:
            return 0.0
        return self._expected_wait(self.posted_at)

    def next_wait(self, progress: float, now: float) -> float:
        """Seconds to wait after a poll at ``now`` (monotonic) that reported ``progress`` (0-100)."""
        by_progress = self._progress_wait(progress, now)
        return by_progress if by_progress is not None else self._expected_wait(now)

    def _progress_wait(self, progress: float, now: float) -> float | None:
        """The wait the render's own progress figures call for; None when they say nothing yet."""
        if not 0.0 < progress < 100.0:
            return None
        if self._first is None or progress < self._first[1]:
            self._first = (now, progress)  # the first sign of progress, or a restart: measure from here
            return None
        since, progress_then = self._first
        gained, elapsed = progress - progress_then, now - since
        if gained <= 0.0 or elapsed <= 0.0:
            return self.interval_s  # stalled: the plain interval, whatever earlier renders took
        return self._bounded((100.0 - progress) * elapsed / gained * AIM)

    def _expected_wait(self, now: float) -> float:
        """Aim short of the end recent renders predict for this one; the interval once it is past that end."""
        expected = self.times.expected_s if self.times is not None else None
        if self.posted_at is None or expected is None:
            return self.interval_s
        remaining = self.posted_at + expected - now
        return self._bounded(remaining * EXPECTED_AIM)

    def _bounded(self, wait: float) -> float:
        return min(self.interval_s * LONGEST_IN_INTERVALS, max(self.interval_s, wait))
