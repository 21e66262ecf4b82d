"""Image input: formats sniffed by content, orientation, colour modes, reduced JPEG decoding, bad files refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pillow_heif
import pytest
from helpers.images import png_header_only
from PIL import Image, ImageOps

from joypix_recipes.errors import ImageError
from joypix_recipes.job.image_info import heic_supported
from joypix_recipes.render import image as image_module
from joypix_recipes.render.color import nv12_to_rgb, rgb_to_yuv420
from joypix_recipes.render.image import MAX_PIXELS, load_rgb, load_yuv420, probe_image

from .conftest import solid, with_marker
from .icc import DISPLAY_P3, matrix_profile, to_srgb

ImageFile = Callable[..., Path]


def test_probe_reports_the_oriented_size(image_file: ImageFile) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = image_file(solid((10, 20, 30), (400, 300)), "rotated.jpg", exif=exif)
    assert probe_image(path) == (300, 400)


def test_exif_orientation_is_applied_to_pixels(image_file: ImageFile) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    path = image_file(with_marker((400, 300), "top-left"), "rotated.jpg", exif=exif, quality=95)
    rgb = load_rgb(path)
    assert rgb.shape == (400, 300, 3)
    assert tuple(rgb[10, 290]) > (200, 0, 0) and rgb[10, 290, 1] < 60  # the marker is now top-right
    assert abs(int(rgb[10, 10, 0]) - 128) < 20


def test_large_jpeg_is_decoded_at_a_reduced_scale(image_file: ImageFile) -> None:
    path = image_file(solid((200, 100, 50), (4000, 3000)), "big.jpg", quality=80)
    rgb = load_rgb(path, at_least=(500, 375))
    assert rgb.shape == (375, 500, 3)
    assert abs(int(rgb[100, 100, 0]) - 200) < 8


def test_reduced_decoding_respects_orientation(image_file: ImageFile) -> None:
    exif = Image.Exif()
    exif[0x0112] = 8
    path = image_file(solid((0, 0, 255), (2000, 1000)), "turned.jpg", exif=exif)
    rgb = load_rgb(path, at_least=(250, 500))
    assert rgb.shape == (500, 250, 3)


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("cmyk.jpg", lambda: solid((255, 0, 0)).convert("CMYK"), (255, 0, 0)),
        ("palette.png", lambda: solid((0, 255, 0)).convert("P"), (0, 255, 0)),
        ("gray.png", lambda: Image.new("L", (64, 64), 100), (100, 100, 100)),
        ("bilevel.png", lambda: Image.new("1", (64, 64), 1), (255, 255, 255)),
        ("plain.webp", lambda: solid((0, 0, 255)), (0, 0, 255)),
    ],
)
def test_colour_modes_become_rgb(
    image_file: ImageFile, name: str, make: Callable[[], Image.Image], expected: tuple[int, int, int]
) -> None:
    options = {"lossless": True} if name.endswith(".webp") else {}
    rgb = load_rgb(image_file(make(), name, **options))
    assert rgb.dtype == np.uint8 and rgb.shape[2] == 3
    assert np.abs(rgb[5, 5].astype(int) - expected).max() <= 3


def test_sixteen_bit_gray_is_scaled_not_clipped(tmp_path: Path) -> None:
    path = tmp_path / "deep.png"
    Image.fromarray(np.full((32, 32), 32768, dtype=np.uint16)).save(path)
    assert abs(int(load_rgb(path)[0, 0, 0]) - 128) <= 1


def test_alpha_is_composited_over_white(image_file: ImageFile) -> None:
    image = Image.new("RGBA", (64, 64), (255, 0, 0, 0))
    image.paste((255, 0, 0, 255), (0, 0, 32, 64))
    rgb = load_rgb(image_file(image, "cutout.png"))
    assert tuple(rgb[10, 10]) == (255, 0, 0)
    assert tuple(rgb[10, 50]) == (255, 255, 255)


def test_palette_transparency_is_composited(image_file: ImageFile) -> None:
    image = Image.new("P", (32, 32), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(1, (0, 0, 16, 32))
    rgb = load_rgb(image_file(image, "palette.png", transparency=0))
    assert tuple(rgb[5, 5]) == (255, 0, 0) and tuple(rgb[5, 25]) == (255, 255, 255)


def test_animated_gif_uses_the_first_frame(image_file: ImageFile) -> None:
    frames = [solid((255, 0, 0), (32, 32)), solid((0, 0, 255), (32, 32))]
    path = image_file(frames[0], "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    rgb = load_rgb(path)
    assert rgb[5, 5, 0] > 200 and rgb[5, 5, 2] < 50


def test_heic_is_read(tmp_path: Path) -> None:
    assert heic_supported()
    path = tmp_path / "phone.heic"
    pillow_heif.from_pillow(solid((0, 200, 0), (128, 96))).save(path, quality=90)
    rgb = load_rgb(path)
    assert rgb.shape == (96, 128, 3) and rgb[40, 40, 1] > 150


def test_format_is_sniffed_from_content_not_extension(image_file: ImageFile) -> None:
    path = image_file(solid((0, 0, 255), (40, 40)), "really-a-png.jpg", format="PNG")
    assert tuple(load_rgb(path)[0, 0]) == (0, 0, 255)


def test_a_200_megapixel_header_is_accepted(tmp_path: Path) -> None:
    assert MAX_PIXELS > 16320 * 12240
    path = png_header_only(tmp_path / "phone200mp.png", 16320, 12240)
    assert probe_image(path) == (16320, 12240)


def test_decompression_bomb_is_refused_by_name(tmp_path: Path) -> None:
    path = png_header_only(tmp_path / "bomb.png", 40_000, 40_000)
    with pytest.raises(ImageError, match="bomb.png.*megapixels"):
        load_rgb(path)


def test_empty_file_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.touch()
    with pytest.raises(ImageError, match="empty.jpg.*empty"):
        load_rgb(path)


def test_file_over_200_mb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "huge.jpg"
    with path.open("wb") as handle:
        handle.truncate(201 * 1024 * 1024)  # sparse: costs no disk
    with pytest.raises(ImageError, match="huge.jpg.*200 MB"):
        probe_image(path)


def test_non_image_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("these are not pixels")
    with pytest.raises(ImageError, match="notes.png.*not an image"):
        load_rgb(path)


@pytest.mark.parametrize("name", ["cut.jpg", "cut.png"])
def test_truncated_image_is_refused_by_name(image_file: ImageFile, name: str) -> None:
    rng = np.random.default_rng(1)
    path = image_file(Image.fromarray(rng.integers(0, 255, (300, 300, 3), dtype=np.uint8)), name)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match=name.replace(".", r"\.")):
        load_rgb(path)


def test_missing_file_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="gone.jpg.*not found"):
        probe_image(tmp_path / "gone.jpg")


def _scene(size: tuple[int, int] = (640, 480)) -> Image.Image:
    """Smooth colour ramps with hard-edged saturated blocks: what a photo's chroma does, in small."""
    width, height = size
    x, y = np.meshgrid(np.linspace(0, 1, width), np.linspace(0, 1, height))
    pixels = np.stack([40 + 180 * x, 30 + 190 * y, 200 - 150 * x * y], axis=2)
    for index, colour in enumerate([(230, 40, 40), (40, 200, 60), (50, 60, 220), (240, 220, 30)]):
        left, top = 40 + index * 140, 60 + (index % 2) * 200
        pixels[top : top + 120, left : left + 100] = colour
    return Image.fromarray(pixels.astype(np.uint8))


