"""Running the studio: uvicorn and the studio's work on one event loop in a background thread.

``Studio`` is the context manager tests use and `joypix studio` starts; the command's main thread keeps
the stop signals and calls ``stop``, which ends the page streams, the renders and the watcher cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

import uvicorn

from joypix_recipes.errors import JoypixError, UsageError
from joypix_recipes.studio.app import create_app
from joypix_recipes.studio.guard import TOKEN_PARAMETER, Guard, allowed_hosts, new_token
from joypix_recipes.studio.planning import Reader
from joypix_recipes.studio.service import StudioService

if TYPE_CHECKING:
    from joypix_recipes.backends.contract import BackendOptions

log = logging.getLogger(__name__)

_START_TIMEOUT_S = 20.0
_STOP_TIMEOUT_S = 15.0


class Studio:
    """The studio of one recipe, served at ``url`` (which carries the token) until ``stop``."""

    def __init__(
        self,
        recipe: Path,
        *,
        out_dir: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        command_vars: Mapping[str, str] | None = None,
        reader: Reader | None = None,
        options: BackendOptions | None = None,
        token: str | None = None,
    ) -> None:
        self.recipe = Path(recipe).resolve()
        # Messages name the recipe as it was given, as `joypix validate` names it.
        self._recipe_as_given = Path(recipe)
        self.out_dir = (Path(out_dir) if out_dir is not None else self.recipe.parent / "out").resolve()
        self.host = host
        self.port = port
        self.token = token or new_token()
        self.base_url = ""
        self._command_vars = dict(command_vars or {})
        self._reader = reader or Reader()
        self._options = options
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._ready = threading.Event()
        self.service: StudioService | None = None

    @property
    def url(self) -> str:
        """The address to open: the page, with the token."""
        return f"{self.base_url}/?{TOKEN_PARAMETER}={self.token}"

    @property
    def serving(self) -> bool:
        """True from ``start`` until the studio stops (or its thread ended on an error)."""
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Self:
        """Bind, plan the recipe, start serving; returns once the page answers."""
        if not self.recipe.is_file():
            raise UsageError(f"{self.recipe}: no such recipe file")
        try:
            self._socket = socket.create_server((self.host, self.port), family=_family(self.host))
        except OSError as error:
            raise UsageError(f"cannot listen on {self.host}:{self.port} ({error.strerror or error}); try another --port") from error
        self.port = self._socket.getsockname()[1]
        self.base_url = f"http://{'[' + self.host + ']' if ':' in self.host else self.host}:{self.port}"
        self._thread = threading.Thread(target=self._run, name="joypix-studio", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._ready.wait(0.02):
            if self._failure is not None or not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise JoypixError(f"the studio could not start on {self.host}:{self.port}")
        return self

    def stop(self) -> None:
        """Stop serving and rendering; returns when the studio's thread has ended."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(_STOP_TIMEOUT_S)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # noqa: BLE001 -- start() reports it, or the log once serving
            self._failure = error
            log.error("the studio stopped on an unexpected error", exc_info=error)

    async def _serve(self) -> None:
        service = StudioService(
            self._recipe_as_given, self.out_dir, command_vars=self._command_vars, reader=self._reader, options=self._options
        )
        self.service = service
        guarded = Guard(
            create_app(service),
            token=self.token,
            hosts=allowed_hosts(self.host, self.port),
            cookie=f"joypix_studio_{self.port}",
        )
        config = uvicorn.Config(
            guarded, lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=2
        )
        server = uvicorn.Server(config)
        self._server = server
        await service.start()
        serving = asyncio.ensure_future(server.serve(sockets=[self._socket]))  # type: ignore[list-item]
        try:
            while not server.started and not serving.done():
                await asyncio.sleep(0.01)
            self._ready.set()
            # The streams end before uvicorn waits for open connections, or it would wait for them.
            while not server.should_exit and not serving.done():
                await asyncio.sleep(0.05)
            service.events.close()
            await serving
        finally:
            await service.stop()


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
