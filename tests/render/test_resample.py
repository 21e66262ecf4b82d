"""Plane resampling: the warp samples where its mapping says, moves at every scale, and copies at 1:1."""

from __future__ import annotations

import cv2
import numpy as np

from joypix_recipes.render.resample import warp_plane


def _smooth_plane(height: int, width: int) -> np.ndarray:
    noise = np.random.default_rng(5).integers(0, 255, (height // 8, width // 8), dtype=np.uint8)
    return cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)


def test_warp_samples_the_bilinear_interpolation_of_its_mapping() -> None:
    plane = _smooth_plane(400, 240)
    scale, offset = (1.0734, 1.0734), (13.37, 21.8)
    out = np.zeros((320, 180), np.uint8)
    warp_plane(plane, scale, offset, out)
    # Bilinear interpolation computed here in float, at the mapped positions.
    rows, cols = np.mgrid[0:320, 0:180].astype(np.float64)
    x, y = scale[0] * cols + offset[0], scale[1] * rows + offset[1]
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    p = plane.astype(np.float64)
    wanted = (
        p[y0, x0] * (1 - fx) * (1 - fy)
        + p[y0, x0 + 1] * fx * (1 - fy)
        + p[y0 + 1, x0] * (1 - fx) * fy
        + p[y0 + 1, x0 + 1] * fx * fy
    )
    assert np.abs(out - wanted).max() <= 1.0


def test_warp_at_one_to_one_on_whole_pixels_is_an_exact_copy() -> None:
    plane = _smooth_plane(200, 120)
    out = np.zeros((100, 60), np.uint8)
    warp_plane(plane, (1.0, 1.0), (10.0, 30.0), out)
    assert np.array_equal(out, plane[30:130, 10:70])


def test_warp_just_above_one_to_one_still_moves_the_picture() -> None:
    # cv2.resize would hand back its input unchanged at this scale; the warp must not.
    plane = _smooth_plane(400, 240)
    still, zoomed = np.zeros((320, 180), np.uint8), np.zeros((320, 180), np.uint8)
    warp_plane(plane, (1.0, 1.0), (0.0, 0.0), still)
    warp_plane(plane, (1.003, 1.003), (0.0, 0.0), zoomed)
    assert not np.array_equal(still, zoomed)
