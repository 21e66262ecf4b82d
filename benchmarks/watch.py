"""Hot-folder benchmark: latency from a file's last write to its job's start, throughput against the runner, memory.

Drops N small images at once, then M images written slowly in chunks, into a watched folder served by
`joypix_recipes.watch.watch` with a stub backend (a fixed sleep per job, so only the watcher is measured);
then runs the same N jobs, and the M slow ones, through `Runner.run` as lists. Run from the repo root:

    .venv/bin/python benchmarks/watch.py [--settle 1.0] [--burst 500] [--slow 100] [--job-ms 20] [--observer both]

Target: p95 from a file's last write to its hand-over under the settle time + 0.5 s, with the native
observer (inotify) and with polling; the job start, which also waits in the runner's queue behind its
slots, within the same margin of that queue's own wait (the runner given the burst as a list); the
slow files' job start under the settle time + 0.5 s (their queue's own wait, the runner given them as a
list, is printed beside it: with polling every one of them settles at the same moment).
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

from joypix_recipes.backends.contract import JobReporter, JobResult, Ledger
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

    async def run_job(self, job: Job, reporter: JobReporter, paid: Ledger | None = None) -> JobResult:
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


async def bench_watch(
    root: Path, args: argparse.Namespace, burst: dict[str, bytes], slow: dict[str, bytes]
) -> dict[str, object]:
    folder = root / "in"
    folder.mkdir()
    backend = StubBackend(args.job_ms / 1000, args.concurrency)
    config = WatchConfig.from_args(
        folder,
        root / "bench.yaml",
        out_dir=root / "out-watch",
        backend="stub",
        polling=args.polling,
        settle_seconds=args.settle,
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
        watch(
            config,
            once=False,
            progress_mode="quiet",
            verbose=False,
            stop=stop,
            backends={"stub": lambda options: backend},
            progress=Progress(),
            on_event=on_event,
        )
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


async def bench_runner(
    root: Path, args: argparse.Namespace, burst: dict[str, bytes], label: str = "list"
) -> tuple[float, float, float, list[float]]:
    """(seconds running the jobs, seconds planning them, CPU seconds for both, each job's wait to start)."""
    folder = root / label
    folder.mkdir()
    for name, data in burst.items():
        (folder / name).write_bytes(data)
    cpu_began = time.process_time()
    planning = time.monotonic()
    recipe = load_recipe(root / "bench.yaml")
    jobs = plan_jobs(
        recipe, inputs=[str(folder / name) for name in burst], out_dir=root / f"out-{label}", backend="stub"
    ).jobs
    planning = time.monotonic() - planning
    backend = StubBackend(args.job_ms / 1000, args.concurrency)
    with Journal.open(root / f"out-{label}") as journal:
        runner = Runner(backend, journal, Progress())
        began = time.monotonic()
        summary = await runner.run(jobs)
        elapsed = time.monotonic() - began
        await runner.aclose()
    assert summary.exit_code == 0
    waits = [backend.started[name] - began for name in burst]
    return elapsed, planning, time.process_time() - cpu_began, waits


def one_run(args: argparse.Namespace, polling: bool) -> dict[str, float]:
    """One burst and slow batch through the watcher, then the same burst through the runner; its figures."""
    args = argparse.Namespace(**{**vars(args), "polling": polling})
    burst = {f"burst{index:04d}.png": png_bytes(index) for index in range(args.burst)}
    slow = {f"slow{index:04d}.png": png_bytes(10_000 + index, size=64) for index in range(args.slow)}
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        (root / "bench.yaml").write_text(RECIPE)
        result = asyncio.run(bench_watch(root, args, burst, slow))
        runner_total, runner_planning, runner_cpu, runner_waits = asyncio.run(bench_runner(root, args, burst))
        # The slow files' jobs also queue behind the slots once they settle together: that queue's own wait.
        _, _, _, slow_waits = asyncio.run(bench_runner(root, args, slow, label="slow-list"))
    if result["code"] != 0:
        raise SystemExit(f"the watcher exited with {result['code']}")
    figures: dict[str, float] = {}
    for label in ("burst", "slow"):
        for key in ("taken", "latency"):
            values = result[f"{label}_{key}"]
            assert isinstance(values, list)
            figures[f"{label}_{key}_median"] = statistics.median(values)
            figures[f"{label}_{key}_p95"] = percentile(values, 0.95)
    figures["runner_wait_p95"] = percentile(runner_waits, 0.95)
    figures["runner_slow_wait_p95"] = percentile(slow_waits, 0.95)
    figures["runner_total"] = runner_total
    figures["burst_from_first_job"] = float(result["burst_from_first_job"])  # type: ignore[arg-type]
    figures["cpu_ms_per_image"] = 1000 * float(result["burst_cpu"]) / args.burst  # type: ignore[arg-type]
    figures["runner_cpu_ms_per_image"] = 1000 * runner_cpu / args.burst
    figures["peak_mib"] = int(result["peak"]) / 1024  # type: ignore[call-overload]
    return figures


def _line(name: str, values: list[float], target: float, unit: str = " s") -> str:
    best, median = min(values), statistics.median(values)
    verdict = "ok" if median <= target else "MISSED"
    return f"  {name}: best {best:.3f}{unit}, median {median:.3f}{unit} (target <= {target:.3f}{unit}) {verdict}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=1.0)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--slow", type=int, default=100)
    parser.add_argument("--chunks", type=int, default=5)
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between chunks of the slow writes")
    parser.add_argument("--job-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--observer", choices=["native", "polling", "both"], default="both")
    args = parser.parse_args()

    observers = ["native", "polling"] if args.observer == "both" else [args.observer]
    target = args.settle + 0.5
    print(
        f"settle {args.settle:.2f} s, {args.burst}-file burst, {args.slow} slow files, stub job {args.job_ms:.0f} ms, "
        f"concurrency {args.concurrency}; best and median of {args.repeat} runs"
    )
    for observer in observers:
        runs = [one_run(args, observer == "polling") for _ in range(args.repeat)]

        def values(key: str, runs: list[dict[str, float]] = runs) -> list[float]:
            return [run[key] for run in runs]

        print(f"observer {observer}:")
        print(
            _line("burst p95, last write -> taken (settled, handed to the runner)", values("burst_taken_p95"), target)
        )
        # The jobs of a burst queue behind the runner's slots whoever hands them over: the runner given
        # the same files as a list, in the same run, is that queue's baseline.
        queue = statistics.median(values("runner_wait_p95"))
        print(
            _line(
                f"burst p95, last write -> job start (settle + 0.5 s + the runner's own p95 queue wait {queue:.3f} s)",
                values("burst_latency_p95"),
                target + queue,
            )
        )
        print(_line("slow  p95, last write -> job start", values("slow_latency_p95"), target))
        print(
            f"  slow  p95, last write -> taken {statistics.median(values('slow_taken_p95')):.3f} s (median); the runner's "
            f"own p95 queue wait for the same {args.slow} files as a list {statistics.median(values('runner_slow_wait_p95')):.3f} s"
        )
        print(
            f"  burst median, last write -> taken {statistics.median(values('burst_taken_median')):.3f} s, "
            f"-> job start {statistics.median(values('burst_latency_median')):.3f} s"
        )
        ratio = [run["burst_from_first_job"] / run["runner_total"] for run in runs]
        print(
            f"  burst from the first job start / the runner with the same list: median {statistics.median(ratio):.2f}x; "
            f"CPU per image {statistics.median(values('cpu_ms_per_image')):.1f} ms (runner with planning "
            f"{statistics.median(values('runner_cpu_ms_per_image')):.1f} ms); peak RSS "
            f"{max(values('peak_mib')):.0f} MiB"
        )
    threads = [thread.name for thread in threading.enumerate() if thread is not threading.main_thread()]
    print(f"threads left: {threads or 'none'}")


if __name__ == "__main__":
    main()
