"""Running the emulator: two uvicorn servers (API and download origins) on one background event loop.

``Emulator`` is the context manager tests use; ``serve`` is what ``joypix emulator`` runs in the
foreground until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

import uvicorn

from joypix_recipes.emulator.app import create_app
from joypix_recipes.emulator.renders import RenderFarm
from joypix_recipes.emulator.state import EmulatorState, Knobs, Paid
from joypix_recipes.emulator.stream import hide_dropped_stream_logs
from joypix_recipes.errors import JoypixError, UsageError

_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 10.0
_GRACEFUL_S = 1
"""Open turn streams get this long to finish when the emulator stops."""


class Emulator:
    """The JoyPix service emulator on 127.0.0.1 (by default), in a background thread.

    Use as ``with Emulator(Knobs(...)) as emulator:``; ``base_url`` is the API origin and
    ``download_base_url`` the origin finished renders are served from.
    """

    def __init__(
        self,
        knobs: Knobs | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        download_port: int = 0,
        workdir: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.download_port = download_port
        self._own_workdir = workdir is None
        # Named now (tests may look), created by start() and, when ours, removed by stop().
        self.workdir = workdir or Path(tempfile.gettempdir()) / f"joypix-emulator-{secrets.token_hex(6)}"
        self.state = EmulatorState(knobs or Knobs(), self.workdir)
        self.base_url = ""
        self.download_base_url = ""
        self._sockets: list[socket.socket] = []
        self._servers: list[uvicorn.Server] = []
        self._thread: threading.Thread | None = None
        self._farm: RenderFarm | None = None
        self._failure: BaseException | None = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def paid(self) -> Paid:
        """What was paid per session id, ``(turns, renders)``, with ``.turns``/``.renders`` totals."""
        return self.state.paid()

    def paid_by_upload(self) -> dict[str, tuple[int, int]]:
        """Per uploaded file name: ``(turns, renders)`` paid in the sessions it was uploaded to."""
        return self.state.paid_by_upload()

    def start(self) -> Self:
        """Bind both ports, start serving, and return once both origins accept connections."""
        if self._thread is not None:
            return self
        self._sockets = [_bind(self.host, self.port), _bind(self.host, self.download_port)]
        api_port, download_port = (sock.getsockname()[1] for sock in self._sockets)
        self.base_url = f"http://{_url_host(self.host)}:{api_port}"
        self.download_base_url = f"http://{_url_host(self.host)}:{download_port}"
        self.state.download_base_url = self.download_base_url
        self.state.stopping.clear()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._farm = RenderFarm(self.state)
        apps = (create_app(self.state, "api", self._farm), create_app(self.state, "download"))
        self._servers = [uvicorn.Server(_config(app)) for app in apps]
        hide_dropped_stream_logs()  # after uvicorn has (re)configured its loggers
        self._thread = threading.Thread(target=self._run, name="joypix-emulator", daemon=True)
        self._thread.start()
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop both servers and the render workers; returns when their threads have ended."""
        self.state.stopping.set()
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(_STOP_TIMEOUT_S)
            self._thread = None
        if self._farm is not None:
            self._farm.shutdown()
            self._farm = None
        for sock in self._sockets:
            sock.close()
        self._sockets, self._servers = [], []
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve_both())
        except BaseException as error:  # noqa: BLE001 -- reported to start() by _wait_until_ready
            self._failure = error

    async def _serve_both(self) -> None:
        await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in zip(self._servers, self._sockets)))

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._failure is not None or (self._thread is not None and not self._thread.is_alive()):
                raise UsageError(f"the emulator could not start on {self.host}; try another --port")
            if all(server.started for server in self._servers) and all(
                _accepts(url) for url in (self.base_url, self.download_base_url)
            ):
                return
            time.sleep(0.02)
        raise JoypixError(f"the emulator did not start within {_START_TIMEOUT_S:g} seconds")


def _config(app: object) -> uvicorn.Config:
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        lifespan="off",
        log_level="warning",
        access_log=False,
        http="h11",
        loop="asyncio",
        timeout_graceful_shutdown=_GRACEFUL_S,
    )


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (0 picks a free port); UsageError when it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets that say so,
    # and without it every keep-alive reply waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port} ({error.strerror}); choose another --port") from error
    sock.listen(128)
    return sock


def _url_host(host: str) -> str:
    """The host clients should use: a wildcard bind is reached through the loopback address."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _accepts(url: str) -> bool:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=1.0):
            return True
    except OSError:
        return False


def serve(
    host: str,
    port: int,
    knobs: Knobs,
    download_port: int | None = None,
    *,
    on_ready: Callable[[str, str], None] | None = None,
    workdir: Path | None = None,
) -> None:
    """Run the emulator in the foreground until Ctrl-C; ``on_ready(base_url, download_base_url)`` once listening.

    The download origin listens on ``download_port``, else on ``port + 1`` (a free port when ``port`` is 0).
    """
    if download_port is None:
        download_port = port + 1 if port else 0
    # Ctrl-C must stop it even when SIGINT was inherited as ignored (a script's `&` starts it so).
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler) if in_main_thread else None
    try:
        with Emulator(knobs, host=host, port=port, download_port=download_port, workdir=workdir) as emulator:
            if on_ready is not None:
                on_ready(emulator.base_url, emulator.download_base_url)
            try:
                while emulator._thread is not None and emulator._thread.is_alive():
                    time.sleep(0.2)
            except KeyboardInterrupt:
                return
    finally:
        if in_main_thread:
            # None: set outside Python; nothing better to go back to than the default.
            signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
