"""Which job made a file: the identity every clip and poster carries inside it (an MP4 or WebM tag, a GIF
or JPEG comment, a WebP's EXIF description); and which run made a clip: the stamp the manifest keeps beside it.

The identity lets a run tell its own files from a user's, even when the journal that listed them is lost;
the stamp lets a folder that several runs wrote into say which run each clip came from.
"""

from __future__ import annotations

import secrets
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from joypix_recipes.job.model import POSTER_SUFFIX, identity_from_comment


def embedded_identity(path: Path) -> str | None:
    """The job identity recorded inside ``path`` (a clip or a poster), or None for any other file."""
    try:
        suffix = path.suffix.lower()
        if suffix in (POSTER_SUFFIX, ".gif"):
            return identity_from_comment(_image_comment(path))
        if suffix == ".webp":
            return identity_from_comment(_exif_description(path))
        return identity_from_comment(_mp4_comment(path))
    except Exception:  # noqa: BLE001 - a foreign decoder failing on a foreign file means "not ours"
        return None


def _image_comment(path: Path) -> str:
    """A JPEG's comment segment, or the comment extension before a GIF's first frame."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(path) as image:
            comment = image.info.get("comment", b"")
    return comment.decode("utf-8", "replace") if isinstance(comment, bytes) else str(comment)


def _exif_description(path: Path) -> str:
    """The EXIF ImageDescription an animated WebP carries (its muxer writes no other tag)."""
    from PIL import Image
    from PIL.ExifTags import Base

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(path) as image:
            return str(image.getexif().get(Base.ImageDescription, ""))


def _mp4_comment(path: Path) -> str:
    import av

    with av.open(str(path), metadata_errors="ignore") as container:
        # Matroska (WebM) keeps tag names in capitals.
        return str(container.metadata.get("comment") or container.metadata.get("COMMENT", ""))


@dataclass(frozen=True)
class RunStamp:
    """Which run made a clip: an id unique to the run and when it started (ISO 8601, local time with offset)."""

    id: str
    time: str

    def to_dict(self) -> dict[str, str]:
        """Plain JSON-ready form."""
        return {"id": self.id, "time": self.time}


def new_run_stamp(job_starts: Iterable[float]) -> RunStamp:
    """A stamp for a run whose jobs started at ``job_starts`` (epoch seconds): its time is the first (now, if none did)."""
    started = list(job_starts)
    moment = time.localtime(min(started) if started else time.time())
    stamp = time.strftime("%Y%m%d-%H%M%S", moment)
    return RunStamp(f"{stamp}-{secrets.token_hex(3)}", time.strftime("%Y-%m-%dT%H:%M:%S%z", moment))
