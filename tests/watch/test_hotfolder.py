"""The hot folder's own logic with real files and real observers (native and polling), and a fake handler."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from joypix_recipes.errors import ImageError, NoCreditsError
from joypix_recipes.watch.config import Flow
from joypix_recipes.watch.filters import Router
from joypix_recipes.watch.hotfolder import (
    FileEvent,
    Handled,
    HotFolder,
    Timing,
    WatchSummary,
)
from joypix_recipes.watch.listing import ListingObserver
from joypix_recipes.watch.observer import ObserverFactory

SETTLE = 0.2


# Observers must stop promptly: a shorter wait than the suite-wide check allows.
pytestmark = pytest.mark.thread_grace(2.0)


def polling() -> BaseObserver:
    return ListingObserver(0.05)


OBSERVERS = [pytest.param(Observer, id="native"), pytest.param(polling, id="polling")]


@dataclass(frozen=True)
class Scanned:
    """The hot folder listed its folder: at the start, after an observer restart, or on schedule."""


@dataclass(frozen=True)
class Considered:
    """The hot folder decided whether a path is an input (``accepted``) or not."""

    path: Path
    accepted: bool


@dataclass(frozen=True)
class ObserverMade:
    """A fresh observer was asked for: at the start, or to replace one that died."""


@dataclass(frozen=True)
class Called:
    """The handler was given an image."""

    name: str


Observation = FileEvent | Scanned | Considered | ObserverMade | Called


class FakeHandler:
    """Records each image handed over; fails names listed in ``fail``; knows hashes it already did."""

    def __init__(
        self, delay: float = 0.0, fail: frozenset[str] = frozenset(), explode: frozenset[str] = frozenset()
    ) -> None:
        self.delay = delay
        self.fail = fail
        self.explode = explode
        self.calls: list[tuple[str, str, bytes]] = []
        self.done_hashes: set[str] = set()
        self.observe: Callable[[Observation], None] = lambda seen: None

    async def __call__(self, path: Path, flow: Flow, content_hash: str) -> Handled:
        self.calls.append((path.name, content_hash, path.read_bytes()))
        self.observe(Called(path.name))
        await asyncio.sleep(self.delay)
        if path.name in self.explode:
            raise ZeroDivisionError("a bug")
        if path.name in self.fail:
            raise ImageError(f"{path.name}: not an image this fake can use")
        if content_hash in self.done_hashes:
            return Handled("duplicate", "same image as before")
        self.done_hashes.add(content_hash)
        return Handled("done")

    def names(self) -> list[str]:
        return sorted(name for name, _, _ in self.calls)


class ObservedRouter(Router):
    """The real router, reporting each listing of the folder and each decision on a path."""

    def __init__(self, flows: list[Flow], observe: Callable[[Observation], None]) -> None:
        super().__init__(flows)
        self._observe = observe

    def route(self, path: Path) -> Flow | None:
        flow = super().route(path)
        self._observe(Considered(path, flow is not None))
        return flow

    def scan(self) -> list[Path]:
        found = super().scan()
        self._observe(Scanned())
        return found


class Harness:
    """A HotFolder on ``folder`` running in the background of an asyncio.run, and what it was seen doing.

    Tests wait for observations (file events, scans, routing decisions, handler calls, new observers)
    as they arrive on a queue, each wait with a timeout, the way watchdog's own tests expect events.
    """

    def __init__(
        self, root: Path, handler: FakeHandler, observers: ObserverFactory | None, rescan: float = 30.0
    ) -> None:
        self.folder = root / "in"
        self.folder.mkdir(exist_ok=True)
        self.out = self.folder / "out"
        self.flow = Flow(folder=self.folder.resolve(), recipe=root / "recipe.yaml", out_dir=self.out.resolve())
        self.handler = handler
        handler.observe = self._observe
        self.events: list[FileEvent] = []
        self._queue: asyncio.Queue[Observation] | None = None
        self.hot = HotFolder(
            ObservedRouter([self.flow], self._observe),
            handler,
            Timing(settle=SETTLE, rescan=rescan, health=0.1),
            self._observed_factory(observers) if observers is not None else None,
            on_event=self._observe,
        )

    def _observed_factory(self, observers: ObserverFactory) -> ObserverFactory:
        def make() -> BaseObserver:
            self._observe(ObserverMade())
            return observers()

        return make

    def _observe(self, seen: Observation) -> None:
        # Everything observed happens on the event loop's thread: no locking needed.
        if isinstance(seen, FileEvent):
            self.events.append(seen)
        if self._queue is not None:
            self._queue.put_nowait(seen)

    def run(self, scenario: Callable[[Harness], Awaitable[None]], once: bool = False) -> WatchSummary:
        async def main() -> WatchSummary:
            self._queue = asyncio.Queue()
            stop = asyncio.Event()
            task = asyncio.create_task(self.hot.run(stop, once=once))
            try:
                await self.expect(Scanned)  # the observer is up and the backlog was listed
                await scenario(self)
            finally:
                stop.set()
            return await asyncio.wait_for(task, 10)

        try:
            return asyncio.run(main())
        finally:
            self._queue = None

    async def expect(
        self, wanted: type[Observation] | Callable[[Observation], bool], timeout: float = 8.0
    ) -> Observation:
        """The next observation of type ``wanted`` (or that ``wanted`` accepts); earlier ones are passed over."""
        assert self._queue is not None, "expect() only works inside run()"
        match = (lambda seen: isinstance(seen, wanted)) if isinstance(wanted, type) else wanted
        passed_over: list[Observation] = []
        try:
            async with asyncio.timeout(timeout):
                while not match(seen := await self._queue.get()):
                    passed_over.append(seen)
        except TimeoutError:
            raise AssertionError(f"not observed within {timeout} s; observed instead: {passed_over}") from None
        return seen

    async def expect_file(self, status: str, name: str) -> FileEvent:
        """The next file event with this status for this file name."""
        event = await self.expect(
            lambda seen: isinstance(seen, FileEvent) and (seen.status, seen.path.name) == (status, name)
        )
        assert isinstance(event, FileEvent)
        return event

    async def considered(self, name: str) -> Considered:
        """The next routing decision on a file of this name."""
        decision = await self.expect(lambda seen: isinstance(seen, Considered) and seen.path.name == name)
        assert isinstance(decision, Considered)
        return decision

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 8.0) -> None:
        """Until ``condition`` holds, checked again after each observation."""
        if not condition():
            await self.expect(lambda seen: condition(), timeout)

    def rescan_once(self) -> list[FileEvent]:
        """Run the same hot folder once more (it lists the folder, takes what it finds, stops): its events.

        A later rescan has nothing to do exactly when this one finds nothing, with no waiting for it.
        """
        seen = len(self.events)
        asyncio.run(asyncio.wait_for(self.hot.run(asyncio.Event(), once=True), 10))
        return self.events[seen:]

    def listing(self, sub: str) -> list[str]:
        folder = self.folder / sub
        return sorted(path.name for path in folder.iterdir()) if folder.exists() else []

    def statuses(self) -> list[tuple[str, str]]:
        return sorted((event.status, event.path.name) for event in self.events if event.status != "taken")


def image_bytes(seed: int, size: int = 2000) -> bytes:
    return bytes((seed * 31 + i) % 251 for i in range(size))


@pytest.mark.parametrize("observers", OBSERVERS)
def test_backlog_present_at_start_is_processed_and_moved_to_done(tmp_path: Path, observers: ObserverFactory) -> None:
    handler = FakeHandler()
    harness = Harness(tmp_path, handler, observers)
    for index in range(3):
        (harness.folder / f"old{index}.jpg").write_bytes(image_bytes(index))

    async def scenario(h: Harness) -> None:
        await h.wait_for(lambda: len(h.listing("done")) == 3)

    harness.run(scenario)
    assert handler.names() == ["old0.jpg", "old1.jpg", "old2.jpg"]
    assert harness.listing("done") == ["old0.jpg", "old1.jpg", "old2.jpg"]
    assert [p.name for p in harness.folder.iterdir() if p.is_file()] == []


@pytest.mark.parametrize("observers", OBSERVERS)
def test_slow_chunked_write_is_taken_once_after_the_last_chunk(tmp_path: Path, observers: ObserverFactory) -> None:
    handler = FakeHandler()
    harness = Harness(tmp_path, handler, observers)
    content = image_bytes(7, 6_000)

    async def scenario(h: Harness) -> None:
        target = h.folder / "slow.jpg"
        with target.open("wb") as handle:
            for start in range(0, len(content), 1000):
                handle.write(content[start : start + 1000])
                handle.flush()
                await asyncio.sleep(SETTLE / 2)  # gaps shorter than the settle time
        finished = time.monotonic()
        await h.wait_for(lambda: h.listing("done") == ["slow.jpg"])
        assert time.monotonic() - finished < SETTLE + 1.0

    harness.run(scenario)
    assert len(handler.calls) == 1
    assert handler.calls[0][2] == content


@pytest.mark.parametrize("observers", OBSERVERS)
def test_files_renamed_into_the_folder_are_taken_and_temp_names_are_not(
    tmp_path: Path, observers: ObserverFactory
) -> None:
    handler = FakeHandler()
    harness = Harness(tmp_path, handler, observers)
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    async def scenario(h: Harness) -> None:
        (outside / "moved.jpg").write_bytes(image_bytes(1))
        os.rename(outside / "moved.jpg", h.folder / "moved.jpg")
        (h.folder / "download.jpg.part").write_bytes(image_bytes(2))
        part = await h.considered("download.jpg.part")
        assert not part.accepted
        os.rename(h.folder / "download.jpg.part", h.folder / "download.jpg")
        await h.wait_for(lambda: len(h.listing("done")) == 2)

    harness.run(scenario)
    assert handler.names() == ["download.jpg", "moved.jpg"]


@pytest.mark.parametrize("observers", OBSERVERS)
def test_burst_of_thirty_files_each_taken_exactly_once(tmp_path: Path, observers: ObserverFactory) -> None:
    handler = FakeHandler(delay=0.01)
    harness = Harness(tmp_path, handler, observers, rescan=0.3)

    async def scenario(h: Harness) -> None:
        for index in range(30):
            (h.folder / f"burst{index:02d}.jpg").write_bytes(image_bytes(index))
        await h.wait_for(lambda: len(h.listing("done")) == 30)

    summary = harness.run(scenario)
    assert handler.names() == sorted(f"burst{index:02d}.jpg" for index in range(30))
    assert summary.counts["done"] == 30
    assert harness.rescan_once() == []  # a rescan after the moves finds nothing to retake


@pytest.mark.parametrize("observers", OBSERVERS)
def test_same_content_twice_is_handled_one_after_the_other_and_second_is_a_duplicate(
    tmp_path: Path, observers: ObserverFactory
) -> None:
    handler = FakeHandler(delay=0.1)
    harness = Harness(tmp_path, handler, observers)

    async def scenario(h: Harness) -> None:
        (h.folder / "a.jpg").write_bytes(image_bytes(3))
        (h.folder / "copy of a.jpg").write_bytes(image_bytes(3))
        await h.wait_for(lambda: len(h.statuses()) == 2)

    harness.run(scenario)
    assert sorted(status for status, _ in harness.statuses()) == ["done", "duplicate"]
    duplicate = next(e.moved_to for e in harness.events if e.status == "duplicate")
    assert duplicate is not None
    assert (duplicate.parent / f"{duplicate.name}.duplicate.txt").read_text().strip() == "same image as before"


@pytest.mark.parametrize("observers", OBSERVERS)
def test_file_removed_before_it_settles_is_dropped_and_watcher_goes_on(
    tmp_path: Path, observers: ObserverFactory
) -> None:
    handler = FakeHandler()
    harness = Harness(tmp_path, handler, observers)

    async def scenario(h: Harness) -> None:
        gone = h.folder / "gone.jpg"
        gone.write_bytes(image_bytes(4))
        assert (await h.considered("gone.jpg")).accepted  # its settle clock is running
        gone.unlink()
        await h.expect_file("vanished", "gone.jpg")
        (h.folder / "after.jpg").write_bytes(image_bytes(5))
        await h.wait_for(lambda: h.listing("done") == ["after.jpg"])

    harness.run(scenario)
    assert handler.names() == ["after.jpg"]


@pytest.mark.parametrize("observers", OBSERVERS)
def test_ignored_names_outputs_and_subfolders_are_never_taken(tmp_path: Path, observers: ObserverFactory) -> None:
    handler = FakeHandler()
    harness = Harness(tmp_path, handler, observers)
    ignored = [
        ".hidden.jpg",
        "a.jpg.part",
        "b.jpg.crdownload",
        "c.tmp",
        "~$report.docx",
        ".x.jpg.partial.mp4",
        "Thumbs.db",
    ]

    async def scenario(h: Harness) -> None:
        for name in ignored:
            (h.folder / name).write_bytes(image_bytes(6))
        h.out.mkdir()
        (h.out / "clip.mp4").write_bytes(image_bytes(8))
        (h.folder / "sub").mkdir()
        (h.folder / "sub" / "nested.jpg").write_bytes(image_bytes(9))
        (h.folder / "done").mkdir()
        (h.folder / "done" / "earlier.jpg").write_bytes(image_bytes(10))
        (h.folder / "real.jpg").write_bytes(image_bytes(11))
        await h.wait_for(lambda: ("done", "real.jpg") in h.statuses())

    harness.run(scenario)
    assert harness.rescan_once() == []
    assert handler.names() == ["real.jpg"]
    assert sorted(n for n in harness.listing(".") if (harness.folder / n).is_file()) == sorted(ignored)
    assert harness.statuses() == [("done", "real.jpg")]  # folders are not even reported as skipped


@pytest.mark.parametrize("observers", OBSERVERS)
def test_failed_image_moves_to_failed_with_error_text_and_watcher_goes_on(
    tmp_path: Path, observers: ObserverFactory
) -> None:
    handler = FakeHandler(fail=frozenset({"broken.jpg"}), explode=frozenset({"bug.jpg"}))
    harness = Harness(tmp_path, handler, observers)

    async def scenario(h: Harness) -> None:
        (h.folder / "broken.jpg").write_bytes(b"not an image")
        (h.folder / "bug.jpg").write_bytes(image_bytes(12))
        (h.folder / "fine.jpg").write_bytes(image_bytes(13))
        await h.wait_for(lambda: len(h.statuses()) == 3)

    summary = harness.run(scenario)
    assert harness.listing("failed") == ["broken.jpg", "broken.jpg.error.txt", "bug.jpg", "bug.jpg.error.txt"]
    error = (harness.folder / "failed" / "broken.jpg.error.txt").read_text()
    assert error == "broken.jpg: not an image this fake can use\n"
    bug = (harness.folder / "failed" / "bug.jpg.error.txt").read_text()
    assert "unexpected error" in bug and "ZeroDivisionError" not in bug
    assert summary.exit_code == 1


@pytest.mark.parametrize("observers", OBSERVERS)
def test_name_clash_in_done_gets_a_numbered_name_and_never_overwrites(
    tmp_path: Path, observers: ObserverFactory
) -> None:
    handler = FakeHandler()
    harness = Harness(tmp_path, handler, observers)
    (harness.folder / "done").mkdir()
    (harness.folder / "done" / "photo.jpg").write_bytes(b"the earlier photo")
    (harness.folder / "done" / "photo-2.jpg").write_bytes(b"another earlier photo")

    async def scenario(h: Harness) -> None:
        (h.folder / "photo.jpg").write_bytes(image_bytes(14))
        await h.wait_for(lambda: len(h.listing("done")) == 3)

    harness.run(scenario)
    assert (harness.folder / "done" / "photo.jpg").read_bytes() == b"the earlier photo"
    assert (harness.folder / "done" / "photo-2.jpg").read_bytes() == b"another earlier photo"
    assert (harness.folder / "done" / "photo-3.jpg").read_bytes() == image_bytes(14)


@pytest.mark.parametrize("observers", OBSERVERS)
def test_symlink_pointing_outside_the_folder_is_not_followed(tmp_path: Path, observers: ObserverFactory) -> None:
    handler = FakeHandler()
    harness = Harness(tmp_path, handler, observers)
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(image_bytes(15))

    async def scenario(h: Harness) -> None:
        (h.folder / "link.jpg").symlink_to(secret)
        (h.folder / "real.jpg").write_bytes(image_bytes(16))
        await h.wait_for(lambda: ("done", "real.jpg") in h.statuses() and ("skipped", "link.jpg") in h.statuses())

    harness.run(scenario)
    assert harness.rescan_once() == []
    assert handler.names() == ["real.jpg"]
    assert (harness.folder / "link.jpg").is_symlink() and secret.read_bytes() == image_bytes(15)
    assert harness.statuses() == [("done", "real.jpg"), ("skipped", "link.jpg")]  # once, not at every rescan


def test_once_processes_the_backlog_waiting_for_a_file_still_being_written(tmp_path: Path) -> None:
    handler = FakeHandler()
    harness = Harness(tmp_path, handler, observers=None)
    (harness.folder / "ready.jpg").write_bytes(image_bytes(17))
    growing = harness.folder / "growing.jpg"
    growing.write_bytes(b"")
    content = image_bytes(18, 5000)

    def writer() -> None:
        with growing.open("wb") as handle:
            for start in range(0, len(content), 1000):
                handle.write(content[start : start + 1000])
                handle.flush()
                time.sleep(SETTLE / 2)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        summary = asyncio.run(asyncio.wait_for(harness.hot.run(asyncio.Event(), once=True), 10))
    finally:
        thread.join()
    assert summary.exit_code == 0
    assert harness.listing("done") == ["growing.jpg", "ready.jpg"]
    assert {name: data for name, _, data in handler.calls}["growing.jpg"] == content


def test_rescan_takes_files_whose_events_were_never_delivered(tmp_path: Path) -> None:
    handler = FakeHandler()
    harness = Harness(tmp_path, handler, observers=None, rescan=0.2)  # no observer at all: rescans only

    async def scenario(h: Harness) -> None:
        (h.folder / "quiet.jpg").write_bytes(image_bytes(19))
        await h.wait_for(lambda: h.listing("done") == ["quiet.jpg"])

    harness.run(scenario)
    assert handler.names() == ["quiet.jpg"]


@pytest.mark.parametrize("make", [pytest.param(Observer, id="native"), pytest.param(polling, id="polling")])
def test_observer_that_dies_is_replaced_and_files_keep_coming(tmp_path: Path, make: ObserverFactory) -> None:
    made: list[BaseObserver] = []

    def observers() -> BaseObserver:
        made.append(make())
        return made[-1]

    handler = FakeHandler()
    harness = Harness(tmp_path, handler, observers)

    async def scenario(h: Harness) -> None:
        (h.folder / "before.jpg").write_bytes(image_bytes(20))
        await h.wait_for(lambda: h.listing("done") == ["before.jpg"])
        await asyncio.to_thread(lambda: (made[0].stop(), made[0].join()))
        await h.expect(Scanned)  # a new observer is up, and a rescan covers the outage
        assert len(made) == 2 and made[1].is_alive()
        (h.folder / "after.jpg").write_bytes(image_bytes(21))
        await h.wait_for(lambda: h.listing("done") == ["after.jpg", "before.jpg"])

    summary = harness.run(scenario)
    assert summary.observer_restarts == 1
    assert handler.names() == ["after.jpg", "before.jpg"]


def test_no_credits_leaves_the_image_in_place_and_stops_the_watcher(tmp_path: Path) -> None:
    class NoCredits(FakeHandler):
        async def __call__(self, path: Path, flow: Flow, content_hash: str) -> Handled:
            raise NoCreditsError("the account has no credits left; top up and start the watcher again")

    harness = Harness(tmp_path, NoCredits(), observers=None)
    (harness.folder / "waiting.jpg").write_bytes(image_bytes(22))
    summary = asyncio.run(asyncio.wait_for(harness.hot.run(asyncio.Event()), 10))
    assert summary.exit_code == 1
    assert summary.stopped_reason is not None and "no credits" in summary.stopped_reason
    assert (harness.folder / "waiting.jpg").exists()
    assert harness.listing("done") == [] and harness.listing("failed") == []


@pytest.mark.parametrize("observers", OBSERVERS)
def test_file_replaced_while_its_jobs_run_is_taken_again_with_the_new_content(
    tmp_path: Path, observers: ObserverFactory
) -> None:
    handler = FakeHandler(delay=0.3)
    harness = Harness(tmp_path, handler, observers)

    async def scenario(h: Harness) -> None:
        (h.folder / "photo.jpg").write_bytes(image_bytes(30))
        await h.expect(lambda seen: seen == Called("photo.jpg"))
        (h.folder / "photo.jpg.part").write_bytes(image_bytes(31))
        os.replace(h.folder / "photo.jpg.part", h.folder / "photo.jpg")
        await h.wait_for(lambda: ("done", "photo.jpg") in h.statuses())

    harness.run(scenario)
    assert [data for _, _, data in handler.calls] == [image_bytes(30), image_bytes(31)]
    assert (harness.folder / "done" / "photo.jpg").read_bytes() == image_bytes(31)
    assert ("changed", "photo.jpg") in harness.statuses()


@pytest.mark.parametrize("observers", OBSERVERS)
def test_folder_that_goes_away_and_comes_back_is_watched_again(tmp_path: Path, observers: ObserverFactory) -> None:
    handler = FakeHandler()
    harness = Harness(tmp_path, handler, observers)

    async def scenario(h: Harness) -> None:
        (h.folder / "first.jpg").write_bytes(image_bytes(40))
        await h.wait_for(lambda: ("done", "first.jpg") in h.statuses())
        shutil.rmtree(h.folder)  # the network share went away
        await h.expect(ObserverMade)  # the watcher noticed and tries to watch it again
        h.folder.mkdir()  # and it came back
        await h.expect(Scanned)  # watched again, and listed for what arrived meanwhile
        (h.folder / "second.jpg").write_bytes(image_bytes(41))
        await h.wait_for(lambda: ("done", "second.jpg") in h.statuses())

    summary = harness.run(scenario)
    assert handler.names() == ["first.jpg", "second.jpg"]
    assert summary.observer_restarts >= 1
