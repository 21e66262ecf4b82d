"""One process at a time per output folder: an inter-process lock on ``OUT/.joypix`` and who holds it.

Two runs writing one folder at once would race on the journal, the manifest and each other's temp
files; the second one waits for the first (saying who that is) instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from filelock import FileLock, Timeout

from joypix_recipes.atomic import STATE_FOLDER, atomic_write_text, remove_partials, scratch_folder
from joypix_recipes.errors import JoypixError
from joypix_recipes.redact import redact

LOCK_NAME = "lock"
OWNER_NAME = "owner.json"
POLL_SECONDS = 0.2


class OutputFolderError(JoypixError):
    """The output folder's state folder cannot be created or locked."""


@contextlib.asynccontextmanager
async def hold_output_folder(out_dir: Path, on_wait: Callable[[str], None]) -> AsyncIterator[None]:
    """Hold ``out_dir``'s lock for the block, waiting (and telling ``on_wait`` once) while another process has it.

    Once held, temp files left by writers that are gone are removed; a live writer's are never touched.
    """
    state = Path(out_dir) / STATE_FOLDER
    try:
        scratch_folder(out_dir).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputFolderError(f"cannot create {state}: {e.strerror or e}; check the output folder is writable") from e
    lock = FileLock(state / LOCK_NAME, thread_local=False)
    told = False
    while True:
        try:
            lock.acquire(timeout=0)
            break
        except Timeout:
            if not told:
                on_wait(f"{out_dir} is in use by {describe_holder(state)}; waiting for it to finish (Ctrl-C to stop)")
                told = True
            await asyncio.sleep(POLL_SECONDS)
        except OSError as e:
            raise OutputFolderError(f"cannot lock {state / LOCK_NAME}: {e.strerror or e}") from e
    try:
        with contextlib.suppress(OSError):  # who holds it is a courtesy to the next process, not a must
            atomic_write_text(state / OWNER_NAME, json.dumps(_owner()) + "\n")
        remove_partials(scratch_folder(out_dir))
        yield
    finally:
        with contextlib.suppress(OSError):
            (state / OWNER_NAME).unlink()
        lock.release()


def describe_holder(state: Path) -> str:
    """Who holds the lock, in words, from the owner note it left (or "another joypix process")."""
    try:
        owner = json.loads((state / OWNER_NAME).read_text(encoding="utf-8"))
        since = time.strftime("%H:%M:%S", time.localtime(float(owner["started"])))
        return f"joypix process {int(owner['pid'])} on {owner['host']} (`{owner['command']}`, since {since})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another joypix process"


def _owner() -> dict[str, object]:
    command = redact(" ".join(["joypix", *sys.argv[1:]]))
    return {"pid": os.getpid(), "host": socket.gethostname(), "command": command[:200], "started": time.time()}
