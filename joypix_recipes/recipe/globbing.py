"""Globs expanded with a bound on how much of the file system they may look through.

``glob.glob`` cannot be stopped part-way, and ``/**/*.jpg`` (or a symlink inside a folder that leads
to ``/``) walks the whole machine. This walk counts every folder entry it reads and stops with a clear
error after MAX_ENTRIES. It matches as ``glob.glob(..., recursive=True)`` does: ``**`` is any number
of folders, names starting with '.' match only a pattern that starts with '.', symlinks are followed.
"""

from __future__ import annotations

import fnmatch
import itertools
import os
from pathlib import Path

from joypix_recipes.errors import PlanError

MAX_ENTRIES = 50_000
"""Folder entries one glob may read; a batch of pictures is far smaller than that."""

_MAGIC = frozenset("*?[")


class GlobTooWide(PlanError):
    """A glob would read more of the file system than a batch of pictures needs."""


def has_magic(text: str) -> bool:
    """Whether ``text`` has glob characters."""
    return any(character in _MAGIC for character in text)


def bounded_glob(pattern: str, base: Path) -> list[Path]:
    """The paths ``pattern`` (relative to ``base`` unless absolute) matches, as absolute paths, unsorted.

    Raises GlobTooWide after reading MAX_ENTRIES folder entries.
    """
    pure = Path(pattern)
    root = pure.anchor if pure.is_absolute() else str(base)
    parts = pure.parts[1:] if pure.is_absolute() else pure.parts
    walk = _Walk(pattern)
    current = [root]
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        found: list[str] = []
        for folder in current:
            if part == "**":
                found += walk.below(folder, files=last)
            elif has_magic(part):
                found += walk.matching(folder, part, folders_only=not last)
            elif (os.path.lexists if last else os.path.isdir)(candidate := os.path.join(folder, part)):
                found.append(candidate)
        current = list(dict.fromkeys(found))
    return [Path(os.path.abspath(path)) for path in current] if parts else []


class _Walk:
    """Folder reads of one glob, counted."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.entries = 0

    def _entries(self, folder: str) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(folder) as scan:
                entries = list(itertools.islice(scan, MAX_ENTRIES - self.entries + 1))
        except OSError:
            return []  # as glob does: a folder that cannot be read matches nothing
        self.entries += len(entries)
        if self.entries > MAX_ENTRIES:
            raise GlobTooWide(
                f"'{self.pattern}' looks through more than {MAX_ENTRIES:,} files and folders;"
                " name the folder the pictures are in"
            )
        return entries

    def matching(self, folder: str, part: str, *, folders_only: bool) -> list[str]:
        """The entries of ``folder`` whose names match ``part``."""
        entries = self._entries(folder)
        names = fnmatch.filter([entry.name for entry in entries], part)
        if not part.startswith("."):
            names = [name for name in names if not name.startswith(".")]
        if folders_only:
            folders = {entry.name for entry in entries if _is_dir(entry)}
            names = [name for name in names if name in folders]
        return [os.path.join(folder, name) for name in names]

    def below(self, folder: str, *, files: bool) -> list[str]:
        """``folder`` and every folder under it (and, with ``files``, every file too), hidden ones left out."""
        found = [folder]
        pending = [folder]
        while pending:
            current = pending.pop()
            for entry in self._entries(current):
                if entry.name.startswith("."):
                    continue
                if _is_dir(entry):
                    found.append(entry.path)
                    pending.append(entry.path)
                elif files:
                    found.append(entry.path)
        return found


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False
