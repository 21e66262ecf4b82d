"""Moving a finished input to done/ or failed/ without ever overwriting, plus the note left beside it."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from joypix_recipes.atomic import atomic_write_text

MAX_SUFFIX = 10_000


Signature = tuple[int, int, int]
"""Inode, size and modification time: whether a file is still the one that was taken."""


def signature(path: Path) -> Signature | None:
    """The file's signature (of the link itself for a symlink), or None if it is gone."""
    try:
        status = os.lstat(path)
    except OSError:
        return None
    return status.st_ino, status.st_size, status.st_mtime_ns


NOTES = {"failed": ("error", "the jobs for this image failed"), "duplicate": ("duplicate", "the same image was already done")}


def set_aside(path: Path, folder: Path, verdict: str, note: str, expected: Signature | None = None) -> Path | None:
    """Move a handled input into ``folder``, with NAME.error.txt or NAME.duplicate.txt when it has a note.

    Returns None, moving nothing, when the file is no longer the one with the ``expected`` signature
    (it was replaced while its jobs ran, so the new content still has to be handled).
    """
    if expected is not None and signature(path) not in (expected, None):
        return None
    moved = move_into(path, folder)
    if verdict in NOTES:
        kind, default = NOTES[verdict]
        write_note(moved, kind, note or default)
    return moved


def move_into(path: Path, folder: Path) -> Path:
    """Move ``path`` into ``folder`` as NAME, or NAME-2, NAME-3 ... if taken; return the new path."""
    folder.mkdir(exist_ok=True)
    for number in range(1, MAX_SUFFIX):
        target = folder / numbered(path.name, number)
        if _move_no_replace(path, target):
            return target
    raise FileExistsError(errno.EEXIST, "no free name", str(folder / path.name))


def write_note(moved: Path, kind: str, text: str) -> Path:
    """Write NAME.<kind>.txt beside a moved input (kind: error, duplicate); never overwrites one."""
    for number in range(1, MAX_SUFFIX):
        note = moved.with_name(f"{moved.name}.{kind}.txt" if number == 1 else f"{moved.name}.{kind}-{number}.txt")
        if not note.exists():
            atomic_write_text(note, text.rstrip("\n") + "\n")
            return note
    raise FileExistsError(errno.EEXIST, "no free name", str(moved))


def numbered(name: str, number: int) -> str:
    """NAME for 1, else NAME-N before the suffix (``slow.jpg``, ``slow-2.jpg``)."""
    if number == 1:
        return name
    stem, _, suffix = name.rpartition(".")
    return f"{stem}-{number}.{suffix}" if stem else f"{name}-{number}"


def _move_no_replace(source: Path, target: Path) -> bool:
    """Move; False if ``target`` exists. A hard link cannot replace, so no race can overwrite a file."""
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:
        if _same_file(source, target):
            # A move cut short between link and unlink (a kill): finish it.
            os.unlink(source)
            return True
        return False
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
        # File systems without hard links (some network shares): check, then rename.
        if target.exists() or target.is_symlink():
            return False
        os.rename(source, target)
        return True
    os.unlink(source)
    return True


def _same_file(first: Path, second: Path) -> bool:
    try:
        return os.path.samestat(os.lstat(first), os.lstat(second))
    except OSError:
        return False
