"""What the cloud backend does with a downloaded export: check it decodes, tag it, cut its poster, and
make the job's format from it when that is not the MP4 the service exports.

All of it runs in one worker thread per job (``finish_download``), so the decoding never runs on the
event loop that is driving the other jobs' turns and polls.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from PIL import Image

from joypix_recipes.atomic import atomic_path
from joypix_recipes.backends.contract import REPORT_THUMBNAIL_SIZE
from joypix_recipes.errors import RenderError
from joypix_recipes.job.kinds.audio import normalizes_loudness
from joypix_recipes.job.model import Job, identity_comment, output_metadata, poster_path
from joypix_recipes.render.formats import encoding_for
from joypix_recipes.render.poster import poster_frame_index, write_poster
from joypix_recipes.render.probe import decoded_frame, probe_video_keeping, stream_duration, top_level_atoms
from joypix_recipes.render.transcode import transcode


@dataclass(frozen=True)
class VideoFacts:
    """What the downloaded file turned out to be."""

    width: int
    height: int
    duration_s: float
    frames: int = 0


def check_video(path: Path, label: str) -> VideoFacts:
    """Check that ``path`` decodes as an MP4 video (every frame); returns its size and duration."""
    return _checked(path, label, None)[0]


@dataclass(frozen=True)
class Finished:
    """A checked download: what it is, its poster frame (RGB) and the report's thumbnail of that frame (JPEG)."""

    facts: VideoFacts
    frame: np.ndarray
    thumbnail: bytes


def finish_download(temp: Path, job: Job, identity: str, draft: dict[str, Any]) -> Finished:
    """Check the download, pick its poster frame (an RGB array) and add the job's tags, in one pass over it.

    The report's thumbnail is made here from that frame, so nothing decodes the poster again for it.
    """
    facts, frame = check_and_tag(
        temp, job.label, lambda count: poster_index(count, draft), output_metadata(job, identity)
    )
    if job.export.format != CLOUD_FORMAT:
        made_locally(temp, job)
    return Finished(facts, frame, thumbnail_jpeg(frame))


THUMBNAIL_QUALITY = 80


def thumbnail_jpeg(frame: np.ndarray, size: tuple[int, int] = REPORT_THUMBNAIL_SIZE) -> bytes:
    """``frame`` (H x W x 3 RGB) shrunk to fit ``size``, keeping its shape, as JPEG bytes."""
    height, width = frame.shape[:2]
    scale = min(size[0] / width, size[1] / height, 1.0)
    if scale < 1.0:
        wanted = (max(1, round(width * scale)), max(1, round(height * scale)))
        # Averaging areas keeps a large shrink from aliasing; under 2x, bilinear reads every pixel
        # anyway and costs a fraction of it.
        interpolation = cv2.INTER_AREA if scale <= 0.5 else cv2.INTER_LINEAR
        frame = cv2.resize(frame, wanted, interpolation=interpolation)
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="JPEG", quality=THUMBNAIL_QUALITY)
    return buffer.getvalue()


CONTAINER_KEYS = frozenset({"major_brand", "minor_version", "compatible_brands", "encoder"})
"""Tags the MP4 muxer writes itself: not copied from the download."""

CLOUD_FORMAT = "mp4"
"""What the service exports; other formats are made on this machine from its MP4."""


def made_locally(temp: Path, job: Job) -> None:
    """Re-encode the downloaded MP4 at ``temp`` into the job's format, in place (still under its temporary name)."""
    encoding = encoding_for(job.export, normalizes_loudness(step.action for step in job.steps))
    with atomic_path(temp) as converted:
        transcode(temp, converted, encoding)


