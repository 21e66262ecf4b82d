"""Frames of a draft: each clip's source pre-scaled once, warped per frame, joined by transitions, titled, faded.

A clip's source is decoded when its segment is about to begin (the next one on a helper thread while
the current one plays) and dropped when its segment ends, so a long group holds at most three at once.

Every frame is built directly in NV12 (4:2:0) by resampling the Y, U and V planes of a source
pre-scaled to just above the output size (render/resample.py); converting RGB per frame would cost
more than the encode.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import math
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from joypix_recipes.render.color import black_frame, new_frame, nv12_views, rgb_to_yuv420
from joypix_recipes.render.image import load_rgb, load_yuv420, probe_image, resized
from joypix_recipes.render.motion import Camera, Window, cover_region, focus_in_region
from joypix_recipes.render.resample import warp_plane
from joypix_recipes.render.text import Overlay
from joypix_recipes.render.transitions import draw_transition
from joypix_recipes.timeline.draft import Draft, VideoClip

SourceLoader = Callable[[], "ClipSource"]

_BLUR_DARKEN = 0.7
# Deeper zooms are magnified per frame beyond this instead: shrinking a source more than 2x with
# bilinear sampling at the start of the move would shimmer.
_MAX_DEPTH = 2.0


class ClipSource:
    """One clip's picture, pre-scaled so its base window is just above output size at the deepest zoom."""

    def __init__(
        self, planes: tuple[np.ndarray, np.ndarray, np.ndarray], camera: Camera, frame_size: tuple[int, int]
    ) -> None:
        # U and V warped as two 1-channel planes, then interleaved: 30% cheaper than one 2-channel warp.
        self.luma, self.u, self.v = planes
        self.camera = camera
        self.width, self.height = frame_size
        half = (self.height // 2, self.width // 2)
        self._scratch_u, self._scratch_v = np.empty(half, np.uint8), np.empty(half, np.uint8)
        self._last: tuple[Window, np.ndarray] | None = None

    def render(self, progress: float, out: np.ndarray) -> None:
        """Write the frame at ``progress`` (0..1 through the clip) into the NV12 buffer ``out``."""
        window = self.camera.window(progress)
        if self._last is not None and self._last[0] == window:
            np.copyto(out, self._last[1])  # a still camera: warp once
            return
        source_h, source_w = self.luma.shape
        scale = (window.width * source_w / self.width, window.height * source_h / self.height)
        views = nv12_views(out, self.width, self.height)
        # Pixel centres: output pixel d samples source position scale * (d + 0.5) - 0.5 from the window.
        offset = (window.x * source_w + 0.5 * scale[0] - 0.5, window.y * source_h + 0.5 * scale[1] - 0.5)
        # Chroma sits at luma position 2c + 0.5 in both pictures.
        chroma = ((0.5 * scale[0] + offset[0] - 0.5) / 2, (0.5 * scale[1] + offset[1] - 0.5) / 2)
        warp_plane(self.luma, scale, offset, views.y)
        warp_plane(self.u, scale, chroma, self._scratch_u)
        warp_plane(self.v, scale, chroma, self._scratch_v)
        cv2.merge([self._scratch_u, self._scratch_v], dst=views.uv)
        if self.camera.motion == "none":
            self._last = (window, out.copy())


def load_source(clip: VideoClip, path: Path, frame_size: tuple[int, int], seed: int) -> ClipSource:
    """Decode a clip's image once and pre-scale it for its camera move."""
    width, height = frame_size
    move = Camera(clip.motion, clip.zoom)
    depth = min(move.max_zoom, _MAX_DEPTH)
    # The source's base window gets as many pixels as the output shows at the deepest zoom.
    scaled = (_even_up(width * depth), _even_up(height * depth))
    image_size = probe_image(path)
    if clip.fit == "blur":
        rgb, focus = _blur_fitted(path, image_size, scaled, clip.focus)
        planes = rgb_to_yuv420(rgb)
        del rgb
    else:
        planes, focus = _cover_cropped(path, image_size, scaled, clip.focus)
    _return_freed_memory()
    return ClipSource(planes, Camera(clip.motion, clip.zoom, clip.easing, focus, seed), frame_size)


def _return_freed_memory() -> None:
    """Hand the memory decoding just freed back to the system (glibc only; elsewhere nothing happens).

    Decoding frees tens of megabytes into the malloc arenas of the threads that did it (the loading
    thread, littlecms' band threads), where it stays resident while the encoder's own buffers grow:
    without this, a render's peak is that much higher for the whole clip.
    """
    with contextlib.suppress(AttributeError, OSError):
        _libc().malloc_trim(0)


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None)


