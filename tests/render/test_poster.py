"""The poster beside each clip: whole or absent, even on a disk that fills up while it is written."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from helpers.disks import mount_small_disk
from PIL import Image

from joypix_recipes.errors import RenderError
from joypix_recipes.render.poster import encode_poster, write_poster
from joypix_recipes.render.video import render_draft
from joypix_recipes.run.provenance import embedded_identity

from .conftest import one_clip

ImageFile = Callable[..., Path]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs, mounted for the test (only root may mount one)."""
    with mount_small_disk(tmp_path, "4m") as mount:
        yield mount


def _fill(disk: Path, leave: int) -> None:
    """Fill ``disk`` until only about ``leave`` bytes are free."""
    status = os.statvfs(disk)
    free = status.f_bavail * status.f_frsize
    with (disk / "filler").open("wb") as filler:
        filler.write(b"\0" * max(0, free - leave))


def _noise(size: tuple[int, int] = (320, 240)) -> np.ndarray:
    return np.random.default_rng(3).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)


def test_poster_carries_the_job_identity_and_decodes(tmp_path: Path) -> None:
    poster = write_poster(_noise(), tmp_path / "clip.jpg", "joypix job abc123")
    assert embedded_identity(poster) == "abc123"
    with Image.open(poster) as image:
        assert image.size == (320, 240)


def test_a_poster_that_does_not_fit_leaves_nothing_under_its_name(small_disk: Path) -> None:
    frame = _noise()
    _fill(small_disk, leave=len(encode_poster(frame)) // 2)

    with pytest.raises(OSError):
        write_poster(frame, small_disk / "clip.jpg")

    assert sorted(path.name for path in small_disk.iterdir()) == ["filler"]


def test_a_render_whose_poster_does_not_fit_fails_and_leaves_no_truncated_poster(
    image_file: ImageFile, small_disk: Path, tmp_path: Path
) -> None:
    photo = image_file(Image.fromarray(_noise((640, 480))), "photo.jpg")
    draft = one_clip(duration_ms=300)
    measured = render_draft(draft, {"img": photo}, tmp_path / "measure.mp4")
    video_size = measured.output.stat().st_size
    assert measured.poster is not None
    _fill(small_disk, leave=video_size + measured.poster.stat().st_size // 2)

    with pytest.raises(RenderError, match="poster"):
        render_draft(draft, {"img": photo}, small_disk / "clip.mp4")

    assert not (small_disk / "clip.jpg").exists()
    assert not [path for path in small_disk.iterdir() if ".partial" in path.name]
