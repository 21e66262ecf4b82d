"""RGB <-> YUV 4:2:0 in BT.709 limited (tv) range, laid out as NV12: the form frames are composed and encoded in.

NV12 (a Y plane, then U and V interleaved at half size) is what x264 uses internally, so it takes
frames without converting them, and one warp moves both chroma channels. Chroma samples are centred
between luma pairs (the 2x2 average), which the warps in compose assume.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

BLACK_LUMA = 16
NEUTRAL_CHROMA = 128

_KR, _KB = 0.2126, 0.0722
_KG = 1.0 - _KR - _KB
# Rows give Y, Cb, Cr from 0..255 RGB; the last column is the offset (tv range: Y 16..235, C 16..240).
_TO_YUV = np.array(
    [
        [219 / 255 * _KR, 219 / 255 * _KG, 219 / 255 * _KB, 16.0],
        [-224 / 255 * _KR / (2 * (1 - _KB)), -224 / 255 * _KG / (2 * (1 - _KB)), 224 / 255 * 0.5, 128.0],
        [224 / 255 * 0.5, -224 / 255 * _KG / (2 * (1 - _KR)), -224 / 255 * _KB / (2 * (1 - _KR)), 128.0],
    ],
    dtype=np.float32,
)
_TO_RGB_LINEAR = np.linalg.inv(_TO_YUV[:, :3].astype(np.float64))
_TO_RGB = np.hstack([_TO_RGB_LINEAR, -(_TO_RGB_LINEAR @ _TO_YUV[:, 3:].astype(np.float64))]).astype(np.float32)


@dataclass(frozen=True)
class Planes:
    """One picture as a Y plane (H x W) and an interleaved UV plane (H/2 x W/2 x 2), both uint8."""

    y: np.ndarray
    uv: np.ndarray


def rgb_to_planes(rgb: np.ndarray) -> Planes:
    """Convert an H x W x 3 uint8 RGB array with even sides to YUV 4:2:0 planes."""
    luma, u, v = rgb_to_yuv420(rgb)
    return Planes(luma, cv2.merge([u, v]))


def rgb_to_yuv420(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert an H x W x 3 uint8 RGB array with even sides to separate, contiguous Y, U and V planes (4:2:0)."""
    height, width = rgb.shape[:2]
    # cv2.transform on uint8 rounds and saturates in one SIMD pass (a float32 detour costs 50x more).
    luma, u, v = cv2.split(cv2.transform(rgb, _TO_YUV))
    # Each chroma plane averaged 2x2 on its own: OpenCV's fast path for one channel, where the same
    # average of both channels interleaved costs ten times more.
    half = (width // 2, height // 2)
    return luma, cv2.resize(u, half, interpolation=cv2.INTER_AREA), cv2.resize(v, half, interpolation=cv2.INTER_AREA)


def premultiplied_yuv(rgba: np.ndarray) -> np.ndarray:
    """H x W x 4 float32 premultiplied RGBA (colour 0..255, alpha 0..1) -> H x W x 3 float32 Y, U, V premultiplied.

    The tv-range offsets are scaled by alpha too, so a transparent pixel adds nothing: compositing is then
    ``foreground + background * (1 - alpha)``, and averaging (to 4:2:0, or when resizing) stays exact.
    """
    converted: np.ndarray = cv2.transform(rgba, _TO_YUV)
    return converted


def new_frame(width: int, height: int) -> np.ndarray:
    """An uninitialised NV12 frame buffer, (height * 3 / 2) x width uint8."""
    return np.empty((height * 3 // 2, width), dtype=np.uint8)


def nv12_views(buffer: np.ndarray, width: int, height: int) -> Planes:
    """The Y and interleaved UV views into one NV12 buffer, as PyAV lays out nv12."""
    return Planes(buffer[:height], buffer[height:].reshape(height // 2, width // 2, 2))


def black_frame(width: int, height: int) -> np.ndarray:
    """An NV12 buffer holding a black picture (tv range)."""
    buffer = np.full((height * 3 // 2, width), NEUTRAL_CHROMA, dtype=np.uint8)
    buffer[:height] = BLACK_LUMA
    return buffer


def nv12_to_rgb(buffer: np.ndarray, width: int, height: int) -> np.ndarray:
    """Convert an NV12 buffer back to H x W x 3 uint8 RGB (for the poster)."""
    planes = nv12_views(buffer, width, height)
    uv = cv2.resize(planes.uv, (width, height), interpolation=cv2.INTER_LINEAR)
    yuv = np.dstack([planes.y, uv]).astype(np.float32)
    rgb: np.ndarray = np.clip(cv2.transform(yuv, _TO_RGB) + 0.5, 0, 255).astype(np.uint8)
    return rgb


# A JPEG stores YCbCr in BT.601's full range (JFIF): these give R, G, B from Y, Cb - 128, Cr - 128.
_JFIF_TO_RGB = np.array([[1.0, 0.0, 1.402], [1.0, -0.344136, -0.714136], [1.0, 1.772, 0.0]])
# Straight from a JPEG's planes to ours: both are linear in the same gamma-encoded RGB, so one matrix.
_JFIF_TO_YUV = _TO_YUV[:, :3].astype(np.float64) @ _JFIF_TO_RGB


_CHROMA_SOFTENING = np.array([1 / 12, 10 / 12, 1 / 12], dtype=np.float32)
"""The softening chroma gets on the RGB road (libjpeg's upsampling, then our 2x2 average), in one
small kernel: without it, chroma from the file's own planes is sharper than that, JPEG's chroma
noise included, and x264 spends 9% more bits (and CPU) on it. With it, chroma's high-frequency
energy is within 2% of the RGB road's."""


_RGB_CHROMA_SOFTENING = np.array([1 / 24, 22 / 24, 1 / 24], dtype=np.float32)
"""The same for RGB made from the planes at the source size (bilinear upsampling softens a little already)."""


def jfif_to_yuv420(
    luma: np.ndarray, cb: np.ndarray, cr: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A JPEG's own planes (full-range BT.601 YCbCr, chroma at any subsampling, all covering the same
    region) as our Y, U, V planes: luma resized to ``size``, chroma to half of it.

    No RGB picture is made: U and V depend on Cb and Cr alone, and luma on Y plus a little of each,
    which is added from chroma resampled to luma's size (all of it linear, so resizing first and
    converting after gives the same picture as the other way round, to rounding).
    """
    width, height = size
    half = (width // 2, height // 2)
    (to_y, y_cb, y_cr), (_, u_cb, u_cr), (_, v_cb, v_cr) = _JFIF_TO_YUV
    offsets = _TO_YUV[:, 3]
    cb, cr = (cv2.sepFilter2D(plane, -1, _CHROMA_SOFTENING, _CHROMA_SOFTENING) for plane in (cb, cr))
    small_cb, small_cr = (_resampled(plane, half) for plane in (cb, cr))
    u = cv2.addWeighted(small_cb, u_cb, small_cr, u_cr, float(offsets[1]) - 128.0 * (u_cb + u_cr), dtype=cv2.CV_8U)
    v = cv2.addWeighted(small_cb, v_cb, small_cr, v_cr, float(offsets[2]) - 128.0 * (v_cb + v_cr), dtype=cv2.CV_8U)
    # Luma's share of chroma, made where chroma lives and brought to luma's size (float: it is signed).
    share = cv2.addWeighted(cb, y_cb, cr, y_cr, -128.0 * (y_cb + y_cr), dtype=cv2.CV_32F)
    share = _resampled(share, size)
    scaled = _resampled(luma, size).astype(np.float32)
    y = cv2.addWeighted(scaled, to_y, share, 1.0, float(offsets[0]), dtype=cv2.CV_8U)
    return y, u, v


def jfif_to_rgb(luma: np.ndarray, cb: np.ndarray, cr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A JPEG's own planes (as ``jfif_to_yuv420`` takes them) as an RGB picture of ``size``."""
    cb, cr = (cv2.sepFilter2D(plane, -1, _RGB_CHROMA_SOFTENING, _RGB_CHROMA_SOFTENING) for plane in (cb, cr))
    planes = [_resampled(plane, size) for plane in (luma, cb, cr)]
    offsets = -128.0 * _JFIF_TO_RGB[:, 1:].sum(axis=1, keepdims=True)
    matrix = np.hstack([_JFIF_TO_RGB, offsets]).astype(np.float32)
    rgb: np.ndarray = cv2.transform(cv2.merge(planes), matrix)
    return rgb


def _resampled(plane: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``plane`` at ``size``: area averaging to shrink, bilinear otherwise (chroma is mostly enlarged)."""
    if (plane.shape[1], plane.shape[0]) == size:
        return plane
    if size[0] <= plane.shape[1] and size[1] <= plane.shape[0]:
        return area_resized(plane, size)
    resized: np.ndarray = cv2.resize(plane, size, interpolation=cv2.INTER_LINEAR)
    return resized


def area_resized(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``pixels`` shrunk to ``size`` by area averaging, without Intel IPP.

    IPP's area resize at a fractional ratio (a 12 MP photo's crop shrunk by 1.25) costs 40% more CPU
    than OpenCV's own, for the same pixels; IPP stays on for everything else (its warps are 5x faster).
    The switch is per thread, so frames warped meanwhile on another thread keep it.
    """
    used = cv2.ipp.useIPP()
    cv2.ipp.setUseIPP(False)
    try:
        resized: np.ndarray = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    finally:
        cv2.ipp.setUseIPP(used)
    return resized
