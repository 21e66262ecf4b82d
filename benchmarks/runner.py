"""Runner benchmark: overlap against the emulator, the runner's own per-job overhead, local concurrency gain.

    python benchmarks/runner.py [--only emulator|overhead|local] [--jobs-overhead 1000]

1. Emulator with 300 ms per SSE turn and 1 s per render (stub render size), 48 jobs x 3 steps at
   concurrency 8 and 16: wall time and its ratio to the ideal (jobs x per-job latency / concurrency).
2. 1000 jobs on a stub backend that does nothing but write a tiny file: the runner's overhead per job
   (journal writes, hashing, progress), minus the stub's own cost.
3. Local backend, 16 small jobs at the default concurrency vs one at a time.

The targets are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from joypix_recipes.backends.contract import Backend, BackendOptions, JobReporter, JobResult, Ledger
from joypix_recipes.job.actions import Animate, Fade, Text
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.job.model import Job, JobInput, PlannedStep
from joypix_recipes.run.journal import Journal
from joypix_recipes.run.outcome import RunSummary
from joypix_recipes.run.progress import Progress
from joypix_recipes.run.runner import Runner

TURN_LATENCY_S = 0.3
RENDER_LATENCY_S = 1.0
STEPS = 3


class StubBackend:
    """Does the least a backend can: one stage report and a tiny output file."""

    name = "stub"
    default_concurrency = 16

    async def run_job(self, job: Job, reporter: JobReporter, paid: Ledger | None = None) -> JobResult:
        reporter.stage("rendering")
        job.output.write_bytes(b"stub")
        return JobResult(output=job.output, poster=None, summary="", duration_s=0.0)

    def describe_spending(self, job: Job, input_hash: str, paid: Ledger | None) -> str | None:
        return None

    async def aclose(self) -> None:
        pass


def make_image(path: Path, seed: int, size: tuple[int, int] = (640, 480)) -> None:
    """A small JPEG with distinct content per seed, so every job has its own identity."""
    from PIL import Image

    Image.effect_noise(size, 40 + seed % 50).convert("RGB").save(path, quality=85)


def make_jobs(
    folder: Path,
    count: int,
    steps: tuple[PlannedStep, ...],
    export: ExportSettings,
    backend: str,
    *,
    stub_inputs: bool | None = None,
    image_size: tuple[int, int] = (640, 480),
) -> list[Job]:
    """``count`` jobs over distinct inputs in ``folder/in``, outputs in ``folder/out``: a few bytes each
    when ``stub_inputs`` (by default for the stub backend), else a small JPEG of ``image_size``."""
    inputs, outputs = folder / "in", folder / "out"
    inputs.mkdir(parents=True, exist_ok=True)
    outputs.mkdir(parents=True, exist_ok=True)
    stub = backend == "stub" if stub_inputs is None else stub_inputs
    jobs = []
    for index in range(count):
        source = inputs / f"photo{index:05d}.jpg"
        if not source.exists():
            if stub:
                source.write_bytes(f"stub image {index}".encode())
            else:
                make_image(source, index, image_size)
        jobs.append(
            Job(
                recipe_name="bench",
                recipe_path=folder / "bench.yaml",
                input=JobInput(name=source.name, stem=source.stem, suffix=".jpg", index=index, path=source),
                variant=None,
                steps=steps,
                export=export,
                output=outputs / f"photo{index:05d}.mp4",
                backend=backend,
            )
        )
    return jobs


async def run_jobs(
    backend: Backend, jobs: list[Job], out_dir: Path, concurrency: int | None
) -> tuple[float, RunSummary]:
    """Wall time of one runner batch (fresh journal, force so nothing is skipped)."""
    with Journal.open(out_dir) as journal:
        runner = Runner(backend, journal, Progress(), concurrency=concurrency, force=True)
        began = time.perf_counter()
        try:
            summary = await runner.run(jobs)
        finally:
            await runner.aclose()
        return time.perf_counter() - began, summary


def check(summary: RunSummary) -> None:
    failed = [outcome for outcome in summary.outcomes if outcome.status != "done"]
    if failed:
        raise SystemExit(f"{len(failed)} job(s) did not finish: {failed[0].error}")


def bench_overhead(count: int) -> None:
    """Runner wall time per job minus the stub backend's own per-job time."""
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        jobs = make_jobs(folder, count, (PlannedStep("a", Animate()),), ExportSettings(), "stub")
        backend = StubBackend()

        async def bare() -> float:
            (folder / "out").mkdir(exist_ok=True)
            began = time.perf_counter()
            for job in jobs:
                await backend.run_job(job, _NullReporter())
            return time.perf_counter() - began

        bare_s = asyncio.run(bare())
        for job in jobs:  # files nobody journaled: the runner would rightly refuse to replace them
            job.output.unlink()
        wall, summary = asyncio.run(run_jobs(backend, jobs, folder / "out", 16))
        check(summary)
        resumed, summary = asyncio.run(_skip_all(backend, jobs, folder / "out"))
        overhead_ms = (wall - bare_s) / count * 1000
        print(
            f"overhead: {count} jobs on a stub backend, concurrency 16: {wall:.2f} s "
            f"(stub alone {bare_s:.2f} s) -> {overhead_ms:.2f} ms/job runner overhead (target < 5 ms)"
        )
        print(
            f"overhead: rerun skipping all {count} (hash check of each output): {resumed:.2f} s "
            f"-> {resumed / count * 1000:.2f} ms/job"
        )


