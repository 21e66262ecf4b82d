"""Settling: a file is taken once its size and modification time have stopped changing and it looks complete.

A writer that closed the file (where the platform reports it) need not be waited for; a file whose
format says bytes are missing is not settled yet, for a while, however long it has been still.

A file's clock starts when a look finds it new or changed, less the time it has provably been still
already, up to one look's interval (``max_credit``): the look may come that late after the last write.
Provably: its change time (ctime, which every write, rename or time-setting moves and nobody can set)
against the newest change time in the same look, a moment the file system's clock had certainly reached
by then; no clock of ours is compared with the file system's (a share's server keeps its own). The
credit is capped because a share's client may cache attributes for a while: the file is still watched
for all but one interval of the settle time, so an old modification time (a copy that kept it) never
makes it settle sooner.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
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
        max_credit: float = 0.0,
    ) -> None:
        self.settle_seconds = settle_seconds
        self.max_credit = min(max_credit, settle_seconds)
        self._clock = clock
        self._stat = stat
        self._is_complete = is_complete
        self._pending: dict[Path, _Seen | None] = {}
        # Paths whose writer closed them after our last look: the next look sees their final state.
        self._closed_since_look: set[Path] = set()
        self._due: float | None = None  # cached earliest due time; None when it must be worked out again
        self._due_stale = False

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, path: object) -> bool:
        return path in self._pending

    def touch(self, path: Path) -> None:
        """Start watching ``path`` (an event or a scan saw it): its clock starts now; a later change restarts it."""
        self.touch_all([path])

    def touch_all(self, paths: Iterable[Path]) -> None:
        """Start watching the ``paths`` seen together (one listing, one batch of events), as `touch` does."""
        now = self._clock()
        looked = [(path, self._look(path)) for path in paths if path not in self._pending]
        reference = _newest_change(status for _, status in looked)
        for path, status in looked:
            seen = None if status is None else self._seen(status, now, reference)
            self._pending[path] = seen  # None: the next poll says it vanished
            self._note_due(now if seen is None else seen.since + self._needed(seen))

    def _look(self, path: Path) -> os.stat_result | None:
        try:
            return self._stat(path)
        except OSError:
            return None

    def _seen(self, status: os.stat_result, now: float, reference: int, closed: bool = False) -> _Seen:
        # Still since its last change at least as long as the newest change seen in the same look is
        # younger; a new or changed file is never settled at the look that found it, so a file is
        # always looked at twice.
        still = min(self.max_credit, max(0, reference - status.st_ctime_ns) / 1e9)
        return _Seen(status.st_size, status.st_mtime_ns, now - still, closed=closed)

    def due(self) -> float | None:
        """The earliest clock time at which a pending file may settle; None when nothing is pending."""
        if not self._pending:
            self._due, self._due_stale = None, False  # an old time must not wake the next file early
        elif self._due_stale:
            self._due, self._due_stale = None, False
            for seen in self._pending.values():
                self._note_due(self._clock() if seen is None else self._when(seen))
        return self._due

    def _when(self, seen: _Seen) -> float:
        if seen.closed and seen.size > 0:
            return seen.since
        return seen.since + self._needed(seen)

    def _note_due(self, when: float) -> None:
        if not self._due_stale:
            self._due = when if self._due is None else min(self._due, when)

    def _needed(self, seen: _Seen) -> float:
        return self.settle_seconds * (EMPTY_FILE_FACTOR if seen.size == 0 else 1.0)

    def closed(self, path: Path) -> None:
        """The writer closed ``path``: unless it changes again, it need not wait out the settle time."""
        if path not in self._pending:
            self._pending[path] = None
        seen = self._pending[path]
        self._closed_since_look.add(path)
        if seen is not None:
            seen.closed = True
            self._note_due(self._when(seen))
        else:
            self._note_due(self._clock())

    def discard(self, path: Path) -> None:
        """Stop watching ``path``."""
        self._pending.pop(path, None)
        self._closed_since_look.discard(path)

    def poll(self) -> tuple[list[Path], list[Path]]:
        """Stat every pending file; return (settled, vanished), both no longer pending."""
        now = self._clock()
        closed_now, self._closed_since_look = self._closed_since_look, set()
        looked = [(path, seen, self._look(path)) for path, seen in list(self._pending.items())]
        reference = _newest_change(status for _, _, status in looked)
        settled, vanished = [], []
        for path, seen, status in looked:
            if status is None:
                vanished.append(path)
                del self._pending[path]
                continue
            if seen is None or (seen.size, seen.mtime_ns) != (status.st_size, status.st_mtime_ns):
                # A change restarts the clock: a writer is still at work. A close reported since the last
                # look came after the writes this look sees, so it still counts.
                self._pending[path] = self._seen(status, now, reference, closed=path in closed_now)
                continue
            if (seen.closed and seen.size > 0) or now - seen.since >= self._needed(seen):
                if self._still_incomplete(path, seen, now):
                    continue
                settled.append(path)
                del self._pending[path]
        self._due_stale = True
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


def _newest_change(statuses: Iterable[os.stat_result | None]) -> int:
    """The newest change time among ``statuses``: the file system's clock had reached it when they were taken."""
    return max((status.st_ctime_ns for status in statuses if status is not None), default=0)
