"""Export settings of a clip (format, quality, aspect, resolution, fps) and the pixel size they imply.

Frame rates are exact fractions: NTSC rates written as decimals (29.97) mean n x 1000/1001, so a clip
is encoded with a rational time base and 2 s at 29.97 is exactly 60 frames.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, get_args

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
SILENT_FORMATS: frozenset[str] = frozenset({"gif", "webp"})
"""Formats without a sound track."""
MIN_FPS, MAX_FPS = 1, 120

_SHORT_SIDE = {"1080p": 1080, "720p": 720, "480p": 480}


@dataclass(frozen=True)
class Delivery:
    """What a platform's upload spec asks of the encoded file: H.264 profile and lowest level, video bitrate
    ceilings (kbit/s), the audio sample rate and AAC bitrate. docs/rendering.md gives each figure's source."""

    profile: str = "high"
    level: str = "4.0"
    max_kbps: int = 25_000
    audio_kbps: int = 128
    sample_rate: int = 48_000
    by_resolution: tuple[tuple[str, int, int], ...] = ()
    """Per resolution: the ceiling up to 30 fps and above it, where the platform gives figures per size."""

    def ceiling_kbps(self, resolution: str, fps: Fraction) -> int:
        """The video bitrate ceiling for a resolution and frame rate."""
        for name, standard, high in self.by_resolution:
            if name == resolution:
                return standard if fps <= 30 else high
        return self.max_kbps


# Instagram's Graph API spec for Reels, feed videos and stories: 25 Mbps at most, AAC 128 kbit/s at 48 kHz.
_INSTAGRAM = Delivery()
# YouTube's recommended upload encoding settings: High profile, AAC stereo 384 kbit/s at 48 kHz, and
# SDR bitrates per resolution for 24-30 fps and for 48-60 fps.
_YOUTUBE = Delivery(
    max_kbps=12_000,
    audio_kbps=384,
    by_resolution=(("1080p", 8_000, 12_000), ("720p", 5_000, 7_500), ("480p", 2_500, 4_000)),
)
# TikTok's published figures name codecs, sizes and frame rates but no bitrate: Instagram's ceiling is used.
_TIKTOK = Delivery()


@dataclass(frozen=True)
class Preset:
    """What a platform takes: the export keys a preset fills, the longest clip it accepts (None: no limit),
    and how the file is encoded for it."""

    aspect: Aspect
    resolution: Resolution
    fps: int
    longest_seconds: float | None
    delivery: Delivery = Delivery()

    def export_keys(self) -> dict[str, Any]:
        """The keys ``export: {preset: ...}`` fills (keys written beside the preset override them)."""
        return {"aspect": self.aspect, "resolution": self.resolution, "fps": self.fps}


PRESETS: dict[str, Preset] = {
    "reels": Preset("9:16", "1080p", 30, 180.0, _INSTAGRAM),
    "shorts": Preset("9:16", "1080p", 30, 180.0, _YOUTUBE),
    "tiktok": Preset("9:16", "1080p", 30, 600.0, _TIKTOK),
    "youtube": Preset("16:9", "1080p", 30, 12 * 3600.0, _YOUTUBE),
    "feed": Preset("4:5", "1080p", 30, 60.0, _INSTAGRAM),
    "story": Preset("9:16", "1080p", 30, 60.0, _INSTAGRAM),
    "square": Preset("1:1", "1080p", 30, None, _INSTAGRAM),
}
"""The one table of platform presets; the README states the same limits (a test keeps them equal)."""


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


_RATIO = re.compile(r"\s*([0-9]+)\s*/\s*([0-9]+)\s*")
_DECIMAL = re.compile(r"\s*[0-9]+(\.[0-9]+)?\s*")
# A decimal this close to n x 1000/1001 is that NTSC rate: 23.976, 23.98, 29.97, 59.94, 119.88.
_NTSC_TOLERANCE = 0.005


def parse_fps(value: object) -> Fraction:
    """A frame rate from a recipe, a job or a draft: 30, 29.97, "29.97" or "30000/1001".

    Raises ValueError with the sentence the user reads (what was given and what would work).
    """
    rate = _exact_rate(value)
    if rate is None:
        raise ValueError(f"{_shown(value)} is not a frame rate; write a number such as 30 or 29.97, or a ratio such as \"30000/1001\"")
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
    ratio = _RATIO.fullmatch(text)
    if ratio is not None:
        denominator = int(ratio.group(2))
        return Fraction(int(ratio.group(1)), denominator) if denominator else None
    if _DECIMAL.fullmatch(text) is None:
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
