"""Farm benchmark: broker overhead per job, local renders through worker processes, cloud jobs on async slots.

    python benchmarks/cluster.py [--only overhead|local|cloud]

Needs `redis-server`; each part starts its own on a free loopback port and its own workers.

1. 1000 jobs that do nothing (a stub backend in the worker writes a tiny file), end to end: stage,
   enqueue, lease, commit to a shared folder, follow, download. Per-job time against the runner with
   the same stub in this process, measured in the same run. Target: under 10 ms per job.
2. 16 local renders through 2 worker processes (one slot each) vs the local runner at concurrency 2.
   Target: at most 1.1x.
3. 200 cloud jobs (emulator: 300 ms per turn, 1 s per render) through one worker with 64 async slots.
   Ideal: 200 x one job alone / 64, with one job alone measured with the plain runner. Target: <= 1.3x.
   Also the plain runner in this process at 64 slots on the same jobs, so a machine too busy to reach
   the ideal at all shows as such.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from runner import StubBackend, check, emulator_process, make_image, make_jobs, run_jobs

from joypix_recipes.backends.contract import BackendOptions
from joypix_recipes.cluster.farm import run_on_farm
from joypix_recipes.cluster.settings import ClusterSettings
from joypix_recipes.job.actions import Animate, Fade, Text
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.job.model import Job, PlannedStep

HEARTBEAT_S = 10.0


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A throwaway redis-server with append-only persistence, as the farm is meant to run."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(10)


def wait_for_workers(url: str, count: int) -> None:
    """Until ``count`` workers have sent a heartbeat."""
    import redis

    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 60
    while client.zcard("joypix:__heartbeats__") < count:
        if time.monotonic() > deadline:
            raise SystemExit("workers did not start")
        time.sleep(0.1)


def _stub_worker(url: str, storage: str, threads: int) -> None:
    """A worker process whose local backend does nothing but write a tiny file."""
    from joypix_recipes.cluster.serve import serve_one

    settings = ClusterSettings(url, storage, HEARTBEAT_S)
    serve_one(settings, threads=threads, queues=("local",), backends={"local": lambda options: StubBackend()})


@contextlib.contextmanager
def workers(command: list[str], count: int, env: dict[str, str]) -> Iterator[None]:
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)]
    try:
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(60)


def farm_run(jobs: list[Job], settings: ClusterSettings, out: Path, options: BackendOptions) -> float:
    began = time.perf_counter()
    summary = asyncio.run(
        run_on_farm(jobs, settings, options=options, out_dir=out, recipe_name="bench", force=False,
                    progress_mode="quiet", verbose=False)
    )
    check(summary)
    return time.perf_counter() - began


def retarget(jobs: list[Job], out: Path) -> list[Job]:
    return [replace(job, output=out / job.output.name) for job in jobs]


def bench_overhead(count: int) -> None:
    with tempfile.TemporaryDirectory() as temp, redis_server(Path(temp)) as url:
        folder = Path(temp)
        (folder / "share").mkdir()
        jobs = make_jobs(folder, count, (PlannedStep("a", Animate()),), ExportSettings(), "local")
        local, summary = asyncio.run(run_jobs(StubBackend(), retarget(jobs, folder / "local"), folder / "local", 16))
        check(summary)
        settings = ClusterSettings(url, (folder / "share").as_uri(), HEARTBEAT_S)
        worker = multiprocessing.get_context("spawn").Process(target=_stub_worker, args=(url, settings.storage_url, 16))
        worker.start()
        try:
            wait_for_workers(url, 1)
            wall = farm_run(retarget(jobs, folder / "farm"), settings, folder / "farm", BackendOptions())
        finally:
            os.kill(worker.pid or 0, signal.SIGTERM)
            worker.join(60)
        per_job = wall / count * 1000
        print(f"overhead: {count} no-op jobs through the farm (1 worker, 16 slots): {wall:.2f} s -> {per_job:.2f} ms/job "
              f"(target < 10 ms, {per_job / 10:.2f}x of it); the local runner on the same stub: {local:.2f} s "
              f"-> {local / count * 1000:.2f} ms/job, farm/local {wall / local:.1f}x")


def bench_local(count: int) -> None:
    steps = (PlannedStep("animate", Animate(motion="zoom-in", duration=2.0)),)
    export = ExportSettings(aspect="9:16", resolution="720p", fps=30, quality="medium")
    with tempfile.TemporaryDirectory() as temp, redis_server(Path(temp)) as url:
        folder = Path(temp)
        (folder / "share").mkdir()
        jobs = make_jobs(folder, count, steps, export, "local")
        for job in jobs:
            make_image(job.input.path, job.input.index, (4000, 3000))  # type: ignore[arg-type]
        from joypix_recipes.backends.local import LocalBackend

        local, summary = asyncio.run(
            run_jobs(LocalBackend(BackendOptions(workers=2)), retarget(jobs, folder / "local"), folder / "local", 2)
        )
        check(summary)
        settings = ClusterSettings(url, (folder / "share").as_uri(), HEARTBEAT_S)
        command = [sys.executable, "-m", "joypix_recipes", "worker", "--broker", url, "--threads", "1", "--queues", "local"]
        with workers(command, 2, {**os.environ, "PYTHONPATH": str(REPO)}):
            wait_for_workers(url, 2)
            wall = farm_run(retarget(jobs, folder / "farm"), settings, folder / "farm", BackendOptions())
        print(f"local: {count} renders, local runner at concurrency 2 {local:.2f} s; 2 worker processes {wall:.2f} s "
              f"-> {wall / local:.3f}x (target <= 1.1x)")


def bench_cloud(count: int, slots: int) -> None:
    from joypix_recipes.backends.nemo import NemoBackend

    steps = (
        PlannedStep("animate", Animate(motion="zoom-in", duration=2.0)),
        PlannedStep("title", Text(content="Summer sale", position="top")),
        PlannedStep("fade", Fade(fade_in=0.3, fade_out=0.3)),
    )
    export = ExportSettings(aspect="1:1", resolution="480p", fps=24, quality="low")
    with tempfile.TemporaryDirectory() as temp, redis_server(Path(temp)) as url, emulator_process() as base_url:
        folder = Path(temp)
        (folder / "share").mkdir()
        jobs = make_jobs(folder, count + 3, steps, export, "nemo")
        home = folder / "home"
        options = BackendOptions(base_url=base_url, poll_interval=0.05, home=home)
        os.environ.pop("NEMO_TOKEN", None)
        asyncio.run(run_jobs(NemoBackend(options), retarget(jobs[:1], folder / "warm"), folder / "warm", 1))
        two, summary = asyncio.run(run_jobs(NemoBackend(options), retarget(jobs[1:3], folder / "one"), folder / "one", 1))
        check(summary)
        single = two / 2
        runner, summary = asyncio.run(run_jobs(NemoBackend(options), retarget(jobs[3:], folder / "runner"), folder / "runner", slots))
        check(summary)
        settings = ClusterSettings(url, (folder / "share").as_uri(), HEARTBEAT_S)
        command = [sys.executable, "-m", "joypix_recipes", "worker", "--broker", url, "--threads", str(slots), "--queues", "nemo"]
        env = {**os.environ, "PYTHONPATH": str(REPO), "JOYPIX_HOME": str(home)}
        with workers(command, 1, env):
            wait_for_workers(url, 1)
            wall = farm_run(retarget(jobs[3:], folder / "farm"), settings, folder / "farm", options)
        ideal = count * single / slots
        print(f"cloud: one job alone {single:.2f} s; {count} jobs through 1 worker with {slots} slots: {wall:.2f} s; "
              f"ideal {ideal:.2f} s -> {wall / ideal:.3f}x (target <= 1.3x); the runner in this process at "
              f"{slots} slots {runner:.2f} s ({runner / ideal:.3f}x of ideal) -> farm/runner {wall / runner:.3f}x")


def main() -> None:
    """Run the selected benchmarks and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["overhead", "local", "cloud"])
    parser.add_argument("--jobs-overhead", type=int, default=1000)
    parser.add_argument("--jobs-local", type=int, default=16)
    parser.add_argument("--jobs-cloud", type=int, default=200)
    parser.add_argument("--slots", type=int, default=64)
    args = parser.parse_args()
    if args.only in (None, "overhead"):
        bench_overhead(args.jobs_overhead)
    if args.only in (None, "local"):
        bench_local(args.jobs_local)
    if args.only in (None, "cloud"):
        bench_cloud(args.jobs_cloud, args.slots)


if __name__ == "__main__":
    main()
