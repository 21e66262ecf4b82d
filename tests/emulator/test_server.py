"""Starting and stopping the emulator: free ports, busy ports, clean shutdown, and the foreground serve()."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from helpers.images import image_bytes
from helpers.repo import REPO

from joypix_recipes.emulator import Emulator, Knobs
from joypix_recipes.errors import UsageError

from .conftest import Client


def test_two_origins_listen_on_different_free_ports_and_the_workdir_is_cleaned(tmp_path: Path) -> None:
    emulator = Emulator()
    with emulator:
        assert emulator.base_url != emulator.download_base_url
        assert httpx.get(f"{emulator.download_base_url}/files/none.mp4").status_code == 404
        workdir = emulator.workdir
        assert workdir.is_dir()
    assert not workdir.exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{emulator.base_url}/api/credits/balance/simple")


def test_given_workdir_is_kept_after_stop(tmp_path: Path) -> None:
    with Emulator(workdir=tmp_path / "keep") as emulator, httpx.Client(base_url=emulator.base_url) as http:
        client = Client(http)
        client.login()
        client.new_session()
        client.upload("a.png", image_bytes())
    assert len(list((tmp_path / "keep" / "uploads").iterdir())) == 1


def test_busy_port_is_a_usage_error_naming_the_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(UsageError, match=str(port)):
            Emulator(port=port).start()


def test_stop_ends_open_turn_streams_and_running_renders_quickly(tmp_path: Path) -> None:
    knobs = Knobs(turn_latency=30.0, render_latency=30.0, heartbeat_interval=0.05, stub_render=True)
    emulator = Emulator(knobs, workdir=tmp_path / "w").start()
    http = httpx.Client(base_url=emulator.base_url, timeout=10.0)
    client = Client(http)
    client.login()
    client.new_session()
    client.upload("a.png", image_bytes())
    draft = client.state()["data"]["draft"]
    draft["m"].update({"w": 64, "h": 114})
    body = {"id": "render_9_x", "sessionId": client.session_id, "draft": draft, "output": {"format": "mp4"}}
    client.call("POST", "/api/render/proxy/lambda", json=body)
    stream = http.stream("POST", "/run_sse", json=client.turn_request("add a fade"), headers=client.headers())
    response = stream.__enter__()
    next(response.iter_lines())  # the turn is under way
    started = time.monotonic()
    emulator.stop()
    assert time.monotonic() - started < 3.0
    stream.__exit__(None, None, None)
    http.close()


def test_serve_runs_in_the_foreground_until_ctrl_c(tmp_path: Path) -> None:
    code = (
        "import signal, sys\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a script's `&` starts it\n"
        "from joypix_recipes.emulator import Knobs, serve\n"
        "serve('127.0.0.1', 0, Knobs(), on_ready=lambda a, d: print(a, d, flush=True))\n"
        "print('stopped', flush=True)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        base_url, download_url = process.stdout.readline().split()
        headers = {"X-Client-Id": "cli", "X-Skill-Source": "image-to-video-joypix", "X-Skill-Version": "1", "X-Skill-Platform": "unknown"}
        reply = httpx.post(f"{base_url}/api/auth/anonymous-token", headers=headers)
        assert reply.json()["code"] == 0
        assert download_url.startswith("http://127.0.0.1:")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert out == "stopped\n"
    assert err == ""
