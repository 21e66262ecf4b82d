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
    height, width = rgb.shape[:2]
    # cv2.transform on uint8 rounds and saturates in one SIMD pass (a float32 detour costs 50x more).
    yuv = cv2.transform(rgb, _TO_YUV)
    chroma = cv2.resize(yuv[:, :, 1:], (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    return Planes(np.ascontiguousarray(yuv[:, :, 0]), chroma)


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
