"""Sub-pixel resampling of one image plane: a general scale-and-shift warp, and a fast exact zoom about a fixed point.

``cv2.resize`` is about 3.5x faster than ``cv2.warpAffine`` but starts its sampling grid on a whole
source pixel. A zoom that keeps one point still can use it exactly anyway: the output is split into
four quadrants meeting at that point (placed on whole, even pixels in both pictures), and each
quadrant is resized outward from it, the left and upper ones from mirrored copies of the source.
With ``fx``/``fy`` given, resize uses the exact float scale, so no frame is rounded to a pixel grid.
One trap: resize copies its input unchanged whenever the rounded output size equals the input size,
whatever ``fx`` says. Near a 1:1 scale (the end of a zoom) that froze the picture for several frames
and then jumped, so each quadrant takes enough source pixels for the size to change, or is warped.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

_WARP_FLAGS = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
PAD = 32
"""Pixels of replicated border around each mirrored copy: rounding at the frame edges never runs out, and a
quadrant beside an edge still has enough source pixels for resize to resample (see ``_span``)."""


def warp_plane(plane: np.ndarray, scale: tuple[float, float], offset: tuple[float, float], out: np.ndarray) -> None:
    """out[v, u] = plane sampled bilinearly at (scale * u + offset) in pixel-index coordinates."""
    matrix = np.array([[scale[0], 0.0, offset[0]], [0.0, scale[1], offset[1]]])
    cv2.warpAffine(
        plane, matrix, (out.shape[1], out.shape[0]), dst=out, flags=_WARP_FLAGS, borderMode=cv2.BORDER_REPLICATE
    )


class MirroredPlane:
    """A plane padded and kept in four orientations, ready for quadrant zooms about one source point."""

    def __init__(self, plane: np.ndarray, anchor: tuple[int, int]) -> None:
        padded = cv2.copyMakeBorder(plane, PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE)
        self.height, self.width = padded.shape[:2]
        self.anchor = (anchor[0] + PAD, anchor[1] + PAD)
        self._copies = {
            (False, False): padded,
            (True, False): np.ascontiguousarray(padded[:, ::-1]),
            (False, True): np.ascontiguousarray(padded[::-1, :]),
            (True, True): np.ascontiguousarray(padded[::-1, ::-1]),
        }

    def zoom_into(self, scale: tuple[float, float], out_anchor: tuple[int, int], out: np.ndarray) -> None:
        """Fill ``out``: position ``out_anchor`` shows the anchor; each output pixel spans ``scale`` source pixels."""
        out_h, out_w = out.shape[:2]
        anchor_u, anchor_v = out_anchor
        for flip_x in (False, True):
            for flip_y in (False, True):
                left, right = (0, anchor_u) if flip_x else (anchor_u, out_w)
                top, bottom = (0, anchor_v) if flip_y else (anchor_v, out_h)
                if right > left and bottom > top:
                    self._quadrant(flip_x, flip_y, scale, out[top:bottom, left:right])

    def _quadrant(self, flip_x: bool, flip_y: bool, scale: tuple[float, float], target: np.ndarray) -> None:
        source = self._copies[(flip_x, flip_y)]
        start_x = self.width - self.anchor[0] if flip_x else self.anchor[0]
        start_y = self.height - self.anchor[1] if flip_y else self.anchor[1]
        rows, cols = target.shape[:2]
        span_x = _span(cols, scale[0], self.width - start_x)
        span_y = _span(rows, scale[1], self.height - start_y)
        region = source[start_y : start_y + span_y, start_x : start_x + span_x]
        if _resize_would_copy((span_x, span_y), scale):
            # Too close to 1:1 for the pixels at hand: the warp is exact to 1/32 pixel instead.
            piece = np.empty((rows, cols), source.dtype)
            warp_plane(region, scale, (0.5 * scale[0] - 0.5, 0.5 * scale[1] - 0.5), piece)
        else:
            resized = cv2.resize(region, None, fx=1.0 / scale[0], fy=1.0 / scale[1], interpolation=cv2.INTER_LINEAR)
            piece = resized[:rows, :cols]
            if piece.shape[:2] != (rows, cols):  # only if the padding ran out: never at zoom >= 1
                piece = cv2.resize(region, (cols, rows), interpolation=cv2.INTER_LINEAR)
        if flip_x or flip_y:
            cv2.flip(piece, -1 if flip_x and flip_y else (1 if flip_x else 0), dst=target)
        else:
            target[...] = piece


def _span(count: int, scale: float, available: int) -> int:
    """Source pixels to take for ``count`` output pixels: enough to cover them, and, when shrinking,
    enough that the rounded output size differs from the input size (else resize copies)."""
    needed = math.ceil(count * scale) + 2
    if scale > 1.0:
        needed = max(needed, math.floor(0.5 / (1.0 - 1.0 / scale)) + 2)
    return min(needed, available)


def _resize_would_copy(span: tuple[int, int], scale: tuple[float, float]) -> bool:
    """Whether cv2.resize would copy instead of resampling (same rounded size) at a scale that is not 1."""
    sizes = [round(length * (1.0 / factor)) for length, factor in zip(span, scale, strict=True)]
    return sizes == list(span) and scale != (1.0, 1.0)
