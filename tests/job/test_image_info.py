"""The shared header read: oriented sizes without decoding pixels, for planning and the renderer alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.images import png_header_only, write_image
from PIL import Image

from joypix_recipes.job.image_info import opened_image, oriented_size
from joypix_recipes.recipe.plan import read_image_size
from joypix_recipes.render.image import probe_image


@pytest.mark.parametrize("name", ["turned.jpg", "turned.png", "turned.webp"])
def test_exif_rotation_swaps_width_and_height_in_every_format(tmp_path: Path, name: str) -> None:
    path = write_image(tmp_path / name, (80, 40), orientation=6)
    assert read_image_size(path) == probe_image(path) == (40, 80)


def test_pixels_are_not_decoded_to_read_a_png_orientation(tmp_path: Path) -> None:
    path = write_image(tmp_path / "turned.png", (80, 40), orientation=8)
    with opened_image(path) as image:
        assert oriented_size(image) == (40, 80)
        assert image.tile, "the pixels were decoded"


def test_a_header_past_pillows_bomb_limit_is_read_and_left_to_the_caller(tmp_path: Path) -> None:
    path = png_header_only(tmp_path / "huge.png", 40_000, 40_000)
    assert 40_000 * 40_000 > 2 * (Image.MAX_IMAGE_PIXELS or 0)
    with opened_image(path) as image:
        assert oriented_size(image) == (40_000, 40_000)
