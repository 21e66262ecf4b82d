"""Settling: a file is taken once its size and modification time have stopped changing and it looks complete.

A writer that closed the file (where the platform reports it) need not be waited for; a file whose
format says bytes are missing is not settled yet, for a while, however long it has been still.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Copiers often create an empty file long before the first bytes arrive over a slow share.
EMPTY_FILE_FACTOR = 5.0
# A writer may pause mid-file (a slow upload); an incomplete image waits this many settle times,
# then is taken anyway (and fails as truncated, if it still is).
INCOMPLETE_FACTOR = 10.0


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float
    closed: bool = False
    incomplete_since: float | None = None


class Settler:
    """Tracks files that may still be written; `poll` says which settled and which vanished."""

    def __init__(
        self,
        settle_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        stat: Callable[[Path], os.stat_result] = os.stat,
        is_complete: Callable[[Path], bool] = lambda path: True,
    ) -> None:
        self.settle_seconds = settle_seconds
        self._clock = clock
        self._stat = stat
        self._is_complete = is_complete
        self._pending: dict[Path, _Seen | None] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, path: object) -> bool:
        return path in self._pending

    def touch(self, path: Path) -> None:
        """Start watching ``path`` (an event or a scan saw it): its clock starts now; a later change restarts it."""
        if path not in self._pending:
            self._pending[path] = self._look(path, self._clock())

    def _look(self, path: Path, now: float) -> _Seen | None:
        try:
            status = self._stat(path)
        except OSError:
            return None  # the next poll says it vanished
        return _Seen(status.st_size, status.st_mtime_ns, now)

    def due(self) -> float | None:
        """The earliest clock time at which a pending file may settle; None when nothing is pending."""
        earliest = None
        for seen in self._pending.values():
            if seen is None or (seen.closed and seen.size > 0):
                when = seen.since if seen is not None else self._clock()
            else:
                when = seen.since + self._needed(seen)
            earliest = when if earliest is None else min(earliest, when)
        return earliest

    def _needed(self, seen: _Seen) -> float:
        return self.settle_seconds * (EMPTY_FILE_FACTOR if seen.size == 0 else 1.0)

    def closed(self, path: Path) -> None:
        """The writer closed ``path``: unless it changes again, it need not wait out the settle time."""
        if path not in self._pending:
            self._pending[path] = None
        seen = self._pending[path]
        if seen is not None:
            seen.closed = True

    def discard(self, path: Path) -> None:
        """Stop watching ``path``."""
        self._pending.pop(path, None)

    def poll(self) -> tuple[list[Path], list[Path]]:
        """Stat every pending file; return (settled, vanished), both no longer pending."""
        now = self._clock()
        settled, vanished = [], []
        for path, seen in list(self._pending.items()):
            try:
                status = self._stat(path)
            except OSError:
                vanished.append(path)
                del self._pending[path]
                continue
            if seen is None or (seen.size, seen.mtime_ns) != (status.st_size, status.st_mtime_ns):
                # A change restarts every clock: a writer is still at work.
                self._pending[path] = _Seen(status.st_size, status.st_mtime_ns, now)
                continue
            if (seen.closed and seen.size > 0) or now - seen.since >= self._needed(seen):
                if self._still_incomplete(path, seen, now):
                    continue
                settled.append(path)
                del self._pending[path]
        return settled, vanished

    def _still_incomplete(self, path: Path, seen: _Seen, now: float) -> bool:
        """True while ``path`` lacks its end and has not been incomplete for too long (it stays pending)."""
        if self._is_complete(path):
            return False
        if seen.incomplete_since is None:
            seen.incomplete_since = now
        seen.closed = False  # checked again after another settle time, not at every poll
        seen.since = now
        return now - seen.incomplete_since < self.settle_seconds * INCOMPLETE_FACTOR
