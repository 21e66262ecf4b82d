"""Which job made a file: the identity every clip and poster carries inside it (an MP4 tag, a JPEG comment).

It lets a run tell its own files from a user's, even when the journal that listed them is lost.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from joypix_recipes.job.model import POSTER_SUFFIX, identity_from_comment


def embedded_identity(path: Path) -> str | None:
    """The job identity recorded inside ``path`` (a clip or a poster), or None for any other file."""
    try:
        if path.suffix.lower() == POSTER_SUFFIX:
            return identity_from_comment(_jpeg_comment(path))
        return identity_from_comment(_mp4_comment(path))
    except Exception:  # noqa: BLE001 - a foreign decoder failing on a foreign file means "not ours"
        return None


def _jpeg_comment(path: Path) -> str:
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(path) as image:
            comment = image.info.get("comment", b"")
    return comment.decode("utf-8", "replace") if isinstance(comment, bytes) else str(comment)


def _mp4_comment(path: Path) -> str:
    import av

    with av.open(str(path), metadata_errors="ignore") as container:
        return str(container.metadata.get("comment", ""))
