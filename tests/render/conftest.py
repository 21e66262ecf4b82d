"""Test images made on the fly (every format and mode the renderer must take) and frame hashes of MP4s."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import av
import pytest
from PIL import Image

from joypix_recipes.timeline.draft import Draft, VideoClip

SMALL = (180, 320)


def solid(color: tuple[int, int, int], size: tuple[int, int] = (360, 640)) -> Image.Image:
    """A plain RGB picture."""
    return Image.new("RGB", size, color)


def with_marker(size: tuple[int, int], corner: str, color: tuple[int, int, int] = (255, 0, 0)) -> Image.Image:
    """Grey picture with a coloured square in one corner (``top-left`` etc.) of the stored pixels."""
    image = Image.new("RGB", size, (128, 128, 128))
    side = min(size) // 4
    x = 0 if "left" in corner else size[0] - side
    y = 0 if "top" in corner else size[1] - side
    image.paste(color, (x, y, x + side, y + side))
    return image


def one_clip(src: str = "img", size: tuple[int, int] = SMALL, duration_ms: int = 1000, **clip: object) -> Draft:
    """A one-image draft at a small size."""
    settings: dict[str, object] = {"motion": "none", **clip}
    return Draft(
        width=size[0], height=size[1], fps=30, video=(VideoClip(src=src, duration_ms=duration_ms, **settings),)
    )  # type: ignore[arg-type]


def frame_hashes(path: Path) -> list[str]:
    """SHA-256 of each decoded frame's yuv420p bytes."""
    with av.open(str(path)) as container:
        return [
            hashlib.sha256(frame.to_ndarray(format="yuv420p").tobytes()).hexdigest()
            for frame in container.decode(video=0)
        ]


@pytest.fixture
def image_file(tmp_path: Path) -> Callable[..., Path]:
    """Save a Pillow image into tmp_path under a name: ``image_file(img, "a.png", **save_options)``."""

    def save(image: Image.Image, name: str, **options: object) -> Path:
        path = tmp_path / name
        image.save(path, **options)
        return path

    return save
