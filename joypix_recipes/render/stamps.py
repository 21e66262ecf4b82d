"""The comment GIF and animated WebP files carry (a clip's job identity), added once the muxer is done.

FFmpeg's gif and webp muxers write no metadata, yet a clip must say which job made it, as an MP4 does in
its comment tag: a run whose journal is lost tells its own files from a user's by it. A GIF gets a
comment extension before its first frame (where readers such as Pillow find it); a WebP gets an EXIF
chunk holding an ImageDescription (Pillow writes the EXIF), appended where the format puts metadata,
after the frames. Both are written to the unfinished file, before it takes its final name; the GIF is
copied through a temp file of its own, named as every temp file is, so a crash leaves nothing unknown.
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

from PIL import Image
from PIL.ExifTags import Base

from joypix_recipes.atomic import atomic_path
from joypix_recipes.errors import RenderError

_GIF_HEADER = 13
_GIF_COMMENT = b"\x21\xfe"
_BLOCK = 255
_WEBP_EXIF_FLAG = 0x08


def stamp_gif(path: Path, comment: str) -> None:
    """Put ``comment`` in a comment extension right after the GIF's header and global colour table."""
    with path.open("rb") as source:
        header = source.read(_GIF_HEADER)
        if len(header) < _GIF_HEADER or header[:6] not in (b"GIF87a", b"GIF89a"):
            raise RenderError(f"{path.name}: not a GIF, so it cannot carry its comment")
        packed = header[10]
        table = 3 * 2 ** ((packed & 0x07) + 1) if packed & 0x80 else 0
        # A comment extension is GIF89a: an 87a header is raised to it.
        start = b"GIF89a" + header[6:] + source.read(table)
        with atomic_path(path) as stamped, stamped.open("wb") as target:
            target.write(start)
            target.write(_gif_comment(comment.encode("utf-8")))
            shutil.copyfileobj(source, target)


def _gif_comment(text: bytes) -> bytes:
    blocks = [text[first : first + _BLOCK] for first in range(0, len(text), _BLOCK)]
    return _GIF_COMMENT + b"".join(bytes([len(block)]) + block for block in blocks) + b"\x00"


def stamp_webp(path: Path, comment: str) -> None:
    """Append an EXIF chunk holding ``comment`` to an extended (VP8X) WebP, such as every animated one."""
    exif = Image.Exif()
    exif[Base.ImageDescription] = comment
    # The chunk holds the TIFF structure itself, without JPEG's "Exif\0\0" marker (as Pillow writes a WebP's).
    payload = exif.tobytes().removeprefix(b"Exif\x00\x00")
    chunk = b"EXIF" + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) % 2 else b"")
    with path.open("r+b") as file:
        head = file.read(21)
        if len(head) < 21 or head[:4] != b"RIFF" or head[8:12] != b"WEBP" or head[12:16] != b"VP8X":
            raise RenderError(f"{path.name}: not an extended WebP, so it cannot carry its comment")
        file.seek(0, os.SEEK_END)
        file.write(chunk)
        riff_size = file.tell() - 8
        file.seek(4)
        file.write(struct.pack("<I", riff_size))
        file.seek(20)
        file.write(bytes([head[20] | _WEBP_EXIF_FLAG]))
