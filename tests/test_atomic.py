"""Temp files: where they live, what they are called, and that cleanup never touches a live writer's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from joypix_recipes.atomic import atomic_path, remove_partials, scratch_folder, temp_owner


def _finished_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_temp_files_of_an_output_folder_live_in_its_scratch_folder_and_end_in_partial(tmp_path: Path) -> None:
    scratch_folder(tmp_path).mkdir(parents=True)
    target = tmp_path / "reels" / "clip.mp4"
    with atomic_path(target) as temp:
        temp.write_bytes(b"video")
        assert temp.parent == scratch_folder(tmp_path)
        assert temp.name.startswith("clip.mp4.") and temp.name.endswith(".partial")
        assert temp_owner(temp.name) is not None
    assert target.read_bytes() == b"video"
    assert list(scratch_folder(tmp_path).iterdir()) == []


def test_without_a_scratch_folder_the_temp_file_is_hidden_beside_its_target(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "notes.txt") as temp:
        assert temp.parent == tmp_path and temp.name.startswith(".notes.txt.")


def test_cleanup_removes_a_gone_writers_temp_files_and_spares_a_live_ones(tmp_path: Path) -> None:
    live = tmp_path / f"clip.mp4.{_live_pid()}.abcd1234.partial"
    gone = tmp_path / f"clip.mp4.{_finished_pid()}.efgh5678.partial"
    legacy = tmp_path / ".old.mp4.x1y2.partial.mp4"
    finished = tmp_path / "clip.mp4"
    for path in (live, gone, legacy, finished):
        path.write_bytes(b"bytes")

    removed = remove_partials(tmp_path)

    assert sorted(removed) == sorted([gone, legacy])
    assert live.exists() and finished.exists()


def _live_pid() -> int:
    return os.getpid()
