"""A farm on hosts of its own: Redis and the cloud emulator on a service host, S3 (moto) on a storage host,
and two worker hosts, each a network namespace on a private bridge; the submitter stays in the root namespace.

Workers share no file system: each has its own scratch folder and home, and files travel only through
the S3 URL. The network and the long-lived servers are made once per module; each test gets a fresh
Redis database, a fresh bucket, a fresh emulator and its own workers, and every link is put back up.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helpers.hosts import Host, Network, namespaces_unavailable, private_network
from helpers.recipes import write_photo_batch
from helpers.runs import events_of
from helpers.waiting import wait_until

from cluster.conftest import environment
from joypix_recipes.emulator import Emulator, Knobs

HEARTBEAT_S = 2.0
"""How long a silent worker host is taken for alive: short, so a cut-off host's job moves within seconds."""
REDIS_PORT = 6379
REDIS_PASSWORD = "hosts-only"
"""A host reachable from others needs one (Redis refuses outside connections without), as a real farm would."""
S3_PORT = 5000
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
CLOUD_RECIPE = """\
version: 1
name: hosts
backend: nemo
inputs: ["photos/*.jpg"]
steps:
  - animate: {motion: zoom-in, duration: 1}
export: {aspect: "1:1", resolution: 480p, fps: 24, quality: low}
"""


def _skip_reason() -> str | None:
    missing = [name for name in ("redis-server", "moto_server") if not _which(name)]
    if missing:
        return f"{', '.join(missing)} not installed"
    return namespaces_unavailable()


def _which(name: str) -> str | None:
    import shutil

    return shutil.which(name) or (str(Path(sys.executable).parent / name) if (Path(sys.executable).parent / name).exists() else None)