async def _skip_all(backend: Backend, jobs: list[Job], out_dir: Path) -> tuple[float, RunSummary]:
    with Journal.open(out_dir) as journal:
        runner = Runner(backend, journal, Progress(), concurrency=16)
        began = time.perf_counter()
        summary = await runner.run(jobs)
        await runner.aclose()
    assert summary.counts()["skipped"] == len(jobs)
    return time.perf_counter() - began, summary


class _NullReporter:
    identity = "benchmark"
    input_hash = ""

    def stage(self, text: str) -> None: ...
    def checkpoint(self, session_id: str | None = None, render_id: str | None = None) -> None: ...
    def warn(self, message: str) -> None: ...
    def reply(self, text: str) -> None: ...


_EMULATOR_SCRIPT = """
import sys
from joypix_recipes.emulator.server import serve
from joypix_recipes.emulator.state import Knobs
knobs = Knobs(turn_latency={turn}, render_latency={render}, no_text_ratio=0.3, stub_render=True,
              credits=1_000_000, render_cost=1, heartbeat_interval=0.5)
serve("127.0.0.1", 0, knobs, on_ready=lambda base, download: print(base, flush=True))
"""


@contextlib.contextmanager
def emulator_process() -> Iterator[str]:
    """The emulator in its own process, as the real service is: the client's CPU time is not shared."""
    script = _EMULATOR_SCRIPT.format(turn=TURN_LATENCY_S, render=RENDER_LATENCY_S)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


@contextlib.contextmanager
def emulator_thread() -> Iterator[str]:
    """The emulator in a thread of this process (what the tests do)."""
    from joypix_recipes.emulator import Emulator
    from joypix_recipes.emulator.state import Knobs

    knobs = Knobs(
        turn_latency=TURN_LATENCY_S,
        render_latency=RENDER_LATENCY_S,
        no_text_ratio=0.3,
        stub_render=True,
        credits=1_000_000,
        render_cost=1,
        heartbeat_interval=0.5,
    )
    with Emulator(knobs=knobs) as emulator:
        yield emulator.base_url


