"""Export settings of a clip (container, quality, aspect, resolution, fps) and the pixel size they imply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

Quality = Literal["high", "medium", "low"]
Aspect = Literal["9:16", "16:9", "1:1", "4:5"]
Resolution = Literal["1080p", "720p", "480p"]
Fps = Literal[24, 25, 30, 60]

ASPECTS: tuple[str, ...] = get_args(Aspect)
RESOLUTIONS: tuple[str, ...] = get_args(Resolution)
QUALITIES: tuple[str, ...] = get_args(Quality)
FPS_CHOICES: tuple[int, ...] = get_args(Fps)

_SHORT_SIDE = {"1080p": 1080, "720p": 720, "480p": 480}


def frame_size(aspect: str, resolution: str) -> tuple[int, int]:
    """Width and height for an aspect and a short-side resolution; both even, as yuv420p needs."""
    aspect_w, aspect_h = (int(part) for part in aspect.split(":"))
    short = _SHORT_SIDE[resolution]
    width: float
    height: float
    if aspect_w <= aspect_h:
        width, height = short, short * aspect_h / aspect_w
    else:
        width, height = short * aspect_w / aspect_h, short
    return _even(width), _even(height)


def _even(value: float) -> int:
    return int(round(value / 2.0)) * 2


@dataclass(frozen=True)
class ExportSettings:
    """How a job's clip is exported; the defaults are the product's (MP4, high, 9:16, 1080p, 30 fps)."""

    format: Literal["mp4"] = "mp4"
    quality: Quality = "high"
    aspect: Aspect = "9:16"
    resolution: Resolution = "1080p"
    fps: Fps = 30

    @property
    def size(self) -> tuple[int, int]:
        """Output (width, height) in pixels."""
        return frame_size(self.aspect, self.resolution)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "format": self.format,
            "quality": self.quality,
            "aspect": self.aspect,
            "resolution": self.resolution,
            "fps": self.fps,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportSettings:
        """Inverse of ``to_dict``."""
        return cls(**data)
