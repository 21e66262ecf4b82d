"""Fixtures for farm tests: a real redis-server on a free loopback port, worker subprocesses, a small batch.

Every service runs for real: Redis with append-only persistence in the test's folder (so it can be
restarted mid-run without losing the queue), `joypix worker` and `joypix run` as separate processes.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helpers.recipes import write_photo_batch
from helpers.repo import REPO
from helpers.runs import events_of
from helpers.waiting import wait_until

HEARTBEAT_S = 1.5
"""Short, so a killed worker's job comes back within seconds."""

RECIPE = """\
version: 1
name: farm-test
inputs: ["photos/*.jpg"]
steps:
  - name: move
    animate: {motion: zoom-in, duration: 1}
export: {resolution: 480p, aspect: "1:1", fps: 24, quality: low}
"""

needs_redis = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RedisServer:
    """A redis-server process we can stop and start again on the same port and data folder."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, 10, "redis-server did not start")

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # a clean shutdown writes the append-only file out
            self.process.wait(10)

    def client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url, decode_responses=True)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder)
    server.start()
    yield server
    server.stop()


def environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("JOYPIX_", "NEMO_"))}
    return {**env, "PYTHONPATH": str(REPO), "JOYPIX_HEARTBEAT_TIMEOUT": str(HEARTBEAT_S), **extra}


@dataclass
class Farm:
    """Workers and submissions against one Redis and one shared folder."""

    redis: RedisServer
    storage: Path
    root: Path
    env: dict[str, str]
    workers: list[subprocess.Popen[str]] = field(default_factory=list)
    submitters: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def storage_url(self) -> str:
        return self.storage.as_uri()

    def worker(self, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        # The child keeps its own copy of the log's descriptor; ours closes once it is started.
        with (self.root / f"worker{len(self.workers)}.log").open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "joypix_recipes", "worker", "--broker", self.redis.url, "--storage",
                 self.storage_url, "--threads", "1", *extra],
                stdout=log, stderr=subprocess.STDOUT, text=True, env={**self.env, **(env or {})}, start_new_session=True,
            )
        self.workers.append(process)
        return process

    def run(self, recipe: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        submitter = subprocess.Popen(
            [sys.executable, "-m", "joypix_recipes", "run", str(recipe), "--out", str(out), "--json",
             "--broker", self.redis.url, "--storage", self.storage_url, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**self.env, **(env or {})},
            start_new_session=True,
        )
        self.submitters.append(submitter)
        return submitter

    def records(self) -> dict[str, dict[str, str]]:
        client = self.redis.client()
        return {key.split(":", 2)[2]: client.hgetall(key) for key in client.scan_iter("joypix:job:*")}

    def stop(self) -> None:
        # Submitters too: one a failed test left running would otherwise outlive it and fail a later one.
        for process in [*self.workers, *self.submitters]:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate(timeout=10)


@pytest.fixture
def farm(redis_server: RedisServer, tmp_path: Path) -> Iterator[Farm]:
    storage = tmp_path / "share"
    storage.mkdir()
    running = Farm(redis_server, storage, tmp_path, environment())
    yield running
    running.stop()


def write_batch(folder: Path, count: int = 2, recipe: str = RECIPE) -> Path:
    return write_photo_batch(folder, recipe, [(40 * index % 255, 200, 90) for index in range(count)], (320, 240))


def finish(process: subprocess.Popen[str], timeout: float = 90) -> tuple[int, list[dict[str, Any]], str]:
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, events_of(stdout), stderr
