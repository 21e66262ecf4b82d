"""Second chances: an image moved to failed/ that changes afterwards (its writer was not done) goes back in.

A writer that pauses longer than the settle time may have its file taken, fail as truncated and be
moved to failed/ while it still holds the file open; the rest of the bytes then land in failed/.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from joypix_recipes.watch.moves import NOTES, Signature, move_into, signature

MAX_WATCHED = 1_000
"""Failed files watched at once; the oldest is forgotten first (a rescan cannot find it in failed/)."""


@dataclass(frozen=True)
class _Failed:
    hot_folder: Path
    signature: Signature | None
    note: Path | None


class FailedFiles:
    """Images this watcher moved to failed/, with what they looked like when moved."""

    def __init__(self) -> None:
        self._watched: dict[Path, _Failed] = {}

    def add(self, moved: Path, hot_folder: Path, read_as: Signature | None) -> None:
        """Watch ``moved`` (now in failed/) for changes since it was read as ``read_as``."""
        kind, _ = NOTES["failed"]
        note = moved.with_name(f"{moved.name}.{kind}.txt")
        self._watched[moved] = _Failed(hot_folder, read_as or signature(moved), note if note.exists() else None)
        while len(self._watched) > MAX_WATCHED:
            del self._watched[next(iter(self._watched))]

    def changed(self) -> list[Path]:
        """Move every watched file that changed back into its hot folder; returns the new paths."""
        restored = []
        for moved, failed in list(self._watched.items()):
            now = signature(moved)
            if now == failed.signature:
                continue
            del self._watched[moved]
            if now is None:
                continue  # removed or renamed by someone: not ours to chase
            try:
                back = move_into(moved, failed.hot_folder)
            except OSError:
                continue
            if failed.note is not None:
                with contextlib.suppress(OSError):
                    failed.note.unlink()  # the reason no longer holds; a new failure writes a new one
            restored.append(back)
        return restored
