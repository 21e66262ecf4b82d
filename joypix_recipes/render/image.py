"""Still images in: format sniffed from content, size limits, EXIF orientation, color modes to 8-bit RGB,
and embedded RGB color profiles (Display P3, Adobe RGB, ...) converted to sRGB.

Every failure, whatever Pillow raised, leaves as an ImageError that names the file.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from joypix_recipes.errors import ImageError
from joypix_recipes.job.image_info import ROTATED_ORIENTATIONS, exif_orientation, opened_image, oriented_size

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
    path: Path,
    at_least: tuple[int, int] | None = None,
    region: tuple[float, float, float, float] | None = None,
    size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Decode to an oriented H x W x 3 uint8 RGB array, at least ``at_least`` pixels where the file allows.

    A JPEG larger than needed is decoded at a reduced scale (1/2, 1/4 or 1/8), which is what keeps
    100- and 200-megapixel photos within memory. ``region`` (x, y, width, height as fractions of the
    oriented image) crops before conversion, so only the pixels used are copied; the crop is widened
    to whole pixels. Pixels come out in sRGB: a file's own color profile is applied, and a file without
    one is taken as sRGB already (at no cost). ``size`` (width, height) resizes the picture, before its
    colour conversion when it has a profile, so only the pixels kept are converted.
    """
    with _opened(path) as image:
        profile = image.info.get("icc_profile")
        try:
            if at_least is not None and image.format == "JPEG":
                want = at_least if exif_orientation(image) not in ROTATED_ORIENTATIONS else at_least[::-1]
                image.draft(image.mode if image.mode in ("RGB", "L", "CMYK") else None, want)
            image.load()
            # exif_transpose copies the whole picture even when it has nothing to turn.
            oriented = ImageOps.exif_transpose(image) if exif_orientation(image) != 1 else image
            if region is not None:
                oriented = oriented.crop(_pixel_box(region, oriented.size))
            return _to_rgb(oriented, profile if isinstance(profile, bytes) else None, size)
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


def load_rgba(path: Path) -> np.ndarray:
    """Decode to an oriented H x W x 4 uint8 RGBA array in sRGB, alpha kept (opaque for formats without one).

    For images drawn over the video (a logo): the file's colour profile is applied as ``load_rgb`` does.
    """
    with _opened(path) as image:
        profile = image.info.get("icc_profile")
        try:
            image.load()
            oriented = ImageOps.exif_transpose(image)
            if oriented.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
                gray = _wide_gray_to_rgb(np.asarray(oriented), oriented.mode)
                return np.dstack([gray, np.full(gray.shape[:2], 255, np.uint8)])
            if oriented.mode == "P" and isinstance(profile, bytes) and "transparency" not in oriented.info:
                oriented = oriented.convert("RGB")
            rgba = oriented.convert("RGBA")
            if isinstance(profile, bytes):
                rgba = _in_srgb(rgba, profile)
            return np.asarray(rgba.convert("RGBA"))
        except ImageError:
            raise
        except MemoryError as error:
            raise ImageError(f"{path.name}: the image is too large to decode in memory") from error
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


def _to_rgb(image: Image.Image, profile: bytes | None = None, size: tuple[int, int] | None = None) -> np.ndarray:
    """Any Pillow mode to 8-bit RGB, through ``profile`` to sRGB; alpha over BACKGROUND, 16-bit scaled, not clipped."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _resized(_wide_gray_to_rgb(np.asarray(image), mode), size)
    if mode == "P" and "transparency" in image.info or mode in ("LA", "La", "PA", "RGBa"):
        image = image.convert("RGBA")
    elif mode == "P" and profile is not None:
        image = image.convert("RGB")  # palette entries are in the profile's space too
    if profile is not None and image.mode in _PROFILE_SPACES:
        if size is not None and image.size != size:
            image = Image.fromarray(_resized(np.asarray(image), size), image.mode)
        image = _in_srgb(image, profile)
    if image.mode == "RGBA":
        backdrop = Image.new("RGBA", image.size, BACKGROUND + (255,))
        image = Image.alpha_composite(backdrop, image)
    if image.mode != "RGB":
        image = image.convert("RGB")
    return _resized(np.asarray(image), size)


def resized(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``pixels`` at ``size`` (width, height): area averaging to shrink, bicubic to enlarge."""
    shrinking = size[0] <= pixels.shape[1] and size[1] <= pixels.shape[0]
    method = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return cv2.resize(pixels, size, interpolation=method)


def _resized(pixels: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    return pixels if size is None or (pixels.shape[1], pixels.shape[0]) == size else resized(pixels, size)


def _in_srgb(image: Image.Image, profile: bytes) -> Image.Image:
    """A picture re-expressed from its embedded profile into sRGB (RGB, or RGBA with alpha kept as it is)."""
    transform = _srgb_transform(profile, image.mode)
    return image if transform is None else _applied_in_bands(image, transform)


_BAND_ROWS = 128


def _applied_in_bands(image: Image.Image, transform: ImageCms.ImageCmsTransform) -> Image.Image:
    """``transform`` applied on every core, in horizontal bands.

    littlecms converts about 10 megapixels a second on one core and releases the GIL, and nothing else
    runs before the first frame is composed; the transform is built without littlecms' one-pixel cache,
    which is what makes sharing it between threads safe.
    """
    workers = max(1, min(os.cpu_count() or 1, 8, image.height // _BAND_ROWS))
    rows = [image.height * index // workers for index in range(workers + 1)]
    boxes = [(0, top, image.width, bottom) for top, bottom in zip(rows, rows[1:])]

    def convert(box: tuple[int, int, int, int]) -> Image.Image:
        converted = ImageCms.applyTransform(image.crop(box), transform)
        assert converted is not None  # only None when converting in place
        return converted

    if workers == 1:
        return convert(boxes[0])
    result = Image.new(transform.output_mode, image.size)
    with ThreadPoolExecutor(workers, thread_name_prefix="joypix-color") as pool:
        for box, band in zip(boxes, pool.map(convert, boxes)):
            result.paste(band, box[:2])
    return result


_PROFILE_SPACES = {"RGB": "RGB", "RGBA": "RGB"}


@functools.lru_cache(maxsize=16)
def _srgb_transform(profile: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """The transform from ``profile`` to sRGB for pictures in ``mode``, built once per profile and mode.

    A profile that cannot be read, or that describes another color space than the pixels (a gray
    profile on RGB data), is ignored: the pixels are then taken as sRGB, as for a file without one.
    Matrix profiles such as Display P3 and Adobe RGB have no perceptual table, so littlecms converts
    them colorimetrically (colors outside sRGB are clipped); profiles with tables use theirs.
    """
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        if source.profile.xcolor_space.strip() != _PROFILE_SPACES[mode]:
            return None
        output_mode = "RGBA" if mode == "RGBA" else "RGB"
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        return ImageCms.buildTransform(
            source, srgb, mode, output_mode, ImageCms.Intent.PERCEPTUAL, flags=ImageCms.Flags.NOCACHE
        )
    except (OSError, ValueError, ImageCms.PyCMSError):
        return None


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