def _cover_cropped(
    path: Path, image_size: tuple[int, int], scaled: tuple[int, int], focus: tuple[float, float]
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[float, float]]:
    region = cover_region(image_size, scaled, focus)
    factor = scaled[0] / region[2]
    fractions = (
        region[0] / image_size[0],
        region[1] / image_size[1],
        region[2] / image_size[0],
        region[3] / image_size[1],
    )
    planes = load_yuv420(path, _scaled_size(image_size, factor), fractions, scaled)
    return planes, focus_in_region(focus, image_size, region)


def _blur_fitted(
    path: Path, image_size: tuple[int, int], scaled: tuple[int, int], focus: tuple[float, float]
) -> tuple[np.ndarray, tuple[float, float]]:
    """The whole image fitted inside the frame, over a blurred, darkened cover crop of itself."""
    canvas_w, canvas_h = scaled
    fit = min(canvas_w / image_size[0], canvas_h / image_size[1])
    rgb = load_rgb(path, at_least=_scaled_size(image_size, fit))
    inner_w = max(2, min(canvas_w, round(image_size[0] * fit)))
    inner_h = max(2, min(canvas_h, round(image_size[1] * fit)))
    inner = resized(rgb, (inner_w, inner_h))
    region = cover_region((rgb.shape[1], rgb.shape[0]), scaled, (0.5, 0.5))
    x, y, w, h = (int(round(value)) for value in region)
    small = cv2.resize(
        rgb[y : y + h, x : x + w], (max(canvas_w // 16, 2), max(canvas_h // 16, 2)), interpolation=cv2.INTER_AREA
    )
    del rgb
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=max(canvas_w / 200, 1.0))
    canvas = cv2.resize(small, (canvas_w, canvas_h), interpolation=cv2.INTER_LINEAR)
    canvas = (canvas.astype(np.float32) * _BLUR_DARKEN).astype(np.uint8)
    left, top = (canvas_w - inner_w) // 2, (canvas_h - inner_h) // 2
    canvas[top : top + inner_h, left : left + inner_w] = inner
    canvas_focus = ((left + focus[0] * inner_w) / canvas_w, (top + focus[1] * inner_h) / canvas_h)
    return canvas, canvas_focus


def _scaled_size(image_size: tuple[int, int], factor: float) -> tuple[int, int]:
    return (max(1, math.ceil(image_size[0] * factor)), max(1, math.ceil(image_size[1] * factor)))


def _even_up(value: float) -> int:
    return 2 * math.ceil(value / 2 - 1e-9)


@dataclass(frozen=True)
class _Span:
    start_ms: float
    duration_ms: float
    transition_ms: float
    transition: str


class FrameComposer:
    """Produces the draft's frames in order, each a new NV12 buffer (the encoder takes it without copying).

    ``sources`` holds each clip's ClipSource, or a loader that makes it when the clip is first needed.
    """

    def __init__(self, draft: Draft, sources: Sequence[ClipSource | SourceLoader], overlays: Sequence[Overlay]) -> None:
        self.draft = draft
        self.width, self.height = draft.width, draft.height
        starts = draft.video_starts_ms()
        if len(sources) != len(draft.video):
            raise ValueError("one source per video clip")
        self._spans = [
            _Span(float(start), float(clip.duration_ms), float(clip.transition_ms), clip.transition)
            for start, clip in zip(starts, draft.video, strict=True)
        ]
        self._sources = list(sources)
        self._loaded: dict[int, ClipSource] = {}
        self._pending: dict[int, Future[ClipSource]] = {}
        self._prefetch: ThreadPoolExecutor | None = None
        self._overlays = list(overlays)
        self._frame_ms = float(1000 / draft.fps)
        self._last_ms = (draft.frame_count - 1) * self._frame_ms
        self._black = black_frame(self.width, self.height)
        self._incoming = np.empty_like(self._black)

    def start(self) -> None:
        """Begin decoding the first clip's image on the helper thread now, so it overlaps whatever the
        caller does before asking for frames (opening the encoder, mixing the soundtrack).

        ``close`` ends the helper thread should frames never be asked for.
        """
        if self._prefetch is None:
            self._prefetch = ThreadPoolExecutor(max_workers=1, thread_name_prefix="joypix-decode")
        self._prepare(0)

    def close(self) -> None:
        """Let the helper thread go and drop every source (done by iteration's end as well)."""
        prefetch, self._prefetch = self._prefetch, None
        if prefetch is not None:
            prefetch.shutdown(wait=True, cancel_futures=True)
        self._pending.clear()
        self._loaded.clear()

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._prefetch is None:
            self._prefetch = ThreadPoolExecutor(max_workers=1, thread_name_prefix="joypix-decode")
        try:
            for index in range(self.draft.frame_count):
                yield self.frame(index)
        finally:
            self.close()

    def frame(self, index: int) -> np.ndarray:
        """The NV12 buffer of frame ``index``."""
        out = new_frame(self.width, self.height)
        time_ms = index * self._frame_ms
        current = self._current_span(time_ms)
        span = self._spans[current]
        blend = self._transition_weight(current, time_ms)
        if blend < 1.0:
            previous = self._spans[current - 1]
            self._source(current - 1).render(self._progress(previous, time_ms), out)
            self._source(current).render(self._progress(span, time_ms), self._incoming)
            draw_transition(span.transition, out, self._incoming, blend, out, self._black)
        else:
            self._source(current).render(self._progress(span, time_ms), out)
            self._release_before(current)
        self._prepare(current + 1)
        for overlay in self._overlays:
            overlay.apply(out, time_ms)
        level = self._fade_level(time_ms)
        if level < 1.0:
            cv2.addWeighted(out, level, self._black, 1.0 - level, 0.0, dst=out)
        return out

    def _source(self, index: int) -> ClipSource:
        """Clip ``index``'s source, decoded now unless the helper thread already has it (or has it under way)."""
        if index not in self._loaded:
            pending = self._pending.pop(index, None)
            given = self._sources[index]
            self._loaded[index] = pending.result() if pending is not None else _made(given)
        return self._loaded[index]

    def _prepare(self, index: int) -> None:
        """Start decoding clip ``index`` on the helper thread, so it is ready when its segment begins."""
        if self._prefetch is None or index >= len(self._sources) or index in self._loaded or index in self._pending:
            return
        self._pending[index] = self._prefetch.submit(_made, self._sources[index])

    def _release_before(self, current: int) -> None:
        for index in [index for index in self._loaded if index < current]:
            del self._loaded[index]  # its segment is over: let its planes go

    def _current_span(self, time_ms: float) -> int:
        current = 0
        for index, span in enumerate(self._spans):
            if span.start_ms <= time_ms + 1e-6:
                current = index
        return current

    def _transition_weight(self, current: int, time_ms: float) -> float:
        span = self._spans[current]
        if current == 0 or span.transition_ms <= 0:
            return 1.0
        previous = self._spans[current - 1]
        if time_ms >= previous.start_ms + previous.duration_ms:
            return 1.0
        return min(max((time_ms - span.start_ms) / span.transition_ms, 0.0), 1.0)

    def _progress(self, span: _Span, time_ms: float) -> float:
        # The last frame of a clip reaches the end of its move exactly.
        length = max(span.duration_ms - self._frame_ms, 1e-6)
        return min(max((time_ms - span.start_ms) / length, 0.0), 1.0)

    def _fade_level(self, time_ms: float) -> float:
        level = 1.0
        if self.draft.fade_in_ms > 0:
            level = min(level, time_ms / self.draft.fade_in_ms)
        if self.draft.fade_out_ms > 0:
            level = min(level, (self._last_ms - time_ms) / self.draft.fade_out_ms)
        return min(max(level, 0.0), 1.0)


def _made(source: ClipSource | SourceLoader) -> ClipSource:
    return source if isinstance(source, ClipSource) else source()
