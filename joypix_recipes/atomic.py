"""Writing files so that a reader (or a crash) never sees half of one: temp file beside, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

PARTIAL_SUFFIX = ".partial"
"""Temp files end in this, so cleanup after a crash and the hot folder can recognise them."""


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temp path beside ``target``; on success it is fsynced and renamed over ``target``.

    On any exception the temp file is removed and ``target`` is left as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=PARTIAL_SUFFIX + target.suffix, dir=target.parent)
    os.close(handle)
    temp = Path(name)
    # mkstemp makes the file private (0600); an output should get the user's usual permissions.
    os.chmod(temp, 0o666 & ~_UMASK)
    try:
        yield temp
        with temp.open("rb+") as written:
            os.fsync(written.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once at import: os.umask can only be read by setting it, which would race with other threads.
_UMASK = _read_umask()


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Replace ``target`` with ``data`` atomically."""
    with atomic_path(target) as temp:
        temp.write_bytes(data)


def atomic_write_text(target: Path, text: str) -> None:
    """Replace ``target`` with UTF-8 ``text`` atomically."""
    atomic_write_bytes(target, text.encode("utf-8"))


def remove_partials(folder: Path) -> list[Path]:
    """Delete temp files a crashed run left in ``folder``; returns what was removed."""
    removed = []
    if folder.is_dir():
        for leftover in folder.glob(f".*{PARTIAL_SUFFIX}*"):
            with contextlib.suppress(OSError):
                leftover.unlink()
                removed.append(leftover)
    return removed
