"""How each export format is encoded: container, codecs, pixel format and quality settings, and the
platform limits (H.264 profile, level, bitrate ceiling, audio rate) a preset adds.

Every codec here is in PyAV's bundled FFmpeg: libx264, libx265, libvpx-vp9 with libopus, gif, libwebp_anim.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from joypix_recipes.job.export import ExportSettings

GIF_MAX_FPS = 20
"""GIF frame delays are whole hundredths of a second: 20 fps (5/100 s) keeps a 2 s clip at exactly 40 frames."""
GIF_MAX_WIDTH = 480
"""GIFs are for email and docs: wider ones grow large and gain little."""


@dataclass(frozen=True)
class FormatSpec:
    """One export format: container, video codec and the pixel format handed to it, audio codec (None: silent)."""

    name: str
    container: str
    video_codec: str
    pix_fmt: str
    audio_codec: str | None
    quality_values: dict[str, int]
    codec_tag: str | None = None

    def video_options(self, quality: str) -> dict[str, str]:
        """The encoder's options for a quality (``draft``, a preview's, takes each encoder's fastest setting)."""
        value = str(self.quality_values[quality])
        draft = quality == "draft"
        if self.video_codec == "libx264":
            return {"crf": value, "preset": "ultrafast" if draft else "veryfast"}
        if self.video_codec == "libx265":
            # x265 prints its settings to stderr itself unless told not to.
            return {"crf": value, "preset": "ultrafast" if draft else "veryfast", "x265-params": "log-level=error"}
        if self.video_codec == "libvpx-vp9":
            # Constant quality (b:v 0); cpu-used 5 with row threading is the speed the other formats run at.
            speed = {"deadline": "realtime", "cpu-used": "8"} if draft else {"deadline": "good", "cpu-used": "5"}
            return {"crf": value, "b": "0", **speed, "row-mt": "1"}
        if self.video_codec == "libwebp_anim":
            return {"quality": value}
        return {}


FORMAT_SPECS: dict[str, FormatSpec] = {
    "mp4": FormatSpec("mp4", "mp4", "libx264", "nv12", "aac", {"high": 20, "medium": 23, "low": 28, "draft": 30}),
    # x265's CRF runs about 4 above x264's for the same look; Apple players open HEVC only tagged hvc1.
    "mp4-hevc": FormatSpec(
        "mp4-hevc", "mp4", "libx265", "yuv420p", "aac", {"high": 24, "medium": 27, "low": 32, "draft": 34}, codec_tag="hvc1"
    ),
    "webm": FormatSpec("webm", "webm", "libvpx-vp9", "yuv420p", "libopus", {"high": 31, "medium": 35, "low": 41, "draft": 45}),
    "gif": FormatSpec("gif", "gif", "gif", "pal8", None, {"high": 256, "medium": 192, "low": 128, "draft": 128}),
    "webp": FormatSpec("webp", "webp", "libwebp_anim", "yuv420p", None, {"high": 80, "medium": 70, "low": 55, "draft": 50}),
}


@dataclass(frozen=True)
class Encoding:
    """How a render is encoded: plain picklable data handed to the render worker."""

    format: str = "mp4"
    quality: str = "high"
    profile: str | None = None
    level: str | None = None
    max_kbps: int | None = None
    sample_rate: int = 48_000
    audio_kbps: int = 160
    normalize_audio: bool = True

    @property
    def spec(self) -> FormatSpec:
        """The format's codecs and container."""
        return FORMAT_SPECS[self.format]


def encoding_for(export: ExportSettings, normalize_audio: bool = True) -> Encoding:
    """The encoding of a job's export settings; a platform preset adds its profile, level and ceilings."""
    delivery = export.delivery
    if delivery is None:
        return Encoding(export.format, export.quality, normalize_audio=normalize_audio)
    width, height = export.size
    ceiling = delivery.ceiling_kbps(export.resolution, export.fps)
    h264 = export.format == "mp4"
    return Encoding(
        export.format,
        export.quality,
        profile=delivery.profile if h264 else None,
        level=h264_level(width, height, export.fps, ceiling, delivery.level) if h264 else None,
        max_kbps=ceiling,
        sample_rate=delivery.sample_rate,
        audio_kbps=delivery.audio_kbps,
        normalize_audio=normalize_audio,
    )


# H.264 Annex A, table A-1: level, max macroblocks per second, max frame size in macroblocks, max bitrate
# (kbit/s for Baseline/Main; High profile may use 1.25 times it).
_H264_LEVELS = (
    ("3.0", 40_500, 1_620, 10_000),
    ("3.1", 108_000, 3_600, 14_000),
    ("3.2", 216_000, 5_120, 20_000),
    ("4.0", 245_760, 8_192, 20_000),
    ("4.1", 245_760, 8_192, 50_000),
    ("4.2", 522_240, 8_704, 50_000),
    ("5.0", 589_824, 22_080, 135_000),
    ("5.1", 983_040, 36_864, 240_000),
    ("5.2", 2_073_600, 36_864, 240_000),
)


def h264_level(width: int, height: int, fps: Fraction, kbps: int, minimum: str = "3.0") -> str:
    """The lowest H.264 level, not below ``minimum``, that holds this frame size, rate and High-profile bitrate."""
    blocks = -(-width // 16) * -(-height // 16)
    for level, per_second, per_frame, bitrate in _H264_LEVELS:
        if float(level) < float(minimum):
            continue
        if blocks <= per_frame and blocks * fps <= per_second and kbps <= bitrate * 5 // 4:
            return level
    return _H264_LEVELS[-1][0]
