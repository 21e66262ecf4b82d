"""Still images in: format sniffed from content, size limits, EXIF orientation, color modes to 8-bit RGB,
and embedded RGB color profiles (Display P3, Adobe RGB, ...) converted to sRGB.

Decoding is the largest part of a render's own CPU after the warps, so a colour JPEG takes the
cheapest road that gives the same picture: a clip's source (``load_yuv420``) comes from the file's own
YCbCr planes, other callers get RGB from OpenCV's libjpeg-turbo; Pillow decodes everything else
(and any JPEG it would decode at a reduced scale, which is what bounds memory for 200 MP photos).

Every failure, whatever Pillow raised, leaves as an ImageError that names the file.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from joypix_recipes.errors import ImageError
from joypix_recipes.job.image_info import ROTATED_ORIENTATIONS, exif_orientation, opened_image, oriented_size
from joypix_recipes.render.color import area_resized, jfif_to_rgb, jfif_to_yuv420, rgb_to_yuv420

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
    with _opened(path) as image, _decoding(path):
        profile = image.info.get("icc_profile")
        whole = _decoded_jpeg(path, image, at_least)
        if whole is not None:
            if region is not None:
                left, top, right, bottom = _pixel_box(region, (whole.shape[1], whole.shape[0]))
                whole = whole[top:bottom, left:right]  # a view: only the pixels kept are copied, once
            return _array_to_rgb(whole, profile if isinstance(profile, bytes) else None, size)
        if at_least is not None and image.format == "JPEG":
            want = at_least if exif_orientation(image) not in ROTATED_ORIENTATIONS else at_least[::-1]
            image.draft(image.mode if image.mode in ("RGB", "L", "CMYK") else None, want)
        image.load()
        # exif_transpose copies the whole picture even when it has nothing to turn.
        oriented = ImageOps.exif_transpose(image) if exif_orientation(image) != 1 else image
        if region is not None:
            oriented = oriented.crop(_pixel_box(region, oriented.size))
        return _to_rgb(oriented, profile if isinstance(profile, bytes) else None, size)


@contextlib.contextmanager
def _decoding(path: Path) -> Iterator[None]:
    """Whatever decoding raises leaves as an ImageError naming the file."""
    try:
        yield
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


def load_yuv420(
    path: Path,
    at_least: tuple[int, int],
    region: tuple[float, float, float, float],
    size: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What ``load_rgb`` gives, as our Y, U and V planes (render/color.py): luma at ``size``, chroma at half.

    A colour JPEG takes a shorter road: FFmpeg's decoder hands over the file's own Y, Cb and Cr
    planes (no chroma upsampling, no RGB), cropped as views and converted to ours after resizing, so
    only the pixels kept are touched. With a colour profile, RGB is made from them at ``size`` for
    littlecms. Anything else, or a JPEG FFmpeg does not take, goes through ``load_rgb``.
    """
    with _opened(path) as image:
        profile = image.info.get("icc_profile")
        with _decoding(path):
            stored = _jpeg_planes(path, image, at_least)
            if stored is not None:
                luma, cb, cr = _cropped_planes(stored, region)
                if not isinstance(profile, bytes) or _srgb_transform(profile, "RGB") is None:
                    return jfif_to_yuv420(luma, cb, cr, size)
                rgb = jfif_to_rgb(luma, cb, cr, size)
                del stored, luma, cb, cr
                return rgb_to_yuv420(np.asarray(_in_srgb(Image.fromarray(rgb, "RGB"), profile)))
    return rgb_to_yuv420(load_rgb(path, at_least, region, size))


_JPEG_PLANES = {"yuvj420p": (2, 2), "yuvj422p": (2, 1), "yuvj440p": (1, 2), "yuvj444p": (1, 1)}
"""FFmpeg's names for a YCbCr JPEG's planes, with chroma's subsampling (across, down)."""