def check_and_tag(
    path: Path, label: str, pick: Callable[[int], int], metadata: Mapping[str, str]
) -> tuple[VideoFacts, np.ndarray]:
    """Decode every frame of the MP4 at ``path`` (RenderError when it does not), keep the frame ``pick`` names as
    RGB, and rewrite it in place with ``metadata`` added to its container tags (streams copied, fast start).

    One pass: each packet read is decoded for the check and copied into the tagged file, where checking
    and tagging one after the other would open, read and demux the file twice.
    """
    broken = f"{label}: the downloaded video does not decode as MP4; run the job again"
    if not path.is_file() or path.stat().st_size == 0:
        raise RenderError(broken) from RenderError(f"{path.name}: the video file is missing or empty")
    atoms = top_level_atoms(path)
    if "moov" not in atoms or "mdat" not in atoms or "truncated" in atoms:
        raise RenderError(broken) from RenderError(f"{path.name}: not a complete MP4 file (it may be truncated)")
    try:
        with atomic_path(path) as temp:
            facts, kept, guess = _copy_decoding(path, temp, pick, metadata)
    except RenderError as error:
        raise RenderError(broken) from error
    except Exception as error:  # noqa: BLE001 - PyAV raises many types on a damaged file
        raise RenderError(broken) from error
    if kept is None or pick(facts.frames) != guess:
        # The container's own frame count was off: decode again as far as the frame the real count names.
        try:
            kept = decoded_frame(path, pick(facts.frames))
        except RenderError as error:
            raise RenderError(broken) from error
    return facts, kept


def _copy_decoding(
    source_path: Path, target_path: Path, pick: Callable[[int], int], metadata: Mapping[str, str]
) -> tuple[VideoFacts, np.ndarray | None, int | None]:
    """Copy ``source_path``'s video and audio into ``target_path`` with ``metadata``, decoding each video packet.

    Returns what the file is, the frame the container's frame count picks (as RGB) and that frame's index.
    """
    with (
        av.open(str(source_path)) as source,
        av.open(str(target_path), mode="w", format="mp4", options={"movflags": "+faststart"}) as target,
    ):
        if not source.streams.video:
            raise RenderError(f"{source_path.name}: the file has no video track")
        video = source.streams.video[0]
        # One decoding thread: jobs already run side by side, and on a short clip ffmpeg's own threads
        # add only the CPU they spend handing frames to each other (measured: about a third more).
        video.codec_context.thread_count = 1
        guess = pick(video.frames) if video.frames > 0 else None
        kept = {k: v for k, v in source.metadata.items() if k not in CONTAINER_KEYS}
        target.metadata.update({**kept, **{str(k): str(v) for k, v in metadata.items()}})
        copied = [s for s in source.streams if s.type in ("video", "audio")]
        outputs = {s.index: target.add_stream_from_template(s) for s in copied}
        frames = width = height = 0
        frame_kept: np.ndarray | None = None
        for packet in source.demux(*copied):
            if packet.stream.index == video.index:
                for frame in video.decode(packet):  # the end-of-stream packet flushes the decoder
                    if frames == guess:
                        frame_kept = frame.to_ndarray(format="rgb24")
                    frames += 1
                    width, height = frame.width, frame.height
            if packet.dts is None:  # the demuxer's end-of-stream marker: nothing to copy
                continue
            packet.stream = outputs[packet.stream.index]
            target.mux(packet)
        if frames == 0:
            raise RenderError(f"{source_path.name}: the video track has no frames")
        rate = video.average_rate or video.guessed_rate
        duration = stream_duration(source, video, frames, float(rate) if rate else 0.0)
    return VideoFacts(width, height, duration, frames), frame_kept, guess


def _checked(path: Path, label: str, pick: Callable[[int], int] | None) -> tuple[VideoFacts, np.ndarray | None]:
    try:
        info, frame = probe_video_keeping(path, pick)
    except RenderError as error:
        raise RenderError(f"{label}: the downloaded video does not decode as MP4; run the job again") from error
    return VideoFacts(info.width, info.height, info.duration_s, info.frames), frame


def poster_index(frame_count: int, draft: dict[str, Any]) -> int:
    """The renderer's poster choice, with the frame rate and fade read from the service's draft where it has them."""
    found = draft.get("m")
    meta: dict[str, Any] = found if isinstance(found, dict) else {}
    fps, fade_ms = meta.get("fps", 30), meta.get("fi", 0)
    if not all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in (fps, fade_ms)):
        fps, fade_ms = 30, 0
    return poster_frame_index(frame_count, fps, fade_ms)


def save_poster(frame: np.ndarray, video: Path, identity: str, label: str) -> Path:
    """Save ``frame`` as ``<stem>.jpg`` beside the finished video: whole or not at all, carrying the job identity."""
    poster = poster_path(video)
    try:
        write_poster(frame, poster, identity_comment(identity))
    except OSError as error:
        raise RenderError(f"{label}: cannot write the poster frame") from error
    return poster
