"""Receiving uploads: the accepted file types, content sniffing, and streaming a body to disk under a size limit.

Bodies are written chunk by chunk as they arrive and refused as soon as they pass the limit, so an
oversized upload is never held in memory nor kept on disk.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Literal
from urllib.parse import unquote, urlsplit

from python_multipart.multipart import MultipartParser, parse_options_header

MediaType = Literal["image", "video", "audio"]
UNSUPPORTED = 4001
TOO_LARGE = 4002
DRAIN_LIMIT = 16 * 1024 * 1024
"""A refused body up to this much longer is read and thrown away, so the client still gets its reply."""
SNIFF_BYTES = 64


def _is_iso_media(head: bytes) -> bool:
    return head[4:8] == b"ftyp"


def _is_quicktime(head: bytes) -> bool:
    return head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


def _is_mp3(head: bytes) -> bool:
    return head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


def _is_aac(head: bytes) -> bool:
    adts = len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0
    return adts or head[:4] == b"ADIF" or head[:3] == b"ID3"


def _riff(kind: bytes) -> Callable[[bytes], bool]:
    return lambda head: head[:4] == b"RIFF" and head[8:12] == kind


def _prefix(*magic: bytes) -> Callable[[bytes], bool]:
    return lambda head: any(head.startswith(m) for m in magic)


_EBML = _prefix(b"\x1a\x45\xdf\xa3")

ACCEPTED: dict[str, tuple[MediaType, Callable[[bytes], bool]]] = {
    ".jpg": ("image", _prefix(b"\xff\xd8\xff")),
    ".jpeg": ("image", _prefix(b"\xff\xd8\xff")),
    ".png": ("image", _prefix(b"\x89PNG\r\n\x1a\n")),
    ".gif": ("image", _prefix(b"GIF87a", b"GIF89a")),
    ".webp": ("image", _riff(b"WEBP")),
    ".heic": ("image", _is_iso_media),
    ".heif": ("image", _is_iso_media),
    ".mp4": ("video", _is_iso_media),
    ".m4v": ("video", _is_iso_media),
    ".mov": ("video", _is_quicktime),
    ".avi": ("video", _riff(b"AVI ")),
    ".webm": ("video", _EBML),
    ".mkv": ("video", _EBML),
    ".mp3": ("audio", _is_mp3),
    ".wav": ("audio", _riff(b"WAVE")),
    ".m4a": ("audio", _is_iso_media),
    ".aac": ("audio", _is_aac),
}
"""File extension -> (kind, content check). The name and the first bytes must agree."""

SUPPORTED_TEXT = "jpg, png, webp, heic, gif, mp4, mov, avi, webm, mkv, mp3, wav, m4a, aac"


class UploadRefused(Exception):
    """An upload the service turns down, with the envelope code and message to answer with."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ReceivedFile:
    """A file now stored on disk."""

    name: str
    type: MediaType
    size: int
    path: Path


