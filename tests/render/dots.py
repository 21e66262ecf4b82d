"""Measuring a zoom from the picture alone: a grid of soft dots, and its scale fitted on each decoded frame."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image


def save_dot_grid(path: Path, size: tuple[int, int], spacing: int) -> Path:
    """Dark soft dots on light grey every ``spacing`` pixels: sharp enough to locate, soft enough not to alias."""
    width, height = size
    picture = np.full((height, width), 230, np.uint8)
    for y in range(spacing // 2, height, spacing):
        for x in range(spacing // 2, width, spacing):
            cv2.circle(picture, (x, y), spacing // 5, 30, -1, lineType=cv2.LINE_AA)
    picture = cv2.GaussianBlur(picture, (0, 0), spacing / 16)
    Image.fromarray(picture).convert("RGB").save(path)
    return path


def dot_centres(luma: np.ndarray) -> np.ndarray:
    """Darkness-weighted centres (x, y) of the dots wholly inside the frame."""
    darkness = np.clip(200.0 - luma.astype(np.float64), 0.0, None)
    count, labels, stats, _ = cv2.connectedComponentsWithStats((darkness > 40).astype(np.uint8))
    height, width = luma.shape
    centres = []
    for label in range(1, count):
        x, y, box_w, box_h, area = stats[label]
        if x == 0 or y == 0 or x + box_w >= width or y + box_h >= height or area < 6:
            continue
        weights = darkness[y : y + box_h, x : x + box_w] * (labels[y : y + box_h, x : x + box_w] == label)
        rows, cols = np.mgrid[y : y + box_h, x : x + box_w]
        centres.append(((weights * cols).sum() / weights.sum(), (weights * rows).sum() / weights.sum()))
    return np.array(centres)


def fitted_moves(frames: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each frame's magnification and shift (x, y) against the first, by least squares over every dot both show.

    Dots are matched through the previous frame's fit (a move is a fraction of a pixel per frame at the
    centre), and the fit is x' = s x + tx, y' = s y + ty, so a drift does not pass for a zoom.
    """
    first = dot_centres(frames[0])
    scale, shift = 1.0, np.zeros(2)
    scales, shifts = [], []
    for frame in frames:
        found = dot_centres(frame)
        predicted = first * scale + shift
        distances = np.linalg.norm(found[:, None, :] - predicted[None, :, :], axis=2)
        nearest = distances.argmin(axis=1)
        close = distances[np.arange(len(found)), nearest] < 3.0
        source, target = first[nearest[close]], found[close]
        design = np.zeros((2 * len(source), 3))
        design[0::2, 0], design[0::2, 1] = source[:, 0], 1.0
        design[1::2, 0], design[1::2, 2] = source[:, 1], 1.0
        solution = np.linalg.lstsq(design, target.reshape(-1), rcond=None)[0]
        scale, shift = float(solution[0]), solution[1:]
        scales.append(scale)
        shifts.append(shift)
    return np.array(scales), np.array(shifts)
