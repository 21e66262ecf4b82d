"""The hot folder's one consumer: settles paths, hands each image to a handler once, then moves it aside.

Observer threads only put paths on the queue; everything else happens here, on the event loop.
What happens to an image (planning, the journal, the runner) is the injected `FileHandler`'s job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from joypix_recipes.job.model import hash_file
from joypix_recipes.run.attempt import Failure, attempt
from joypix_recipes.watch.complete import looks_complete
from joypix_recipes.watch.config import Flow
from joypix_recipes.watch.filters import DONE, FAILED, NOT_AN_IMAGE, Router
from joypix_recipes.watch.moves import Signature, recover_captured, set_aside, signature
from joypix_recipes.watch.observer import (
    ObserverFactory,
    ObserverSupervisor,
    PathBridge,
)
from joypix_recipes.watch.retry import FailedFiles
from joypix_recipes.watch.settle import Settler

log = logging.getLogger(__name__)

Verdict = Literal["done", "duplicate", "failed"]
Status = Literal["taken", "done", "duplicate", "failed", "vanished", "skipped", "ignored", "held", "changed", "retried"]
"""taken: settled and handed over; done / duplicate / failed: moved to done/ or failed/; vanished: gone
before it settled or was read; skipped: a symlink out of the folder, left alone; ignored: not an image,
left alone (said once per file); held: left in place because the run stopped (no credits); changed:
replaced while its jobs ran, so taken again; retried: changed in failed/ after it was moved there, so
moved back and taken again."""


@dataclass(frozen=True)
class Handled:
    """What became of one image's jobs: done, a duplicate of one already done, or failed and why."""

    verdict: Verdict
    note: str = ""


class FileHandler(Protocol):
    """Runs one settled image through its flow; returns only after its jobs are recorded."""

    def __call__(self, path: Path, flow: Flow, content_hash: str) -> Awaitable[Handled]:
        """Plan and run the jobs for ``path``; raise JoypixError or return failed to fail the image, RunError to hold it."""
        ...


@dataclass(frozen=True)
class FileEvent:
    """One thing the watcher did with a file, for progress and tests."""

    status: Status
    path: Path
    moved_to: Path | None = None
    note: str = ""


@dataclass
class WatchSummary:
    """Counts of what happened to the files this watcher saw."""

    counts: Counter[str] = field(default_factory=Counter)
    observer_restarts: int = 0
    stopped_reason: str | None = None

    @property
    def exit_code(self) -> int:
        """0 when no image failed and nothing stopped the watcher, 1 otherwise."""
        return 1 if self.counts["failed"] or self.stopped_reason else 0


@dataclass(frozen=True)
class Timing:
    """How often the consumer looks at things, in seconds."""

    settle: float = 1.0
    rescan: float = 30.0
    health: float = 1.0

    @property
    def tick(self) -> float:
        """How often pending files are stat-ed to see them change: a tenth of the settle time, so a last
        write is seen soon after it and the settle time stays the wait that counts."""
        return max(0.01, min(0.25, self.settle / 10))

    @property
    def gap(self) -> float:
        """The least time between two looks at the pending files, however many files come due or close."""
        return min(0.05, self.tick)


