"""Server-sent events: every page open on the studio gets each event, as text/event-stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

HEARTBEAT_S = 10.0
"""A comment this often keeps proxies and the browser from taking a quiet stream for a dead one."""


class Broadcaster:
    """Hands each published event to every open stream; a stream that falls far behind loses the oldest."""

    def __init__(self, backlog: int = 100) -> None:
        self._streams: set[asyncio.Queue[tuple[str, str]]] = set()
        self._backlog = backlog
        self.closed = asyncio.Event()

    def publish(self, kind: str, data: Any) -> None:
        """Send ``data`` (JSON-ready) as an event named ``kind`` to every open stream."""
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        for queue in self._streams:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait((kind, text))

    def close(self) -> None:
        """End every stream (the server is stopping)."""
        self.closed.set()

    async def stream(self, first: tuple[str, str] | None = None) -> AsyncIterator[str]:
        """One page's events, framed for text/event-stream, starting with ``first``; ends when the broadcaster closes."""
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue(self._backlog)
        self._streams.add(queue)
        try:
            if first is not None:
                yield frame(*first)
            closing = asyncio.ensure_future(self.closed.wait())
            try:
                while not self.closed.is_set():
                    getting = asyncio.ensure_future(queue.get())
                    done, _ = await asyncio.wait({getting, closing}, timeout=HEARTBEAT_S, return_when=asyncio.FIRST_COMPLETED)
                    if getting in done:
                        yield frame(*getting.result())
                    elif not getting.cancel():  # it came in as the wait ended
                        yield frame(*getting.result())
                    elif closing not in done:
                        yield ": still here\n\n"
            finally:
                closing.cancel()
        finally:
            self._streams.discard(queue)


def frame(kind: str, text: str) -> str:
    """One event: its name, then its data (JSON is one line, so one data field)."""
    return f"event: {kind}\ndata: {text}\n\n"
