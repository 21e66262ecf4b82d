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
   the ideal at all shows as such. CPU seconds of every process (this one, the worker, Redis, the
   emulator) in both runs, the worker's CPU by thread kind, the jobs the worker held at once (from the
   records' start and finish times), how long messages waited for a slot, the farm's CPU per job
   beyond the runner's, and Redis commands per job. With JOYPIX_BENCH_PROFILE=PREFIX the worker's event
   loop thread and the submitting thread run under cProfile (CPU time), their stats in PREFIX.worker and
   PREFIX.submitter (pstats format); JOYPIX_BENCH_PROFILE_ONLY=worker or submitter profiles one of them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
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
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes",
            "--dir",
            str(folder),
        ],
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
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)
    ]
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
        run_on_farm(
            jobs,
            settings,
            options=options,
            out_dir=out,
            recipe_name="bench",
            force=False,
            progress_mode="quiet",
            verbose=False,
        )
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
        print(
            f"overhead: {count} no-op jobs through the farm (1 worker, 16 slots): {wall:.2f} s -> {per_job:.2f} ms/job "
            f"(target < 10 ms, {per_job / 10:.2f}x of it); the local runner on the same stub: {local:.2f} s "
            f"-> {local / count * 1000:.2f} ms/job, farm/local {wall / local:.1f}x"
        )


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
        command = [
            sys.executable,
            "-m",
            "joypix_recipes",
            "worker",
            "--broker",
            url,
            "--threads",
            "1",
            "--queues",
            "local",
        ]
        with workers(command, 2, {**os.environ, "PYTHONPATH": str(REPO)}):
            wait_for_workers(url, 2)
            wall = farm_run(retarget(jobs, folder / "farm"), settings, folder / "farm", BackendOptions())
        print(
            f"local: {count} renders, local runner at concurrency 2 {local:.2f} s; 2 worker processes {wall:.2f} s "
            f"-> {wall / local:.3f}x (target <= 1.1x)"
        )


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROFILE_ENV = "JOYPIX_BENCH_PROFILE"
PROFILE_ONLY_ENV = "JOYPIX_BENCH_PROFILE_ONLY"


def profile_prefix(part: str) -> str:
    """Where ``part`` (worker, submitter) writes its profile, or "" when it is not profiled."""
    only = os.environ.get(PROFILE_ONLY_ENV, "")
    return os.environ.get(PROFILE_ENV, "") if only in ("", part) else ""


def process_cpu(pid: int | str) -> float:
    """User + system CPU seconds of a process (or ``self/task/TID`` thread) so far, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children() -> dict[int, str]:
    """This process's children: pid -> command line."""
    found: dict[int, str] = {}
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            for pid in (task / "children").read_text().split():
                with contextlib.suppress(OSError):
                    found[int(pid)] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return found


def child_cpu(marker: str) -> float:
    """CPU seconds so far of this process's children whose command line holds ``marker``."""
    return sum(process_cpu(pid) for pid, command in children().items() if marker in command)


def as_worker(stats: Path, argv: list[str]) -> int:
    """``joypix worker`` in this process, noting its CPU by thread kind into ``stats`` (JSON) when it stops;
    with $JOYPIX_BENCH_PROFILE the event loop thread runs under cProfile."""
    import cProfile
    import json
    import threading

    from dramatiq.asyncio import get_event_loop_thread

    from joypix_recipes.cli.main import main as cli_main

    profile_to = profile_prefix("worker") and profile_prefix("worker") + ".worker"
    profiler = cProfile.Profile(time.thread_time) if profile_to else None  # CPU, not GIL waits
    seen: dict[int, tuple[str, float]] = {}
    stop = threading.Event()

    def kind(thread: threading.Thread) -> str:
        name = type(thread).__name__
        if name == "Thread":
            return thread.name.split("_")[0].split("-")[0].rstrip("0123456789") or "thread"
        return name

    def sample() -> None:
        profiling = False
        while not stop.wait(0.5):
            loop_thread = get_event_loop_thread()
            if profiler is not None and not profiling and loop_thread is not None:
                loop_thread.loop.call_soon_threadsafe(profiler.enable)
                profiling = True
            for thread in threading.enumerate():
                if thread.native_id is not None and thread is not threading.current_thread():
                    seen[thread.native_id] = (kind(thread), process_cpu(f"self/task/{thread.native_id}"))

    sampler = threading.Thread(target=sample, name="bench-sampler", daemon=True)
    sampler.start()
    code = cli_main(argv)
    stop.set()
    sampler.join()
    by_kind: dict[str, float] = {}
    for name, cpu in seen.values():
        by_kind[name] = by_kind.get(name, 0.0) + cpu
    total = os.times()
    stats.write_text(json.dumps({"total": total.user + total.system, "threads": by_kind}))
    if profiler is not None and profile_to:
        profiler.create_stats()
        profiler.dump_stats(profile_to)
    return code


@contextlib.contextmanager
def profiled(prefix: str, suffix: str) -> Iterator[None]:
    """This thread under cProfile (CPU time) when ``prefix`` is given; stats to prefix + suffix."""
    if not prefix:
        yield
        return
    import cProfile

    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(prefix + suffix)


