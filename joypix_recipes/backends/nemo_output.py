"""What the cloud backend does with a downloaded export: check it decodes, tag it, and cut its poster.

All of it runs in one worker thread per job (``finish_download``), so the decoding never runs on the
event loop that is driving the other jobs' turns and polls.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from joypix_recipes.errors import RenderError
from joypix_recipes.job import Job, identity_comment, output_metadata, poster_path
from joypix_recipes.provenance import embedded_identity
from joypix_recipes.render.probe import probe_video
from joypix_recipes.render.video import write_metadata


@dataclass(frozen=True)
class VideoFacts:
    """What the downloaded file turned out to be."""

    width: int
    height: int
    duration_s: float
    frames: int = 0


def check_video(path: Path, label: str) -> VideoFacts:
    """Check that ``path`` decodes as an MP4 video (every frame); returns its size and duration."""
    try:
        info = probe_video(path)
    except RenderError as error:
        raise RenderError(f"{label}: the downloaded video does not decode as MP4; run the job again") from error
    return VideoFacts(info.width, info.height, info.duration_s, info.frames)


def finish_download(temp: Path, job: Job, identity: str, draft: dict[str, Any]) -> tuple[VideoFacts, Any]:
    """Check the download, add the job's tags, and pick its poster frame (an RGB image), in this thread."""
    facts = check_video(temp, job.label)
    write_metadata(temp, output_metadata(job, identity))
    return facts, poster_frame(temp, job.label, poster_index(facts.frames, draft))


def poster_index(frame_count: int, draft: dict[str, Any]) -> int:
    """The local renderer's choice: a third of the way in, and after any fade from black (when the draft says)."""
    found = draft.get("m")
    meta: dict[str, Any] = found if isinstance(found, dict) else {}
    fps, fade_ms = meta.get("fps", 30), meta.get("fi", 0)
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (fps, fade_ms))
    fade_frames = round(fade_ms * fps / 1000) if numbers else 0
    return max(0, min(frame_count - 1, max(frame_count // 3, fade_frames)))


def poster_frame(video: Path, label: str, index: int) -> Any:
    """Frame ``index`` of ``video`` as a PIL image, decoding no further than that frame."""
    try:
        with av.open(str(video)) as container:
            for number, frame in enumerate(container.decode(video=0)):
                if number >= index:
                    return frame.to_image()  # type: ignore[no-untyped-call]
    except (av.FFmpegError, OSError) as error:
        raise RenderError(f"{label}: cannot extract a poster frame from the video") from error
    raise RenderError(f"{label}: cannot extract a poster frame from the video")


def save_poster(image: Any, video: Path, label: str) -> Path:
    """Save ``image`` as ``<stem>.jpg`` beside the finished video: whole or not at all, with the video's job identity."""
    import numpy as np

    from joypix_recipes.render.poster import write_poster

    poster = poster_path(video)
    identity = embedded_identity(video)
    try:
        write_poster(np.asarray(image.convert("RGB")), poster, identity_comment(identity) if identity else None)
    except OSError as error:
        raise RenderError(f"{label}: cannot write the poster frame") from error
    return poster

