"""Whether an image file has all its bytes: each format says where it ends, and a writer mid-file has not got there.

Only the end of the file is read. Formats that do not say where they end count as complete.
"""

from __future__ import annotations

import os
from pathlib import Path

_TAIL = 64
_PNG_END = b"IEND\xaeB`\x82"
_JPEG_START, _JPEG_END = b"\xff\xd8", b"\xff\xd9"
_GIF_END = b";"


def looks_complete(path: Path) -> bool:
    """False when ``path`` is a JPEG, PNG, GIF or WebP whose end is not there yet; True otherwise."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(0, size - _TAIL))
            tail = handle.read(_TAIL)
    except OSError:
        return True  # unreadable now: the settle and read steps report that
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return tail.endswith(_PNG_END)
    if head.startswith(_JPEG_START):
        # Some writers pad after the end-of-image marker; padding is not content.
        return tail.rstrip(b"\x00\r\n ").endswith(_JPEG_END)
    if head.startswith((b"GIF87a", b"GIF89a")):
        return tail.rstrip(b"\x00").endswith(_GIF_END)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return size >= 8 + int.from_bytes(head[4:8], "little")
    return True
