"""Export settings of a clip (format, quality, aspect, resolution, fps) and the pixel size they imply.

Frame rates are exact fractions: NTSC rates written as decimals (29.97) mean n x 1000/1001, so a clip
is encoded with a rational time base and 2 s at 29.97 is exactly 60 frames.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from joypix_recipes.job.presets import PRESETS as PRESETS
    from joypix_recipes.job.presets import Delivery as Delivery
    from joypix_recipes.job.presets import Preset as Preset

Format = Literal["mp4", "mp4-hevc", "webm", "gif", "webp"]
Quality = Literal["high", "medium", "low"]
Aspect = Literal["9:16", "16:9", "1:1", "4:5"]
Resolution = Literal["1080p", "720p", "480p"]

ASPECTS: tuple[str, ...] = get_args(Aspect)
RESOLUTIONS: tuple[str, ...] = get_args(Resolution)
QUALITIES: tuple[str, ...] = get_args(Quality)
FORMATS: tuple[str, ...] = get_args(Format)
FORMAT_SUFFIXES: dict[str, str] = {"mp4": ".mp4", "mp4-hevc": ".mp4", "webm": ".webm", "gif": ".gif", "webp": ".webp"}
"""The file extension each format's output takes."""
CLIP_SUFFIXES: frozenset[str] = frozenset(FORMAT_SUFFIXES.values())
SILENT_FORMATS: frozenset[str] = frozenset({"gif", "webp"})
"""Formats without a sound track."""
MIN_FPS, MAX_FPS = 1, 120

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


_RATIO = r"\s*([0-9]+)\s*/\s*([0-9]+)\s*"
_DECIMAL = r"\s*[0-9]+(\.[0-9]+)?\s*"
# A decimal this close to n x 1000/1001 is that NTSC rate: 23.976, 23.98, 29.97, 59.94, 119.88.
_NTSC_TOLERANCE = 0.005


def parse_fps(value: object) -> Fraction:
    """A frame rate from a recipe, a job or a draft: 30, 29.97, "29.97" or "30000/1001".

    Raises ValueError with the sentence the user reads (what was given and what would work).
    """
    rate = _exact_rate(value)
    if rate is None:
        raise ValueError(
            f'{_shown(value)} is not a frame rate; write a number such as 30 or 29.97, or a ratio such as "30000/1001"'
        )
    if not MIN_FPS <= rate <= MAX_FPS:
        raise ValueError(f"{_shown(value)} frames per second is out of range; use {MIN_FPS} to {MAX_FPS}")
    return rate


def fps_value(rate: Fraction) -> int | float | str:
    """The JSON form of a rate that ``parse_fps`` reads back exactly: a whole number, the decimal of an
    NTSC or other plain rate, or, for the rare ratio a decimal cannot carry (1000/999), that ratio."""
    if rate.denominator == 1:
        return int(rate)
    decimal = float(rate)
    return decimal if _exact_rate(decimal) == rate else f"{rate.numerator}/{rate.denominator}"


def fps_label(rate: Fraction) -> str:
    """A rate as people write it: 30, 29.97, 23.976, 12.5."""
    return f"{float(rate):.3f}".rstrip("0").rstrip(".")


def _exact_rate(value: object) -> Fraction | None:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    text = repr(value) if isinstance(value, float) else value if isinstance(value, str) else None
    if text is None:
        return None
    ratio = re.fullmatch(_RATIO, text)
    if ratio is not None:
        denominator = int(ratio.group(2))
        return Fraction(int(ratio.group(1)), denominator) if denominator else None
    if re.fullmatch(_DECIMAL, text) is None:
        return None
    decimal = Fraction(text.strip())
    if decimal.denominator == 1:
        return decimal
    ntsc = Fraction(round(decimal * Fraction(1001, 1000)) * 1000, 1001)
    # Only a rate the recipe could have written itself: 1.004 stays 1.004, not 1000/1001 below the floor.
    if abs(decimal - ntsc) < _NTSC_TOLERANCE and MIN_FPS <= ntsc:
        return ntsc
    return decimal.limit_denominator(1001)


def _shown(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class ExportSettings:
    """How a job's clip is exported; the defaults are the product's (MP4, high, 9:16, 1080p, 30 fps)."""

    format: Format = "mp4"
    quality: Quality = "high"
    aspect: Aspect = "9:16"
    resolution: Resolution = "1080p"
    fps: Fraction = Fraction(30)
    preset: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.fps, Fraction):
            object.__setattr__(self, "fps", parse_fps(self.fps))

    @property
    def size(self) -> tuple[int, int]:
        """Output (width, height) in pixels."""
        return frame_size(self.aspect, self.resolution)

    @property
    def suffix(self) -> str:
        """The output file's extension (``.mp4``, ``.webm``, ``.gif``, ``.webp``)."""
        return FORMAT_SUFFIXES[self.format]

    @property
    def delivery(self) -> Delivery | None:
        from joypix_recipes.job.presets import PRESETS

        """The platform's encoding limits when a preset is set, else None (the encoder's own defaults)."""
        return PRESETS[self.preset].delivery if self.preset in PRESETS else None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (``preset`` only when set, so jobs without one keep their identity)."""
        data: dict[str, Any] = {
            "format": self.format,
            "quality": self.quality,
            "aspect": self.aspect,
            "resolution": self.resolution,
            "fps": fps_value(self.fps),
        }
        if self.preset is not None:
            data["preset"] = self.preset
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportSettings:
        """Inverse of ``to_dict``."""
        return cls(**data)


def __getattr__(name: str) -> Any:
    """``PRESETS``, ``Preset`` and ``Delivery`` live in job.presets, loaded when first asked for."""
    if name in ("PRESETS", "Preset", "Delivery"):
        from joypix_recipes.job import presets

        return getattr(presets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
