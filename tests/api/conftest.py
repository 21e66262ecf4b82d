"""Fixtures for client tests: the real emulator, fast client settings, small media, a forwarding proxy."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from helpers.images import image_bytes
from helpers.waiting import wait_until
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from joypix_recipes.api.client import NemoClient
from joypix_recipes.api.models import Session
from joypix_recipes.api.settings import ClientSettings, RetryPolicy, resolve_settings
from joypix_recipes.emulator import Emulator

FAST_RETRY = RetryPolicy(attempts=5, base_delay_s=0.01, max_delay_s=0.05)


def fast_settings(base_url: str, home: Path, **overrides: Any) -> ClientSettings:
    """Client settings for tests: tiny poll interval and backoff, short timeouts."""
    values: dict[str, Any] = {"retry": FAST_RETRY, "request_timeout_s": 5.0, "stream_read_timeout_s": 5.0}
    values.update(overrides)
    poll_interval = values.pop("poll_interval", 0.05)
    return resolve_settings(base_url=base_url, poll_interval=poll_interval, language="en", home=home, **values)


@pytest.fixture
def settings(emulator: Emulator, tmp_path: Path) -> ClientSettings:
    """Fast settings pointing at the emulator, with JOYPIX_HOME in tmp_path."""
    return fast_settings(emulator.base_url, tmp_path / "home")


def run(coroutine_factory: Callable[[NemoClient], Awaitable[Any]], settings: ClientSettings, **kwargs: Any) -> Any:
    """Run ``coroutine_factory(client)`` with a fresh NemoClient on a fresh event loop."""

    async def main() -> Any:
        async with NemoClient(settings, **kwargs) as client:
            return await coroutine_factory(client)

    return asyncio.run(main())


def image_file(folder: Path, name: str = "photo.png", size: tuple[int, int] = (48, 64)) -> Path:
    """A small real image with a gradient, in the format its name says."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(image_bytes(size, "JPEG" if name.endswith((".jpg", ".jpeg")) else "PNG"))
    return path


async def session_with_image(client: NemoClient, folder: Path) -> Session:
    """A new session holding one uploaded image (``folder/photo.png``)."""
    session = await client.create_session()
    await client.upload_file(session.session_id, image_file(folder))
    return session


async def session_with_draft(client: NemoClient, folder: Path) -> tuple[Session, dict[str, Any]]:
    """A new session holding one uploaded image, and the draft the service made of it."""
    session = await session_with_image(client, folder)
    draft = (await client.state(session.session_id)).draft
    assert draft is not None
    return session, draft


def api_requests(emulator: Emulator, method: str, path_prefix: str) -> list[Any]:
    """The API-origin requests with this method whose path starts with ``path_prefix``."""
    return [r for r in emulator.state.requests.api if r.method == method and r.path.startswith(path_prefix)]


@dataclass
class RecordingSleep:
    """An injected sleep that records each wait and then really waits (briefly)."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(min(seconds, 0.5))


@dataclass
class Proxy:
    """A forwarding HTTP proxy on 127.0.0.1 (bodies buffered) that can, once per method and path, delay
    the upstream's answer, drop a request header, answer by itself without forwarding, or forward and
    then answer with an error of its own (a gateway failing after the service acted)."""

    upstream: str
    delay_once: dict[tuple[str, str], float] = field(default_factory=dict)
    strip_header_once: dict[tuple[str, str], str] = field(default_factory=dict)
    answer_once: dict[tuple[str, str], Response] = field(default_factory=dict)
    fail_after_forward_once: dict[tuple[str, str], int] = field(default_factory=dict)
    url: str = ""

    async def handle(self, request: Request) -> Response:
        key = (request.method, request.url.path)
        canned = self.answer_once.pop(key, None)
        if canned is not None:
            return canned
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        strip = self.strip_header_once.pop(key, None)
        if strip is not None:
            headers = {k: v for k, v in headers.items() if k.lower() != strip.lower()}
        body = await request.body()
        async with httpx.AsyncClient(base_url=self.upstream, trust_env=False) as upstream:
            reply = await upstream.request(request.method, request.url.path, headers=headers, content=body)
        delay = self.delay_once.pop(key, None)
        if delay is not None:
            await asyncio.sleep(delay)  # the upstream already acted; only the answer is late
        failure = self.fail_after_forward_once.pop(key, None)
        if failure is not None:  # the upstream already acted; the client hears only an error
            return Response(b"<html>Bad Gateway</html>", status_code=failure, media_type="text/html")
        skip = ("content-length", "transfer-encoding", "connection", "content-encoding")
        return Response(
            reply.content,
            status_code=reply.status_code,
            headers={k: v for k, v in reply.headers.items() if k.lower() not in skip},
        )


@pytest.fixture
def proxy(emulator: Emulator) -> Iterator[Proxy]:
    """A Proxy in front of the emulator's API origin."""
    state = Proxy(upstream=emulator.base_url)
    app = Starlette(routes=[Route("/{path:path}", state.handle, methods=["GET", "POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="test-proxy", daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the proxy did not start")
    state.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