@pytest.mark.parametrize("subsampling", [0, 1, 2])  # Pillow's names for 4:4:4, 4:2:2, 4:2:0
def test_a_jpeg_read_from_its_own_planes_matches_its_rgb_decode(
    image_file: ImageFile, monkeypatch: pytest.MonkeyPatch, subsampling: int
) -> None:
    path = image_file(_scene(), "scene.jpg", quality=92, subsampling=subsampling)
    taken = []

    def spy(*args: object) -> object:
        planes = original(*args)
        taken.append(planes is not None)
        return planes

    original = image_module._jpeg_planes
    monkeypatch.setattr(image_module, "_jpeg_planes", spy)
    region, size = (0.13, 0.07, 0.61, 0.81), (312, 312)  # odd edges: widened to whole chroma samples
    luma, u, v = load_yuv420(path, (400, 400), region, size)
    assert taken == [True], "the planes road was taken"
    expected = rgb_to_yuv420(load_rgb(path, region=region, size=size))
    assert [plane.shape for plane in (luma, u, v)] == [(312, 312), (156, 156), (156, 156)]
    for mine, theirs in zip((luma, u, v), expected, strict=True):
        difference = np.abs(mine.astype(int) - theirs)
        # Only edges differ (JPEG chroma resampled once instead of upsampled, then averaged down).
        assert difference.mean() < 1.0 and np.percentile(difference, 99) <= 8, (difference.mean(), difference.max())


def test_a_display_p3_jpeg_read_from_its_planes_is_converted_to_srgb(image_file: ImageFile) -> None:
    profile = matrix_profile(DISPLAY_P3, "Display P3")
    path = image_file(solid((230, 60, 60), (400, 300)), "p3.jpg", quality=95, icc_profile=profile)
    luma, u, v = load_yuv420(path, (200, 150), (0.0, 0.0, 1.0, 1.0), (200, 150))
    rgb = nv12_to_rgb(np.vstack([luma, cv2.merge([u, v]).reshape(75, 200)]), 200, 150).astype(float)
    assert np.abs(rgb[20:130, 20:180].reshape(-1, 3).mean(axis=0) - to_srgb((230, 60, 60), DISPLAY_P3)).max() <= 3


def test_a_truncated_jpeg_is_refused_by_name_on_the_planes_road(image_file: ImageFile) -> None:
    rng = np.random.default_rng(2)
    path = image_file(Image.fromarray(rng.integers(0, 255, (300, 300, 3), dtype=np.uint8)), "half.jpg")
    path.write_bytes(path.read_bytes()[:-4000])
    with pytest.raises(ImageError, match=r"half\.jpg"):
        load_yuv420(path, (300, 300), (0.0, 0.0, 1.0, 1.0), (300, 300))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_turns_the_pixels_as_pillow_does(image_file: ImageFile, orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = image_file(_scene((96, 64)), "turned.jpg", exif=exif, quality=95)
    with Image.open(path) as image:
        expected = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    assert np.array_equal(load_rgb(path), expected)
    assert np.array_equal(
        load_rgb(path, region=(0.25, 0.5, 0.5, 0.5)),
        expected[expected.shape[0] // 2 :, expected.shape[1] // 4 : 3 * expected.shape[1] // 4],
    )
