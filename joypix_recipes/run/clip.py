"""What a finished clip is, read from the file itself: its length, frame size and size on disk.

The progress lines, the report and the manifest show these, so they describe the file a user gets,
not what the plan meant it to be.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ClipFacts:
    """A clip's length in seconds, its frame size and its bytes on disk."""

    length_s: float
    width: int
    height: int
    bytes: int

    @property
    def resolution(self) -> str:
        """``"1080x1920"``."""
        return f"{self.width}x{self.height}"

    def to_dict(self) -> dict[str, float | int]:
        """Plain JSON-ready form."""
        return {"length_s": round(self.length_s, 3), "width": self.width, "height": self.height, "bytes": self.bytes}


def read_clip_facts(path: Path | None) -> ClipFacts | None:
    """The facts of the clip at ``path`` from its container header, or None when it is missing or unreadable."""
    if path is None:
        return None
    try:
        file = Path(path)
        size = file.stat().st_size
        if file.suffix.lower() == ".webp":
            return _webp_facts(file, size)
        import av

        with av.open(str(file), metadata_errors="ignore") as container:
            stream = container.streams.video[0]
            length = _length(container.duration, stream)
            return ClipFacts(length, int(stream.codec_context.width), int(stream.codec_context.height), size)
    except Exception:  # noqa: BLE001 - a file a decoder cannot read has no facts to show; the card says so
        return None


def _length(container_duration: int | None, stream: object) -> float:
    import av

    if container_duration:
        return float(container_duration) / av.time_base
    duration, time_base = getattr(stream, "duration", None), getattr(stream, "time_base", None)
    return float(duration * time_base) if duration and time_base else 0.0


def _webp_facts(path: Path, size: int) -> ClipFacts | None:
    """An animated WebP's facts from its chunk headers: FFmpeg reads no animation, and Pillow would decode
    every frame to add up their durations. The canvas size is in the VP8X chunk; each frame (ANMF) holds
    its duration in milliseconds, so the file is walked chunk by chunk, reading only the headers."""
    total_ms = 0
    with path.open("rb") as file:
        head = file.read(30)
        if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP" or head[12:16] != b"VP8X":
            return None
        width, height = _uint24(head, 24) + 1, _uint24(head, 27) + 1
        offset = 12
        while True:
            file.seek(offset)
            header = file.read(8)
            if len(header) < 8:
                break
            length = int.from_bytes(header[4:], "little")
            if header[:4] == b"ANMF":
                frame = file.read(16)
                if len(frame) < 16:
                    return None
                total_ms += _uint24(frame, 12)
            offset += 8 + length + (length & 1)
    return ClipFacts(total_ms / 1000, width, height, size)


def _uint24(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 3], "little")


def human_bytes(count: int) -> str:
    """``"1.4 MB"``: decimal units, as file browsers show them."""
    size = float(count)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