def _jpeg_planes(
    path: Path, image: Image.Image, at_least: tuple[int, int]
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[int, int]] | None:
    """A YCbCr JPEG's own planes decoded whole (views into FFmpeg's frame) and chroma's subsampling;
    None for anything ``load_rgb`` should decode: other formats and modes, a turned picture, one
    Pillow would decode at a reduced scale, one without its end-of-image marker (truncated)."""
    if image.format != "JPEG" or image.mode != "RGB" or exif_orientation(image) != 1:
        return None
    if min(image.size[0] // max(at_least[0], 1), image.size[1] // max(at_least[1], 1)) >= 2:
        return None
    data = path.read_bytes()
    if len(data) < 4 or data[-2:] != b"\xff\xd9":
        return None
    try:
        decoder = av.CodecContext.create("mjpeg", "r")
        decoder.thread_count = 1  # one picture: threads would only wait
        frames = decoder.decode(av.Packet(data))
    except av.FFmpegError:
        return None  # Pillow decodes it, or says what is wrong with it
    del data
    if len(frames) != 1 or not isinstance(frames[0], av.VideoFrame):
        return None
    frame = frames[0]
    subsampling = _JPEG_PLANES.get(frame.format.name)
    if subsampling is None or (frame.width, frame.height) != image.size:
        return None
    planes = []
    for plane in frame.planes:
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
        planes.append(rows[: plane.height, : plane.width])
    return (planes[0], planes[1], planes[2]), subsampling


def _cropped_planes(
    stored: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[int, int]],
    region: tuple[float, float, float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of ``region`` in each plane, its edges widened to whole chroma samples so all three cover
    the same part of the picture."""
    (luma, cb, cr), (across, down) = stored
    left, top, right, bottom = _pixel_box(region, (luma.shape[1], luma.shape[0]))
    left, top = left - left % across, top - top % down
    right, bottom = min(-(-right // across) * across, luma.shape[1]), min(-(-bottom // down) * down, luma.shape[0])
    box = (left // across, top // down, -(-right // across), -(-bottom // down))
    return (
        luma[top:bottom, left:right],
        cb[box[1] : box[3], box[0] : box[2]],
        cr[box[1] : box[3], box[0] : box[2]],
    )


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
            raise ImageError(
                f"{path.name}: not an image this tool can read (use JPG, PNG, WEBP, HEIC or GIF)"
            ) from error
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


def _decoded_jpeg(path: Path, image: Image.Image, at_least: tuple[int, int] | None) -> np.ndarray | None:
    """A colour JPEG decoded whole by OpenCV's libjpeg-turbo, oriented; None where Pillow decodes it instead.

    The same library as Pillow's decoder, with the same pixels, for about two thirds of the CPU: it
    writes three bytes a pixel straight into the array, where Pillow unpacks into four and then copies
    the picture twice more to hand it to numpy. Pillow keeps what it alone does here: a reduced-scale
    decode (large photos), CMYK and gray JPEGs, and a truncated file, which libjpeg would pad with grey
    where Pillow reports it.
    """
    if image.format != "JPEG" or image.mode != "RGB":
        return None
    orientation = exif_orientation(image)
    if at_least is not None:
        want = at_least if orientation not in ROTATED_ORIENTATIONS else at_least[::-1]
        if min(image.size[0] // max(want[0], 1), image.size[1] // max(want[1], 1)) >= 2:
            return None  # Pillow's draft decodes at 1/2, 1/4 or 1/8 of the size
    data = np.fromfile(path, dtype=np.uint8)
    if data.size < 4 or data[-2] != 0xFF or data[-1] != 0xD9:
        return None  # no end-of-image marker: let Pillow name the damage
    pixels = cv2.imdecode(data, cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION)
    del data
    if pixels is None or pixels.shape != (image.height, image.width, 3):
        return None
    turn = _ORIENTATIONS.get(orientation)
    return pixels if turn is None else turn(pixels)


# What ImageOps.exif_transpose does for each EXIF orientation, on an array.
_ORIENTATIONS: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda pixels: cv2.flip(pixels, 1),
    3: lambda pixels: cv2.rotate(pixels, cv2.ROTATE_180),
    4: lambda pixels: cv2.flip(pixels, 0),
    5: lambda pixels: cv2.transpose(pixels),
    6: lambda pixels: cv2.rotate(pixels, cv2.ROTATE_90_CLOCKWISE),
    7: lambda pixels: cv2.rotate(cv2.transpose(pixels), cv2.ROTATE_180),
    8: lambda pixels: cv2.rotate(pixels, cv2.ROTATE_90_COUNTERCLOCKWISE),
}


def _array_to_rgb(pixels: np.ndarray, profile: bytes | None, size: tuple[int, int] | None) -> np.ndarray:
    """An RGB array (perhaps a view into a larger one) at ``size``, through ``profile`` to sRGB.

    Resized first, so only the pixels kept are colour-converted.
    """
    if size is not None and (pixels.shape[1], pixels.shape[0]) != size:
        pixels = resized(pixels, size)
    if profile is not None and _srgb_transform(profile, "RGB") is not None:
        return np.asarray(_in_srgb(Image.fromarray(pixels, "RGB"), profile))
    return pixels if pixels.flags.c_contiguous else np.ascontiguousarray(pixels)


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
    if size[0] <= pixels.shape[1] and size[1] <= pixels.shape[0]:
        return area_resized(pixels, size)
    return cv2.resize(pixels, size, interpolation=cv2.INTER_CUBIC)


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
