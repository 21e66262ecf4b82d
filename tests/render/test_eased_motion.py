"""Moves measured on the decoded picture: a dot grid's scale and shift fitted on every frame, for both easings."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from helpers.video import decoded_frames

from joypix_recipes.render.video import render_draft
from joypix_recipes.timeline.draft import Draft, VideoClip

from .dots import fitted_moves, save_dot_grid

SIZE = (360, 640)
ZOOM = 1.3
CORNER = math.hypot(SIZE[0] / 2, SIZE[1] / 2)
"""Distance from the zoom's fixed centre to a frame corner, where a scale error shows most."""


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_dot_grid(tmp_path_factory.mktemp("grid") / "grid.png", (720, 1280), 48)


def _measured(grid: Path, folder: Path, easing: str, motion: str = "zoom-in") -> tuple[np.ndarray, np.ndarray]:
    clip = VideoClip("grid", 4000, motion=motion, zoom=ZOOM, easing=easing)
    draft = Draft(width=SIZE[0], height=SIZE[1], fps=30, video=(clip,))
    output = render_draft(draft, {"grid": grid}, folder / f"{motion}-{easing}.mp4", poster=False).output
    return fitted_moves(decoded_frames(output, "gray"))


def _measured_scales(grid: Path, folder: Path, easing: str) -> np.ndarray:
    return _measured(grid, folder, easing)[0]


def _sine_ease(count: int, start: float = 1.0, end: float = ZOOM) -> np.ndarray:
    """The textbook ease-in-out (half a cosine) from ``start`` to ``end`` over ``count`` frames."""
    progress = np.arange(count) / (count - 1)
    return start + (end - start) * (0.5 - 0.5 * np.cos(np.pi * progress))


def _corner_velocity(scales: np.ndarray) -> np.ndarray:
    """How far a frame corner moves each frame, in pixels."""
    return CORNER * np.diff(scales) / scales[:-1]


def test_linear_zoom_grows_strictly_every_frame_to_the_full_zoom(grid: Path, tmp_path: Path) -> None:
    scales = _measured_scales(grid, tmp_path, "linear")
    assert len(scales) == 120
    assert (np.diff(scales) > 0).all()
    assert abs(scales[-1] - ZOOM) < 0.002
    steady = (ZOOM - 1.0) / (len(scales) - 1)
    assert np.abs(np.diff(scales) - steady).max() < 0.4 * steady


def test_ease_in_out_never_freezes_before_the_end_and_follows_a_smooth_path(grid: Path, tmp_path: Path) -> None:
    scales = _measured_scales(grid, tmp_path, "ease-in-out")
    ideal = _sine_ease(len(scales))
    measured, wanted = _corner_velocity(scales), _corner_velocity(ideal)
    # Frozen: a frame that should move the corner visibly (0.1 px or more) but hardly does.
    moving = wanted >= 0.1
    frozen = np.flatnonzero(moving & (measured < wanted / 3))
    assert frozen.size == 0, f"frames {frozen.tolist()} stand still while the move is unfinished"
    error = np.abs(measured - wanted)
    assert error.max() < 0.15, f"corner velocity off by {error.max():.3f} px/frame at frame {error.argmax() + 1}"
    assert abs(scales[-1] - ZOOM) < 0.002


def test_eased_pan_never_freezes_before_the_end_and_follows_a_smooth_path(grid: Path, tmp_path: Path) -> None:
    scales, shifts = _measured(grid, tmp_path, "ease-in-out", motion="pan-left")
    travel = SIZE[0] * (ZOOM - 1.0)  # the view turns left across the room the zoom leaves: content slides right
    measured, wanted = np.diff(shifts[:, 0]), np.diff(_sine_ease(len(shifts), 0.0, travel))
    # The cross-axis tolerance is the velocity one: libx264 is not bit-exact from run to run on this
    # picture (valgrind shows it reading uninitialised memory inside x264_encoder_encode), and its noise
    # alone moves the fitted vertical shift by up to about 0.11 px while the composed frames are identical.
    assert np.abs(scales - 1.0).max() < 0.002 and np.abs(shifts[:, 1]).max() < 0.15
    frozen = np.flatnonzero((wanted >= 0.1) & (measured < wanted / 3))
    assert frozen.size == 0, f"frames {frozen.tolist()} stand still while the move is unfinished"
    error = np.abs(measured - wanted)
    assert error.max() < 0.15, f"velocity off by {error.max():.3f} px/frame at frame {error.argmax() + 1}"
