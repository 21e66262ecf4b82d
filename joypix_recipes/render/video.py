"""The renderer's entry points: a draft becomes an MP4 (and a poster JPEG), and metadata is added by remux.

``render_draft`` runs in a worker process, so its arguments are plain picklable data.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import av
import cv2
import numpy as np

from joypix_recipes.atomic import atomic_path
from joypix_recipes.errors import ImageError, JoypixError, MediaError, RenderError
from joypix_recipes.job.actions import BUILTIN_MUSIC
from joypix_recipes.render.audio import SAMPLE_RATE, mix_soundtrack
from joypix_recipes.render.color import nv12_to_rgb
from joypix_recipes.render.compose import ClipSource, FrameComposer, load_source
from joypix_recipes.render.encode import open_writer
from joypix_recipes.render.formats import Encoding
from joypix_recipes.render.loudness import normalize_loudness
from joypix_recipes.render.overlay import build_image_overlays
from joypix_recipes.render.poster import poster_frame_index, write_poster
from joypix_recipes.render.text import Overlay, TextTrack
from joypix_recipes.timeline.draft import Draft, VideoClip

_CONTAINER_KEYS = {"major_brand", "minor_version", "compatible_brands", "encoder"}


@dataclass(frozen=True)
class RenderResult:
    """What a render produced."""

    output: Path
    poster: Path | None
    frames: int
    width: int
    height: int
    duration_s: float


def render_draft(
    draft: Draft,
    media: Mapping[str, Path],
    output: Path,
    *,
    quality: str = "high",
    metadata: Mapping[str, str] | None = None,
    poster: bool = True,
    encoding: Encoding | None = None,
) -> RenderResult:
    """Render ``draft`` to ``output`` (MP4 unless ``encoding`` says otherwise, written atomically) and
    ``<stem>.jpg`` beside it."""
    encoding = encoding if encoding is not None else Encoding(quality=quality)
    _check(draft)
    size = (draft.width, draft.height)
    images = [_resolve(clip.src, media, "image") for clip in draft.video]
    sounds = {clip.src: _resolve(clip.src, media, "audio") for clip in draft.audio if clip.src != BUILTIN_MUSIC}
    # Each image is decoded when its segment is about to begin, not all up front (a group of large
    # photos would otherwise sit in memory at once); the seed differs per clip so ken-burns moves vary.
    sources = [
        partial(_prepared, clip, path, size, draft.seed + index)
        for index, (clip, path) in enumerate(zip(draft.video, images, strict=True))
    ]
    # Text clips are drawn when they first show (a subtitles file may hold far more cues than frames).
    # Images (a logo) are decoded once here, under the text, so a caption is never hidden by one.
    overlays: list[Overlay] = [*build_image_overlays(draft, media), TextTrack(draft)]
    frames = draft.frame_count
    seconds = float(frames / draft.fps)
    poster_index = _poster_index(draft)
    poster_rgb = None
    composer = FrameComposer(draft, sources, overlays)
    with _single_threaded_opencv(), contextlib.closing(composer):
        # The first photo decodes on the composer's helper thread while the soundtrack is mixed and
        # the encoder opens: the wall time before the first frame is the longer of the two, not both.
        composer.start()
        soundtrack = mix_soundtrack(draft, sounds, seconds)
        if soundtrack is not None and encoding.normalize_audio:
            soundtrack = normalize_loudness(soundtrack, SAMPLE_RATE)
        try:
            with atomic_path(output) as temp:
                with (
                    open_writer(temp, size, draft.fps, encoding, metadata, soundtrack) as writer,
                    _ahead(iter(composer)) as buffers,
                ):
                    for index, buffer in enumerate(buffers):
                        writer.write(buffer)
                        if poster and index == poster_index:
                            poster_rgb = nv12_to_rgb(buffer, draft.width, draft.height)
        except JoypixError:
            raise
        except Exception as error:  # noqa: BLE001 - OpenCV or numpy failing mid-render
            raise RenderError(f"rendering {output.name} failed ({_reason(error)})") from error
    written_poster = None
    if poster_rgb is not None:
        try:
            # The same name job.poster_path gives; render/ does not depend on jobs.
            written_poster = write_poster(poster_rgb, output.with_suffix(".jpg"), (metadata or {}).get("comment"))
        except OSError as error:
            raise RenderError(f"cannot write the poster of {output.name} ({error.strerror or error})") from error
    return RenderResult(output, written_poster, frames, draft.width, draft.height, seconds)


def write_metadata(path: Path, metadata: Mapping[str, str]) -> None:
    """Add container metadata to an MP4 by remuxing (stream copy, no re-encode), keeping fast start."""
    try:
        with atomic_path(path) as temp:
            with (
                av.open(str(path)) as source,
                av.open(str(temp), mode="w", format="mp4", options={"movflags": "+faststart"}) as target,
            ):
                kept = {k: v for k, v in source.metadata.items() if k not in _CONTAINER_KEYS}
                target.metadata.update({**kept, **{str(k): str(v) for k, v in metadata.items()}})
                streams = {
                    s.index: target.add_stream_from_template(s) for s in source.streams if s.type in ("video", "audio")
                }
                for packet in source.demux(*(s for s in source.streams if s.index in streams)):
                    if packet.dts is None:  # the demuxer's end-of-stream marker
                        continue
                    packet.stream = streams[packet.stream.index]
                    target.mux(packet)
    except JoypixError:
        raise
    except Exception as error:  # noqa: BLE001 - PyAV raises many types on a damaged file
        raise RenderError(f"{path.name}: could not add metadata to the video ({_reason(error)})") from error


def _prepared(clip: VideoClip, path: Path, size: tuple[int, int], seed: int) -> ClipSource:
    """Decode and pre-scale one clip's image; anything but our own errors becomes an ImageError naming it."""
    try:
        return load_source(clip, path, size, seed)
    except JoypixError:
        raise
    except Exception as error:  # noqa: BLE001 - OpenCV on an unusual picture (a 1-pixel strip, say)
        raise ImageError(f"{path.name}: the image could not be prepared for video ({_reason(error)})") from error


