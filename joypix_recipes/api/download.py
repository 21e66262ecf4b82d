"""Fetching a finished render from its download origin (often a CDN) without ever sending the token.

A client of its own, which never holds credentials, streams to the given path and checks the length;
5xx replies, network errors and short bodies are retried with backoff (a GET is safe to repeat).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from joypix_recipes.api.settings import ClientSettings
from joypix_recipes.api.transport import http_client
from joypix_recipes.errors import ProtocolError, ServerError
from joypix_recipes.redact import get_logger

log = get_logger()

MAX_DOWNLOAD_BYTES = 4 * 1024**3
FLUSH_BYTES = 8 * 1024**2
"""Bytes kept in memory before a worker thread writes them out (the event loop never writes the file)."""


EXPIRED_LINK_STATUSES = frozenset({401, 403, 410})
"""What a signed storage URL answers once its signature has expired (assumed from common storage services)."""


class DownloadLinkExpired(ServerError):
    """The download link was refused as expired or unauthorised; a fresh poll of the render gives a new one."""


class _Retryable(Exception):
    """A download attempt that may succeed if tried again."""


class Downloader:
    """Streams URLs to files with attribution headers only: no Authorization, no client id."""

    def __init__(self, settings: ClientSettings, sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        self.settings = settings
        self._sleep = sleep or asyncio.sleep
        timeout = httpx.Timeout(settings.request_timeout_s, connect=settings.connect_timeout_s)
        self._http = http_client(timeout=timeout, follow_redirects=True, headers=settings.attribution())

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def fetch(self, url: str, target: Path) -> int:
        """Stream ``url`` into ``target``; returns the bytes written."""
        if not url.startswith(("http://", "https://")):
            raise ProtocolError("the export's download link is not an http(s) URL")
        attempts = self.settings.retry.attempts
        for attempt in range(1, attempts + 1):
            try:
                return await self._fetch_once(url, target)
            except (httpx.TransportError, _Retryable) as error:
                if attempt == attempts:
                    raise ServerError("downloading the exported video kept failing; try again later") from error
                log.info("download failed (%s); retrying", type(error).__name__)
                await self._sleep(self.settings.retry.delay(attempt))
        raise ServerError("downloading the exported video failed")  # pragma: no cover

    async def _fetch_once(self, url: str, target: Path) -> int:
        async with self._http.stream("GET", url) as response:
            if response.status_code >= 500:
                raise _Retryable(f"HTTP {response.status_code}")
            if response.status_code in EXPIRED_LINK_STATUSES:
                raise DownloadLinkExpired(
                    f"the download link was refused (HTTP {response.status_code}); it may have expired"
                )
            if response.status_code != 200:
                raise ServerError(f"downloading the exported video failed (HTTP {response.status_code})")
            expected = response.headers.get("content-length")
            written = flushed = 0
            pending: list[bytes] = []
            async for chunk in response.aiter_bytes():
                written += len(chunk)
                if written > MAX_DOWNLOAD_BYTES:
                    raise ProtocolError("the exported video is larger than any clip could be; not saved")
                pending.append(chunk)
                if written - flushed >= FLUSH_BYTES:
                    await asyncio.to_thread(_write, target, pending, append=flushed > 0)
                    pending, flushed = [], written
            if pending or not flushed:
                # File work off the event loop: a clip of a few megabytes is written in one go.
                await asyncio.to_thread(_write, target, pending, append=flushed > 0)
        if written == 0:
            raise _Retryable("empty body")
        if expected is not None and expected.isdigit() and int(expected) != written:
            raise _Retryable("truncated body")
        return written


def _write(target: Path, chunks: list[bytes], *, append: bool) -> None:
    """Write ``chunks`` to ``target``: a new file, or appended to what earlier chunks wrote."""
    with target.open("ab" if append else "wb") as out:
        out.writelines(chunks)
