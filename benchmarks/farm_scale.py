"""Farm at scale, on hosts of their own: stub jobs through 4 worker processes on 2 hosts, then cloud jobs.

    sudo python benchmarks/farm_scale.py [--jobs 10000] [--cloud-jobs 200] [--only cpu|stub|cloud] [--loop-iterations S]

Needs root (network namespaces, as the host tests make them) and `redis-server`. A service host runs
Redis (append-only, with a password, as a farm should) and the cloud emulator; two worker hosts run
`joypix worker` processes; this process submits and follows from the root namespace. Files go through
one folder both worker hosts can reach (S3 through moto would measure moto, not the farm).

1. Stub jobs (a backend that writes four bytes), in three phases:
   - submit with no worker running: jobs/s, Redis commands per job, Redis memory per queued job;
   - start 2 x 2 worker processes (16 slots each) and wait until they have done every job: jobs/s and
     worker time per job (the farm's own overhead: the jobs do nothing), Redis commands per job (minus
     what the idle workers send anyway, measured after), Redis memory with every record kept;
   - one submitter re-attaches to every job and collects its output: time, commands and the
     follower's memory growth per job, and its event loop's longest stall. With --loop-iterations S,
     every loop iteration of that phase longer than S seconds is printed with the callbacks that took
     its time (the instrumentation costs time of its own, so take the phase's figures from a run without).
0. CPU-seconds per local clip per format (no namespaces needed): the figure a capacity plan starts from.
2. Cloud jobs against the emulator (300 ms per turn, 1 s per render, 3 steps) through one worker process
   with 64 slots on each of the 2 worker hosts: wall time against the ideal (one job alone x jobs / 128),
   both measured in this run.
"""

from __future__ import annotations

import argparse
import asyncio
import asyncio.base_events
import asyncio.events
import collections
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "tests"))

from helpers.hosts import Host, Network, namespaces_unavailable, private_network  # noqa: E402
from runner import StubBackend, check, make_jobs  # noqa: E402

from joypix_recipes.backends.contract import BackendOptions  # noqa: E402
from joypix_recipes.backends.ledger import Ledger  # noqa: E402
from joypix_recipes.cluster.farm import run_on_farm, submit_to_farm  # noqa: E402
from joypix_recipes.cluster.settings import ClusterSettings  # noqa: E402
from joypix_recipes.job.actions import Animate, Fade, Text  # noqa: E402
from joypix_recipes.job.export import ExportSettings  # noqa: E402
from joypix_recipes.job.model import Job, PlannedStep  # noqa: E402
from joypix_recipes.run.outcome import RunSummary  # noqa: E402

HEARTBEAT_S = 10.0
PASSWORD = "bench-only"
STUB_SLOTS = 16
CLOUD_SLOTS = 64
TURN_S, RENDER_S = 0.3, 1.0


class _Silent:
    """A reporter that keeps nothing (a job measured alone)."""

    def __init__(self, job: Job) -> None:
        from joypix_recipes.job.model import hash_file, job_identity

        assert job.input.path is not None
        self.input_hash = hash_file(job.input.path)
        self.identity = job_identity(job, self.input_hash)

    def stage(self, text: str) -> None: ...
    def record(self, ledger: Ledger) -> None: ...
    def warn(self, message: str) -> None: ...
    def reply(self, text: str) -> None: ...


def serve_stub(broker: str, storage: str, threads: int) -> None:
    """A worker process (run inside a worker host) whose local backend only writes a tiny file."""
    from joypix_recipes.cluster.serve import serve_one

    serve_one(
        ClusterSettings(broker, storage, HEARTBEAT_S),
        threads=threads,
        queues=("local",),
        backends={"local": lambda options: StubBackend()},
    )


def redis_info(client: Any) -> tuple[int, int]:
    """(commands served so far, bytes of memory in use)."""
    calls = sum(int(stats["calls"]) for stats in client.info("commandstats").values())
    return calls, int(client.info("memory")["used_memory"])


def rss_kib() -> tuple[int, int]:
    """(resident now, peak since the last reset) of this process, in KiB."""
    status = Path("/proc/self/status").read_text()
    value = {key: int(re.search(rf"{key}:\s+(\d+)", status).group(1)) for key in ("VmRSS", "VmHWM")}  # type: ignore[union-attr]
    return value["VmRSS"], value["VmHWM"]


