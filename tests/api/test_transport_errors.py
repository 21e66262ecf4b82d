"""What a lost connection is taken for: only an error before any connection means the request never left."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from joypix_recipes.api.transport import UNSENT_ERRORS, http_client, upload_client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _post_to(*, serve: bool = True) -> BaseException:
    port = _free_port()
    server = None
    if serve:

        async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(1)  # the request has arrived: hang up without a reply
            writer.close()

        server = await asyncio.start_server(hang_up, "127.0.0.1", port)
    try:
        async with http_client(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as client:
            with pytest.raises(httpx.TransportError) as caught:
                await client.post("/run_sse", json={"x": 1})
            return caught.value
    finally:
        if server is not None:
            server.close()
            await server.wait_closed()


def test_a_refused_connection_is_a_connect_error() -> None:
    error = asyncio.run(_post_to(serve=False))
    assert isinstance(error, httpx.ConnectError)


def test_a_connection_lost_after_the_request_left_is_not_taken_for_unsent() -> None:
    error = asyncio.run(_post_to())
    assert not isinstance(error, UNSENT_ERRORS)


def test_an_upload_the_server_stops_reading_fails_as_maybe_sent_instead_of_waiting_for_ever() -> None:
    async def upload_to_a_server_that_never_reads() -> BaseException:
        async def never_reading(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await asyncio.sleep(60)  # a proxy that stopped reading, say
            finally:
                writer.close()

        server = await asyncio.start_server(never_reading, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        photo = (
            "photo.jpg",
            b"\xff\xd8\xff" + bytes(12 * 1024 * 1024),
            "image/jpeg",
        )  # more than the socket buffers hold
        try:
            async with upload_client(base_url=f"http://127.0.0.1:{port}", timeout=1.0) as client:
                with pytest.raises((httpx.TransportError, TimeoutError)) as caught:
                    # Our own bound: the client would otherwise wait for ever.
                    await asyncio.wait_for(client.post("/upload", files={"file": photo}), 15)
                return caught.value
        finally:
            server.close()

    error = asyncio.run(upload_to_a_server_that_never_reads())
    assert isinstance(error, httpx.WriteTimeout), repr(error)
    assert not isinstance(error, UNSENT_ERRORS)
