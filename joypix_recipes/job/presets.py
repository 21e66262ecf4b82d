"""Platform presets: what ``export: {preset: reels}`` fills in, the longest clip each platform takes, and how
its file is encoded. Imported on first use (``job.export.PRESETS`` reads them from here), so a recipe
without a preset never builds the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from joypix_recipes.job.export import Aspect, Resolution


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
