"""How long to wait before the next render poll: the poll interval, or longer while the render's own progress
says its end is still far off.

Every poll is a request the client pays for in CPU (and the service in load), and a render's progress
usually grows steadily, so once two polls have shown it move, the wait aims a little short of the
predicted end. It is never shorter than the poll interval and never longer than ``LONGEST_IN_INTERVALS``
intervals, so a render that speeds up is still seen soon, and a progress figure that stalls, jumps back
or is absent leaves the plain interval.
"""

from __future__ import annotations

from dataclasses import dataclass

AIM = 0.8
"""Share of the predicted remaining time to wait: short of the end, so a finished render is seen promptly."""
LONGEST_IN_INTERVALS = 8
"""The longest wait, in poll intervals: the progress figure's unit is not documented, and a misread one
(a fraction taken for a percentage) must not hide a finished render for long."""


@dataclass
class RenderPace:
    """Waits between the polls of one render."""

    interval_s: float
    _first: tuple[float, float] | None = None
    """(time, progress) of the first poll that showed the render under way."""

    def next_wait(self, progress: float, now: float) -> float:
        """Seconds to wait after a poll at ``now`` (monotonic) that reported ``progress`` (0-100)."""
        if not 0.0 < progress < 100.0:
            return self.interval_s
        if self._first is None or progress < self._first[1]:
            self._first = (now, progress)  # the first sign of progress, or a restart: measure from here
            return self.interval_s
        since, progress_then = self._first
        gained, elapsed = progress - progress_then, now - since
        if gained <= 0.0 or elapsed <= 0.0:
            return self.interval_s
        remaining = (100.0 - progress) * elapsed / gained
        return min(self.interval_s * LONGEST_IN_INTERVALS, max(self.interval_s, remaining * AIM))
