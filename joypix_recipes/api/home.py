"""The client's own folder (JOYPIX_HOME): where it is, private JSON files in it, the last session used.

Files here may hold a token, so they are created readable by the user only (0600) and replaced
atomically, so a crash or a second process never sees half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from joypix_recipes.api.endpoints import ENV_HOME

LAST_SESSION_FILE = "last_session.json"


def default_home() -> Path:
    """JOYPIX_HOME if set, else the platform's per-user config folder plus ``joypix``."""
    configured = os.environ.get(ENV_HOME)
    if configured:
        return Path(configured).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "joypix"


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``, or an empty one when the file is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` with ``data`` as JSON, in a file only the user can read (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600 whatever the umask, so the token is never readable by others.
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(name, 0o600)
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def record_session(home: Path, base_url: str, session_id: str, bind_id: str | None) -> None:
    """Remember the most recent session per base URL, for ``joypix status`` without an id."""
    path = home / LAST_SESSION_FILE
    data = read_json(path)
    data[base_url] = {"session_id": session_id, "bind_id": bind_id, "created_at": time.time()}
    write_private_json(path, data)


def last_session(home: Path, base_url: str) -> str | None:
    """The session id recorded last for ``base_url``, if any."""
    entry = read_json(home / LAST_SESSION_FILE).get(base_url)
    if isinstance(entry, dict) and isinstance(entry.get("session_id"), str):
        return str(entry["session_id"])
    return None
