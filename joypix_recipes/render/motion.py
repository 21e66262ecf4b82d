"""Camera moves as pure math: where the crop window is at each moment of a clip.

Windows are float rectangles in fractions of the clip's base window (the cover crop), so the
renderer can place them on any pre-scaled source with sub-pixel precision and no rounding jitter.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """A crop rectangle; (0, 0, 1, 1) is the whole base window."""

    x: float
    y: float
    width: float
    height: float


FULL = Window(0.0, 0.0, 1.0, 1.0)


def ease(progress: float, easing: str) -> float:
    """Map linear progress 0..1 through an easing curve (``linear`` or ``ease-in-out``)."""
    progress = min(max(progress, 0.0), 1.0)
    if easing == "ease-in-out":
        return 0.5 - 0.5 * math.cos(math.pi * progress)
    return progress


def cover_region(
    image_size: tuple[int, int], frame_size: tuple[int, int], focus: tuple[float, float]
) -> tuple[float, float, float, float]:
    """The largest frame-shaped rectangle inside the image, centred on ``focus`` where the edges allow.

    ``focus`` is in fractions of the image; the result is (x, y, width, height) in image pixels.
    """
    image_w, image_h = image_size
    frame_w, frame_h = frame_size
    if image_w * frame_h > image_h * frame_w:
        width, height = image_h * frame_w / frame_h, float(image_h)
    else:
        width, height = float(image_w), image_w * frame_h / frame_w
    x = _clamp(focus[0] * image_w - width / 2, 0.0, image_w - width)
    y = _clamp(focus[1] * image_h - height / 2, 0.0, image_h - height)
    return x, y, width, height


def focus_in_region(
    focus: tuple[float, float], image_size: tuple[int, int], region: tuple[float, float, float, float]
) -> tuple[float, float]:
    """An image-fraction focus point re-expressed in fractions of ``region`` (clamped inside it)."""
    x, y, width, height = region
    return (
        _clamp((focus[0] * image_size[0] - x) / width, 0.0, 1.0),
        _clamp((focus[1] * image_size[1] - y) / height, 0.0, 1.0),
    )


@dataclass(frozen=True)
class Camera:
    """One clip's camera move; ``focus`` is in fractions of the base window."""

    motion: str = "zoom-in"
    zoom: float = 1.25
    easing: str = "ease-in-out"
    focus: tuple[float, float] = (0.5, 0.5)
    seed: int = 0

    @property
    def max_zoom(self) -> float:
        """The largest magnification the move reaches (1.0 for a still)."""
        return 1.0 if self.motion == "none" else max(self.zoom, 1.0)

    def window(self, progress: float) -> Window:
        """The crop window at ``progress`` (0 first frame, 1 last frame of the clip)."""
        eased = ease(progress, self.easing)
        top = self.max_zoom
        motion = self.motion
        if motion == "zoom-in":
            return _zoom_about(self.focus, 1.0 + (top - 1.0) * eased)
        if motion == "zoom-out":
            return _zoom_about(self.focus, top - (top - 1.0) * eased)
        if motion in _PAN_PATHS:
            return _pan(motion, self.focus, top, eased)
        if motion == "ken-burns":
            return _zoom_about(self._ken_burns_point(top), 1.0 + (top - 1.0) * eased)
        return FULL

    def _ken_burns_point(self, top: float) -> tuple[float, float]:
        """Zoom about the point that makes the view's centre end on the drift target.

        A zoom about an off-centre point is a zoom plus a drift toward it; choosing the point this way
        ends the drift exactly on the target.
        """
        if top <= 1.0:
            return (0.5, 0.5)
        target = self._drift_target(top)
        shrink = 1.0 - 1.0 / top
        return (
            _clamp((target[0] - 0.5 / top) / shrink, 0.0, 1.0),
            _clamp((target[1] - 0.5 / top) / shrink, 0.0, 1.0),
        )

    def _drift_target(self, top: float) -> tuple[float, float]:
        """Where the window centre ends: toward the focus, or a seeded direction when the focus is central."""
        room = (1.0 - 1.0 / top) / 2.0
        offset_x, offset_y = self.focus[0] - 0.5, self.focus[1] - 0.5
        if math.hypot(offset_x, offset_y) < 0.02:
            angle = random.Random(self.seed).uniform(0.0, 2.0 * math.pi)
            offset_x, offset_y = math.cos(angle) * room, math.sin(angle) * room
        return 0.5 + _clamp(offset_x, -room, room), 0.5 + _clamp(offset_y, -room, room)


# Pans name the camera's direction: "pan-left" turns the view left, so the content slides right.
_PAN_PATHS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "pan-left": ((1.0, 0.0), (0.0, 0.0)),
    "pan-right": ((0.0, 0.0), (1.0, 0.0)),
    "pan-up": ((0.0, 1.0), (0.0, 0.0)),
    "pan-down": ((0.0, 0.0), (0.0, 1.0)),
}


def _pan(motion: str, focus: tuple[float, float], top: float, eased: float) -> Window:
    size = 1.0 / top
    room = 1.0 - size
    (start_x, start_y), (end_x, end_y) = _PAN_PATHS[motion]
    horizontal = motion in ("pan-left", "pan-right")
    # The axis that does not move sits where the focus keeps its place in the frame.
    x = room * (start_x + (end_x - start_x) * eased) if horizontal else focus[0] * room
    y = focus[1] * room if horizontal else room * (start_y + (end_y - start_y) * eased)
    return _placed(x, y, size)


def _zoom_about(point: tuple[float, float], magnification: float) -> Window:
    """Zoom keeping ``point`` fixed on screen, so the subject at the focus does not slide."""
    size = 1.0 / magnification
    return _placed(point[0] * (1.0 - size), point[1] * (1.0 - size), size)


def _placed(x: float, y: float, size: float) -> Window:
    return Window(_clamp(x, 0.0, 1.0 - size), _clamp(y, 0.0, 1.0 - size), size, size)


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)
