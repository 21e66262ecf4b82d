"""Which job made a file: the identity every clip and poster carries inside it (an MP4 tag, a JPEG comment);
and which run made a clip: the stamp the manifest keeps beside it.

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