def bench_emulator(count: int, concurrencies: tuple[int, ...], in_process: bool) -> None:
    """48 jobs x 3 steps against the emulator with injected latency; ratio to ideal."""
    try:
        from joypix_recipes.backends.nemo import NemoBackend
    except ImportError as e:
        print(f"emulator: skipped, not available yet ({e})")
        return
    steps = (
        PlannedStep("animate", Animate(motion="zoom-in", duration=2.0)),
        PlannedStep("title", Text(content="Summer sale", position="top")),
        PlannedStep("fade", Fade(fade_in=0.3, fade_out=0.3)),
    )
    export = ExportSettings(aspect="1:1", resolution="480p", fps=24, quality="low")
    per_job = STEPS * TURN_LATENCY_S + RENDER_LATENCY_S
    where = "in this process" if in_process else "in its own process"
    with emulator_thread() if in_process else emulator_process() as base_url, tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        jobs = make_jobs(folder, count, steps, export, "nemo")
        options = BackendOptions(base_url=base_url, poll_interval=0.05, home=folder / "home")
        os.environ.pop("NEMO_TOKEN", None)
        # The first job pays for the token and imports; time two more, one after the other.
        asyncio.run(run_jobs(NemoBackend(options), _retarget(jobs[:1], folder / "warm"), folder / "warm", 1))
        two, summary = asyncio.run(
            run_jobs(NemoBackend(options), _retarget(jobs[1:3], folder / "one"), folder / "one", 1)
        )
        check(summary)
        single = two / 2
        print(f"emulator ({where}): one job alone {single:.2f} s (injected latency {per_job:.2f} s)")
        for concurrency in concurrencies:
            out = folder / f"out{concurrency}"
            wall, summary = asyncio.run(run_jobs(NemoBackend(options), _retarget(jobs, out), out, concurrency))
            check(summary)
            ideal = count * per_job / concurrency
            measured = count * single / concurrency
            # Occupancy: how well the runner kept every slot busy, whatever each job itself cost.
            busy = sum(outcome.duration_s for outcome in summary.outcomes) / concurrency
            print(
                f"emulator ({where}): {count} jobs x {STEPS} steps at concurrency {concurrency}: {wall:.2f} s; "
                f"ideal from injected latency {ideal:.2f} s -> {wall / ideal:.3f}x (target <= 1.15x); "
                f"from one job alone {measured:.2f} s -> {wall / measured:.3f}x; "
                f"slot occupancy {busy / wall:.1%} (mean job {busy * concurrency / count:.2f} s)"
            )


def _retarget(jobs: list[Job], out: Path) -> list[Job]:
    from dataclasses import replace

    return [replace(job, output=out / job.output.name) for job in jobs]


def bench_local(count: int) -> None:
    """16 jobs on the local backend: default concurrency vs one at a time."""
    try:
        from joypix_recipes.backends.local import LocalBackend
    except ImportError as e:
        print(f"local: skipped, not available yet ({e})")
        return
    steps = (PlannedStep("animate", Animate(motion="zoom-in", duration=2.0)),)
    export = ExportSettings(aspect="9:16", resolution="720p", fps=30, quality="medium")
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        jobs = make_jobs(folder, count, steps, export, "local")
        for job in jobs:  # 12-megapixel sources, so decode and pre-scaling cost what they do for real
            make_image(job.input.path, job.input.index, (4000, 3000))  # type: ignore[arg-type]
        backend = LocalBackend(BackendOptions())
        default = backend.default_concurrency
        sequential, summary = asyncio.run(run_jobs(backend, _retarget(jobs, folder / "seq"), folder / "seq", 1))
        check(summary)
        concurrent, summary = asyncio.run(
            run_jobs(LocalBackend(BackendOptions()), _retarget(jobs, folder / "par"), folder / "par", None)
        )
        check(summary)
        print(
            f"local: {count} jobs one at a time {sequential:.2f} s; default concurrency {default}: {concurrent:.2f} s "
            f"-> {concurrent / sequential:.3f}x (target <= 0.9x)"
        )


def main() -> None:
    """Run the selected benchmarks and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["emulator", "overhead", "local"])
    parser.add_argument("--jobs-overhead", type=int, default=1000)
    parser.add_argument("--jobs-emulator", type=int, default=48)
    parser.add_argument("--jobs-local", type=int, default=16)
    parser.add_argument("--emulator-in-process", action="store_true", help="run the emulator in a thread here")
    args = parser.parse_args()
    if args.only in (None, "overhead"):
        bench_overhead(args.jobs_overhead)
    if args.only in (None, "emulator"):
        bench_emulator(args.jobs_emulator, (8, 16), args.emulator_in_process)
    if args.only in (None, "local"):
        bench_local(args.jobs_local)


if __name__ == "__main__":
    main()