@contextmanager
def farm_hosts(folder: Path) -> Iterator[tuple[Network, str]]:
    """The network, Redis on the service host; yields it and the broker URL."""
    with private_network(folder, ["svc", "w1", "w2"]) as network:
        service = network.hosts["svc"]
        (service.folder / "redis").mkdir()
        service.start(
            [
                "redis-server",
                "--port",
                "6379",
                "--bind",
                service.address,
                "--requirepass",
                PASSWORD,
                "--save",
                "",
                "--appendonly",
                "yes",
                "--dir",
                str(service.folder / "redis"),
            ],
            env=dict(os.environ),
            log="redis.log",
        )
        url = f"redis://:{PASSWORD}@{service.address}:6379/0"
        client = redis_client(url)
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield network, url


def redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, decode_responses=True)


def start_workers(hosts: list[Host], argv: list[str], per_host: int, env: dict[str, str]) -> None:
    for host in hosts:
        for index in range(per_host):
            host.start(argv, env=env, log=f"worker{index}.log")


def wait_for_workers(url: str, count: int) -> None:
    client = redis_client(url)
    deadline = time.monotonic() + 120
    while len(list(client.scan_iter("joypix:worker:*"))) < count:
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not start")
        time.sleep(0.2)


def worker_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "JOYPIX_HEARTBEAT_TIMEOUT": str(HEARTBEAT_S)}


def bench_stub(count: int, folder: Path, loop_iterations: float | None = None) -> None:
    with farm_hosts(folder) as (network, url):
        share = folder / "share"
        share.mkdir()
        settings = ClusterSettings(url, share.as_uri(), HEARTBEAT_S)
        jobs = make_jobs(
            folder / "batch", count, (PlannedStep("a", Animate()),), ExportSettings(), "local", stub_inputs=True
        )
        client = redis_client(url)
        calls0, memory0 = redis_info(client)
        began = time.perf_counter()
        submission = asyncio.run(submit_to_farm(jobs, settings, options=BackendOptions(), force=False))
        submit_s = time.perf_counter() - began
        calls1, memory1 = redis_info(client)
        assert submission.enqueued == count, submission
        print(
            f"stub: submitted {count} jobs in {submit_s:.1f} s -> {count / submit_s:.0f} jobs/s; "
            f"{(calls1 - calls0) / count:.1f} Redis commands per job; "
            f"{(memory1 - memory0) / count:.0f} bytes of Redis memory per queued job "
            f"({(memory1 - memory0) / 1e6:.1f} MB for {count})"
        )

        argv = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--serve-stub",
            url,
            settings.storage_url or "",
            str(STUB_SLOTS),
        ]
        workers = [network.hosts["w1"], network.hosts["w2"]]
        start_workers(workers, argv, 2, worker_env())
        wait_for_workers(url, 4)
        calls2, _ = redis_info(client)
        began = time.perf_counter()
        while int(client.hget("joypix:counts", "done") or 0) < count:
            time.sleep(0.05)
        drain_s = time.perf_counter() - began
        calls3, memory3 = redis_info(client)
        idle_window = 5.0
        time.sleep(idle_window)
        calls4, _ = redis_info(client)
        idle_rate = (calls4 - calls3) / idle_window
        drained = calls3 - calls2
        print(
            f"stub: {count} queued jobs done by 4 worker processes on 2 hosts in {drain_s:.1f} s -> "
            f"{count / drain_s:.0f} jobs/s, {drain_s * 4 / count * 1000:.1f} ms of a worker process per job (the jobs do nothing)"
        )
        print(
            f"stub: Redis commands while the workers drained the queue: {drained / count:.1f} per job; idle workers send "
            f"{idle_rate:.0f}/s -> {(drained - idle_rate * drain_s) / count:.1f} per job beyond the idle polling; "
            f"Redis memory with every record kept: {memory3 / 1e6:.1f} MB, {(memory3 - memory0) / count:.0f} bytes per job"
        )

        rss0, _ = rss_kib()
        Path("/proc/self/clear_refs").write_text("5")  # the peak from here on
        began = time.perf_counter()
        stalls: list[float] = []

        async def follow() -> RunSummary:
            watcher = asyncio.create_task(_watch_loop(stalls))
            try:
                return await run_on_farm(
                    jobs,
                    settings,
                    options=BackendOptions(),
                    out_dir=folder / "batch" / "out",
                    recipe_name="bench",
                    force=False,
                    progress_mode="quiet",
                    verbose=False,
                )
            finally:
                watcher.cancel()

        try:
            with _iteration_probe(loop_iterations):
                check(asyncio.run(follow()))
        except SystemExit as failed:
            print(f"stub: following {count} finished jobs from one submitter FAILED: {failed}")
            print(
                f"stub: the submitter's event loop stalled up to {max(stalls, default=0):.1f} s at a time "
                f"({sum(1 for stall in stalls if stall > 5)} stalls over the 5 s connect timeout)"
            )
        else:
            follow_s = time.perf_counter() - began
            calls5, _ = redis_info(client)
            _, peak = rss_kib()
            print(
                f"stub: one submitter re-attached to and collected all {count} in {follow_s:.1f} s -> "
                f"{follow_s / count * 1000:.2f} ms per job; {(calls5 - calls4 - idle_rate * follow_s) / count:.1f} Redis "
                f"commands per job; resident {rss0 / 1024:.0f} MiB before, peak {peak / 1024:.0f} MiB -> "
                f"{(peak - rss0) / count:.1f} KiB per followed job; its event loop stalled up to "
                f"{max(stalls, default=0):.1f} s at a time"
            )
        for host in workers:
            host.kill_all()