def held_at_once(records: list[dict[str, str]]) -> tuple[int, float, float, float]:
    """From the finished records: most jobs running at once, mean wait from queued to started, mean time
    from started to finished, and the span from the first start to the last finish."""
    events: list[tuple[float, int]] = []
    waits, runs = [], []
    for fields in records:
        queued, started, finished = (
            float(fields.get(name) or 0) for name in ("queued_at", "started_at", "finished_at")
        )
        events += [(started, 1), (finished, -1)]
        waits.append(started - queued)
        runs.append(finished - started)
    most = current = 0
    for _, step in sorted(events):
        current += step
        most = max(most, current)
    span = max(at for at, _ in events) - min(at for at, _ in events)
    return most, sum(waits) / len(waits), sum(runs) / len(runs), span


def redis_commands(url: str) -> dict[str, int]:
    """Calls per Redis command so far (INFO commandstats); a script's own commands count apart from its EVALSHA."""
    import redis

    stats = redis.Redis.from_url(url).info("commandstats")
    return {name.removeprefix("cmdstat_"): int(fields["calls"]) for name, fields in stats.items()}


def farm_records(url: str) -> list[dict[str, str]]:
    import redis

    client = redis.Redis.from_url(url, decode_responses=True)
    return [client.hgetall(key) for key in client.scan_iter("joypix:job:*", count=1000)]


def bench_cloud(count: int, slots: int) -> None:
    import json

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
        two, summary = asyncio.run(
            run_jobs(NemoBackend(options), retarget(jobs[1:3], folder / "one"), folder / "one", 1)
        )
        check(summary)
        single = two / 2
        cpu = Cpu()
        runner, summary = asyncio.run(
            run_jobs(NemoBackend(options), retarget(jobs[3:], folder / "runner"), folder / "runner", slots)
        )
        check(summary)
        runner_cpu = cpu.spent()
        runner_job_s = sum(outcome.duration_s for outcome in summary.outcomes) / count
        settings = ClusterSettings(url, (folder / "share").as_uri(), HEARTBEAT_S)
        stats = folder / "worker.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--as-worker",
            str(stats),
            "--",
            "worker",
            "--broker",
            url,
            "--threads",
            str(slots),
            "--queues",
            "nemo",
        ]
        env = {**os.environ, "PYTHONPATH": str(REPO), "JOYPIX_HOME": str(home)}
        with workers(command, 1, env):
            wait_for_workers(url, 1)
            cpu, worker_before, commands = Cpu(), child_cpu("--as-worker"), redis_commands(url)
            with profiled(profile_prefix("submitter"), ".submitter"):
                wall = farm_run(retarget(jobs[3:], folder / "farm"), settings, folder / "farm", options)
            farm_cpu = cpu.spent()
            worker_now = child_cpu("--as-worker") - worker_before
            commands = {name: calls - commands.get(name, 0) for name, calls in redis_commands(url).items()}
        worker = json.loads(stats.read_text())
        most, wait_s, run_s, span = held_at_once(farm_records(url))
        ideal = count * single / slots
        print(
            f"cloud: one job alone {single:.2f} s; {count} jobs through 1 worker with {slots} slots: {wall:.2f} s; "
            f"ideal {ideal:.2f} s -> {wall / ideal:.3f}x (target <= 1.3x); the runner in this process at "
            f"{slots} slots {runner:.2f} s ({runner / ideal:.3f}x of ideal) -> farm/runner {wall / runner:.3f}x"
        )
        print(
            f"cloud: worker held at most {most}/{slots} jobs at once; a message waited {wait_s:.2f} s for a slot "
            f"on average; a job took {run_s:.2f} s on the worker (first start to last finish {span:.2f} s) "
            f"against {runner_job_s:.2f} s in the runner at {slots} slots"
        )
        farm_total = farm_cpu.client + worker_now + farm_cpu.redis + farm_cpu.emulator
        runner_total = runner_cpu.client + runner_cpu.redis + runner_cpu.emulator
        print(
            f"cloud: CPU s, runner run: this process {runner_cpu.client:.2f}, emulator {runner_cpu.emulator:.2f}"
            f" -> {runner_total:.2f}; farm run: submitter {farm_cpu.client:.2f}, worker {worker_now:.2f} "
            f"(all its life {worker['total']:.2f}), Redis {farm_cpu.redis:.2f}, emulator {farm_cpu.emulator:.2f} "
            f"-> {farm_total:.2f}; farm CPU beyond the runner's: "
            f"{(farm_total - runner_total) / count * 1000:.1f} ms/job"
        )
        threads = ", ".join(
            f"{name} {spent:.2f}" for name, spent in sorted(worker["threads"].items(), key=lambda item: -item[1])
        )
        print(f"cloud: worker CPU s by thread: {threads}")
        shown = ", ".join(
            f"{name} {calls / count:.1f}"
            for name, calls in sorted(commands.items(), key=lambda item: -item[1])
            if calls >= count / 10
        )
        print(f"cloud: Redis commands per job (all clients): {sum(commands.values()) / count:.1f}: {shown}")


class Cpu:
    """CPU seconds spent from now by this process, Redis and the emulator."""

    def __init__(self) -> None:
        self.began = self._now()

    @staticmethod
    def _now() -> tuple[float, float, float]:
        return time.process_time(), child_cpu("redis-server"), child_cpu("emulator")

    def spent(self) -> Spent:
        now = self._now()
        return Spent(*(after - before for after, before in zip(now, self.began)))


@dataclasses.dataclass(frozen=True)
class Spent:
    client: float
    redis: float
    emulator: float


def main() -> None:
    """Run the selected benchmarks and print their figures."""
    if len(sys.argv) > 3 and sys.argv[1] == "--as-worker" and sys.argv[3] == "--":
        raise SystemExit(as_worker(Path(sys.argv[2]), sys.argv[4:]))
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