@dataclass
class HostFarm:
    """The hosts, their servers, and what a test needs to drive them."""

    network: Network
    root: Path
    bucket: str = "farm"
    redis: subprocess.Popen[str] | None = None
    emulator: Emulator | None = None
    workers: dict[str, subprocess.Popen[str]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    @property
    def service(self) -> Host:
        return self.network.hosts["svc"]

    @property
    def store(self) -> Host:
        return self.network.hosts["s3"]

    @property
    def worker_hosts(self) -> tuple[Host, Host]:
        return self.network.hosts["w1"], self.network.hosts["w2"]

    @property
    def redis_url(self) -> str:
        return f"redis://:{REDIS_PASSWORD}@{self.service.address}:{REDIS_PORT}/0"

    @property
    def storage_url(self) -> str:
        return f"s3://{self.bucket}/jobs"

    @property
    def s3_env(self) -> dict[str, str]:
        return {**S3_ENV, "AWS_ENDPOINT_URL": f"http://{self.store.address}:{S3_PORT}"}

    def start_redis(self) -> None:
        """redis-server on the service host, append-only with every write synced, so a killed one restarts whole."""
        folder = self.service.folder / "redis"
        folder.mkdir(exist_ok=True)
        self.redis = self.service.start(
            ["redis-server", "--port", str(REDIS_PORT), "--bind", self.service.address, "--requirepass", REDIS_PASSWORD,
             "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", str(folder)],
            env=environment(), log="redis.log",
        )
        wait_until(self.redis_answers, 15, "redis-server did not start on the service host")

    def kill_redis(self) -> None:
        """SIGKILL redis-server, as a host losing power would."""
        assert self.redis is not None
        self.redis.send_signal(signal.SIGKILL)
        self.redis.wait(10)
        self.service.processes.remove(self.redis)

    def redis_answers(self) -> bool:
        import redis

        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.redis_url, decode_responses=True, socket_connect_timeout=1, socket_timeout=5)

    def s3(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.s3_env["AWS_ENDPOINT_URL"], aws_access_key_id="testing",
                            aws_secret_access_key="testing", region_name="us-east-1")

    def make_bucket(self) -> None:
        """The versioned bucket every worker is pointed at: its versions show how many times each key was written."""
        client = self.s3()
        client.create_bucket(Bucket=self.bucket)
        client.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})

    def empty_bucket(self) -> None:
        """Every version of every key removed, so a test counts only its own writes."""
        client = self.s3()
        listed = client.list_object_versions(Bucket=self.bucket)
        for item in listed.get("Versions", []) + listed.get("DeleteMarkers", []):
            client.delete_object(Bucket=self.bucket, Key=item["Key"], VersionId=item["VersionId"])

    def versions(self, prefix: str = "jobs/outputs/") -> dict[str, int]:
        """How many times each key under ``prefix`` was written."""
        listed = self.s3().list_object_versions(Bucket=self.bucket, Prefix=prefix)
        counts: dict[str, int] = {}
        for version in listed.get("Versions", []):
            counts[version["Key"]] = counts.get(version["Key"], 0) + 1
        return counts

    def worker(self, host: Host, *extra: str) -> subprocess.Popen[str]:
        """``joypix worker`` on ``host``, seeing the farm only through the network."""
        process = host.start(
            [sys.executable, "-m", "joypix_recipes", "worker", "--broker", self.redis_url, "--storage", self.storage_url,
             "--threads", "2", "-v", *extra],
            env={**environment(JOYPIX_HEARTBEAT_TIMEOUT=str(HEARTBEAT_S), JOYPIX_POLL_INTERVAL="0.1"), **self.s3_env},
            log="worker.log",
        )
        self.workers[host.name] = process
        self.names.pop(host.name, None)
        return process

    def worker_name(self, host: Host) -> str | None:
        """The name the worker on ``host`` gave itself (its first log line says it)."""
        if host.name not in self.names:
            found = re.search(r"worker (\S+) on redis://", host.log("worker.log"))
            if found is None:
                return None
            self.names[host.name] = found.group(1)
        return self.names[host.name]

    def start_workers(self) -> None:
        """A worker on each worker host: the one already there while it lives (starting one costs seconds)."""
        for host in self.worker_hosts:
            running = self.workers.get(host.name)
            if running is None or running.poll() is not None:
                host.kill_all()
                self.worker(host)
        wait_until(lambda: all(self.worker_name(host) for host in self.worker_hosts), 60, "workers did not start")

    def submit(self, recipe: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
        """``joypix run --broker`` from the root namespace, reaching the hosts over the bridge."""
        assert self.emulator is not None
        return subprocess.Popen(
            [sys.executable, "-m", "joypix_recipes", "run", str(recipe), "--out", str(out), "--json", "--broker",
             self.redis_url, "--storage", self.storage_url, "--base-url", self.emulator.base_url, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
            env={**environment(JOYPIX_HEARTBEAT_TIMEOUT=str(HEARTBEAT_S), JOYPIX_POLL_INTERVAL="0.1",
                              JOYPIX_HOME=str(self.root / "submitter-home")), **self.s3_env},
        )

    def records(self) -> dict[str, dict[str, str]]:
        client = self.client()
        return {key.split(":", 2)[2]: client.hgetall(key) for key in client.scan_iter("joypix:job:*")}

    def holder(self) -> Host | None:
        """The worker host whose worker runs a job that has started its cloud render."""
        for record in self.records().values():
            if record.get("state") == "running" and record.get("render_id"):
                for host in self.worker_hosts:
                    if record.get("worker") == self.worker_name(host):
                        return host
        return None

    @contextmanager
    def cloud(self, knobs: Knobs) -> Iterator[Emulator]:
        """The cloud emulator served from the service host (the test reads its paid counters)."""
        with self.service.inside():
            emulator = Emulator(knobs, host=self.service.address, workdir=self.root / "emulator").start()
        self.emulator = emulator
        try:
            yield emulator
        finally:
            emulator.stop()
            self.emulator = None

    def reset(self) -> None:
        """Between tests: every link up, the workers gone, Redis running and empty, a fresh bucket."""
        for host in self.network.hosts.values():
            host.link_up()
        if self.redis is None or self.redis.poll() is not None:
            self.start_redis()
        self.client().flushall()
        self.empty_bucket()
        for host in self.worker_hosts:
            self.worker_name(host)  # learnt before the log is emptied
            (host.folder / "worker.log").open("w").close()  # the workers append: each test reads only its own lines


@pytest.fixture(scope="module")
def host_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostFarm]:
    reason = _skip_reason()
    if reason:
        pytest.skip(f"farm host tests need their own network namespaces: {reason}")
    root = tmp_path_factory.mktemp("hosts")
    with private_network(root, ["svc", "s3", "w1", "w2"]) as network:
        farm = HostFarm(network, root)
        farm.start_redis()
        server = _which("moto_server")
        assert server is not None
        farm.store.start([server, "-H", farm.store.address, "-p", str(S3_PORT)], env=environment(), log="moto.log")
        wait_until(_bucket_made(farm), 60, "moto_server did not start on the storage host")
        yield farm


def _bucket_made(farm: HostFarm) -> Any:
    def made() -> bool:
        import botocore.exceptions

        try:
            farm.make_bucket()
        except botocore.exceptions.EndpointConnectionError:
            return False
        return True

    return made


@pytest.fixture
def hosts(host_network: HostFarm) -> Iterator[HostFarm]:
    """The module's host farm, reset for this test (links restored after it); workers live on between tests."""
    host_network.reset()
    yield host_network
    for host in host_network.network.hosts.values():
        host.link_up()


def write_cloud_batch(folder: Path, count: int) -> Path:
    return write_photo_batch(folder, CLOUD_RECIPE, [(40 * index % 255, 200, 90) for index in range(count)], (160, 160))


def finish(process: subprocess.Popen[str], timeout: float = 60) -> tuple[int, list[dict[str, Any]], str]:
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        raise AssertionError(f"the submitter did not finish: {stderr[-2000:]}") from None
    return process.returncode, events_of(stdout), stderr
