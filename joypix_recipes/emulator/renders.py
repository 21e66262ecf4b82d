"""The emulator's render farm: a small thread pool that turns POSTed drafts into MP4s on disk.

A render is queued, then rendering (progress follows the clock over ``render_latency``), then
completed or failed. The file is written beside its final name and renamed, so the download origin
never serves half of one.
"""

from __future__ import annotations

import io
import logging
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

from joypix_recipes.emulator.state import EmulatorState, RenderRecord
from joypix_recipes.errors import JoypixError
from joypix_recipes.timeline.draft import Draft

_log = logging.getLogger(__name__)
QUEUED_SHARE = 0.1
"""Share of ``render_latency`` a render spends queued before it starts, so polls can see each state."""


class RenderFarm:
    """Runs renders on worker threads; at most ``encoders`` encode at once; ``shutdown`` waits for them.

    A render mostly waits out its latency, so many may wait at once (a sleeping thread costs little);
    only the encoding is limited, so a busy farm keeps every render's latency instead of queueing
    renders behind each other's waits, up to ``workers`` renders in flight.
    """

    def __init__(self, state: EmulatorState, workers: int = 256, encoders: int = 2) -> None:
        self.state = state
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="joypix-emulator-render")
        self._encoding = threading.Semaphore(encoders)
        self._stub_cache: dict[tuple[int, int, Fraction], bytes] = {}
        self._stub_lock = threading.Lock()

    def submit(self, record: RenderRecord) -> None:
        """Start a render in the background."""
        self.pool.submit(self._run, record)

    def shutdown(self) -> None:
        """Drop queued renders and wait for running ones to stop."""
        self.pool.shutdown(wait=True, cancel_futures=True)

    def progress(self, record: RenderRecord) -> int:
        """0-100: how far a render is, from its status and the time it has been running."""
        if record.status == "completed":
            return 100
        if record.status != "rendering" or record.started_at is None:
            return 0
        latency = self.state.knobs.render_latency
        if latency <= 0:
            return 50
        elapsed = self.state.clock() - record.created_at
        return max(1, min(99, int(elapsed / latency * 100)))

    def _run(self, record: RenderRecord) -> None:
        state = self.state
        latency = state.knobs.render_latency
        if state.stopping.wait(latency * QUEUED_SHARE):
            return
        with state.lock:
            record.status = "rendering"
            record.started_at = state.clock()
        error: str | None = None
        if state.take("render_fail_next"):
            error = "the render failed on the render node; try the export again"
        else:
            try:
                with self._encoding:
                    record.path = self._produce(record)
            except JoypixError as failure:
                error = str(failure)
            except Exception:  # noqa: BLE001 -- a bug in the renderer must fail this render, not kill the worker
                _log.exception("render %s crashed", record.render_id)
                error = "the render failed on the render node; try the export again"
        remaining = record.created_at + latency - state.clock()
        if remaining > 0 and state.stopping.wait(remaining):
            return
        with state.lock:
            if error is None:
                record.status = "completed"
                state.counters.renders_completed += 1
            else:
                record.status, record.error = "failed", error
                state.counters.renders_failed += 1
        state.settle_render(record.cost, refund=error is not None)

    def _produce(self, record: RenderRecord) -> Path:
        folder = self.state.renders_dir
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{record.render_id}.mp4"
        temp = folder / f".{record.render_id}.mp4.partial"  # no media extension until it is whole
        try:
            if self.state.knobs.stub_render:
                temp.write_bytes(self._stub(record.draft))
            else:
                from joypix_recipes.render.video import render_draft

                render_draft(
                    record.draft,
                    self._media_for(record.draft),
                    temp,
                    quality=record.quality,
                    poster=False,
                )
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        return target

    def _media_for(self, draft: Draft) -> dict[str, Path]:
        """Map each clip source in the draft to its uploaded file (by media id, else by file name)."""
        with self.state.lock:
            by_id = {media.media_id: media.path for media in self.state.media.values()}
            by_name = {media.name: media.path for media in self.state.media.values()}
        sources = [clip.src for clip in draft.video] + [clip.src for clip in draft.audio]
        sources += [clip.src for clip in draft.overlays]
        found: dict[str, Path] = {}
        for source in sources:
            path = by_id.get(source) or by_name.get(source)
            if path is not None:
                found[source] = path
        return found

    def _stub(self, draft: Draft) -> bytes:
        """A one-second solid-colour MP4 of the draft's size, made once per size and reused."""
        key = (draft.width, draft.height, draft.fps)
        with self._stub_lock:
            if key not in self._stub_cache:
                self._stub_cache[key] = _encode_stub(*key)
            return self._stub_cache[key]


def _encode_stub(width: int, height: int, fps: Fraction) -> bytes:
    import av
    import numpy as np

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        frame_pixels = np.full((height, width, 3), (40, 90, 160), dtype=np.uint8)
        for index in range(math.ceil(fps)):
            frame = av.VideoFrame.from_ndarray(frame_pixels, format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()
