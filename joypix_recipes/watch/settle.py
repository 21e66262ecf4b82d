"""Settling: a file is taken only once its size and modification time have stopped changing."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Copiers often create an empty file long before the first bytes arrive over a slow share.
EMPTY_FILE_FACTOR = 5.0


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float


class Settler:
    """Tracks files that may still be written; `poll` says which settled and which vanished."""

    def __init__(
        self,
        settle_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        stat: Callable[[Path], os.stat_result] = os.stat,
    ) -> None:
        self.settle_seconds = settle_seconds
        self._clock = clock
        self._stat = stat
        self._pending: dict[Path, _Seen | None] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, path: object) -> bool:
        return path in self._pending

    def touch(self, path: Path) -> None:
        """Start watching ``path`` (an event or a scan saw it); a later change restarts its clock."""
        self._pending.setdefault(path, None)

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
                self._pending[path] = _Seen(status.st_size, status.st_mtime_ns, now)
                continue
            needed = self.settle_seconds * (EMPTY_FILE_FACTOR if seen.size == 0 else 1.0)
            if now - seen.since >= needed:
                settled.append(path)
                del self._pending[path]
        return settled, vanished
