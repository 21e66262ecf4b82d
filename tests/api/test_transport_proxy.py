"""A proxy the environment names carries the client's requests, as httpx's own transport always did."""

from __future__ import annotations

import asyncio

import pytest

from joypix_recipes.api.transport import http_client


def test_requests_go_through_the_proxy_the_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    request_lines: list[bytes] = []

    async def ask_through_a_proxy() -> str:
        async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                request_lines.append(head.split(b"\r\n")[0])
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nproxied!")
                await writer.drain()
            finally:
                writer.close()

        server = await asyncio.start_server(proxy, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        try:
            # A name that never resolves: only the proxy can answer for it.
            async with http_client(base_url="http://api.example.invalid", timeout=5.0) as client:
                return (await client.get("/api/credits")).text
        finally:
            server.close()

    assert asyncio.run(ask_through_a_proxy()) == "proxied!"
    assert request_lines == [b"GET http://api.example.invalid/api/credits HTTP/1.1"]
