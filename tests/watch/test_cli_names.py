"""`joypix watch` in a real process: a second image of the same name gets its own clip, and a file that
is not an image stays where it is, said once."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

from helpers.images import write_image
from helpers.runs import start_joypix
from helpers.video import same_pictures
from helpers.waiting import wait_until

from joypix_recipes.run.provenance import embedded_identity

RECIPE = """\
version: 1
name: names
steps:
  - animate: {motion: none, duration: 0.3}
export: {aspect: "1:1", resolution: 480p, fps: 10, quality: low, output: "{{ input.stem }}.mp4"}
"""


def _drop(folder: Path, name: str, seed: int) -> None:
    """Write a photo under a hidden name, then rename it in: the watcher only ever sees it whole."""
    hidden = write_image(folder / f".{name}", (160, 160), seed=seed)
    os.replace(hidden, folder / name)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    return process.communicate(timeout=60)


def _watch(root: Path, *args: str) -> subprocess.Popen[str]:
    (root / "in").mkdir()
    (root / "names.yaml").write_text(RECIPE, encoding="utf-8")
    return start_joypix(["watch", *args], root)


def test_a_second_photo_with_a_finished_photos_name_gets_its_own_clip(tmp_path: Path) -> None:
    hot, out = tmp_path / "in", tmp_path / "out"
    watcher = _watch(tmp_path, "in", "--recipe", "names.yaml", "--out", "out", "--settle", "0.2")
    try:
        _drop(hot, "slow.jpg", seed=1)
        wait_until(lambda: (hot / "done" / "slow.jpg").exists(), 60, "the first slow.jpg was not done")
        first = {name: _digest(out / name) for name in ("slow.mp4", "slow.jpg")}

        _drop(hot, "slow.jpg", seed=2)  # another photo, the same name
        wait_until(lambda: (hot / "done" / "slow-2.jpg").exists(), 60, "the second slow.jpg was not done")
    finally:
        _, err = _stop(watcher)

    assert "Traceback" not in err
    assert {name: _digest(out / name) for name in ("slow.mp4", "slow.jpg")} == first, "the first clip is untouched"
    assert (out / "slow-2.mp4").exists() and (out / "slow-2.jpg").exists()
    assert embedded_identity(out / "slow-2.mp4") not in (None, embedded_identity(out / "slow.mp4"))
    assert embedded_identity(out / "slow-2.jpg") == embedded_identity(out / "slow-2.mp4")
    assert not same_pictures(out / "slow.mp4", out / "slow-2.mp4")
    assert sorted(path.name for path in (hot / "done").iterdir()) == ["slow-2.jpg", "slow.jpg"]


def test_a_text_file_in_the_hot_folder_is_left_where_it_is_and_reported_once(tmp_path: Path) -> None:
    hot = tmp_path / "in"
    (tmp_path / "watch.yaml").write_text(
        "version: 1\nsettle_seconds: 0.2\nrescan_seconds: 1\n"
        "flows:\n  - {folder: in, recipe: names.yaml, out: out}\n",
        encoding="utf-8",
    )
    watcher = _watch(tmp_path, "--config", "watch.yaml")
    try:
        (hot / "notes.txt").write_text("call the framer on Monday\n", encoding="utf-8")
        _drop(hot, "photo.jpg", seed=3)
        wait_until(lambda: (hot / "done" / "photo.jpg").exists(), 60, "photo.jpg was not done")
        # Time for a few rescans (one a second), each of which finds notes.txt again.
        time.sleep(3.5)
    finally:
        out, err = _stop(watcher)

    assert (hot / "notes.txt").read_text(encoding="utf-8") == "call the framer on Monday\n"
    assert not (hot / "failed").exists()
    said = [line for line in (out + err).splitlines() if "notes.txt" in line]
    assert len(said) == 1, said
    assert "not an image" in said[0] and "left where it is" in said[0]
    assert "Traceback" not in err


def test_two_hot_folders_sharing_an_output_folder_never_write_one_clip_name_twice(tmp_path: Path) -> None:
    (tmp_path / "names.yaml").write_text(RECIPE, encoding="utf-8")
    for seed, folder in enumerate(("a", "b")):
        (tmp_path / folder).mkdir()
        _drop(tmp_path / folder, "slow.jpg", seed=seed)
    (tmp_path / "watch.yaml").write_text(
        "version: 1\nsettle_seconds: 0.2\nflows:\n"
        "  - {folder: a, recipe: names.yaml, out: out}\n  - {folder: b, recipe: names.yaml, out: out}\n",
        encoding="utf-8",
    )

    watcher = start_joypix(["watch", "--config", "watch.yaml", "--once"], tmp_path)
    _, err = watcher.communicate(timeout=120)

    assert watcher.returncode == 0, err
    out = tmp_path / "out"
    assert sorted(path.name for path in out.glob("*.mp4")) == ["slow-2.mp4", "slow.mp4"]
    identities = {embedded_identity(out / "slow.mp4"), embedded_identity(out / "slow-2.mp4")}
    assert len(identities) == 2 and None not in identities
    assert (tmp_path / "a" / "done" / "slow.jpg").exists() and (tmp_path / "b" / "done" / "slow.jpg").exists()
