"""What the cloud backend does with a download: one pass checks, picks the poster frame and tags it; the
report's thumbnail comes from that frame."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from helpers.video import decoded_frames, probe
from PIL import Image

from joypix_recipes.backends.contract import REPORT_THUMBNAIL_SIZE
from joypix_recipes.backends.nemo_output import check_and_tag, thumbnail_jpeg
from joypix_recipes.emulator.renders import _encode_stub
from joypix_recipes.errors import RenderError


def _clip(tmp_path: Path, size: tuple[int, int] = (64, 48)) -> Path:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(_encode_stub(size[0], size[1], Fraction(24)))
    return clip


def test_one_pass_checks_keeps_the_picked_frame_and_tags_the_file(tmp_path: Path) -> None:
    clip = _clip(tmp_path)
    frames = decoded_frames(clip)
    facts, frame = check_and_tag(clip, "job", lambda count: count // 3, {"comment": "joypix:abc", "title": "bench"})
    assert (facts.width, facts.height, facts.frames) == (64, 48, len(frames))
    assert facts.duration_s == pytest.approx(1.0, abs=0.05)
    assert np.array_equal(frame, frames[len(frames) // 3])
    with av.open(str(clip)) as container:
        assert container.metadata["comment"] == "joypix:abc" and container.metadata["title"] == "bench"
    assert probe(clip)["frames"] == len(frames)  # the tagged file still holds every frame


def test_a_picked_frame_past_the_containers_count_is_decoded_again(tmp_path: Path) -> None:
    clip = _clip(tmp_path)
    frames = decoded_frames(clip)
    _, frame = check_and_tag(clip, "job", lambda count: count - 1, {"comment": "x"})
    assert np.array_equal(frame, frames[-1])


@pytest.mark.parametrize("damage", ["truncated", "empty", "not a video"])
def test_a_download_that_does_not_decode_is_refused_and_left_as_it_was(tmp_path: Path, damage: str) -> None:
    clip = _clip(tmp_path)
    data = clip.read_bytes()
    broken = {"truncated": data[: len(data) // 2], "empty": b"", "not a video": b"\0\0\0\x10ftypisom" + b"x" * 64}[
        damage
    ]
    clip.write_bytes(broken)
    with pytest.raises(RenderError, match="does not decode as MP4"):
        check_and_tag(clip, "job", lambda count: 0, {"comment": "x"})
    assert clip.read_bytes() == broken
    assert [path.name for path in tmp_path.iterdir()] == ["clip.mp4"]  # no temp file left behind


@pytest.mark.parametrize(
    ("size", "wanted"), [((480, 480), (360, 360)), ((1920, 1080), (360, 202)), ((200, 100), (200, 100))]
)
def test_the_thumbnail_fits_the_report_and_keeps_the_shape(size: tuple[int, int], wanted: tuple[int, int]) -> None:
    width, height = size
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    frame[:, : width // 2] = (200, 40, 40)
    with Image.open(io.BytesIO(thumbnail_jpeg(frame))) as thumbnail:
        assert thumbnail.format == "JPEG"
        assert abs(thumbnail.size[0] - wanted[0]) <= 1 and abs(thumbnail.size[1] - wanted[1]) <= 1
        assert thumbnail.size[0] <= REPORT_THUMBNAIL_SIZE[0] and thumbnail.size[1] <= REPORT_THUMBNAIL_SIZE[1]
        left = thumbnail.getpixel((2, thumbnail.size[1] // 2))
    assert isinstance(left, tuple) and left[0] > 150 and left[1] < 90  # the picture, not a blank
