"""What an image file says about itself before any pixel is decoded: its format and its oriented size.

Planning (output sizes) and the renderer both read headers here. Nothing here refuses an image for
being large: a 200-megapixel photo is an ordinary input, and what is too large to decode is the
renderer's decision (render/image.py).
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from PIL import Image, UnidentifiedImageError

ORIENTATION_TAG = 0x0112
ROTATED_ORIENTATIONS = frozenset({5, 6, 7, 8})
"""EXIF orientations under which the stored width is the displayed height."""


@functools.cache
def heic_supported() -> bool:
    """Whether HEIC/HEIF photos can be read (pillow-heif installed and registered)."""
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except Exception:  # noqa: BLE001 - any failure here only means "no HEIC"
        return False
    return True


@contextlib.contextmanager
def opened_image(path: Path) -> Iterator[Image.Image]:
    """The image at ``path``, opened lazily (header read, pixels not yet decoded), closed afterwards.

    Raises OSError (unreadable file), PIL.UnidentifiedImageError (not an image) or whatever a format
    plugin raises on a damaged header; callers turn these into their own errors.
    """
    heic_supported()
    with path.open("rb") as handle:
        image = _open_header(handle)
        with image:
            yield image


def exif_orientation(image: Image.Image) -> int:
    """The EXIF orientation (1 when absent or unreadable), read without decoding pixels."""
    try:
        if image.format == "PNG":
            # A PNG's getexif() decodes the whole image to look for an eXIf chunk after the pixels.
            raw = image.info.get("exif")
            if not raw:
                return 1
            exif = Image.Exif()
            exif.load(raw)
            return int(exif.get(ORIENTATION_TAG, 1))
        return int(image.getexif().get(ORIENTATION_TAG, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block only means "not rotated"
        return 1


def oriented_size(image: Image.Image) -> tuple[int, int]:
    """(width, height) as the image is meant to be shown, EXIF rotation applied."""
    width, height = image.size
    return (height, width) if exif_orientation(image) in ROTATED_ORIENTATIONS else (width, height)


def _open_header(handle: IO[bytes]) -> Image.Image:
    """Open lazily; past Pillow's decompression-bomb limit, ask the format plugins directly for the header."""
    try:
        with warnings.catch_warnings():
            # Odd but readable headers make Pillow warn; a header that cannot be read raises instead.
            warnings.simplefilter("ignore")
            return Image.open(handle)
    except Image.DecompressionBombError:
        pass
    Image.init()
    handle.seek(0)
    prefix = handle.read(16)
    for format_id in Image.ID:
        factory, accept = Image.OPEN[format_id]
        verdict = accept(prefix) if accept is not None else True
        if not verdict or isinstance(verdict, str):
            continue
        handle.seek(0)
        try:
            return factory(handle, "")
        except (SyntaxError, IndexError, TypeError, ValueError, OSError):
            continue
    raise UnidentifiedImageError(f"cannot identify image file {getattr(handle, 'name', '')!r}")
