"""Reading one /run_sse turn: ADK event frames, text vs partial vs tool events, heartbeats, error frames.

Each event is one ``data: <json>`` frame (camelCase ADK events); text may arrive as ``partial``
chunks and then once more whole; an error mid-turn is a last ``{"error": ...}`` frame; an event with
an ``errorCode`` is the agent refusing; heartbeats are comment lines or empty ``data:`` frames; the
turn ends when the body closes. docs/protocol.md marks which of these are documented.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from joypix_recipes.api.endpoints import STILL_WORKING_EVERY_S
from joypix_recipes.redact import get_logger

log = get_logger()


@dataclass(frozen=True)
class Frame:
    """What one SSE frame carried."""

    heartbeat: bool = False
    partial: bool = False
    texts: tuple[str, ...] = ()
    tool_calls: tuple[str, ...] = ()
    tool_results: tuple[tuple[str, dict[str, Any]], ...] = ()
    error: str | None = None
    refusal: str | None = None
    turn_complete: bool = False


def parse_frame(data: str) -> Frame | None:
    """Parse one frame's data; an empty one is a heartbeat; None when it is not a JSON object."""
    if not data.strip():
        return Frame(heartbeat=True)
    try:
        event = json.loads(data)
    except ValueError:
        return None
    if not isinstance(event, dict):
        return None
    if "error" in event and "content" not in event:
        return Frame(error=str(event.get("error") or "unknown error"))
    refusal = _refusal(event.get("errorCode"), event.get("errorMessage"))
    texts: list[str] = []
    calls: list[str] = []
    results: list[tuple[str, dict[str, Any]]] = []
    content = event.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    from_user = isinstance(content, dict) and content.get("role") == "user"
    for part in parts if isinstance(parts, list) and not from_user else []:
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("text"), str) and not part.get("thought"):
            texts.append(part["text"])
        call = part.get("functionCall")
        if isinstance(call, dict):
            calls.append(str(call.get("name", "")))
        response = part.get("functionResponse")
        if isinstance(response, dict):
            body = response.get("response")
            results.append((str(response.get("name", "")), body if isinstance(body, dict) else {}))
    return Frame(
        partial=bool(event.get("partial")),
        texts=tuple(texts),
        tool_calls=tuple(calls),
        tool_results=tuple(results),
        refusal=refusal,
        turn_complete=bool(event.get("turnComplete")),
    )


def _refusal(code: Any, message: Any) -> str | None:
    """How an event carrying an error code reads to a user: the message, then the code."""
    code_text = str(code).strip() if code not in (None, "") else ""
    message_text = str(message).strip() if message not in (None, "") else ""
    if not code_text and not message_text:
        return None
    if code_text and message_text:
        return f"{message_text} ({code_text})"
    return message_text or code_text


@dataclass
class Transcript:
    """A turn as read so far: whole replies shown, partial text pending, tool activity, any error."""

    replies: list[str] = field(default_factory=list)
    pending_partial: list[str] = field(default_factory=list)
    tool_events: int = 0
    heartbeats: int = 0
    error: str | None = None
    refusal: str | None = None
    turn_complete: bool = False

    def feed(self, frame: Frame) -> list[str]:
        """Take one frame; returns the replies to show now (each whole text exactly once)."""
        if frame.heartbeat:
            self.heartbeats += 1
            return []
        self.tool_events += len(frame.tool_calls) + len(frame.tool_results)
        for name in frame.tool_calls:
            log.debug("agent called tool %s", name)
        for name, _ in frame.tool_results:
            log.debug("agent tool %s returned", name)
        self.turn_complete = self.turn_complete or frame.turn_complete
        if frame.error:
            self.error = frame.error
        if frame.refusal:
            self.refusal = frame.refusal
        text = "".join(frame.texts).strip()
        if frame.partial:
            # Chunks only preview the whole text that follows; keep them in case it never comes.
            self.pending_partial.extend(frame.texts)
            return []
        if not text:
            return []
        self.pending_partial.clear()
        self.replies.append(text)
        return [text]

    def finish(self) -> list[str]:
        """At the end of the body: partial text whose whole version never came, shown once."""
        leftover = "".join(self.pending_partial).strip()
        self.pending_partial.clear()
        if not leftover:
            return []
        self.replies.append(leftover)
        return [leftover]

    @property
    def has_text(self) -> bool:
        """Whether the agent said anything in words."""
        return bool(self.replies)


class TurnDeadlineExceeded(Exception):
    """The whole turn took longer than its deadline (httpx's read timeout is per chunk only)."""


@contextlib.asynccontextmanager
async def turn_deadline(seconds: float) -> AsyncIterator[None]:
    """Bound a whole turn (connect, headers, every chunk) by ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError as error:
        raise TurnDeadlineExceeded(f"no end of turn after {seconds:g} s") from error


async def still_working_ticker(notify: Callable[[float], None], every_s: float = STILL_WORKING_EVERY_S) -> None:
    """Call ``notify(elapsed)`` every ``every_s`` until cancelled ("Still working..." every 2 min)."""
    started = time.monotonic()
    while True:
        await asyncio.sleep(every_s)
        notify(time.monotonic() - started)


async def read_frames(events: AsyncIterator[Any]) -> AsyncIterator[Frame]:
    """Frames from httpx-sse events; frames that are not JSON objects are logged and skipped."""
    async for event in events:
        frame = parse_frame(event.data)
        if frame is None:
            log.debug("skipped an SSE frame that is not a JSON object")
            continue
        yield frame
