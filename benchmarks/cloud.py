"""Cloud jobs at the server's pace: 24 nemo jobs x 3 turns against the emulator in its own process.

    python benchmarks/cloud.py [--jobs 24] [--concurrency 8] [--repeat 3] [--vary 7]

The emulator (in a process of its own, as an independent server would be) runs in its most realistic
mode: ADK-shaped events, and ``--vary`` shapes per session (unknown keys, odd status words, silences
before a turn's events, an error frame after an edit has landed, ...). It takes 300 ms per turn (plus
the silence a varied session keeps), 1 s per render (stub renders, so its CPU stays out of the way);
the poll interval is 0.1 s. Each batch runs through ``run_jobs``, the path ``joypix run`` takes,
so the session's set-up, the report and the manifest are part of the wall time.

Figures, each against its target (docs/benchmarks.md), best and median of ``--repeat`` runs:
- wall time / ideal, the ideal being the server's own latencies (turns, silences, renders) summed
  over the jobs and divided by the concurrency;
- the first request's arrival at the server after the run started;
- the last clip's poster and the report, after that clip's download reached the server;
- the client's CPU time per job (process time / jobs: unlike wall time, it hardly depends on what
  else the machine is doing);
- requests per job by endpoint, from the emulator's request log.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from runner import make_jobs  # noqa: E402

from joypix_recipes.backends.contract import BackendOptions  # noqa: E402
from joypix_recipes.job.actions import Animate, Fade, Text  # noqa: E402
from joypix_recipes.job.export import ExportSettings  # noqa: E402
from joypix_recipes.job.model import Job, PlannedStep  # noqa: E402
from joypix_recipes.run.outcome import RunSummary  # noqa: E402
from joypix_recipes.run.session import run_jobs  # noqa: E402

TURN_S = 0.3
RENDER_S = 1.0
POLL_S = 0.1
TARGET_RATIO = 1.25
TARGET_FIRST_REQUEST_MS = 150.0
TARGET_TAIL_MS = 150.0
TARGET_CPU_MS = 20.0
STEPS = (
    PlannedStep("animate", Animate(motion="zoom-in", duration=2.0)),
    PlannedStep("title", Text(content="Summer sale", position="top")),
    PlannedStep("fade", Fade(fade_in=0.3, fade_out=0.3)),
)
EXPORT = ExportSettings(aspect="1:1", resolution="480p", fps=24, quality="low")

_EMULATOR_SCRIPT = """
import json, sys
from joypix_recipes.emulator import Emulator
from joypix_recipes.emulator.state import Knobs
knobs = Knobs(turn_latency={turn}, render_latency={render}, stub_render=True, credits=1_000_000, render_cost=1,
              heartbeat_interval=0.5, vary={vary})
with Emulator(knobs) as emulator:
    print(emulator.base_url, flush=True)
    for line in sys.stdin:
        state = emulator.state
        with state.lock:
            requests = {{origin: [[r.origin, r.method, r.path, r.at] for r in state.requests[origin]]
                        for origin in ("api", "download")}}
            sessions = [[s.turns, s.variation.silent_thinking] for s in state.sessions.values()]
            violations = list(state.violations)
        print(json.dumps({{"requests": requests, "sessions": sessions, "silence": knobs.vary_silence,
                          "violations": violations}}), flush=True)
"""


class EmulatorProcess:
    """The emulator in its own process; ``stats`` gives what it saw since the previous call."""

    def __init__(self, vary: int | None) -> None:
        script = _EMULATOR_SCRIPT.format(turn=TURN_S, render=RENDER_S, vary=vary)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        self._seen = (0, 0, 0)

    def stats(self) -> dict[str, Any]:
        """Requests (origin, method, path, arrival) and sessions (turns, silent) new since the last call."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        data = json.loads(self.process.stdout.readline())
        api, download, sessions = self._seen
        self._seen = (len(data["requests"]["api"]), len(data["requests"]["download"]), len(data["sessions"]))
        data["requests"] = data["requests"]["api"][api:] + data["requests"]["download"][download:]
        data["sessions"] = data["sessions"][sessions:]
        return data

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


