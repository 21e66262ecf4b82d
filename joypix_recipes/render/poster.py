"""The poster JPEG beside each clip: encoded in memory, then written whole or not at all.

Encoding straight into a file would let a full disk leave a truncated JPEG under the final name.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from joypix_recipes.atomic import atomic_write_bytes

POSTER_QUALITY = 88


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
