"""Plane resampling: the fast quadrant zoom samples exactly where the general warp does."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from joypix_recipes.render.resample import MirroredPlane, warp_plane


def _smooth_plane(height: int, width: int) -> np.ndarray:
    noise = np.random.default_rng(5).integers(0, 255, (height // 8, width // 8), dtype=np.uint8)
    return cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)


@pytest.mark.parametrize(
    ("scale", "anchor", "out_anchor"),
    [
        (1.25, (100, 160), (80, 128)),
        (1.0734, (60, 210), (40, 170)),
        (1.0, (2, 318), (0, 256)),
        # Just above 1:1, where cv2.resize would hand back its input unchanged; beside an edge too.
        (1.0003, (100, 160), (80, 128)),
        (1.001, (6, 306), (4, 300)),
    ],
)
def test_quadrant_zoom_matches_the_general_warp(
    scale: float, anchor: tuple[int, int], out_anchor: tuple[int, int]
) -> None:
    plane = _smooth_plane(400, 226)
    fast = np.zeros((320, 180), np.uint8)
    MirroredPlane(plane, anchor).zoom_into((scale, scale), out_anchor, fast)
    # The same mapping for the warp: output continuous coordinate U shows source anchor + (U - out_anchor) * scale.
    offset = tuple(a - o * scale + 0.5 * scale - 0.5 for a, o in zip(anchor, out_anchor, strict=True))
    slow = np.zeros_like(fast)
    warp_plane(plane, (scale, scale), offset, slow)  # type: ignore[arg-type]
    inner = (slice(2, -2), slice(2, -2))  # the warp clamps at the border where the quadrants use padding
    assert np.abs(fast[inner].astype(int) - slow[inner].astype(int)).max() <= 1


def test_quadrant_zoom_fills_every_output_pixel() -> None:
    plane = np.full((100, 60), 77, np.uint8)
    out = np.zeros((64, 36), np.uint8)
    MirroredPlane(plane, (30, 50)).zoom_into((1.2, 1.2), (18, 32), out)
    assert (out == 77).all()
