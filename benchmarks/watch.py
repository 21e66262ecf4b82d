"""Hot-folder benchmark: latency from a file's last write to its job's start, throughput against the runner, memory.

Drops N small images at once, then M images written slowly in chunks, into a watched folder served by
`joypix_recipes.watch.watch` with a stub backend (a fixed sleep per job, so only the watcher is measured);
then runs the same N jobs through `Runner.run` as a list. Run from the repo root:

    .venv/bin/python benchmarks/watch.py [--settle 1.0] [--burst 500] [--slow 100] [--job-ms 20] [--polling]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image

from joypix_recipes.backends.contract import JobReporter, JobResult, Resume
from joypix_recipes.job.model import Job
from joypix_recipes.recipe.model import load_recipe
from joypix_recipes.recipe.plan import plan_jobs
from joypix_recipes.run.journal import Journal
from joypix_recipes.run.progress import Progress
from joypix_recipes.run.runner import Runner
from joypix_recipes.watch import WatchConfig, watch
from joypix_recipes.watch.hotfolder import FileEvent

RECIPE = """\
version: 1
name: bench
steps:
  - animate: {motion: zoom-in, duration: 1}
export: {resolution: 480p, aspect: "1:1", fps: 24}
"""


class StubBackend:
    """Sleeps ``seconds`` per job and writes a tiny file; records when each job started."""

    name = "stub"

    def __init__(self, seconds: float, concurrency: int) -> None:
        self.seconds = seconds
        self.concurrency = concurrency
        self.started: dict[str, float] = {}
        self.ended: dict[str, float] = {}

    @property
    def default_concurrency(self) -> int:
        return self.concurrency

    async def run_job(self, job: Job, reporter: JobReporter, resume: Resume | None = None) -> JobResult:
        self.started[job.input.name] = time.monotonic()
        await asyncio.sleep(self.seconds)
        # A plain write: a real backend writes in worker processes, so an fsync here would only
        # measure this machine's disk while blocking the event loop the watcher shares.
        job.output.parent.mkdir(parents=True, exist_ok=True)
        job.output.write_bytes(b"stub")
        self.ended[job.input.name] = time.monotonic()
        return JobResult(output=job.output, poster=None, summary="stub", duration_s=self.seconds)

    async def aclose(self) -> None:
        pass


def png_bytes(index: int, size: int = 24) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (index % 256, (index // 256) % 256, 77)).save(buffer, format="PNG")
    return buffer.getvalue()


def write_burst(folder: Path, images: dict[str, bytes], last_write: dict[str, float]) -> None:
    for name, data in images.items():
        (folder / name).write_bytes(data)
        last_write[name] = time.monotonic()


def write_slowly(folder: Path, images: dict[str, bytes], last_write: dict[str, float], chunks: int, gap: float) -> None:
    """Every file grows by one chunk per round, with ``gap`` seconds between rounds (a slow share)."""
    handles = {name: (folder / name).open("wb") for name in images}
    try:
        for round_index in range(chunks):
            for name, data in images.items():
                step = -(-len(data) // chunks)
                handles[name].write(data[round_index * step : (round_index + 1) * step])
                handles[name].flush()
                if round_index == chunks - 1:
                    last_write[name] = time.monotonic()
            if round_index < chunks - 1:
                time.sleep(gap)
    finally:
        for handle in handles.values():
            handle.close()


def memory_kib() -> tuple[int, int]:
    """Current and peak resident memory of this process, in KiB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def latencies(names: list[str], at: dict[str, float], last_write: dict[str, float]) -> list[float]:
    return [at[name] - last_write[name] for name in names]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def wait_for_done(finished: list[str], count: int, timeout: float) -> None:
    # Watching our own event list, not listing done/, so the waiting costs the process nothing.
    deadline = time.monotonic() + timeout
    while len(finished) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {count} files to be done")
        await asyncio.sleep(0.05)


async def bench_watch(root: Path, args: argparse.Namespace, burst: dict[str, bytes], slow: dict[str, bytes]) -> dict[str, object]:
    folder = root / "in"
    folder.mkdir()
    backend = StubBackend(args.job_ms / 1000, args.concurrency)
    config = WatchConfig.from_args(
        folder, root / "bench.yaml", out_dir=root / "out-watch", backend="stub",
        polling=args.polling, settle_seconds=args.settle,
    )
    stop = asyncio.Event()
    rss_before, _ = memory_kib()
    taken: dict[str, float] = {}
    finished: list[str] = []

    def on_event(event: FileEvent) -> None:
        if event.status == "taken":
            taken[event.path.name] = time.monotonic()
        elif event.status == "done":
            finished.append(event.path.name)
        elif event.status != "taken":
            raise SystemExit(f"unexpected: {event.status} {event.path.name} {event.note}")

    task = asyncio.create_task(
        watch(config, once=False, progress_mode="quiet", verbose=False, stop=stop,
              backends={"stub": lambda options: backend}, progress=Progress(), on_event=on_event)
    )
    await asyncio.sleep(0.3)
    last_write: dict[str, float] = {}

    began = time.monotonic()
    cpu_began = time.process_time()
    await asyncio.to_thread(write_burst, folder, burst, last_write)
    await wait_for_done(finished, len(burst), 300)
    burst_cpu = time.process_time() - cpu_began
    burst_total = max(backend.ended[name] for name in burst) - began
    first_start = min(backend.started[name] for name in burst)
    burst_from_first_job = max(backend.ended[name] for name in burst) - first_start

    slow_began = time.monotonic()
    await asyncio.to_thread(write_slowly, folder, slow, last_write, args.chunks, args.gap)
    await wait_for_done(finished, len(burst) + len(slow), 300)
    slow_total = max(backend.ended[name] for name in slow) - slow_began
    rss_after, peak = memory_kib()
    stop.set()
    code = await task
    return {
        "code": code,
        "burst_latency": latencies(list(burst), backend.started, last_write),
        "slow_latency": latencies(list(slow), backend.started, last_write),
        "burst_taken": latencies(list(burst), taken, last_write),
        "slow_taken": latencies(list(slow), taken, last_write),
        "burst_total": burst_total,
        "burst_from_first_job": burst_from_first_job,
        "burst_cpu": burst_cpu,
        "slow_total": slow_total,
        "rss_before": rss_before,
        "rss_after": rss_after,
        "peak": peak,
    }


