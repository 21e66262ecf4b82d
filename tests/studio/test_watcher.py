"""The studio's watcher: any way an editor saves under the recipe's folder is one change, a burst of events
is one re-plan, and what the studio itself writes into the output folder is none."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

from joypix_recipes.studio.watcher import SETTLE_S, FolderWatcher


async def _changes_after(folder: Path, out_dir: Path, edit: Callable[[], None]) -> int:
    calls: list[None] = []
    watcher = FolderWatcher(folder, out_dir, lambda: calls.append(None))
    watcher.start()
    try:
        await asyncio.sleep(0.1)
        edit()
        await asyncio.sleep(SETTLE_S + 0.6)
    finally:
        watcher.stop()
    return len(calls)


def _setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    folder, out_dir = tmp_path / "project", tmp_path / "project" / "out"
    (out_dir / "previews").mkdir(parents=True)
    recipe = folder / "recipe.yaml"
    recipe.write_text("version: 1\n", encoding="utf-8")
    return folder, out_dir, recipe


def test_a_save_in_place_by_rename_or_by_delete_and_create_is_one_change_each(tmp_path: Path) -> None:
    folder, out_dir, recipe = _setup(tmp_path)

    def in_place() -> None:
        with recipe.open("a", encoding="utf-8") as file:
            for _ in range(5):
                file.write("# a line\n")
                file.flush()

    def by_rename() -> None:
        copy = folder / ".recipe.yaml.tmp"
        copy.write_text("version: 1\n# renamed over\n", encoding="utf-8")
        os.replace(copy, recipe)

    def by_delete_and_create() -> None:
        recipe.unlink()
        recipe.write_text("version: 1\n", encoding="utf-8")

    def a_photo_in_a_subfolder() -> None:
        (folder / "photos").mkdir(exist_ok=True)
        (folder / "photos" / "b.jpg").write_bytes(b"not yet a photo")

    for edit in (in_place, by_rename, by_delete_and_create, a_photo_in_a_subfolder):
        assert asyncio.run(_changes_after(folder, out_dir, edit)) == 1, edit.__name__


def test_what_lands_in_the_output_folder_is_no_change(tmp_path: Path) -> None:
    folder, out_dir, _ = _setup(tmp_path)

    def drafts_written() -> None:
        partial = out_dir / "previews" / ".a.partial"
        partial.write_bytes(b"x" * 1000)
        os.replace(partial, out_dir / "previews" / "a.mp4")
        (out_dir / "report.html").write_text("<html></html>", encoding="utf-8")

    assert asyncio.run(_changes_after(folder, out_dir, drafts_written)) == 0
