"""Cloud throughput: 24 nemo jobs against the emulator in its own process, at concurrency 8 and 16.

    python benchmarks/cloud.py [--jobs 24] [--steps 2] [--concurrency 8 16]

The emulator (in a process of its own, as an independent server would be) takes 300 ms per turn
and 1 s per render (stub renders, so its CPU stays out of the way); renders are polled every 0.1 s.
The ideal wall time is the sum of the server's latencies divided by the concurrency; the target is
within 1.3x of it at concurrency 8. With 24 jobs, concurrency 16 needs two rounds, so its floor is
already 1.33x of that ideal. A second baseline, measured in the same run, is one job alone times the
job count divided by the concurrency (perfect overlap of everything a job does). The client's CPU
time per job is printed too: unlike wall time, it hardly depends on what else the machine is doing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from runner import (  # noqa: I001 -- the sibling benchmark's helpers
    RENDER_LATENCY_S,
    TURN_LATENCY_S,
    _retarget,
    check,
    emulator_process,
    make_jobs,
    run_jobs,
)

from joypix_recipes.job.actions import Animate, Text
from joypix_recipes.backends.contract import BackendOptions
from joypix_recipes.backends.nemo import NemoBackend
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.job.model import PlannedStep

TURN_S = TURN_LATENCY_S  # 300 ms per turn
RENDER_S = RENDER_LATENCY_S  # 1 s per render
POLL_S = 0.1
TARGET = 1.3




def main() -> None:
    """Run the benchmark and print wall times with their ratios to the baselines."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--steps", type=int, default=2, choices=[1, 2])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 16])
    args = parser.parse_args()
    steps = (PlannedStep("animate", Animate(motion="zoom-in", duration=2.0)), PlannedStep("title", Text("Sale", position="top")))
    steps = steps[: args.steps]
    export = ExportSettings(aspect="1:1", resolution="480p", fps=24, quality="low")
    per_job = args.steps * TURN_S + RENDER_S
    os.environ.pop("NEMO_TOKEN", None)
    with emulator_process() as base_url, tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        jobs = make_jobs(folder, args.jobs, steps, export, "nemo")
        options = BackendOptions(base_url=base_url, poll_interval=POLL_S, home=folder / "home", language="en")
        # The first job pays for the token and the imports; then two jobs one after the other.
        asyncio.run(run_jobs(NemoBackend(options), _retarget(jobs[:1], folder / "warm"), folder / "warm", 1))
        two, summary = asyncio.run(run_jobs(NemoBackend(options), _retarget(jobs[1:3], folder / "one"), folder / "one", 1))
        check(summary)
        alone = two / 2
        print(f"cloud: one job alone {alone:.2f} s (server latency {per_job:.2f} s per job, {args.steps} step(s))")
        for concurrency in args.concurrency:
            out = folder / f"c{concurrency}"
            cpu_before = time.process_time()
            wall, summary = asyncio.run(run_jobs(NemoBackend(options), _retarget(jobs, out), out, concurrency))
            cpu_per_job = (time.process_time() - cpu_before) / args.jobs
            check(summary)
            ideal = args.jobs * per_job / concurrency
            overlap = args.jobs * alone / concurrency
            print(
                f"cloud: {args.jobs} jobs at concurrency {concurrency}: {wall:.2f} s; "
                f"ideal (server latency / concurrency) {ideal:.2f} s -> {wall / ideal:.3f}x (target <= {TARGET}x); "
                f"one job alone x jobs / concurrency {overlap:.2f} s -> {wall / overlap:.3f}x; "
                f"client CPU {cpu_per_job * 1000:.0f} ms per job"
            )


if __name__ == "__main__":
    main()
