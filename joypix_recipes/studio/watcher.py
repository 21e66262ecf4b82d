"""Saved files -> a re-plan: a watchdog observer on the recipe's folder hands each change to the event loop.

Editors save in many ways (write in place, write a copy and rename it over, delete and recreate); any of
them under the folder is a change. The output folder is left out, or every draft written would be one.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

SETTLE_S = 0.15
"""Changes this close together are one save (an editor's write, rename and chmod)."""


class _Bridge(FileSystemEventHandler):
    """Runs in the observer's thread: hands the loop a wake-up for any change outside the output folder."""

    def __init__(self, loop: asyncio.AbstractEventLoop, changed: Callable[[], None], ignored: Path) -> None:
        self._loop = loop
        self._changed = changed
        self._ignored = ignored

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = [event.src_path, getattr(event, "dest_path", "")]
        if all(not raw or self._is_ignored(Path(os.fsdecode(raw))) for raw in paths):
            return
        try:
            self._loop.call_soon_threadsafe(self._changed)
        except RuntimeError:  # the loop closed while the observer stopped
            pass

    def _is_ignored(self, path: Path) -> bool:
        return path == self._ignored or path.is_relative_to(self._ignored)


class FolderWatcher:
    """Watches ``folder`` (and below it, but not ``ignored``) and calls ``on_change`` on the loop, once per burst."""

    def __init__(self, folder: Path, ignored: Path, on_change: Callable[[], None]) -> None:
        self._folder = folder
        self._ignored = ignored
        self._on_change = on_change
        self._observer: BaseObserver | None = None
        self._pending: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Start watching; call on the event loop."""
        self._loop = asyncio.get_running_loop()
        observer = Observer()
        observer.schedule(_Bridge(self._loop, self._changed, self._ignored), os.fspath(self._folder), recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer

    def stop(self) -> None:
        """Stop watching; the observer's thread has ended when this returns."""
        if self._pending is not None:
            self._pending.cancel()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(5)
            self._observer = None

    def _changed(self) -> None:
        # Each change restarts the wait, so a burst is seen once it is over.
        if self._pending is not None:
            self._pending.cancel()
        assert self._loop is not None
        self._pending = self._loop.call_later(SETTLE_S, self._on_change)
