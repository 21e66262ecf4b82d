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
    assert sorted(path.name for path in done.iterdir()) == ["holiday.final-2.jpg", "holiday.final.jpg", "scan", "scan-2"]


def test_write_note_never_overwrites_an_earlier_note(tmp_path: Path) -> None:
    moved = tmp_path / "a.jpg"
    moved.write_bytes(b"x")
    first = write_note(moved, "error", "first reason")
    second = write_note(moved, "error", "second reason")
    assert first.name == "a.jpg.error.txt" and first.read_text() == "first reason\n"
    assert second.name == "a.jpg.error-2.txt" and second.read_text() == "second reason\n"


@pytest.mark.parametrize(
    "name", [".DS_Store", ".photo.jpg", "a.jpg.part", "a.JPG.crdownload", "x.tmp", "~$lock.docx", ".a.mp4.partial.mp4",
             "Thumbs.db", "desktop.ini", "a.jpg.error.txt"],
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
