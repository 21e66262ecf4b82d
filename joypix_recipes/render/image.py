"""Still images in: format sniffed from content, size limits, EXIF orientation and color modes to 8-bit RGB.

Every failure, whatever Pillow raised, leaves as an ImageError that names the file.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from joypix_recipes.errors import ImageError
from joypix_recipes.image_info import ROTATED_ORIENTATIONS, exif_orientation, opened_image, oriented_size

MAX_FILE_BYTES = 200 * 1024 * 1024
"""Larger files are refused before any decoding."""

MAX_PIXELS = 260_000_000
"""A 200-megapixel phone photo (16320 x 12240) passes; a decompression bomb does not."""

BACKGROUND = (255, 255, 255)
"""Transparent areas are shown over white, as product cut-outs are meant to be seen."""


def probe_image(path: Path) -> tuple[int, int]:
    """Oriented (width, height) of an image, from its header only."""
    with _opened(path) as image:
        return oriented_size(image)


def load_rgb(
    path: Path, at_least: tuple[int, int] | None = None, region: tuple[float, float, float, float] | None = None
) -> np.ndarray:
    """Decode to an oriented H x W x 3 uint8 RGB array, at least ``at_least`` pixels where the file allows.

    A JPEG larger than needed is decoded at a reduced scale (1/2, 1/4 or 1/8), which is what keeps
    100- and 200-megapixel photos within memory. ``region`` (x, y, width, height as fractions of the
    oriented image) crops before conversion, so only the pixels used are copied; the crop is widened
    to whole pixels.
    """
    with _opened(path) as image:
        try:
            if at_least is not None and image.format == "JPEG":
                want = at_least if exif_orientation(image) not in ROTATED_ORIENTATIONS else at_least[::-1]
                image.draft(image.mode if image.mode in ("RGB", "L", "CMYK") else None, want)
            image.load()
            oriented = ImageOps.exif_transpose(image)
            if region is not None:
                oriented = oriented.crop(_pixel_box(region, oriented.size))
            return _to_rgb(oriented)
        except ImageError:
            raise
        except MemoryError as error:
            raise ImageError(f"{path.name}: the image is too large to decode in memory") from error
        except OSError as error:
            if "truncated" in str(error) or "broken" in str(error):
                raise ImageError(f"{path.name}: the image file is truncated or damaged; export it again") from error
            raise ImageError(f"{path.name}: the image could not be decoded ({_reason(error)})") from error
        except Exception as error:  # noqa: BLE001 - Pillow plugins raise many types on bad data
            raise ImageError(f"{path.name}: the image could not be decoded ({_reason(error)})") from error


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[Image.Image]:
    """The image opened for decoding, once its file and its header are within our limits."""
    try:
        size = path.stat().st_size
    except FileNotFoundError as error:
        raise ImageError(f"{path.name}: image file not found ({path})") from error
    except OSError as error:
        raise ImageError(f"{path.name}: the image file cannot be read ({_reason(error)})") from error
    if not path.is_file():
        raise ImageError(f"{path.name}: is not a file")
    if size == 0:
        raise ImageError(f"{path.name}: the image file is empty")
    if size > MAX_FILE_BYTES:
        raise ImageError(f"{path.name}: the file is {size / 2**20:.0f} MB; images over 200 MB are refused")
    with contextlib.ExitStack() as stack:
        try:
            image = stack.enter_context(opened_image(path))
        except UnidentifiedImageError as error:
            raise ImageError(f"{path.name}: not an image this tool can read (use JPG, PNG, WEBP, HEIC or GIF)") from error
        except Exception as error:  # noqa: BLE001 - header parsers raise many types on bad data
            raise ImageError(f"{path.name}: the image header is damaged ({_reason(error)})") from error
        width, height = image.size
        if width <= 0 or height <= 0:
            raise ImageError(f"{path.name}: the image has no pixels")
        if width * height > MAX_PIXELS:
            raise ImageError(
                f"{path.name}: the image is {_megapixels(width * height)}, over the limit of {_megapixels(MAX_PIXELS)}"
            )
        yield image


def _pixel_box(region: tuple[float, float, float, float], size: tuple[int, int]) -> tuple[int, int, int, int]:
    x, y, width, height = region
    left, top = max(math.floor(x * size[0]), 0), max(math.floor(y * size[1]), 0)
    right, bottom = min(math.ceil((x + width) * size[0]), size[0]), min(math.ceil((y + height) * size[1]), size[1])
    return left, top, max(right, left + 1), max(bottom, top + 1)


def _to_rgb(image: Image.Image) -> np.ndarray:
    """Any Pillow mode to 8-bit RGB; alpha is composited over BACKGROUND, 16-bit scaled, not clipped."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _wide_gray_to_rgb(np.asarray(image), mode)
    if mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    elif mode in ("LA", "La", "PA", "RGBa"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        backdrop = Image.new("RGBA", image.size, BACKGROUND + (255,))
        image = Image.alpha_composite(backdrop, image)
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.asarray(image)


def _wide_gray_to_rgb(values: np.ndarray, mode: str) -> np.ndarray:
    values = values.astype(np.float32)
    peak = float(values.max(initial=0.0))
    if mode.startswith("I;16") or peak > 255.0:
        top = 65535.0
    elif mode == "F" and peak <= 1.0:
        top = 1.0  # float images are usually 0..1
    else:
        top = 255.0
    gray = np.clip(values * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
    return np.repeat(gray[:, :, None], 3, axis=2)


def _megapixels(pixels: int) -> str:
    return f"{math.floor(pixels / 1e6)} megapixels"


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:120]
