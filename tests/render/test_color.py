"""Color: embedded profiles are honoured (pixels converted to sRGB), and the stream says it is BT.709."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from helpers.video import decoded_frames
from PIL import Image

from joypix_recipes.render.image import load_rgb
from joypix_recipes.render.video import render_draft

from .conftest import one_clip
from .icc import ADOBE_GAMMA, ADOBE_RGB, DISPLAY_P3, matrix_profile, to_srgb

GREEN, RED = (100, 180, 100), (230, 60, 60)
"""Two bands whose numbers mean visibly different colors in Display P3 and in sRGB (28-36 levels apart)."""


def _bands(size: tuple[int, int] = (360, 640)) -> Image.Image:
    image = Image.new("RGB", size, GREEN)
    image.paste(RED, (0, size[1] // 2, size[0], size[1]))
    return image


def _save(image: Image.Image, path: Path, profile: bytes | None) -> Path:
    options: dict[str, object] = {} if profile is None else {"icc_profile": profile}
    if path.suffix == ".heic":
        import pillow_heif

        heif = pillow_heif.from_pillow(image)
        if profile is not None:
            heif.info["icc_profile"] = profile
        heif.save(path, quality=95)
    elif path.suffix == ".jpg":
        image.save(path, quality=95, subsampling=0, **options)
    elif path.suffix == ".webp":
        image.save(path, lossless=True, **options)
    else:
        image.save(path, **options)
    return path


def _decoded_bands(path: Path, tmp_path: Path) -> tuple[np.ndarray, np.ndarray]:
    output = render_draft(one_clip(duration_ms=100), {"img": path}, tmp_path / "bands.mp4", poster=False).output
    frame = decoded_frames(output)[0].astype(float)
    height = frame.shape[0]
    return frame[height // 8 : 3 * height // 8].mean(axis=(0, 1)), frame[5 * height // 8 : 7 * height // 8].mean(axis=(0, 1))


@pytest.mark.parametrize("name", ["p3.jpg", "p3.png", "p3.webp", "p3.heic"])
def test_display_p3_bands_decode_as_their_srgb_conversion(tmp_path: Path, name: str) -> None:
    profile = matrix_profile(DISPLAY_P3, "Display P3 (built for this test)")
    path = _save(_bands(), tmp_path / name, profile)
    green, red = _decoded_bands(path, tmp_path)
    # A few levels: lossy formats, then 8-bit 4:2:0 tv-range video; without conversion it is 28-36 levels.
    assert np.abs(green - to_srgb(GREEN, DISPLAY_P3)).max() <= 4
    assert np.abs(red - to_srgb(RED, DISPLAY_P3)).max() <= 4


def test_adobe_rgb_bands_decode_as_their_srgb_conversion(tmp_path: Path) -> None:
    profile = matrix_profile(ADOBE_RGB, "Adobe RGB (built for this test)", gamma=ADOBE_GAMMA)
    green, red = _decoded_bands(_save(_bands(), tmp_path / "camera.jpg", profile), tmp_path)
    assert np.abs(green - to_srgb(GREEN, ADOBE_RGB, ADOBE_GAMMA)).max() <= 4
    assert np.abs(red - to_srgb(RED, ADOBE_RGB, ADOBE_GAMMA)).max() <= 4


def test_a_photo_without_a_profile_is_taken_as_srgb_unchanged(tmp_path: Path) -> None:
    green, red = _decoded_bands(_save(_bands(), tmp_path / "plain.png", None), tmp_path)
    assert np.abs(green - GREEN).max() <= 3 and np.abs(red - RED).max() <= 3


def test_an_srgb_profile_changes_nothing_and_a_broken_one_is_ignored(tmp_path: Path) -> None:
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    tagged = load_rgb(_save(_bands((64, 64)), tmp_path / "srgb.png", srgb))
    broken = load_rgb(_save(_bands((64, 64)), tmp_path / "broken.png", b"not a profile" * 20))
    assert np.abs(tagged.astype(int) - np.asarray(_bands((64, 64)))).max() <= 1
    assert (broken == np.asarray(_bands((64, 64)))).all()


def test_transparent_p3_png_keeps_its_alpha_over_white(tmp_path: Path) -> None:
    image = _bands((64, 64)).convert("RGBA")
    image.putalpha(Image.new("L", (64, 64), 255).crop((0, 0, 64, 64)))
    image.paste((0, 0, 0, 0), (0, 0, 64, 16))
    rgb = load_rgb(_save(image, tmp_path / "cutout.png", matrix_profile(DISPLAY_P3, "P3")))
    assert (rgb[:16] == 255).all()  # transparent shows the white background
    assert np.abs(rgb[40, 32].astype(float) - to_srgb(RED, DISPLAY_P3)).max() <= 1


def test_stream_declares_bt709_primaries_transfer_matrix_and_limited_range(tmp_path: Path) -> None:
    path = _save(_bands(), tmp_path / "plain.png", None)
    output = render_draft(one_clip(duration_ms=100), {"img": path}, tmp_path / "tagged.mp4", poster=False).output
    with av.open(str(output)) as container:
        context = container.streams.video[0].codec_context
        assert (context.color_primaries, context.color_trc, context.colorspace, context.color_range) == (1, 1, 1, 1)
    # The MP4 itself says so too ('colr' box, 'nclx': 709 primaries, transfer and matrix, not full range).
    data = output.read_bytes()
    box = data.find(b"colrnclx")
    assert box >= 0 and data[box + 8 : box + 15] == b"\x00\x01\x00\x01\x00\x01\x00"
