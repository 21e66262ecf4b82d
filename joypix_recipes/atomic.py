"""Writing files so that a reader (or a crash) never sees half of one: temp file first, then rename.

A temp file lives in the enclosing output folder's ``.joypix/tmp/`` (beside the target, hidden, when
there is none), is named after its target and the process writing it, and ends in ``.partial``: never
in a media extension, so ``find -name '*.mp4'`` and downstream watchers only ever see finished files,
and cleanup can tell a crashed writer's leftovers from a live process's work.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from joypix_recipes.errors import JoypixError

PARTIAL_SUFFIX = ".partial"
"""Every temp file ends in this, so cleanup after a crash and the hot folder can recognise them."""

STATE_FOLDER = ".joypix"
"""An output folder's own state (journal, lock, temp files) lives in this subfolder."""

SCRATCH_NAME = "tmp"

_may_publish: Callable[[], bool] | None = None


class PublishingStopped(JoypixError):
    """A finished file was not renamed into place: the process it was written for is gone."""


def publish_only_while(condition: Callable[[], bool]) -> None:
    """From now on this process renames a finished file into place only while ``condition()`` holds.

    A render worker whose run was killed must not drop a file into an output folder its run no longer
    holds (no lock, no journal entry); its temp file is removed instead.
    """
    global _may_publish
    _may_publish = condition


_OWNER = re.compile(r"\.(\d+)\.[^.]+" + re.escape(PARTIAL_SUFFIX) + r"$")


def scratch_folder(out_dir: Path) -> Path:
    """Where temp files of an output folder live: ``OUT/.joypix/tmp``."""
    return Path(out_dir) / STATE_FOLDER / SCRATCH_NAME


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temp path for ``target``; on success it is fsynced and renamed over ``target``.

    On any exception the temp file is removed and ``target`` is left as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = _temp_folder(target)
    hidden = "." if folder == target.parent else ""
    import tempfile  # it loads random and hashlib: only when a file is written

    handle, name = tempfile.mkstemp(prefix=f"{hidden}{target.name}.{os.getpid()}.", suffix=PARTIAL_SUFFIX, dir=folder)
    os.close(handle)
    temp = Path(name)
    # mkstemp makes the file private (0600); an output should get the user's usual permissions.
    os.chmod(temp, 0o666 & ~_UMASK)
    try:
        yield temp
        with temp.open("rb+") as written:
            os.fsync(written.fileno())
        if _may_publish is not None and not _may_publish():
            raise PublishingStopped(f"{target.name} was not written: the run it was for has stopped")
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    fsync_folder(target.parent)


def fsync_folder(folder: Path) -> None:
    """Make renames into ``folder`` durable: until its entry is on disk, a power cut can undo a rename.

    Best effort: Windows cannot open a folder for this, and some file systems refuse it.
    """
    if os.name == "nt":
        return
    try:
        handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _temp_folder(target: Path) -> Path:
    """The nearest enclosing ``.joypix/tmp`` on the target's device (a rename cannot cross devices)."""
    parent = target.parent
    try:
        device = os.stat(parent).st_dev
    except OSError:
        return parent
    for folder in (parent, *parent.parents):
        candidate = folder / STATE_FOLDER / SCRATCH_NAME
        try:
            status = os.stat(candidate)
        except OSError:
            continue
        if stat.S_ISDIR(status.st_mode) and status.st_dev == device:
            return candidate
        break
    return parent


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once at import: os.umask can only be read by setting it, which would race with other threads.
_UMASK = _read_umask()


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Replace ``target`` with ``data`` atomically; a short write (a full disk) leaves ``target`` untouched."""
    with atomic_path(target) as temp:
        handle = os.open(temp, os.O_WRONLY | os.O_TRUNC)
        try:
            view = memoryview(data)
            while view:
                written = os.write(handle, view)
                if written <= 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
                view = view[written:]
            os.fsync(handle)
            # Some file systems accept a write and drop it when out of space: believe only the size.
            if os.fstat(handle).st_size != len(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        finally:
            os.close(handle)


def atomic_write_text(target: Path, text: str) -> None:
    """Replace ``target`` with UTF-8 ``text`` atomically."""
    atomic_write_bytes(target, text.encode("utf-8"))


def temp_owner(name: str) -> int | None:
    """The id of the process that wrote the temp file ``name``, or None for a name without one."""
    match = _OWNER.search(name)
    return int(match.group(1)) if match else None


def process_alive(pid: int) -> bool:
    """True while ``pid`` exists and has not exited; a zombie counts as exited.

    A parent that exited but was not yet reaped is a zombie; its reaper may be waiting for a child's
    copy of its stdout to close, so waiting for the zombie to vanish would deadlock.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as status:
            state = status.read().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc: existence is all we can know
    return state not in ("Z", "X")


def remove_partials(folder: Path, target_name: str | None = None) -> list[Path]:
    """Delete temp files in ``folder`` whose writer is gone (of ``target_name`` only, if given).

    A temp file of a live process is never touched, whoever started it: it is still being written.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not _is_temp_name(name) or (target_name is not None and not _names_target(name, target_name)):
            continue
        owner = temp_owner(name)
        if owner is not None and process_alive(owner):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def remove_partials_of(target: Path, wait_seconds: float = 0.0) -> list[Path]:
    """Delete the temp files of ``target`` whose writer is gone (a killed render, say).

    ``wait_seconds``: how long to wait for writers still alive to exit first (one that is stopping).
    """
    folders = list(dict.fromkeys([target.parent, _temp_folder(target)]))
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline and any(
        owner is not None and process_alive(owner)
        for folder in folders
        for owner in _owners(folder, target.name)
    ):
        time.sleep(0.05)
    return [removed for folder in folders for removed in remove_partials(folder, target.name)]


def _owners(folder: Path, target_name: str) -> list[int | None]:
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [temp_owner(name) for name in names if _is_temp_name(name) and _names_target(name, target_name)]


def _is_temp_name(name: str) -> bool:
    # ".NAME.xyz.partial.mp4" is how earlier versions named temp files beside the target.
    return name.endswith(PARTIAL_SUFFIX) or (name.startswith(".") and PARTIAL_SUFFIX + "." in name)


def _names_target(name: str, target_name: str) -> bool:
    return name.startswith((f"{target_name}.", f".{target_name}."))
