"""The poster JPEG beside each clip: which frame it shows, encoded in memory, written whole or not at all.

Encoding straight into a file would let a full disk leave a truncated JPEG under the final name.
Both backends take the frame chosen here: the local renderer while encoding, the cloud backend from
the downloaded file.
"""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from joypix_recipes.atomic import atomic_write_bytes

POSTER_QUALITY = 88


def poster_frame_index(frame_count: int, fps: Fraction | float, fade_in_ms: float) -> int:
    """A third of the way in, and after any fade from black, so the poster shows the picture."""
    fade_frames = round(fade_in_ms * fps / 1000)
    return max(0, min(frame_count - 1, max(frame_count // 3, fade_frames)))


def encode_poster(rgb: np.ndarray, comment: str | None = None) -> bytes:
    """An H x W x 3 RGB frame as JPEG bytes, carrying ``comment`` (the job identity) when given."""
    buffer = io.BytesIO()
    extra = {"comment": comment.encode("utf-8")} if comment else {}
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=POSTER_QUALITY, **extra)
    return buffer.getvalue()


def write_poster(rgb: np.ndarray, path: Path, comment: str | None = None) -> Path:
    """Encode and write the poster atomically; raises OSError (nothing under ``path``) when it cannot."""
    atomic_write_bytes(path, encode_poster(rgb, comment))
    return path
