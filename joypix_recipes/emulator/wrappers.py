"""What wraps every route: the service's JSON envelope, the request recorder, and the 503/429 fault bursts."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from joypix_recipes.emulator.state import (
    EmulatorState,
    HeaderMap,
    Origin,
    RecordedRequest,
)


def envelope(
    data: Any = None, *, code: int = 0, message: str = "ok", status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The service's JSON envelope ``{"code", "message", "data"}``."""
    return JSONResponse({"code": code, "message": message, "data": data}, status_code=status, headers=headers)


def seconds_header(value: float) -> str:
    """A Retry-After value: whole seconds as an integer, fractions as they are."""
    return f"{value:g}"


class Faults:
    """Answers with 503 or 429 while the ``server_errors_next`` / ``rate_limit_next`` budgets last."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self.state.take("server_errors_next"):
                await envelope(code=503, message="Service temporarily unavailable.", status=503)(scope, receive, send)
                return
            if self.state.take("rate_limit_next"):
                retry = {"Retry-After": seconds_header(self.state.knobs.retry_after)}
                await envelope(code=429, message="Too many requests.", status=429, headers=retry)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class Recorder:
    """Logs every request (headers, and the body when it is JSON) before the app sees it."""

    def __init__(self, app: ASGIApp, state: EmulatorState, origin: Origin) -> None:
        self.app = app
        self.state = state
        self.origin = origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = HeaderMap((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
        record = RecordedRequest(self.origin, scope["method"], scope["path"], headers)
        if headers.get("content-type", "").startswith("application/json"):
            raw, receive = await _buffer_body(receive)
            try:
                record.body = json.loads(raw) if raw else None
            except (json.JSONDecodeError, UnicodeDecodeError):
                record.body = raw.decode("utf-8", "replace")
        with self.state.lock:
            self.state.requests[self.origin].append(record)

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = int(message["status"])
            await send(message)

        await self.app(scope, receive, recording_send)


async def _buffer_body(receive: Receive) -> tuple[bytes, Receive]:
    """Read a (small, JSON) body whole and return a ``receive`` that replays it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