def bench_cloud(count: int, folder: Path) -> None:
    from joypix_recipes.backends.nemo import NemoBackend

    steps = (
        PlannedStep("animate", Animate(motion="zoom-in", duration=2.0)),
        PlannedStep("title", Text(content="Summer sale", position="top")),
        PlannedStep("fade", Fade(fade_in=0.3, fade_out=0.3)),
    )
    export = ExportSettings(aspect="1:1", resolution="480p", fps=Fraction(24), quality="low")
    with farm_hosts(folder) as (network, url):
        service = network.hosts["svc"]
        service.start(
            [
                sys.executable,
                "-m",
                "joypix_recipes",
                "emulator",
                "--host",
                service.address,
                "--port",
                "8765",
                "--turn-latency",
                str(TURN_S),
                "--render-latency",
                str(RENDER_S),
                "--credits",
                "1000000",
                "--knob",
                "stub_render=true",
                "--knob",
                "render_cost=1",
                "--knob",
                "heartbeat_interval=0.5",
            ],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            log="emulator.log",
        )
        base_url = f"http://{service.address}:8765"
        deadline = time.monotonic() + 60
        while "8765" not in service.log("emulator.log"):
            if time.monotonic() > deadline:
                raise SystemExit(f"the emulator did not start: {service.log('emulator.log')}")
            time.sleep(0.2)
        share = folder / "share"
        share.mkdir()
        jobs = make_jobs(folder / "batch", count + 3, steps, export, "nemo", image_size=(320, 240))
        home = folder / "home"
        options = BackendOptions(base_url=base_url, poll_interval=0.05, home=home)
        os.environ.pop("NEMO_TOKEN", None)

        def at(out: Path, batch: list[Job]) -> list[Job]:
            return [replace(job, output=out / job.output.name) for job in batch]

        async def alone(batch: list[Job]) -> float:
            backend = NemoBackend(options)
            began = time.perf_counter()
            try:
                for job in batch:
                    await backend.run_job(job, _Silent(job))
            finally:
                await backend.aclose()
            return time.perf_counter() - began

        asyncio.run(alone(jobs[:1]))  # warm: the token, the first connection
        cpu0 = time.process_time()
        single = asyncio.run(alone(jobs[1:3])) / 2
        single_cpu = (time.process_time() - cpu0) / 2
        settings = ClusterSettings(url, share.as_uri(), HEARTBEAT_S)
        argv = [
            sys.executable,
            "-m",
            "joypix_recipes",
            "worker",
            "--broker",
            url,
            "--threads",
            str(CLOUD_SLOTS),
            "--queues",
            "nemo",
        ]
        start_workers(
            [network.hosts["w1"], network.hosts["w2"]], argv, 1, {**worker_env(), "JOYPIX_POLL_INTERVAL": "0.05"}
        )
        wait_for_workers(url, 2)
        hosts = [network.hosts["w1"], network.hosts["w2"], service]
        workers0 = _host_cpu(hosts[0]) + _host_cpu(hosts[1])
        service0 = _host_cpu_by_name(service)
        began, cpu0 = time.perf_counter(), time.process_time()
        summary = asyncio.run(
            run_on_farm(
                at(folder / "farm", jobs[3:]),
                settings,
                options=options,
                out_dir=folder / "farm",
                recipe_name="bench",
                force=False,
                progress_mode="quiet",
                verbose=False,
            )
        )
        wall, submitter = time.perf_counter() - began, time.process_time() - cpu0
        workers = _host_cpu(hosts[0]) + _host_cpu(hosts[1]) - workers0
        service_cpu = {name: value - service0.get(name, 0.0) for name, value in _host_cpu_by_name(service).items()}
        check(summary)
        ideal = count * single / (2 * CLOUD_SLOTS)
        print(
            f"cloud: one job alone {single:.2f} s ({single_cpu * 1000:.0f} ms of CPU in this process); {count} jobs "
            f"through 2 worker hosts x {CLOUD_SLOTS} slots: {wall:.1f} s; ideal {ideal:.1f} s -> {wall / ideal:.2f}x; "
            f"{count / wall:.1f} jobs/s"
        )
        print(
            f"cloud: CPU per job: worker processes {workers / count * 1000:.0f} ms, submitter {submitter / count * 1000:.0f} ms, "
            + ", ".join(f"{name} {value / count * 1000:.0f} ms" for name, value in sorted(service_cpu.items()))
            + f" (cores busy on average: {(workers + submitter + sum(service_cpu.values())) / wall:.2f} of {os.cpu_count()})"
        )


