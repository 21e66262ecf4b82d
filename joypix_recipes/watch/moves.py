"""Moving a finished input to done/ or failed/ without ever overwriting, plus the note left beside it."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from joypix_recipes.atomic import atomic_write_text

MAX_SUFFIX = 10_000
CAPTURED = ".joypix-setting-aside"
"""The ending of an input's hidden name while it is being moved aside (hidden names are never taken)."""


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

    The file is first renamed to a hidden name beside it, which takes whatever is at ``path`` at that
    instant; only then is it compared with ``expected``. A photo dropped under the same name a moment
    later therefore lands beside the captured one and is never moved or deleted with it.
    """
    captured = path.with_name(f".{path.name}{CAPTURED}")
    os.rename(path, captured)
    if expected is not None and signature(captured) != expected:
        move_into(captured, path.parent, name=path.name)  # not the file whose jobs ran: put it back
        return None
    moved = move_into(captured, folder, name=path.name)
    if verdict in NOTES:
        kind, default = NOTES[verdict]
        write_note(moved, kind, note or default)
    return moved


def recover_captured(folder: Path) -> list[Path]:
    """Finish the moves a kill cut short in ``folder``; returns the inputs put back to be taken again.

    A captured file with a second link was already linked into done/ or failed/ and only needs its
    hidden name removed; one without is put back under its own name (numbered if that is taken now).
    """
    restored = []
    for captured in folder.glob(f".*{CAPTURED}"):
        try:
            if os.lstat(captured).st_nlink > 1:
                os.unlink(captured)
                continue
            restored.append(move_into(captured, folder, name=captured.name[1 : -len(CAPTURED)]))
        except FileNotFoundError:
            continue
    return restored


def move_into(path: Path, folder: Path, name: str | None = None) -> Path:
    """Move ``path`` into ``folder`` as NAME (``name``, else its own), or NAME-2, NAME-3 ... if taken."""
    folder.mkdir(exist_ok=True)
    for number in range(1, MAX_SUFFIX):
        target = folder / numbered(name or path.name, number)
        if _move_no_replace(path, target):
            return target
    raise FileExistsError(errno.EEXIST, "no free name", str(folder / (name or path.name)))


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
