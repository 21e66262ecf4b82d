"""The video writer: H.264 MP4 by default (libx264 through PyAV), tv range, fast start, optional soundtrack;
also H.265 MP4 and VP9/Opus WebM (render/formats.py names the codecs), and ``open_writer`` for every format.

Settings measured on 2 cores: frame threading (PyAV's default slice threading is 17-35% slower),
preset veryfast (ultrafast/superfast files are 3-7x larger), the range set to tv explicitly, and
frames handed over as NV12 without a copy (``from_ndarray`` costs 5 ms a frame at 1080x1920;
NV12 is x264's own layout, so it converts nothing). Players decode the stream as yuv420p.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np

from joypix_recipes.errors import RenderError
from joypix_recipes.render.audio import AacTrack
from joypix_recipes.render.formats import FORMAT_SPECS, Encoding
from joypix_recipes.render.gif import GifWriter
from joypix_recipes.render.stamps import stamp_webp

CRF = {"high": 20, "medium": 23, "low": 28}
PRESET = "veryfast"
CODEC = "libx264"
DRAFT = "draft"
"""The quality of a preview, never a recipe's: each format's fastest setting (render/formats.py), at a
quality that keeps small frames legible."""

# FFmpeg's enum values (AVColorRange, AVColorPrimaries, AVColorTransferCharacteristic, AVColorSpace).
_RANGE_TV = 1
_BT709 = 1


def encoder_description() -> str:
    """One line for ``joypix doctor``: codec, PyAV/FFmpeg versions and the quality presets."""
    version = ".".join(str(part) for part in av.library_versions.get("libavcodec", ()))
    try:
        av.codec.Codec(CODEC, "w")
        found = CODEC
    except Exception:  # noqa: BLE001 - a PyAV build without libx264
        found = f"{CODEC} missing"
    presets = ", ".join(f"{name} CRF {value}" for name, value in CRF.items())
    return f"{found} via PyAV {av.__version__} (libavcodec {version}), preset {PRESET}, {presets}; {_formats()}"


def _formats() -> str:
    """The export formats whose encoders this PyAV build has (a missing one is named)."""
    shown = []
    for name, spec in FORMAT_SPECS.items():
        codecs = [spec.video_codec] + ([spec.audio_codec] if spec.audio_codec else [])
        missing = [codec for codec in codecs if codec not in av.codecs_available]
        shown.append(f"{name} (no {', '.join(missing)})" if missing else name)
    return f"formats {', '.join(shown)}"


class Mp4Writer:
    """Writes NV12 frames (and a soundtrack, interleaved) to an MP4 with the moov atom first, or to the
    container ``encoding`` names (MP4 with H.265, WebM with VP9 and Opus, animated WebP)."""

    def __init__(
        self,
        path: Path,
        size: tuple[int, int],
        fps: Fraction,
        quality: str = "high",
        metadata: Mapping[str, str] | None = None,
        soundtrack: np.ndarray | None = None,
        encoding: Encoding | None = None,
    ) -> None:
        if quality not in CRF and quality != DRAFT:
            raise RenderError(f"unknown quality {quality}; use one of {', '.join(CRF)}")
        self._encoding = encoding if encoding is not None else Encoding(quality=quality)
        spec = self._encoding.spec
        self.width, self.height = size
        self.fps = Fraction(fps)
        self._index = 0
        self._path = path
        self._comment = (metadata or {}).get("comment")
        # WebP timestamps are whole milliseconds: frames are stamped in them so the clip ends on time.
        self._time_base = Fraction(1, 1000) if spec.container == "webp" else 1 / self.fps
        try:
            self._container = av.open(str(path), mode="w", format=spec.container, options=_muxer_options(spec.container))
        except Exception as error:  # noqa: BLE001
            raise RenderError(f"cannot write the video file {path.name} ({_reason(error)})") from error
        try:
            if spec.container in ("mp4", "webm"):
                self._container.metadata.update({str(k): str(v) for k, v in (metadata or {}).items()})
            self._stream = self._video_stream(self._encoding.quality)
            self._audio = self._audio_track(soundtrack)
        except Exception as error:
            self._container.close()
            if isinstance(error, RenderError):
                raise
            raise RenderError(f"the {spec.video_codec} encoder could not be set up ({_reason(error)})") from error

    def _audio_track(self, soundtrack: np.ndarray | None) -> AacTrack | None:
        codec = self._encoding.spec.audio_codec
        if soundtrack is None or codec is None:
            return None
        encoding = self._encoding
        return AacTrack(self._container, soundtrack, codec, encoding.audio_kbps * 1000, encoding.sample_rate)

    def _video_stream(self, quality: str) -> av.VideoStream:
        spec = self._encoding.spec
        stream = self._container.add_stream(spec.video_codec, rate=self.fps)
        if not isinstance(stream, av.VideoStream):
            raise RenderError(f"{spec.video_codec} did not give a video stream; reinstall PyAV")
        stream.width, stream.height = self.width, self.height
        stream.pix_fmt = spec.pix_fmt
        stream.options = {**spec.video_options(quality), **_limits(self._encoding)}
        if spec.codec_tag is not None:
            stream.codec_context.codec_tag = spec.codec_tag
        context = stream.codec_context
        context.thread_type = "FRAME"
        context.thread_count = 0
        # One tick per frame, as a fraction: 1001/30000 s at 29.97, so NTSC timing never drifts.
        context.time_base = self._time_base
        context.color_range = _RANGE_TV
        context.color_primaries = _BT709
        context.color_trc = _BT709
        context.colorspace = _BT709
        return stream

    def write(self, nv12: np.ndarray) -> None:
        """Encode one frame: a (height * 3 / 2) x width uint8 NV12 buffer, which must not be changed afterwards."""
        try:
            frame = av.VideoFrame.from_numpy_buffer(nv12, format="nv12")
            frame.color_range = _RANGE_TV
            frame.colorspace = _BT709
            if self._stream.pix_fmt != "nv12":
                frame = frame.reformat(format=self._stream.pix_fmt)
            frame.pts = self._tick(self._index)
            frame.time_base = self._time_base
            frame.duration = self._tick(self._index + 1) - frame.pts
            self._index += 1
            self._container.mux(self._stream.encode(frame))
            if self._audio is not None:
                self._audio.encode_until(float(self._index / self.fps))
        except Exception as error:  # noqa: BLE001
            raise RenderError(f"encoding frame {self._index} failed ({_reason(error)})") from error

    def _tick(self, index: int) -> int:
        return round(index / self.fps / self._time_base)

    def finish(self) -> None:
        """Flush the encoders and write the trailer (which moves the moov atom to the front)."""
        try:
            self._container.mux(self._stream.encode(None))
            if self._audio is not None:
                self._audio.finish()
            self._container.close()
            if self._comment and self._encoding.spec.container == "webp":
                stamp_webp(self._path, self._comment)
        except RenderError:
            raise
        except Exception as error:  # noqa: BLE001
            raise RenderError(f"finishing the video file failed ({_reason(error)})") from error

    def abort(self) -> None:
        """Close without finishing (the caller discards the file)."""
        try:
            self._container.close()
        except Exception:  # noqa: BLE001, S110 - already failing; the partial file is removed by the caller
            pass

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.finish()
        else:
            self.abort()


def open_writer(
    path: Path,
    size: tuple[int, int],
    fps: Fraction,
    encoding: Encoding,
    metadata: Mapping[str, str] | None = None,
    soundtrack: np.ndarray | None = None,
) -> Mp4Writer | GifWriter:
    """The writer for ``encoding``'s format; a GIF has no sound, an animated WebP neither."""
    if encoding.format == "gif":
        return GifWriter(path, size, fps, encoding.spec.quality_values[encoding.quality], (metadata or {}).get("comment"))
    return Mp4Writer(path, size, fps, encoding.quality, metadata, soundtrack, encoding)


def _muxer_options(container: str) -> dict[str, str]:
    if container == "mp4":
        return {"movflags": "+faststart"}
    if container == "webp":
        return {"loop": "0"}  # loop for ever
    return {}


def _limits(encoding: Encoding) -> dict[str, str]:
    """A platform's profile, level and bitrate ceiling (a VBV buffer of one second holds the peak)."""
    options: dict[str, str] = {}
    if encoding.profile is not None:
        options["profile"] = encoding.profile
    if encoding.level is not None:
        options["level"] = encoding.level
    if encoding.max_kbps is not None and encoding.spec.video_codec in ("libx264", "libx265"):
        options["maxrate"] = f"{encoding.max_kbps}k"
        options["bufsize"] = f"{encoding.max_kbps}k"
    return options


def _reason(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:160]