class HotFolder:
    """Watches the flows' folders and hands each settled image to the handler exactly once at a time."""

    def __init__(
        self,
        router: Router,
        handler: FileHandler,
        timing: Timing,
        observer_factory: ObserverFactory | None,
        on_event: Callable[[FileEvent], None] = lambda event: None,
        clock: Callable[[], float] = time.monotonic,
        max_reading: int = 16,
    ) -> None:
        self.router = router
        self.handler = handler
        self.timing = timing
        self.summary = WatchSummary()
        self._observer_factory = observer_factory
        self._on_event = on_event
        self._clock = clock
        # A first sight may come up to a tick late (a look, or a polled listing): a file shown still for
        # longer by its change time gets that back.
        self._settler = Settler(timing.settle, clock=clock, is_complete=looks_complete, max_credit=timing.tick)
        self._queue: asyncio.Queue[tuple[Path, bool]] = asyncio.Queue()
        self._arrived = asyncio.Event()
        self._looker: ThreadPoolExecutor | None = None
        self._failed = FailedFiles()
        self._taken: dict[Path, asyncio.Task[None]] = {}
        # Files we must not retake unless they change: a symlink out, a file we could not move.
        self._stuck: dict[Path, Signature | None] = {}
        # Non-images already reported: each is said once while it stays, not on every event or rescan.
        self._left_alone: set[Path] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._lock_users: Counter[str] = Counter()
        # Images being read (hashed) at once, so a burst of hundreds does not crowd the threads. Only the
        # reading is bounded here: a job's start must not wait behind other images' renders, which the
        # runner's slots bound already (and the handler bounds its planning).
        self._reading = asyncio.Semaphore(max_reading)

    async def run(self, stop: asyncio.Event, once: bool = False) -> WatchSummary:
        """Serve until ``stop`` is set (or, with ``once``, until the files present are all handled)."""
        loop = asyncio.get_running_loop()
        supervisor = None
        if not once and self._observer_factory is not None:
            supervisor = ObserverSupervisor(
                self._observer_factory, self.router.folders, PathBridge(self._hand_over(loop))
            )
            if not supervisor.start():
                log.warning("watching by rescans only until the folder can be observed")
        # Settling looks get a thread of their own: behind a burst's hashing and planning in the shared
        # pool, the files still settling would wait.
        self._looker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="joypix-settle")
        try:
            await asyncio.to_thread(self._recover_captured)
            self._rescan()
            await self._serve(stop, once, supervisor)
        finally:
            self._looker.shutdown(wait=True)
            if supervisor is not None:
                self.summary.observer_restarts = supervisor.restarts
                await asyncio.to_thread(supervisor.stop)
            await self._cancel_in_flight()
        return self.summary

    def _recover_captured(self) -> None:
        for folder in self.router.folders:
            try:
                restored = recover_captured(folder)
            except OSError as e:
                log.error("cannot finish an interrupted move in %s: %s", folder, e.strerror)
                continue
            for path in restored:
                log.info("%s: its move aside was interrupted; taking it again", path.name)

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> Callable[[Path, bool], None]:
        def hand_over(path: Path, closed: bool) -> None:
            # Called in an observer thread: only schedule the put; never touch our state from here.
            with contextlib.suppress(RuntimeError):  # the loop already closed while stopping
                loop.call_soon_threadsafe(self._arrive, path, closed)

        return hand_over

    def _arrive(self, path: Path, closed: bool) -> None:
        self._queue.put_nowait((path, closed))
        self._arrived.set()

    async def _serve(self, stop: asyncio.Event, once: bool, supervisor: ObserverSupervisor | None) -> None:
        next_rescan = self._clock() + self.timing.rescan
        next_health = self._clock() + self.timing.health
        next_look, last_look = self._clock(), -self.timing.gap
        while not stop.is_set() and self.summary.stopped_reason is None:
            # A path from the observer starts its settle clock when it arrives (so the consumer wakes for
            # it); pending files are looked at once per tick to see them change, and as soon as one may
            # settle (its settle time is up, or its writer closed it), never twice within the gap.
            self._arrived.clear()
            self._drain_queue()
            now = self._clock()
            due = self._settler.due()
            if now >= next_look or (due is not None and due <= now and now >= last_look + self.timing.gap):
                last_look = now
                next_look = now + self.timing.tick
                await self._take_settled()
            now = self._clock()
            if now >= next_health:
                next_health = now + self.timing.health
                if supervisor is not None and supervisor.restart_if_dead():
                    self._rescan()  # events during the outage were never delivered
                self._retry_changed_failures()
            if now >= next_rescan:
                next_rescan = now + self.timing.rescan
                self._rescan()
            if once and not self._settler and not self._taken and self._queue.empty():
                return
            due = self._settler.due()
            wake = next_look if due is None else min(next_look, max(due, last_look + self.timing.gap))
            await self._idle(stop, max(0.0, wake - self._clock()))

    async def _idle(self, stop: asyncio.Event, seconds: float) -> None:
        """Wait ``seconds``, or less when stopped or when a path arrives."""
        if self._arrived.is_set() or stop.is_set():
            await asyncio.sleep(0)  # let the tasks run even when paths keep arriving
            return
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._arrived.wait())]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    def _drain_queue(self) -> None:
        # One batch, so the settler compares the files that arrived together (see Settler.touch_all).
        arrived: list[tuple[Path, bool]] = []
        while not self._queue.empty():
            arrived.append(self._queue.get_nowait())
        self._consider_all(path for path, _ in arrived)
        for path, closed in arrived:
            if closed and path in self._settler:
                self._settler.closed(path)

    def _retry_changed_failures(self) -> None:
        for path in self._failed.changed():
            self._record(
                FileEvent("retried", path, note="it changed in failed/ (its writer was not done); taking it again")
            )
            self._consider(path)

    def _consider(self, path: Path) -> None:
        self._consider_all([path])

    def _consider_all(self, paths: Iterable[Path]) -> None:
        inputs = []
        for path in dict.fromkeys(paths):
            if path in self._taken or path in self._settler:
                continue
            if path in self._stuck:
                if signature(path) == self._stuck[path]:
                    continue
                del self._stuck[path]
            if self.router.route(path) is not None:
                inputs.append(path)
            elif path not in self._left_alone and self.router.left_alone(path) and path.exists():
                self._left_alone.add(path)
                self._record(FileEvent("ignored", path, note=NOT_AN_IMAGE))
        self._settler.touch_all(inputs)

    def _rescan(self) -> None:
        found = self.router.scan()
        # Forget the ones that went away, so one dropped again is reported again.
        self._left_alone.intersection_update(found)
        self._consider_all(found)

    async def _take_settled(self) -> None:
        # In a thread: the completeness check reads each settling file's end, which a share can make slow.
        settled, vanished = await asyncio.get_running_loop().run_in_executor(self._looker, self._settler.poll)
        for path in vanished:
            self._record(FileEvent("vanished", path, note="removed or renamed before it settled"))
        for path in settled:
            flow = self.router.route(path)
            if flow is None:
                continue
            if not self.router.is_regular_inside(path):
                self._stuck[path] = signature(path)
                self._record(
                    FileEvent("skipped", path, note="not a regular file inside the hot folder (a symlink out of it?)")
                )
                continue
            self._record(FileEvent("taken", path))
            self._taken[path] = asyncio.create_task(self._process(path, flow), name=f"watch {path.name}")

    async def _process(self, path: Path, flow: Flow) -> None:
        changed = False
        try:
            changed = not await self._hash_handle_finish(path, flow)
        finally:
            self._taken.pop(path, None)
        if changed:
            self._record(FileEvent("changed", path, note="replaced while its jobs ran; taking the new content"))
            self._consider(path)
        elif self.summary.stopped_reason is None and await asyncio.to_thread(os.path.lexists, path):
            # Another photo arrived under this name after the move began; its event came while the name was
            # still taken, and was passed over.
            self._consider(path)

    async def _hash_handle_finish(self, path: Path, flow: Flow) -> bool:
        """Hash, handle and move one image; False when it was replaced meanwhile and must be retaken."""
        try:
            async with self._reading:
                before, content_hash = await asyncio.to_thread(_read, path)
        except OSError:
            self._record(FileEvent("vanished", path, note="removed before it could be read"))
            return True
        async with self._same_image(content_hash):
            handled = await self._handle(path, flow, content_hash)
        if handled is None:
            return True
        return await self._finish(path, flow, handled, before)

    @contextlib.asynccontextmanager
    async def _same_image(self, content_hash: str) -> AsyncIterator[None]:
        """Copies of one image take turns, so a later copy sees the earlier one's result."""
        lock = self._locks.setdefault(content_hash, asyncio.Lock())
        self._lock_users[content_hash] += 1
        try:
            async with lock:
                yield
        finally:
            self._lock_users[content_hash] -= 1
            if not self._lock_users[content_hash]:
                del self._lock_users[content_hash], self._locks[content_hash]

    async def _handle(self, path: Path, flow: Flow, content_hash: str) -> Handled | None:
        """What became of the image's jobs; None when nothing more can run (no credits) and the image is held."""
        # The watcher must outlive any one image: an error fails the image, a bug's traceback goes to the log.
        handled = await attempt(
            lambda: self.handler(path, flow, content_hash),
            internal_error=f"{path.name}: an unexpected error stopped this image; please report it",
        )
        if not isinstance(handled, Failure):
            return handled
        if handled.detail is not None:
            log.error("unexpected error while handling %s:\n%s", path, handled.detail)
        if handled.stops_run:
            # The image stays in the folder for a later start.
            self.summary.stopped_reason = handled.message
            self._record(FileEvent("held", path, note=handled.message))
            return None
        return Handled("failed", handled.message)

    async def _finish(self, path: Path, flow: Flow, handled: Handled, before: Signature | None) -> bool:
        """Move the input aside; False when it was replaced meanwhile (and so stays)."""
        destination = flow.folder / (FAILED if handled.verdict == "failed" else DONE)
        try:
            # File system calls can block for long on a network share: keep them off the loop.
            moved = await asyncio.to_thread(set_aside, path, destination, handled.verdict, handled.note, before)
        except FileNotFoundError:
            self._record(FileEvent("vanished", path, note="removed before it could be moved"))
            return True
        except OSError as e:
            log.error("cannot move %s to %s: %s", path, destination, e.strerror)
            self._stuck[path] = signature(path)  # retaking it on every rescan would redo its jobs forever
            self._record(FileEvent("failed", path, note=f"cannot move it to {destination}: {e.strerror}"))
            return True
        if moved is None:
            return False
        if handled.verdict == "failed":
            # What it looked like when its jobs read it: a writer may add bytes even during the move.
            self._failed.add(moved, flow.folder, before)
        self._record(FileEvent(handled.verdict, path, moved_to=moved, note=handled.note))
        return True

    def _record(self, event: FileEvent) -> None:
        self.summary.counts[event.status] += 1
        self._on_event(event)

    async def _cancel_in_flight(self) -> None:
        tasks = list(self._taken.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _read(path: Path) -> tuple[Signature | None, str]:
    """What ``path`` looks like now, and its content hash (a change meanwhile shows when it is moved)."""
    return signature(path), hash_file(path)
