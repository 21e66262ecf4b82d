"""The hot folder's small parts: settling by size and mtime, safe moves, names that are never inputs."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from PIL import Image

from joypix_recipes.watch.complete import looks_complete
from joypix_recipes.watch.config import Flow
from joypix_recipes.watch.filters import Router, is_ignored_name, matches
from joypix_recipes.watch.moves import CAPTURED, move_into, recover_captured, set_aside, signature, write_note
from joypix_recipes.watch.settle import EMPTY_FILE_FACTOR, INCOMPLETE_FACTOR, Settler


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_settler_takes_a_file_only_after_size_and_mtime_stay_unchanged_for_the_settle_time(tmp_path: Path) -> None:
    clock = Clock()
    settler = Settler(1.0, clock=clock)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"a" * 10)
    settler.touch(photo)
    assert settler.poll() == ([], [])  # first sight starts the clock
    clock.now += 0.9
    assert settler.poll() == ([], [])
    with photo.open("ab") as handle:  # still being written: the clock restarts
        handle.write(b"b")
    clock.now += 0.5
    assert settler.poll() == ([], [])
    clock.now += 0.9
    assert settler.poll() == ([], [])
    clock.now += 0.2
    assert settler.poll() == ([photo], [])
    assert photo not in settler and len(settler) == 0


def test_settler_notices_a_rewrite_with_the_same_size_by_its_mtime(tmp_path: Path) -> None:
    clock = Clock()
    settler = Settler(1.0, clock=clock)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"a" * 10)
    settler.touch(photo)
    settler.poll()
    clock.now += 0.8
    stat = photo.stat()
    os.utime(photo, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    settler.poll()
    clock.now += 0.8
    assert settler.poll() == ([], [])


def test_settler_reports_a_file_that_vanished_and_forgets_it(tmp_path: Path) -> None:
    settler = Settler(1.0, clock=Clock())
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"a")
    settler.touch(photo)
    settler.poll()
    photo.unlink()
    assert settler.poll() == ([], [photo])
    assert len(settler) == 0


def test_settler_waits_longer_for_an_empty_file(tmp_path: Path) -> None:
    clock = Clock()
    settler = Settler(1.0, clock=clock)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    settler.touch(empty)
    settler.poll()
    clock.now += 1.5
    assert settler.poll() == ([], [])
    clock.now += EMPTY_FILE_FACTOR
    assert settler.poll() == ([empty], [])


def _jpeg(path: Path) -> bytes:
    Image.new("RGB", (32, 32), (10, 200, 30)).save(path, format="JPEG")
    return path.read_bytes()


def test_a_closed_file_is_taken_without_waiting_out_the_settle_time(tmp_path: Path) -> None:
    clock = Clock()
    settler = Settler(10.0, clock=clock, is_complete=looks_complete)
    photo = tmp_path / "photo.jpg"
    _jpeg(photo)
    settler.touch(photo)
    assert settler.poll() == ([], [])
    settler.closed(photo)
    clock.now += 0.1
    assert settler.poll() == ([photo], [])


def test_an_image_without_its_end_is_not_settled_for_a_while_then_taken(tmp_path: Path) -> None:
    clock = Clock()
    settler = Settler(1.0, clock=clock, is_complete=looks_complete)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(_jpeg(tmp_path / "whole.jpg")[:-100])
    settler.touch(photo)
    settler.poll()
    settler.closed(photo)  # a writer that closes between chunks is not done either
    for _ in range(int(INCOMPLETE_FACTOR)):
        clock.now += 1.0
        assert settler.poll() == ([], [])
    clock.now += 1.0
    assert settler.poll() == ([photo], [])


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "GIF", "WEBP"])
def test_images_are_complete_only_with_their_last_bytes(tmp_path: Path, kind: str) -> None:
    whole = tmp_path / f"whole.{kind.lower()}"
    Image.new("RGB", (64, 64), (1, 2, 3)).save(whole, format=kind)
    cut = tmp_path / f"cut.{kind.lower()}"
    cut.write_bytes(whole.read_bytes()[:-8])
    assert looks_complete(whole) and not looks_complete(cut)


def test_move_into_numbers_clashing_names_and_keeps_every_file(tmp_path: Path) -> None:
    done = tmp_path / "done"
    done.mkdir()
    (done / "a.jpg").write_bytes(b"first")
    (done / "a-2.jpg").write_bytes(b"second")
    source = tmp_path / "a.jpg"
    source.write_bytes(b"third")
    moved = move_into(source, done)
    assert moved == done / "a-3.jpg" and moved.read_bytes() == b"third"
    assert not source.exists()
    assert (done / "a.jpg").read_bytes() == b"first" and (done / "a-2.jpg").read_bytes() == b"second"


def test_move_cut_short_by_a_kill_is_finished_not_duplicated(tmp_path: Path) -> None:
    done = tmp_path / "done"
    done.mkdir()
    source = tmp_path / "a.jpg"
    source.write_bytes(b"photo")
    os.link(source, done / "a.jpg")  # the kill came after the link, before the unlink
    assert move_into(source, done) == done / "a.jpg"
    assert not source.exists() and sorted(p.name for p in done.iterdir()) == ["a.jpg"]


def test_a_photo_replaced_after_its_jobs_read_it_is_left_in_place_to_be_taken_again(tmp_path: Path) -> None:
    source = tmp_path / "a.jpg"
    source.write_bytes(b"read by the jobs")
    read_as = signature(source)
    (tmp_path / ".a.jpg").write_bytes(b"a new photo, same name")
    os.replace(tmp_path / ".a.jpg", source)

    assert set_aside(source, tmp_path / "done", "done", "", read_as) is None
    assert source.read_bytes() == b"a new photo, same name"
    assert not list((tmp_path / "done").glob("*")) and not list(tmp_path.glob(f".*{CAPTURED}"))


def test_photos_dropped_under_the_moving_photos_name_are_never_lost(tmp_path: Path) -> None:
    """A writer keeps replacing a.jpg while the finished one is moved: every photo ends in done/ or stays."""
    done, source = tmp_path / "done", tmp_path / "a.jpg"
    done.mkdir()
    for round_number in range(150):
        source.write_bytes(b"finished %d" % round_number)
        read_as = signature(source)
        newcomer = f"newcomer {round_number}".encode()

        def drop(content: bytes = newcomer) -> None:
            (tmp_path / ".incoming").write_bytes(content)
            os.replace(tmp_path / ".incoming", source)

        writer = threading.Thread(target=drop)
        writer.start()
        moved = set_aside(source, done, "done", "", read_as)
        writer.join()
        kept = {path.read_bytes() for path in done.iterdir()}
        assert newcomer in kept or source.read_bytes() == newcomer, "the newly dropped photo was lost"
        if moved is not None:
            assert moved.read_bytes() == b"finished %d" % round_number
        source.unlink(missing_ok=True)
    assert not list(tmp_path.glob(f".*{CAPTURED}"))


def test_a_move_cut_short_after_the_capture_is_finished_at_the_next_start(tmp_path: Path) -> None:
    done = tmp_path / "done"
    done.mkdir()
    (tmp_path / f".a.jpg{CAPTURED}").write_bytes(b"captured, not yet moved")
    (done / "b.jpg").write_bytes(b"moved, hidden name left behind")
    os.link(done / "b.jpg", tmp_path / f".b.jpg{CAPTURED}")
    (tmp_path / "a.jpg").write_bytes(b"a newer a.jpg")

    assert recover_captured(tmp_path) == [tmp_path / "a-2.jpg"]
    assert (tmp_path / "a-2.jpg").read_bytes() == b"captured, not yet moved"
    assert (tmp_path / "a.jpg").read_bytes() == b"a newer a.jpg"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-2.jpg", "a.jpg", "done"]
    assert (done / "b.jpg").read_bytes() == b"moved, hidden name left behind"


def test_move_into_names_without_suffix_and_dotted_names(tmp_path: Path) -> None:
    done = tmp_path / "done"
    for name in ("scan", "scan", "holiday.final.jpg", "holiday.final.jpg"):
        (tmp_path / name).write_bytes(name.encode())
        move_into(tmp_path / name, done)
    assert sorted(path.name for path in done.iterdir()) == [
        "holiday.final-2.jpg",
        "holiday.final.jpg",
        "scan",
        "scan-2",
    ]


def test_write_note_never_overwrites_an_earlier_note(tmp_path: Path) -> None:
    moved = tmp_path / "a.jpg"
    moved.write_bytes(b"x")
    first = write_note(moved, "error", "first reason")
    second = write_note(moved, "error", "second reason")
    assert first.name == "a.jpg.error.txt" and first.read_text() == "first reason\n"
    assert second.name == "a.jpg.error-2.txt" and second.read_text() == "second reason\n"


@pytest.mark.parametrize(
    "name",
    [
        ".DS_Store",
        ".photo.jpg",
        "a.jpg.part",
        "a.JPG.crdownload",
        "x.tmp",
        "~$lock.docx",
        ".a.mp4.partial.mp4",
        "Thumbs.db",
        "desktop.ini",
        "a.jpg.error.txt",
    ],
)
def test_temporary_hidden_and_own_names_are_ignored(name: str) -> None:
    assert is_ignored_name(name)


@pytest.mark.parametrize("name", ["photo.jpg", "IMG_0001.HEIC", "my party.png", "tmp.jpg", "part.webp"])
def test_ordinary_image_names_are_not_ignored(name: str) -> None:
    assert not is_ignored_name(name)


def test_patterns_match_case_insensitively_and_none_means_all() -> None:
    assert matches("IMG_1.JPG", ("*.jpg",))
    assert not matches("IMG_1.png", ("*.jpg", "*.jpeg"))
    assert matches("anything", ())


def test_router_sends_a_file_to_the_first_flow_whose_patterns_match(tmp_path: Path) -> None:
    folder = tmp_path.resolve()
    photos = Flow(folder=folder, recipe=folder / "photos.yaml", out_dir=folder / "out", patterns=("*.jpg",))
    rest = Flow(folder=folder, recipe=folder / "rest.yaml", out_dir=folder / "out")
    router = Router([photos, rest], excluded=[folder / "watch.yaml"])
    assert router.route(folder / "a.jpg") is photos
    assert router.route(folder / "a.png") is rest
    assert router.route(folder / "photos.yaml") is None  # our own recipe
    assert router.route(folder / "watch.yaml") is None  # the watch file
    assert router.route(folder / "out" / "a.mp4") is None
    assert router.route(folder / "done" / "a.jpg") is None
    assert router.route(tmp_path.parent / "a.jpg") is None


def test_router_takes_a_symlink_only_when_it_stays_inside_its_folder(tmp_path: Path) -> None:
    folder = (tmp_path / "in").resolve()
    folder.mkdir()
    router = Router([Flow(folder=folder, recipe=tmp_path / "r.yaml", out_dir=tmp_path / "out")])
    (folder / "real.jpg").write_bytes(b"x")
    (tmp_path / "outside.jpg").write_bytes(b"y")
    (folder / "inside-link.jpg").symlink_to(folder / "real.jpg")
    (folder / "outside-link.jpg").symlink_to(tmp_path / "outside.jpg")
    (folder / "dangling.jpg").symlink_to(folder / "nothing.jpg")
    assert router.is_regular_inside(folder / "real.jpg")
    assert router.is_regular_inside(folder / "inside-link.jpg")
    assert not router.is_regular_inside(folder / "outside-link.jpg")
    assert not router.is_regular_inside(folder / "dangling.jpg")


def test_router_takes_only_images_and_leaves_other_files_a_flow_would_match_alone(tmp_path: Path) -> None:
    folder = tmp_path.resolve()
    everything = Flow(folder=folder, recipe=folder / "r.yaml", out_dir=folder / "out")
    router = Router([everything])
    assert router.route(folder / "IMG_1.JPG") is everything and not router.left_alone(folder / "IMG_1.JPG")
    assert router.route(folder / "notes.txt") is None and router.left_alone(folder / "notes.txt")
    assert not router.left_alone(folder / ".notes.txt")  # hidden files are never even mentioned
    jpegs = Router([Flow(folder=folder, recipe=folder / "r.yaml", out_dir=folder / "out", patterns=("*.jpg",))])
    assert not jpegs.left_alone(folder / "notes.txt")  # its patterns never asked for it


def test_a_file_closed_as_soon_as_it_is_seen_is_taken_at_the_next_look(tmp_path: Path) -> None:
    # A copier's create and close events come together: the close must count although no look came between.
    clock = Clock()
    settler = Settler(10.0, clock=clock, is_complete=looks_complete)
    photo = tmp_path / "photo.jpg"
    _jpeg(photo)
    settler.touch(photo)
    settler.closed(photo)
    assert settler.due() == clock.now
    assert settler.poll() == ([photo], [])


def test_the_settle_clock_starts_when_a_file_is_first_seen(tmp_path: Path) -> None:
    clock = Clock()
    settler = Settler(1.0, clock=clock)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"a" * 10)
    settler.touch(photo)
    assert settler.due() == clock.now + 1.0
    clock.now += 1.0
    assert settler.poll() == ([photo], [])  # no look was needed in between to start the clock


def test_a_close_after_writes_no_look_saw_yet_still_counts(tmp_path: Path) -> None:
    # A writer that writes its last bytes and closes between two looks: the next look sees the change and
    # the close together, so the file need not wait out the settle time.
    clock = Clock()
    settler = Settler(10.0, clock=clock, is_complete=looks_complete)
    photo = tmp_path / "photo.jpg"
    whole = _jpeg(tmp_path / "whole.jpg")
    photo.write_bytes(whole[:100])
    settler.touch(photo)
    assert settler.poll() == ([], [])
    photo.write_bytes(whole)
    settler.closed(photo)
    clock.now += 0.1
    assert settler.poll() == ([], [])  # the change is seen; the close came after it
    assert settler.due() == clock.now
    clock.now += 0.1
    assert settler.poll() == ([photo], [])


def test_a_change_after_a_close_and_a_look_waits_out_the_settle_time(tmp_path: Path) -> None:
    clock = Clock()
    settler = Settler(10.0, clock=clock, is_complete=looks_complete)
    photo = tmp_path / "photo.jpg"
    whole = _jpeg(tmp_path / "whole.jpg")
    photo.write_bytes(whole)
    settler.touch(photo)
    settler.closed(photo)
    photo.write_bytes(whole + b"\0")  # reopened and written after the close: no close since
    clock.now += 0.1
    assert settler.poll() == ([], [])
    photo.write_bytes(whole)
    clock.now += 0.1
    assert settler.poll() == ([], [])
    clock.now += 9.0
    assert settler.poll() == ([], [])
    clock.now += 1.0
    assert settler.poll() == ([photo], [])


class FakeStats:
    """Stat results by path, with change times the tests choose (a real ctime cannot be set)."""

    def __init__(self) -> None:
        self.files: dict[Path, tuple[int, int, int]] = {}

    def set(self, path: Path, size: int, mtime_s: float, ctime_s: float) -> None:
        self.files[path] = (size, int(mtime_s * 1e9), int(ctime_s * 1e9))

    def __call__(self, path: Path) -> os.stat_result:
        if path not in self.files:
            raise FileNotFoundError(path)
        size, mtime_ns, ctime_ns = self.files[path]
        return os.stat_result(
            (0o100644, 1, 1, 1, 0, 0, size, 0, 0, 0), {"st_mtime_ns": mtime_ns, "st_ctime_ns": ctime_ns}
        )


def test_files_seen_together_start_their_clocks_at_their_last_change_but_at_most_one_credit_back() -> None:
    # The file system's clock is another machine's: only the change times seen in one look are compared.
    clock, stats = Clock(), FakeStats()
    settler = Settler(1.0, clock=clock, stat=stats, max_credit=0.1)
    newest, older, oldest = Path("newest.jpg"), Path("older.jpg"), Path("oldest.jpg")
    stats.set(newest, 10, 5000.0, 5000.0)
    stats.set(older, 10, 4999.96, 4999.96)
    stats.set(oldest, 10, 3000.0, 3000.0)  # copied long ago, or a kept modification time: one credit only
    settler.touch_all([newest, older, oldest])
    assert settler.due() == pytest.approx(clock.now + 1.0 - 0.1)
    clock.now += 0.9
    assert settler.poll() == ([oldest], [])
    clock.now += 0.06
    assert settler.poll() == ([older], [])
    clock.now += 0.04
    assert settler.poll() == ([newest], [])


def test_a_credited_file_is_never_settled_at_the_look_that_found_it_changed() -> None:
    clock, stats = Clock(), FakeStats()
    settler = Settler(0.05, clock=clock, stat=stats, max_credit=0.05)
    photo, other = Path("photo.jpg"), Path("other.jpg")
    stats.set(photo, 10, 100.0, 100.0)
    stats.set(other, 10, 100.0, 100.0)
    settler.touch_all([photo, other])
    clock.now += 0.01
    stats.set(photo, 20, 100.5, 100.5)  # written again
    stats.set(other, 30, 200.0, 200.0)  # and this one much later, by the file system's clock
    assert settler.poll() == ([], [])  # photo is a full credit old already, but was just seen changing
    clock.now += 0.001
    assert settler.poll() == ([photo], [])
    clock.now += 0.05
    assert settler.poll() == ([other], [])


def test_listing_observer_reports_new_and_replaced_files_only(tmp_path: Path) -> None:
    from watchdog.events import FileSystemEvent, FileSystemEventHandler

    from joypix_recipes.watch.listing import ListingObserver

    seen: list[str] = []
    changed = threading.Condition()

    class Collect(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            with changed:
                seen.append(f"{type(event).__name__} {os.path.basename(os.fsdecode(event.src_path))}")
                changed.notify_all()

    def reported(name: str) -> None:
        # A listing reads the whole folder at once: once the last name made is reported, so is all before it.
        with changed:
            assert changed.wait_for(lambda: f"FileCreatedEvent {name}" in seen, timeout=5), seen

    (tmp_path / "old.jpg").write_bytes(b"old")
    (tmp_path / "kept.jpg").write_bytes(b"kept")
    observer = ListingObserver(0.01)
    observer.schedule(Collect(), os.fspath(tmp_path), recursive=False)
    observer.start()
    try:
        (tmp_path / "sub").mkdir()
        (tmp_path / "new.jpg").write_bytes(b"new")
        reported("new.jpg")
        (tmp_path / "swap.part").write_bytes(b"another")
        os.replace(tmp_path / "swap.part", tmp_path / "old.jpg")  # another file under the same name
        with (tmp_path / "kept.jpg").open("ab") as handle:
            handle.write(b"more")  # the same file written: the settler's to see, not the listing's
        (tmp_path / "last.jpg").write_bytes(b"last")
        reported("last.jpg")
    finally:
        observer.stop()
        observer.join(5)
    # swap.part only if a listing came between its write and its rename; never kept.jpg, old.jpg once.
    assert sorted(set(seen) - {"FileCreatedEvent swap.part"}) == [
        "FileCreatedEvent last.jpg",
        "FileCreatedEvent new.jpg",
        "FileCreatedEvent old.jpg",
    ]
    assert seen.count("FileCreatedEvent old.jpg") == 1


def test_listing_observer_cannot_start_on_a_folder_that_is_not_there(tmp_path: Path) -> None:
    from watchdog.events import FileSystemEventHandler

    from joypix_recipes.watch.listing import ListingObserver

    observer = ListingObserver(0.01)
    observer.schedule(FileSystemEventHandler(), os.fspath(tmp_path / "missing"), recursive=False)
    with pytest.raises(OSError):
        observer.start()
