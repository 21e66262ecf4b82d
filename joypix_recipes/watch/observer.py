"""The watchdog side: observer threads only hand paths to the event loop; a supervisor restarts them."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver

log = logging.getLogger(__name__)

ObserverFactory = Callable[[], BaseObserver]
"""Makes a fresh, unstarted observer (native or polling); the caller chooses which."""

# A new name starts the settle clock, which sees later writes by itself, so modify events (one per
# write call) are filtered out by the emitter, in the kernel where it can. A close after writing
# (reported on Linux) says the writer is done, so the file need not wait out the settle time.
WANTED_EVENTS: list[type[FileSystemEvent]] = [FileCreatedEvent, FileMovedEvent, FileClosedEvent]

HandOver = Callable[[Path, bool], None]
"""Receives a path from an observer thread, and whether its writer just closed it."""


class PathBridge(FileSystemEventHandler):
    """Runs in observer threads: turns an event into a path and hands it over, nothing more."""

    def __init__(self, hand_over: HandOver) -> None:
        self._hand_over = hand_over

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        if isinstance(event, FileMovedEvent):
            # Renamed into the folder (or within it): the new name is what may be an input.
            raw = event.dest_path
        elif isinstance(event, (FileCreatedEvent, FileClosedEvent)):
            raw = event.src_path
        else:
            return
        self._hand_over(Path(os.fsdecode(raw)), isinstance(event, FileClosedEvent))


class ObserverSupervisor:
    """Owns the observer: starts it on every folder, notices when it died, starts a new one."""

    def __init__(self, factory: ObserverFactory, folders: Sequence[Path], bridge: PathBridge) -> None:
        self._factory = factory
        self._folders = tuple(folders)
        self._bridge = bridge
        self._observer: BaseObserver | None = None
        self._outage = False
        self.restarts = 0

    @property
    def observer(self) -> BaseObserver | None:
        """The observer currently running, if any."""
        return self._observer

    def start(self) -> bool:
        """Start a fresh observer on every folder; False (and nothing running) if a folder is unusable."""
        observer = self._factory()
        try:
            for folder in self._folders:
                observer.schedule(self._bridge, os.fspath(folder), recursive=False, event_filter=WANTED_EVENTS)
            observer.start()
        except OSError as e:
            if not self._outage:  # once per outage, not at every retry
                log.warning("cannot watch %s (%s); retrying", ", ".join(map(str, self._folders)), e.strerror or e)
            self._outage = True
            _stop_quietly(observer)
            return False
        if self._outage:
            log.warning("watching %s again", ", ".join(map(str, self._folders)))
        self._outage = False
        self._observer = observer
        return True

    def healthy(self) -> bool:
        """True while the observer thread and every emitter thread are alive."""
        observer = self._observer
        if observer is None or not observer.is_alive():
            return False
        return all(emitter.is_alive() for emitter in observer.emitters)

    def restart_if_dead(self) -> bool:
        """Replace a dead observer; True when a new one started (events may have been missed)."""
        if self.healthy():
            return False
        if self._observer is not None:
            log.warning("the folder observer stopped; starting a new one")
            _stop_quietly(self._observer)
            self._observer = None
        started = self.start()
        if started:
            self.restarts += 1
        return started

    def stop(self) -> None:
        """Stop and join the observer threads."""
        if self._observer is not None:
            _stop_quietly(self._observer)
            self._observer = None


def _stop_quietly(observer: BaseObserver) -> None:
    try:
        observer.stop()
        if observer.is_alive():
            observer.join(timeout=5)
        # Emitters of an observer that never started are stopped but were never joined.
        for emitter in list(observer.emitters):
            if emitter.is_alive():
                emitter.join(timeout=5)
    except (OSError, RuntimeError) as e:
        log.warning("the folder observer did not stop cleanly (%s)", e)