def _check(draft: Draft) -> None:
    if not draft.video:
        raise RenderError("the timeline has no video clip; add an image first")
    if draft.width % 2 or draft.height % 2 or draft.width < 16 or draft.height < 16:
        raise RenderError(
            f"the frame size {draft.width}x{draft.height} cannot be encoded; use even sides of 16 pixels or more"
        )
    if draft.frame_count < 1:
        raise RenderError("the timeline is shorter than one frame; give the clip a duration")


def _resolve(src: str, media: Mapping[str, Path], kind: str) -> Path:
    if src in media:
        return Path(media[src])
    candidate = Path(src)
    if candidate.is_absolute() and candidate.exists():
        return candidate
    error = ImageError if kind == "image" else MediaError
    raise error(f"{candidate.name or src}: the {kind} file for this clip was not found ({src})")


def _poster_index(draft: Draft) -> int:
    return poster_frame_index(draft.frame_count, draft.fps, draft.fade_in_ms)


_AHEAD = 4
_COMPOSER_NICENESS = 10
_DONE = object()


@contextmanager
def _ahead(frames: Iterator[np.ndarray]) -> Iterator[Iterator[np.ndarray]]:
    """Compose frames on a helper thread, a few ahead of the encoder.

    x264's frame threads leave a core partly idle while they wait on each other; composing in that
    slack instead of between encode calls is what brings the render close to the encode-only floor.
    OpenCV releases the GIL while it warps, so the two really overlap.
    """
    handoff: queue.Queue[object] = queue.Queue(maxsize=_AHEAD)
    stop = threading.Event()

    def produce() -> None:
        _yield_to_encoder()
        try:
            for frame in frames:
                while not stop.is_set():
                    try:
                        handoff.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put(_DONE)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, which re-raises it
            handoff.put(error)

    def consume() -> Iterator[np.ndarray]:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]

    worker = threading.Thread(target=produce, name="joypix-compose", daemon=True)
    worker.start()
    try:
        yield consume()
    finally:
        stop.set()
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                handoff.get(timeout=0.05)
        worker.join()
        closing = getattr(frames, "close", None)
        if closing is not None:
            closing()  # a composer stopped early lets its decoding thread go now, not at garbage collection


def _yield_to_encoder() -> None:
    """Lower this thread's priority, so composing takes only the CPU that x264's threads leave idle.

    When the composer falls behind, the encoder runs dry, its threads idle, and the composer gets
    the CPU back: the two balance without tuning. Linux only; elsewhere nothing changes.
    """
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _COMPOSER_NICENESS)


@contextmanager
def _single_threaded_opencv() -> Iterator[None]:
    """x264 already keeps every core busy; OpenCV's own thread pool would only add switching."""
    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


def _reason(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:160]