def media_kind(name: str) -> MediaType:
    """The kind of file a name promises; raises UploadRefused (4001) for a type the service refuses."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in ACCEPTED:
        raise UploadRefused(UNSUPPORTED, f"{name or 'this file'} is not a supported type; upload {SUPPORTED_TEXT}")
    return ACCEPTED[suffix][0]


def check_content(name: str, head: bytes) -> None:
    """Refuse (4001) a file whose first bytes do not match what its extension promises."""
    media_kind(name)
    if not ACCEPTED[PurePosixPath(name).suffix.lower()][1](head):
        raise UploadRefused(UNSUPPORTED, f"{name} does not contain what its extension says; upload {SUPPORTED_TEXT}")


def too_large(name: str, limit: int) -> UploadRefused:
    """The 4002 refusal for a file over ``limit`` bytes."""
    megabytes = limit / (1024 * 1024)
    return UploadRefused(TOO_LARGE, f"{name or 'the file'} is larger than {megabytes:g} MB; compress or trim it")


class _Sink:
    """Writes one file part to disk, counting bytes and keeping its first few for sniffing."""

    def __init__(self, folder: Path, stem: str, name: str, limit: int) -> None:
        self.name = name
        self.kind = media_kind(name)
        self.path = folder / f"{stem}{PurePosixPath(name).suffix.lower()}"
        self.limit = limit
        self.size = 0
        self.head = b""
        folder.mkdir(parents=True, exist_ok=True)
        self.handle: IO[bytes] | None = self.path.open("wb")

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise too_large(self.name, self.limit)
        if len(self.head) < SNIFF_BYTES:
            self.head += data[: SNIFF_BYTES - len(self.head)]
        assert self.handle is not None
        self.handle.write(data)

    def finish(self) -> ReceivedFile:
        self.close()
        check_content(self.name, self.head)
        return ReceivedFile(name=self.name, type=self.kind, size=self.size, path=self.path)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def discard(self) -> None:
        self.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class MultipartUpload:
    """Feeds a multipart body to python-multipart and streams its (first) file part into a sink."""

    def __init__(self, content_type: str, folder: Path, stem: str, limit: int) -> None:
        _, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if not boundary:
            raise UploadRefused(UNSUPPORTED, "the upload is not multipart form data with a boundary")
        self.folder, self.stem, self.limit = folder, stem, limit
        self.sink: _Sink | None = None
        self.result: ReceivedFile | None = None
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""
        self._in_file = False
        self.parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
        )

    def feed(self, chunk: bytes) -> None:
        """Parse the next piece of the body."""
        self.parser.write(chunk)

    def finish(self) -> ReceivedFile:
        """The stored file once the whole body has been fed."""
        self.parser.finalize()
        if self.result is None:
            self.discard()
            raise UploadRefused(UNSUPPORTED, "the upload has no file part; send the file as multipart form data")
        return self.result

    def discard(self) -> None:
        """Remove whatever was written so far."""
        if self.sink is not None:
            self.sink.discard()
        if self.result is not None:
            with contextlib.suppress(FileNotFoundError):
                self.result.path.unlink()

    def _part_begin(self) -> None:
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        # The protocol does not name the form field, so the first part that carries a file name is the file.
        self._in_file = b"filename" in options and self.result is None and self.sink is None
        if self._in_file:
            raw_name = options.get(b"filename", b"").decode("utf-8", "replace")
            name = PurePosixPath(raw_name.replace("\\", "/")).name
            self.sink = _Sink(self.folder, self.stem, name, self.limit)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file and self.sink is not None:
            self.sink.write(data[start:end])

    def _part_end(self) -> None:
        if self._in_file and self.sink is not None:
            self.result = self.sink.finish()
            self.sink = None
            self._in_file = False


async def receive_multipart(
    chunks: AsyncIterator[bytes], content_type: str, folder: Path, stem: str, limit: int
) -> ReceivedFile:
    """Stream a multipart body's ``file`` part to ``folder/stem.ext``; raises UploadRefused."""
    upload = MultipartUpload(content_type, folder, stem, limit)
    try:
        async for chunk in chunks:
            upload.feed(chunk)
        return upload.finish()
    except UploadRefused:
        upload.discard()
        raise
    except Exception as error:  # python-multipart raises its own types on a malformed body
        upload.discard()
        raise UploadRefused(UNSUPPORTED, "the upload is not valid multipart form data") from error


def name_from_url(url: str) -> str:
    """The file name a URL ends in ("" when it has none)."""
    return PurePosixPath(unquote(urlsplit(url).path)).name


async def fetch_url(url: str, folder: Path, stem: str, limit: int) -> ReceivedFile:
    """Download ``url`` to ``folder/stem.ext`` under the same type and size rules as a file upload."""
    import httpx

    if urlsplit(url).scheme not in ("http", "https"):
        raise UploadRefused(UNSUPPORTED, "only http and https URLs can be uploaded")
    name = name_from_url(url)
    sink = _Sink(folder, stem, name, limit)
    try:
        async with (
            httpx.AsyncClient(trust_env=False, follow_redirects=True, timeout=30.0) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise UploadRefused(UNSUPPORTED, f"could not download {name} (HTTP {response.status_code})")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise too_large(name, limit)
            async for chunk in response.aiter_bytes():
                sink.write(chunk)
        return sink.finish()
    except UploadRefused:
        sink.discard()
        raise
    except httpx.HTTPError as error:
        sink.discard()
        raise UploadRefused(UNSUPPORTED, f"could not download {name or 'the file'} from its URL") from error