async def bench_runner(root: Path, args: argparse.Namespace, burst: dict[str, bytes]) -> tuple[float, float, float, list[float]]:
    """(seconds running the jobs, seconds planning them, CPU seconds for both, each job's wait to start)."""
    folder = root / "list"
    folder.mkdir()
    for name, data in burst.items():
        (folder / name).write_bytes(data)
    cpu_began = time.process_time()
    planning = time.monotonic()
    recipe = load_recipe(root / "bench.yaml")
    jobs = plan_jobs(recipe, inputs=[str(folder / name) for name in burst], out_dir=root / "out-runner", backend="stub").jobs
    planning = time.monotonic() - planning
    backend = StubBackend(args.job_ms / 1000, args.concurrency)
    with Journal.open(root / "out-runner") as journal:
        runner = Runner(backend, journal, Progress())
        began = time.monotonic()
        summary = await runner.run(jobs)
        elapsed = time.monotonic() - began
        await runner.aclose()
    assert summary.exit_code == 0
    waits = [backend.started[name] - began for name in burst]
    return elapsed, planning, time.process_time() - cpu_began, waits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=1.0)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--slow", type=int, default=100)
    parser.add_argument("--chunks", type=int, default=5)
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between chunks of the slow writes")
    parser.add_argument("--job-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--polling", action="store_true")
    args = parser.parse_args()

    burst = {f"burst{index:04d}.png": png_bytes(index) for index in range(args.burst)}
    slow = {f"slow{index:04d}.png": png_bytes(10_000 + index, size=64) for index in range(args.slow)}
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        (root / "bench.yaml").write_text(RECIPE)
        result = asyncio.run(bench_watch(root, args, burst, slow))
        runner_total, runner_planning, runner_cpu, runner_waits = asyncio.run(bench_runner(root, args, burst))
    threads = [thread.name for thread in threading.enumerate() if thread is not threading.main_thread()]

    observer = "polling" if args.polling else "native"
    print(f"observer {observer}, settle {args.settle:.2f} s, stub job {args.job_ms:.0f} ms, concurrency {args.concurrency}")
    for label in ("burst", "slow"):
        for key, what in (("taken", "taken (settled, handed to the runner)"), ("latency", "job start")):
            values = result[f"{label}_{key}"]
            assert isinstance(values, list)
            print(
                f"{label:5} {len(values):4d} files  last write -> {what}: median {statistics.median(values):.3f} s, "
                f"p95 {percentile(values, 0.95):.3f} s, max {max(values):.3f} s"
            )
    print(
        f"(target: p95 under settle + 1 s = {args.settle + 1:.2f} s; for comparison, the runner given the burst as a list "
        f"starts its jobs after median {statistics.median(runner_waits):.3f} s, p95 {percentile(runner_waits, 0.95):.3f} s: "
        f"the queue behind {args.concurrency} slots)"
    )
    burst_total = float(result["burst_total"])  # type: ignore[arg-type]
    from_first = float(result["burst_from_first_job"])  # type: ignore[arg-type]
    print(
        f"burst total {burst_total:.2f} s (from first job start {from_first:.2f} s); runner with the same list "
        f"{runner_total:.2f} s; ratio {burst_total / runner_total:.2f}x (excluding the settle wait {from_first / runner_total:.2f}x)"
    )
    print(
        f"runner with planning {runner_total + runner_planning:.2f} s: ratio {from_first / (runner_total + runner_planning):.2f}x "
        f"excluding the settle wait"
    )
    burst_cpu = float(result["burst_cpu"])  # type: ignore[arg-type]
    print(
        f"CPU per image: watcher {1000 * burst_cpu / args.burst:.1f} ms (with writing the files and settle polling), "
        f"runner with planning {1000 * runner_cpu / args.burst:.1f} ms (all threads of this process)"
    )
    print(f"slow  total {float(result['slow_total']):.2f} s (writes take {(args.chunks - 1) * args.gap:.2f} s)")  # type: ignore[arg-type]
    print(
        f"watcher memory: RSS {int(result['rss_before']) // 1024} MiB before, {int(result['rss_after']) // 1024} MiB after "  # type: ignore[call-overload]
        f"{args.burst + args.slow} files; process peak {int(result['peak']) // 1024} MiB"  # type: ignore[call-overload]
    )
    print(f"exit code {result['code']}; threads left: {threads or 'none'}")


if __name__ == "__main__":
    main()