@contextlib.contextmanager
def emulator_process(vary: int | None) -> Iterator[EmulatorProcess]:
    """The emulator in its own process, as the real service is: the client's CPU time is not shared."""
    emulator = EmulatorProcess(vary)
    try:
        yield emulator
    finally:
        emulator.close()


def endpoint(method: str, path: str) -> str:
    """A request's endpoint, by the names docs/protocol.md gives them."""
    if path.startswith("/api/auth/"):
        return "token"
    if path.startswith("/api/tasks/"):
        return "session"
    if path.startswith("/api/upload-video/"):
        return "upload"
    if path.startswith("/api/state/"):
        return "state"
    if path == "/run_sse":
        return "turn"
    if path.startswith("/apps/"):
        return "agent record"
    if path == "/api/render/proxy/lambda":
        return "render"
    if path.startswith("/api/render/proxy/lambda/"):
        return "render poll"
    if path.startswith("/files/"):
        return "download"
    if path.startswith("/api/credits/"):
        return "credits"
    return f"{method} {path}"


@dataclass(frozen=True)
class Batch:
    """One measured batch."""

    wall_s: float
    ideal_s: float
    first_request_ms: float
    poster_ms: float
    report_ms: float
    cpu_ms_per_job: float
    loop_cpu_ms_per_job: float
    per_job: dict[str, float]

    @property
    def ratio(self) -> float:
        return self.wall_s / self.ideal_s


def run_batch(
    emulator: EmulatorProcess, jobs: list[Job], out: Path, options: BackendOptions, concurrency: int
) -> Batch:
    """One batch through ``run_jobs``, with what the server saw of it."""
    emulator.stats()  # forget what came before
    cpu_before, loop_cpu_before = time.process_time(), time.thread_time()
    began = time.time()
    summary = asyncio.run(
        run_jobs(
            jobs,
            backend_name="nemo",
            options=options,
            out_dir=out,
            recipe_name="bench",
            concurrency=concurrency,
            force=True,
            progress_mode="quiet",
            verbose=False,
        )
    )
    wall = time.time() - began
    cpu_ms = (time.process_time() - cpu_before) / len(jobs) * 1000
    loop_cpu_ms = (time.thread_time() - loop_cpu_before) / len(jobs) * 1000  # the event loop runs in this thread
    check(summary)
    seen = emulator.stats()
    if seen["violations"]:
        raise SystemExit(f"the emulator saw protocol violations: {seen['violations'][:3]}")
    requests = seen["requests"]
    server_s = sum(
        turns * (TURN_S + (seen["silence"] if silent else 0.0)) + RENDER_S for turns, silent in seen["sessions"]
    )
    first = min(at for *_, at in requests)
    last_download = max(at for _, _, path, at in requests if path.startswith("/files/"))
    posters = [outcome.poster for outcome in summary.outcomes if outcome.poster is not None]
    last_poster = max(poster.stat().st_mtime for poster in posters)
    report = (out / "report.html").stat().st_mtime
    counts = Counter(endpoint(method, path) for _, method, path, _ in requests)
    return Batch(
        wall_s=wall,
        ideal_s=server_s / concurrency,
        first_request_ms=(first - began) * 1000,
        poster_ms=(last_poster - last_download) * 1000,
        report_ms=(report - last_download) * 1000,
        cpu_ms_per_job=cpu_ms,
        loop_cpu_ms_per_job=loop_cpu_ms,
        per_job={name: count / len(jobs) for name, count in sorted(counts.items())},
    )


def check(summary: RunSummary) -> None:
    failed = [outcome for outcome in summary.outcomes if outcome.status != "done"]
    if failed:
        raise SystemExit(f"{len(failed)} job(s) did not finish: {failed[0].error}")


