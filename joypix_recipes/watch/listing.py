"""Polling for folders that send no file events (network shares): list the folder's names, stat nothing.

watchdog's own polling observer stats every file in the folder at every interval (and asks Linux for
each one's birth time on top), then diffs two snapshots; with hundreds of files waiting that costs more
than the settling it feeds, which stats the files still settling anyway. Here an interval is one
directory listing: a name not in the previous listing, or back under another inode (replaced), is
reported as created, and the settler takes it from there (sizes, times, completeness).
"""

from __future__ import annotations

import contextlib
import logging
import os

from watchdog.events import DirDeletedEvent, FileCreatedEvent, FileSystemEvent
from watchdog.observers.api import DEFAULT_EMITTER_TIMEOUT, BaseObserver, EventEmitter, EventQueue, ObservedWatch

log = logging.getLogger(__name__)

Listing = dict[str, int]
"""File name -> inode, as the directory itself says them (no stat of any file)."""


def list_files(folder: str) -> Listing:
    """The names of the files and symlinks directly in ``folder``, with their inodes."""
    listing: Listing = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):  # gone between the listing and the type check
                if entry.is_symlink() or entry.is_file(follow_symlinks=False):
                    listing[entry.name] = entry.inode()
    return listing


class ListingEmitter(EventEmitter):
    """Lists one folder every ``timeout`` seconds and reports names that are new since the last listing."""

    def __init__(
        self,
        event_queue: EventQueue,
        watch: ObservedWatch,
        *,
        timeout: float = DEFAULT_EMITTER_TIMEOUT,
        event_filter: list[type[FileSystemEvent]] | None = None,
    ) -> None:
        super().__init__(event_queue, watch, timeout=timeout, event_filter=event_filter)
        self._listing: Listing = {}
        self._failing = False

    def on_thread_start(self) -> None:
        # Files already there are the hot folder's backlog, which it lists itself when it starts. Runs in
        # the thread starting the observer: a folder that cannot be listed fails the start, as it does
        # for the native observer, and the supervisor retries.
        self._listing = list_files(self.watch.path)

    def queue_events(self, timeout: float) -> None:
        if self.stopped_event.wait(timeout):
            return
        try:
            listing = list_files(self.watch.path)
        except (FileNotFoundError, NotADirectoryError):
            # The folder went away: stop, so the supervisor sees a dead observer and watches it again.
            self.queue_event(DirDeletedEvent(self.watch.path))
            self.stop()
            return
        except OSError as e:
            # A share that is briefly unreachable: keep the last listing and try again.
            if not self._failing:
                log.warning("cannot list %s (%s); retrying", self.watch.path, e.strerror or e)
            self._failing = True
            return
        self._failing = False
        previous, self._listing = self._listing, listing
        for name, inode in listing.items():
            if previous.get(name) != inode:
                self.queue_event(FileCreatedEvent(os.path.join(self.watch.path, name)))


class ListingObserver(BaseObserver):
    """An observer that lists its folders every ``timeout`` seconds (see `ListingEmitter`)."""

    def __init__(self, timeout: float) -> None:
        super().__init__(ListingEmitter, timeout=timeout)