FORMATS = (("1080p", "9:16", "high"), ("720p", "9:16", "medium"), ("480p", "1:1", "low"))
CPU_CLIPS = 3


def bench_cpu(folder: Path) -> None:
    """CPU-seconds one local render costs per format: ``joypix run`` on 3 photos (5 s, 30 fps, zoom-in from a
    12-megapixel JPEG), its process tree's CPU time less a run's start-up (a run of one 0.1 s clip of a 64 px photo)."""
    from PIL import Image

    photos = folder / "photos"
    photos.mkdir(parents=True)
    import importlib.util

    # The renderer benchmark's photo-like picture (grain, edges, flat areas); loaded by path, as the tests
    # have a package of the same name.
    spec = importlib.util.spec_from_file_location("render_benchmark", REPO / "benchmarks" / "render.py")
    assert spec is not None and spec.loader is not None
    render_benchmark = importlib.util.module_from_spec(spec)
    sys.modules["render_benchmark"] = render_benchmark  # its dataclasses look their module up
    spec.loader.exec_module(render_benchmark)
    make_photo = render_benchmark.make_photo

    for index in range(CPU_CLIPS):
        make_photo(photos / f"p{index}.jpg", (4000, 3000))
    jpeg = sum(photo.stat().st_size for photo in photos.glob("*.jpg")) / CPU_CLIPS
    print(f"cpu: inputs are photo-like 4000x3000 JPEGs of {jpeg / 1e6:.1f} MB")
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def cpu_of(recipe: str, name: str) -> float:
        path = folder / f"{name}.yaml"
        path.write_text(recipe)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "joypix_recipes",
                "run",
                str(path),
                "--out",
                str(folder / name),
                "-q",
                "--concurrency",
                "1",
            ],
            env=env,
        )
        seen: dict[int, float] = {}
        # The renders run in a process pool started by a fork server: not our children, so their CPU time never
        # reaches RUSAGE_CHILDREN. Every process of the tree is sampled until it ends; its last sample counts.
        while process.poll() is None:
            for pid in _descendants(process.pid):
                seen[pid] = max(seen.get(pid, 0.0), _cpu_s(pid))
            time.sleep(0.1)
        if process.returncode != 0:
            raise SystemExit(f"joypix run failed on {path}")
        return sum(seen.values())

    def recipe(resolution: str, aspect: str, quality: str, inputs: str = "photos/*.jpg") -> str:
        return (
            f'version: 1\nname: cpu\ninputs: ["{inputs}"]\nsteps:\n  - animate: {{motion: zoom-in, duration: 5}}\n'
            f'export: {{resolution: {resolution}, aspect: "{aspect}", fps: 30, quality: {quality}}}\n'
        )

    (folder / "tiny").mkdir()
    Image.new("RGB", (64, 64), (90, 120, 200)).save(folder / "tiny" / "t.jpg")
    startup = cpu_of(recipe("480p", "1:1", "low", "tiny/*.jpg").replace("duration: 5", "duration: 0.1"), "startup")
    for resolution, aspect, quality in FORMATS:
        total = cpu_of(recipe(resolution, aspect, quality), f"cpu-{resolution}")
        per_clip = (total - startup) / CPU_CLIPS
        size = sum(clip.stat().st_size for clip in (folder / f"cpu-{resolution}").glob("*.mp4")) / CPU_CLIPS
        print(
            f"cpu: {resolution} {aspect} H.264 ({quality}), 5 s at 30 fps from 12 MP: {per_clip:.2f} CPU-s per clip "
            f"(a run's start-up, {startup:.2f} CPU-s, taken off); {size / 1e6:.2f} MB per clip"
        )