def _figure(name: str, values: list[float], unit: str, target: float, digits: int = 0) -> str:
    best, median = min(values), statistics.median(values)
    verdict = "ok" if median <= target else "MISSED"
    return (
        f"cloud: {name}: best {best:.{digits}f}{unit}, median {median:.{digits}f}{unit} "
        f"(target <= {target:g}{unit}) {verdict}"
    )


def main() -> None:
    """Run the batches and print every figure against its target."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--vary", type=int, default=7, help="the emulator's --vary seed; -1 for its plain shapes")
    parser.add_argument("--profile", action="store_true", help="profile the event loop's thread in the first run")
    args = parser.parse_args()
    os.environ.pop("NEMO_TOKEN", None)
    vary = None if args.vary < 0 else args.vary
    with emulator_process(vary) as emulator, tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        jobs = make_jobs(folder, args.jobs, STEPS, EXPORT, "nemo")
        options = BackendOptions(base_url=emulator.base_url, poll_interval=POLL_S, home=folder / "home", language="en")
        # The first job pays for the token and the imports.
        run_batch(emulator, _retarget(jobs[:1], folder / "warm"), folder / "warm", options, 1)
        batches = []
        for number in range(args.repeat):
            out = folder / f"run{number}"
            if args.profile and number == 0:
                import cProfile
                import pstats

                with cProfile.Profile(time.thread_time) as profile:
                    batch = run_batch(emulator, _retarget(jobs, out), out, options, args.concurrency)
                pstats.Stats(profile).sort_stats(os.environ.get("SORT", "tottime")).print_stats(
                    os.environ.get("FILTER", ""), 45
                )
            else:
                batch = run_batch(emulator, _retarget(jobs, out), out, options, args.concurrency)
            batches.append(batch)
            print(
                f"cloud: run {number + 1}: {args.jobs} jobs x {len(STEPS)} turns at concurrency {args.concurrency}: "
                f"{batch.wall_s:.2f} s, ideal {batch.ideal_s:.2f} s -> {batch.ratio:.3f}x; first request "
                f"{batch.first_request_ms:.0f} ms; poster {batch.poster_ms:.0f} ms and report {batch.report_ms:.0f} ms "
                f"after the last download; client CPU {batch.cpu_ms_per_job:.1f} ms per job "
                f"({batch.loop_cpu_ms_per_job:.1f} ms on the event loop's thread)"
            )
        print(
            _figure(
                "wall time / ideal (server latencies / concurrency)", [b.ratio for b in batches], "x", TARGET_RATIO, 3
            )
        )
        print(
            _figure(
                "first request after the start", [b.first_request_ms for b in batches], " ms", TARGET_FIRST_REQUEST_MS
            )
        )
        print(_figure("last poster after its download", [b.poster_ms for b in batches], " ms", TARGET_TAIL_MS))
        print(_figure("report after the last download", [b.report_ms for b in batches], " ms", TARGET_TAIL_MS))
        print(_figure("client CPU per job", [b.cpu_ms_per_job for b in batches], " ms", TARGET_CPU_MS, 1))
        loop_share = statistics.median(b.loop_cpu_ms_per_job / b.cpu_ms_per_job for b in batches)
        loop_ms = statistics.median(b.loop_cpu_ms_per_job for b in batches)
        threads_ms = statistics.median(b.cpu_ms_per_job - b.loop_cpu_ms_per_job for b in batches)
        print(
            f"cloud: of which on the event loop's thread: {loop_share:.0%} (file work runs in worker threads); "
            f"per job, median: {loop_ms:.1f} ms on the loop, {threads_ms:.1f} ms in other threads"
        )
        names = sorted({name for batch in batches for name in batch.per_job})
        per_job = ", ".join(
            f"{name} {statistics.median(batch.per_job.get(name, 0.0) for batch in batches):.2f}" for name in names
        )
        print(f"cloud: requests per job (median of the runs): {per_job}")


def _retarget(jobs: list[Job], out: Path) -> list[Job]:
    return [replace(job, output=out / job.output.name) for job in jobs]


if __name__ == "__main__":
    main()
