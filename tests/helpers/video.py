"""Produced clips as PyAV decodes them: what a player sees, every frame's pixels, and likeness within encoder noise."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

ENCODER_NOISE_LEVELS = 3.0
"""libx264 is not bit-exact from run to run on every picture (it reads memory it never wrote, so what an
earlier encoder left in the process shows): the same frames encoded twice differ by up to about 1.3
levels on average per frame. Any real difference in the picture is far larger."""


def probe(path: Path) -> dict[str, object]:
    """What a player sees: codec, size, pixel format, frames, frame rate, and how many sound streams."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video))
        return {
            "codec": video.codec_context.name,
            "size": (video.codec_context.width, video.codec_context.height),
            "pix_fmt": video.codec_context.pix_fmt,
            "frames": frames,
            "fps": video.average_rate,
            "audio": len(container.streams.audio),
        }


def decoded_frames(path: Path, format: str = "rgb24") -> list[np.ndarray]:
    """Every video frame of an MP4 as arrays (``gray`` gives the Y plane)."""
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format=format) for frame in container.decode(video=0)]


def luma_frames(path: Path) -> np.ndarray:
    """Every frame's Y plane, as PyAV decodes the clip (frames x height x width, int16 so differences fit)."""
    return np.array(decoded_frames(path, "gray"), dtype=np.int16)


def same_pictures(first: Path, second: Path) -> bool:
    """Whether two clips decode to the same number of frames, each alike within the encoder's noise."""
    one, two = luma_frames(first), luma_frames(second)
    if one.shape != two.shape:
        return False
    per_frame = np.abs(one - two).reshape(len(one), -1).mean(axis=1)
    return bool(per_frame.max(initial=0.0) < ENCODER_NOISE_LEVELS)