@contextmanager
def _iteration_probe(threshold: float | None) -> Iterator[None]:
    """Print each event loop iteration longer than ``threshold`` seconds with its costliest callbacks.

    asyncio runs every ready callback before it looks at its timers and sockets again, so a stall is either
    one slow callback or many ordinary ones that became ready together; this tells which, and whose.
    """
    if threshold is None:
        yield
        return
    spent: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    run_handle = asyncio.events.Handle._run
    run_once = asyncio.base_events.BaseEventLoop._run_once  # type: ignore[attr-defined]

    def timed_handle(handle: asyncio.events.Handle) -> None:
        key, began = _callback_name(handle), time.perf_counter()
        try:
            run_handle(handle)
        finally:
            spent[key] += time.perf_counter() - began
            calls[key] += 1

    def timed_iteration(loop: asyncio.base_events.BaseEventLoop) -> None:
        spent.clear()
        calls.clear()
        began = time.perf_counter()
        run_once(loop)
        took = time.perf_counter() - began
        if took > threshold:
            top = ", ".join(f"{spent[key]:.2f} s in {calls[key]} x {key}" for key, _ in spent.most_common(4))
            print(f"stub: a loop iteration of {took:.2f} s, {calls.total()} callbacks: {top}", flush=True)

    asyncio.events.Handle._run = timed_handle  # type: ignore[method-assign]
    asyncio.base_events.BaseEventLoop._run_once = timed_iteration  # type: ignore[attr-defined]
    try:
        yield
    finally:
        asyncio.events.Handle._run = run_handle  # type: ignore[method-assign]
        asyncio.base_events.BaseEventLoop._run_once = run_once  # type: ignore[attr-defined]


def _callback_name(handle: asyncio.events.Handle) -> str:
    """A task's step by its coroutine and where the innermost awaited coroutine resumes; else the callback."""
    callback = handle._callback  # type: ignore[attr-defined]
    task = getattr(callback, "__self__", None)
    if not isinstance(task, asyncio.Task):
        return str(getattr(callback, "__qualname__", callback))
    outer = inner = task.get_coro()
    while hasattr(getattr(inner, "cr_await", None), "cr_frame"):
        inner = inner.cr_await  # type: ignore[union-attr]
    frame = getattr(inner, "cr_frame", None)
    return f"{getattr(outer, '__qualname__', outer)} at {getattr(inner, '__qualname__', inner)}:{frame.f_lineno if frame else '-'}"


async def _watch_loop(stalls: list[float]) -> None:
    """How late a 0.1 s sleep wakes, again and again: how long the loop was held by other work."""
    loop = asyncio.get_running_loop()
    while True:
        began = loop.time()
        await asyncio.sleep(0.1)
        stalls.append(loop.time() - began - 0.1)


def _host_cpu(host: Host) -> float:
    """CPU-seconds the processes now running in ``host`` have used so far."""
    return sum(_cpu_s(pid) for pid in host.pids())


def _host_cpu_by_name(host: Host) -> dict[str, float]:
    """The same, per program (redis-server, the emulator's python)."""
    found: dict[str, float] = {}
    for pid in host.pids():
        try:
            name = "Redis" if "redis" in Path(f"/proc/{pid}/comm").read_text() else "emulator"
        except OSError:
            continue
        found[name] = found.get(name, 0.0) + _cpu_s(pid)
    return found


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                pass
    return found


def _cpu_s(pid: int) -> float:
    """User plus system CPU time of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    """Run the selected parts and print their figures."""
    if len(sys.argv) == 5 and sys.argv[1] == "--serve-stub":
        serve_stub(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["stub", "cloud", "cpu"])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--cloud-jobs", type=int, default=200)
    parser.add_argument(
        "--loop-iterations", type=float, metavar="S", help="print the follow phase's loop iterations over S s"
    )
    args = parser.parse_args()
    # A SIGTERM unwinds like Ctrl-C, so the namespaces, the bridge and every process on them are removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    reason = namespaces_unavailable()
    if reason and args.only != "cpu":
        raise SystemExit(f"farm_scale needs network namespaces: {reason}")
    with tempfile.TemporaryDirectory() as temp:
        if args.only in (None, "cpu"):
            bench_cpu(Path(temp) / "cpu")
        if args.only in (None, "stub"):
            bench_stub(args.jobs, Path(temp) / "stub", args.loop_iterations)
        if args.only in (None, "cloud"):
            bench_cloud(args.cloud_jobs, Path(temp) / "cloud")


if __name__ == "__main__":
    main()
