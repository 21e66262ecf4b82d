"""The hot folder's own logic with real files and real observers (native and polling), and a fake handler."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from joypix_recipes.errors import ImageError, NoCreditsError
from joypix_recipes.watch.filters import Router
from joypix_recipes.watch.hotfolder import (
    FileEvent,
    Handled,
    HotFolder,
    Timing,
    WatchSummary,
)
from joypix_recipes.watch.observer import ObserverFactory
from joypix_recipes.watchfile import Flow

SETTLE = 0.2


# Observers must stop promptly: a shorter wait than the suite-wide check allows.
pytestmark = pytest.mark.thread_grace(2.0)


def polling() -> BaseObserver:
    return PollingObserver(timeout=0.05)


OBSERVERS = [pytest.param(Observer, id="native"), pytest.param(polling, id="polling")]


class FakeHandler:
    """Records each image handed over; fails names listed in ``fail``; knows hashes it already did."""

    def __init__(self, delay: float = 0.0, fail: frozenset[str] = frozenset(), explode: frozenset[str] = frozenset()) -> None:
        self.delay = delay
        self.fail = fail
        self.explode = explode
        self.calls: list[tuple[str, str, bytes]] = []
        self.done_hashes: set[str] = set()

    async def __call__(self, path: Path, flow: Flow, content_hash: str) -> Handled:
        self.calls.append((path.name, content_hash, path.read_bytes()))
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


class Harness:
    """A HotFolder on ``folder`` running in the background of an asyncio.run, and the files it moved."""

    def __init__(self, root: Path, handler: FakeHandler, observers: ObserverFactory | None, rescan: float = 30.0) -> None:
        self.folder = root / "in"
        self.folder.mkdir(exist_ok=True)
        self.out = self.folder / "out"
        self.flow = Flow(folder=self.folder.resolve(), recipe=root / "recipe.yaml", out_dir=self.out.resolve())
        self.handler = handler
        self.events: list[FileEvent] = []
        self.hot = HotFolder(
            Router([self.flow]),
            handler,
            Timing(settle=SETTLE, rescan=rescan, health=0.1),
            observers,
            on_event=self.events.append,
        )

    def run(self, scenario: Callable[[Harness], Awaitable[None]], once: bool = False) -> WatchSummary:
        async def main() -> WatchSummary:
            stop = asyncio.Event()
            task = asyncio.create_task(self.hot.run(stop, once=once))
            try:
                await asyncio.sleep(0.1)  # the observer is up
                await scenario(self)
            finally:
                stop.set()
            return await asyncio.wait_for(task, 10)

        return asyncio.run(main())

    def listing(self, sub: str) -> list[str]:
        folder = self.folder / sub
        return sorted(path.name for path in folder.iterdir()) if folder.exists() else []

    def statuses(self) -> list[tuple[str, str]]:
        return sorted((event.status, event.path.name) for event in self.events if event.status != "taken")


async def until(condition: Callable[[], bool], timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def image_bytes(seed: int, size: int = 2000) -> bytes:
    return bytes((seed * 31 + i) % 251 for i in range(size))


@pytest.mark.parametrize("observers", OBSERVERS)
def test_backlog_present_at_start_is_processed_and_moved_to_done(tmp_path: Path, observers: ObserverFactory) -> None:
    handler = FakeHandler()
    harness = Harness(tmp_path, handler, observers)
    for index in range(3):
        (harness.folder / f"old{index}.jpg").write_bytes(image_bytes(index))

    async def scenario(h: Harness) -> None:
        await until(lambda: len(h.listing("done")) == 3)

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
        await until(lambda: h.listing("done") == ["slow.jpg"])
        assert time.monotonic() - finished < SETTLE + 1.0

    harness.run(scenario)
    assert len(handler.calls) == 1
    assert handler.calls[0][2] == content


@pytest.mark.parametrize("observers", OBSERVERS)
def test_files_renamed_into_the_folder_are_taken_and_temp_names_are_not(tmp_path: Path, observers: ObserverFactory) -> None:
    handler = FakeHandler()
    harness = Harness(tmp_path, handler, observers)
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    async def scenario(h: Harness) -> None:
        (outside / "moved.jpg").write_bytes(image_bytes(1))
        os.rename(outside / "moved.jpg", h.folder / "moved.jpg")
        (h.folder / "download.jpg.part").write_bytes(image_bytes(2))
        await asyncio.sleep(SETTLE * 2)
        os.rename(h.folder / "download.jpg.part", h.folder / "download.jpg")
        await until(lambda: len(h.listing("done")) == 2)

    harness.run(scenario)
    assert handler.names() == ["download.jpg", "moved.jpg"]


@pytest.mark.parametrize("observers", OBSERVERS)
def test_burst_of_thirty_files_each_taken_exactly_once(tmp_path: Path, observers: ObserverFactory) -> None:
    handler = FakeHandler(delay=0.01)
    harness = Harness(tmp_path, handler, observers, rescan=0.3)

    async def scenario(h: Harness) -> None:
        for index in range(30):
            (h.folder / f"burst{index:02d}.jpg").write_bytes(image_bytes(index))
        await until(lambda: len(h.listing("done")) == 30)
        await asyncio.sleep(0.35)  # a rescan after the moves finds nothing to retake

    summary = harness.run(scenario)
    assert handler.names() == sorted(f"burst{index:02d}.jpg" for index in range(30))
    assert summary.counts["done"] == 30


@pytest.mark.parametrize("observers", OBSERVERS)
def test_same_content_twice_is_handled_one_after_the_other_and_second_is_a_duplicate(
    tmp_path: Path, observers: ObserverFactory
) -> None:
    handler = FakeHandler(delay=0.1)
    harness = Harness(tmp_path, handler, observers)

    async def scenario(h: Harness) -> None:
        (h.folder / "a.jpg").write_bytes(image_bytes(3))
        (h.folder / "copy of a.jpg").write_bytes(image_bytes(3))
        await until(lambda: len(h.statuses()) == 2)

    harness.run(scenario)
    assert sorted(status for status, _ in harness.statuses()) == ["done", "duplicate"]
    duplicate = next(e.moved_to for e in harness.events if e.status == "duplicate")
    assert duplicate is not None
    assert (duplicate.parent / f"{duplicate.name}.duplicate.txt").read_text().strip() == "same image as before"


@pytest.mark.parametrize("observers", OBSERVERS)
def test_file_removed_before_it_settles_is_dropped_and_watcher_goes_on(tmp_path: Path, observers: ObserverFactory) -> None:
    handler = FakeHandler()
    harness = Harness(tmp_path, handler, observers)

    async def scenario(h: Harness) -> None:
        gone = h.folder / "gone.jpg"
        gone.write_bytes(image_bytes(4))
        await asyncio.sleep(SETTLE / 4)
        gone.unlink()
        await asyncio.sleep(SETTLE * 2)
        (h.folder / "after.jpg").write_bytes(image_bytes(5))
        await until(lambda: h.listing("done") == ["after.jpg"])

    harness.run(scenario)
    assert handler.names() == ["after.jpg"]


@pytest.mark.parametrize("observers", OBSERVERS)
def test_ignored_names_outputs_and_subfolders_are_never_taken(tmp_path: Path, observers: ObserverFactory) -> None:
    handler = FakeHandler()
    harness = Harness(tmp_path, handler, observers, rescan=0.2)
    ignored = [".hidden.jpg", "a.jpg.part", "b.jpg.crdownload", "c.tmp", "~$report.docx", ".x.jpg.partial.mp4", "Thumbs.db"]

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
        await until(lambda: ("done", "real.jpg") in h.statuses())
        await asyncio.sleep(0.3)  # a rescan or two

    harness.run(scenario)
    assert handler.names() == ["real.jpg"]
    assert sorted(n for n in harness.listing(".") if (harness.folder / n).is_file()) == sorted(ignored)
    assert harness.statuses() == [("done", "real.jpg")]  # folders are not even reported as skipped


@pytest.mark.parametrize("observers", OBSERVERS)
def test_failed_image_moves_to_failed_with_error_text_and_watcher_goes_on(tmp_path: Path, observers: ObserverFactory) -> None:
    handler = FakeHandler(fail=frozenset({"broken.jpg"}), explode=frozenset({"bug.jpg"}))
    harness = Harness(tmp_path, handler, observers)

    async def scenario(h: Harness) -> None:
        (h.folder / "broken.jpg").write_bytes(b"not an image")
        (h.folder / "bug.jpg").write_bytes(image_bytes(12))
        (h.folder / "fine.jpg").write_bytes(image_bytes(13))
        await until(lambda: len(h.statuses()) == 3)

    summary = harness.run(scenario)
    assert harness.listing("failed") == ["broken.jpg", "broken.jpg.error.txt", "bug.jpg", "bug.jpg.error.txt"]
    error = (harness.folder / "failed" / "broken.jpg.error.txt").read_text()
    assert error == "broken.jpg: not an image this fake can use\n"
    bug = (harness.folder / "failed" / "bug.jpg.error.txt").read_text()
    assert "unexpected error" in bug and "ZeroDivisionError" not in bug
    assert summary.exit_code == 1


@pytest.mark.parametrize("observers", OBSERVERS)
def test_name_clash_in_done_gets_a_numbered_name_and_never_overwrites(tmp_path: Path, observers: ObserverFactory) -> None:
    handler = FakeHandler()
    harness = Harness(tmp_path, handler, observers)
    (harness.folder / "done").mkdir()
    (harness.folder / "done" / "photo.jpg").write_bytes(b"the earlier photo")
    (harness.folder / "done" / "photo-2.jpg").write_bytes(b"another earlier photo")

    async def scenario(h: Harness) -> None:
        (h.folder / "photo.jpg").write_bytes(image_bytes(14))
        await until(lambda: len(h.listing("done")) == 3)

    harness.run(scenario)
    assert (harness.folder / "done" / "photo.jpg").read_bytes() == b"the earlier photo"
    assert (harness.folder / "done" / "photo-2.jpg").read_bytes() == b"another earlier photo"
    assert (harness.folder / "done" / "photo-3.jpg").read_bytes() == image_bytes(14)


@pytest.mark.parametrize("observers", OBSERVERS)
def test_symlink_pointing_outside_the_folder_is_not_followed(tmp_path: Path, observers: ObserverFactory) -> None:
    handler = FakeHandler()
    harness = Harness(tmp_path, handler, observers, rescan=0.2)
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(image_bytes(15))

    async def scenario(h: Harness) -> None:
        (h.folder / "link.jpg").symlink_to(secret)
        (h.folder / "real.jpg").write_bytes(image_bytes(16))
        await until(lambda: ("done", "real.jpg") in h.statuses() and ("skipped", "link.jpg") in h.statuses())
        await asyncio.sleep(0.3)  # a rescan or two

    harness.run(scenario)
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
        await until(lambda: h.listing("done") == ["quiet.jpg"])

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
        await until(lambda: h.listing("done") == ["before.jpg"])
        await asyncio.to_thread(lambda: (made[0].stop(), made[0].join()))
        await until(lambda: len(made) == 2 and made[1].is_alive())
        (h.folder / "after.jpg").write_bytes(image_bytes(21))
        await until(lambda: h.listing("done") == ["after.jpg", "before.jpg"])

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
def test_file_replaced_while_its_jobs_run_is_taken_again_with_the_new_content(tmp_path: Path, observers: ObserverFactory) -> None:
    handler = FakeHandler(delay=0.3)
    harness = Harness(tmp_path, handler, observers)

    async def scenario(h: Harness) -> None:
        (h.folder / "photo.jpg").write_bytes(image_bytes(30))
        await until(lambda: len(handler.calls) == 1)
        (h.folder / "photo.jpg.part").write_bytes(image_bytes(31))
        os.replace(h.folder / "photo.jpg.part", h.folder / "photo.jpg")
        await until(lambda: ("done", "photo.jpg") in h.statuses())

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
        await until(lambda: ("done", "first.jpg") in h.statuses())
        shutil.rmtree(h.folder)  # the network share went away
        await asyncio.sleep(0.3)
        h.folder.mkdir()  # and came back
        await asyncio.sleep(0.3)
        (h.folder / "second.jpg").write_bytes(image_bytes(41))
        await until(lambda: ("done", "second.jpg") in h.statuses())

    summary = harness.run(scenario)
    assert handler.names() == ["first.jpg", "second.jpg"]
    assert summary.observer_restarts >= 1
