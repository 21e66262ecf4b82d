"""The client's own folders: where they are, private JSON files in them, the last session used.

Three kinds of file, in the platform's three per-user folders: configuration (the token cache, the client
id) in the config folder, state (the last session record, crash logs) in the state folder, and caches in
the cache folder. JOYPIX_HOME, or a home given in code, puts all three in that one folder instead.

Files here may hold a token, so they are created readable by the user only (0600) and replaced
atomically, so a crash or a second process never sees half a file. Several processes share one home
(a run, a hot folder, farm workers): a change to a file is read, changed and written under a file lock,
so one process's entry never overwrites another's.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import filelock
import platformdirs

from joypix_recipes.api.endpoints import ENV_HOME
from joypix_recipes.atomic import fsync_folder
from joypix_recipes.errors import UsageError
from joypix_recipes.redact import url_without_credentials

LAST_SESSION_FILE = "last_session.json"


APP = "joypix"


def default_home() -> Path:
    """JOYPIX_HOME if set, else the platform's per-user config folder plus ``joypix``: where tokens live.

    On Linux that is ``$XDG_CONFIG_HOME/joypix`` (``~/.config/joypix``), where earlier versions kept it;
    on macOS ``~/Library/Application Support/joypix``; on Windows the roaming application data, as before.
    """
    configured = _configured_home()
    if configured is not None:
        return configured
    return platformdirs.user_config_path(APP, appauthor=False, roaming=True)


def default_state() -> Path:
    """Where the last session record and crash logs go: JOYPIX_HOME if set, else the platform's state folder.

    On Linux ``$XDG_STATE_HOME/joypix`` (``~/.local/state/joypix``), on macOS ``~/Library/Logs/joypix``.
    """
    configured = _configured_home()
    if configured is not None:
        return configured
    if sys.platform == "darwin":
        return platformdirs.user_log_path(APP, appauthor=False)
    return platformdirs.user_state_path(APP, appauthor=False)


def default_cache() -> Path:
    """Where caches go: JOYPIX_HOME if set, else ``$XDG_CACHE_HOME/joypix`` (``~/.cache/joypix``) on Linux,
    ``~/Library/Caches/joypix`` on macOS; anything in it can be deleted at any time."""
    configured = _configured_home()
    if configured is not None:
        return configured
    return platformdirs.user_cache_path(APP, appauthor=False)


def _configured_home() -> Path | None:
    configured = os.environ.get(ENV_HOME)
    return Path(configured).expanduser() if configured else None


class HomeError(UsageError):
    """JOYPIX_HOME cannot be used: it is a file, read-only, or under a file."""


def ensure_home(home: Path) -> Path:
    """Create ``home`` readable by the user only (0700) if it is missing, and any folder above it that is
    missing too (they would tell others where the token lives); HomeError when it cannot be used."""
    try:
        if not home.is_dir():
            missing = [folder for folder in (home, *home.parents) if not folder.exists()]
            for folder in reversed(missing):
                with contextlib.suppress(FileExistsError):  # another process made it meanwhile
                    folder.mkdir(mode=0o700)
                    os.chmod(folder, 0o700)  # the umask may have taken bits away; never added any
            if not home.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(home))
    except OSError as e:
        raise _home_error(home, e) from e
    return home


def check_home(home: Path) -> None:
    """HomeError unless ``home`` is, or can be created as, a folder this user can write to; creates nothing.

    Checked before any work starts, so an unusable home is a usage error, not a failure of every job."""
    existing = next((folder for folder in (home, *home.parents) if folder.exists()), None)
    if existing is None:
        return
    if not existing.is_dir():
        raise _home_error(home, NotADirectoryError(errno.ENOTDIR, f"{existing} is not a folder"))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise _home_error(home, PermissionError(errno.EACCES, f"{existing} is not writable"))


def _home_error(home: Path, error: OSError) -> HomeError:
    reason = error.strerror or str(error)
    return HomeError(
        f"the joypix home folder {home} cannot be used ({reason}); set {ENV_HOME} to a folder you can write to"
    )


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``, or an empty one when the file is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` with ``data`` as JSON, in a file only the user can read (mode 0600).

    ``path`` is in the home folder: HomeError (a one-line message) when that cannot be written.
    """
    ensure_home(path.parent)
    # mkstemp creates the file 0600 whatever the umask, so the token is never readable by others.
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as e:
        raise _home_error(path.parent, e) from e
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(name, 0o600)
        os.replace(name, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(name)
        if isinstance(error, OSError):
            raise _home_error(path.parent, error) from error
        raise
    fsync_folder(path.parent)


LOCK_TIMEOUT_S = 30.0


def update_private_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Read ``path``, let ``change`` edit the object in place, and write it back, holding ``path``'s lock.

    HomeError when the home folder cannot be written or another process holds the lock too long.
    """
    ensure_home(path.parent)
    lock = filelock.FileLock(path.with_name(f".{path.name}.lock"), timeout=LOCK_TIMEOUT_S, mode=0o600)
    try:
        with lock:
            data = read_json(path)
            change(data)
            write_private_json(path, data)
    except filelock.Timeout as e:
        raise HomeError(
            f"{path} stayed locked by another joypix process for {LOCK_TIMEOUT_S:.0f} s; try again when it ends"
        ) from e
    except OSError as e:
        raise _home_error(path.parent, e) from e


def record_session(state: Path, base_url: str, session_id: str, bind_id: str | None) -> None:
    """Remember the most recent session per base URL in the state folder, for ``joypix status`` without an id."""
    entry = {"session_id": session_id, "bind_id": bind_id, "created_at": time.time()}

    def remember(data: dict[str, Any]) -> None:
        data[url_without_credentials(base_url)] = entry

    update_private_json(state / LAST_SESSION_FILE, remember)


def last_session(state: Path, base_url: str, legacy: Path | None = None) -> str | None:
    """The session id recorded last for ``base_url`` in the state folder, if any.

    Earlier versions kept the record in the config folder (``legacy``): it is read, never moved or changed,
    when the state folder has no entry for ``base_url``; the next session recorded goes to the state folder
    and wins from then on. Nothing is moved, so two versions sharing a home never lose each other's record.
    """
    for folder in (state, legacy):
        if folder is None:
            continue
        entry = read_json(folder / LAST_SESSION_FILE).get(url_without_credentials(base_url))
        if isinstance(entry, dict) and isinstance(entry.get("session_id"), str):
            return str(entry["session_id"])
    return None
