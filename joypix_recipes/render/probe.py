"""Checking an MP4: decode it fully with PyAV and report its geometry, codec, frames and atom order."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from joypix_recipes.errors import RenderError


@dataclass(frozen=True)
class VideoInfo:
    """What a playable MP4 contains."""

    width: int
    height: int
    frames: int
    duration_s: float
    codec: str
    pix_fmt: str
    fps: float
    has_audio: bool
    faststart: bool


def probe_video(path: Path) -> VideoInfo:
    """Decode every video frame of ``path``; raise RenderError if it is not a playable MP4."""
    return probe_video_keeping(path, None)[0]


def probe_video_keeping(path: Path, pick: Callable[[int], int] | None) -> tuple[VideoInfo, np.ndarray | None]:
    """``probe_video``, also keeping as RGB the frame ``pick(frame count)`` names, from the same decoding pass.

    The count is known only at the end, so the pass keeps the frame the container's own count points at;
    only when the real count picks another frame is the file decoded again up to it.
    """
    if not path.is_file() or path.stat().st_size == 0:
        raise RenderError(f"{path.name}: the video file is missing or empty")
    atoms = top_level_atoms(path)
    if "moov" not in atoms or "mdat" not in atoms or "truncated" in atoms:
        raise RenderError(f"{path.name}: not a complete MP4 file (it may be truncated); download or render it again")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise RenderError(f"{path.name}: the file has no video track")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            guess = pick(stream.frames) if pick is not None and stream.frames > 0 else None
            kept: np.ndarray | None = None
            frames = 0
            width = height = 0
            pix_fmt = ""
            for frame in container.decode(stream):
                if frames == guess:
                    kept = frame.to_ndarray(format="rgb24")
                frames += 1
                width, height, pix_fmt = frame.width, frame.height, frame.format.name
            rate = stream.average_rate or stream.guessed_rate
            fps = float(rate) if rate else 0.0
            duration = stream_duration(container, stream, frames, fps)
            has_audio = bool(container.streams.audio)
            codec = stream.codec_context.name
    except RenderError:
        raise
    except Exception as error:  # noqa: BLE001 - PyAV raises many types on a damaged file
        raise RenderError(f"{path.name}: not a playable MP4 ({_reason(error)}); download or render it again") from error
    if frames == 0:
        raise RenderError(f"{path.name}: the video track has no frames")
    info = VideoInfo(
        width, height, frames, duration, codec, pix_fmt, fps, has_audio, atoms.index("moov") < atoms.index("mdat")
    )
    if pick is not None and (kept is None or pick(frames) != guess):
        kept = decoded_frame(path, pick(frames))
    return info, kept


def decoded_frame(path: Path, index: int) -> np.ndarray:
    """Frame ``index`` of ``path`` as an H x W x 3 RGB array, decoding no further than that frame."""
    try:
        with av.open(str(path)) as container:
            for number, frame in enumerate(container.decode(video=0)):
                if number >= index:
                    rgb: np.ndarray = frame.to_ndarray(format="rgb24")
                    return rgb
    except (av.FFmpegError, OSError) as error:
        raise RenderError(f"{path.name}: cannot decode frame {index} of the video") from error
    raise RenderError(f"{path.name}: the video has no frame {index}")


def top_level_atoms(path: Path) -> list[str]:
    """The MP4's top-level box types in file order (``ftyp``, ``moov``, ``mdat``, ...).

    A box that runs past the end of the file is followed by the marker ``truncated``.
    """
    atoms: list[str] = []
    size_total = path.stat().st_size
    with path.open("rb") as handle:
        position = 0
        while position + 8 <= size_total:
            handle.seek(position)
            header = handle.read(8)
            size, kind = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", handle.read(8))[0]
            elif size == 0:
                size = size_total - position
            if size < 8 or not kind.isascii():
                break
            atoms.append(kind.decode("ascii", "replace"))
            position += size
        if position > size_total:
            atoms.append("truncated")
    return atoms


def stream_duration(container: av.container.InputContainer, stream: av.VideoStream, frames: int, fps: float) -> float:
    """A video stream's length as the probe reads it: the stream's, else the container's, else frames over rate."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return frames / fps if fps else 0.0


def _reason(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:160]
