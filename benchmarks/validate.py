"""How fast `joypix validate` answers for every example recipe, against a bare interpreter in the same run.

    python benchmarks/validate.py [--runs 15] [--instructions] [RECIPE ...]

Each run is a fresh `python -m joypix_recipes validate RECIPE` process, as an editor, a pre-commit hook
or CI starts it. Prints, per recipe, the median and best wall time of --runs runs, the ratio to the
median of `python -c pass` measured in the same run (the runs interleaved, so a busy moment weighs on
both), what validate adds to the bare interpreter, and whether the median is under the 100 ms target.
The CPU time of each child (user + system) is printed beside it: on a machine shared with other work
the wall time swells with the load while the CPU time barely moves, so it is the steadier figure there.
With --instructions, each command also runs once under valgrind's callgrind, which counts the instructions
it executes: a figure the load does not move at all (it leaves out time in the kernel, such as file lookups).
The children always write .pyc files (whatever PYTHONDONTWRITEBYTECODE says here), so every timed run
loads compiled modules as an installed copy does. The target is in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 0.100
QUIET_BARE_S = 0.038
"""The bare interpreter on the quiet machine the target was set on: the target is TARGET_S / QUIET_BARE_S times it."""
BARE = "python -c pass"
_CHILD_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def _once(command: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of ``command``."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, env=_CHILD_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    stderr = child.stderr.read() if child.stderr else b""
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        message = stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise SystemExit(f"{' '.join(command)} exited {child.returncode}: {message[0]}")
    return elapsed, usage.ru_utime + usage.ru_stime


def _instructions(command: list[str]) -> int:
    """Instructions one run of ``command`` executes, counted by callgrind."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        cwd=ROOT, env=_CHILD_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count for {' '.join(command)}")
    return int(found.group(1))


def _print_instructions(commands: dict[str, list[str]]) -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind")
    counts = {label: _instructions(command) for label, command in commands.items()}
    width = max(len(label) for label in commands)
    print("instructions (callgrind, one run each):")
    for label, count in counts.items():
        print(f"{label:<{width}}  {count / 1e6:7.0f} M  {count / counts[BARE]:5.2f}x bare")


def _commands(recipes: list[str]) -> dict[str, list[str]]:
    commands = {BARE: [sys.executable, "-c", "pass"]}
    for recipe in recipes:
        commands[recipe] = [sys.executable, "-m", "joypix_recipes", "validate", recipe]
    return commands


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("recipes", nargs="*", help="recipes to validate (default: every recipes/*.yaml)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--instructions", action="store_true", help="also count each command's instructions (valgrind)")
    args = parser.parse_args()
    recipes = args.recipes or sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "recipes").glob("*.yaml"))
    commands = _commands(recipes)
    for command in commands.values():
        _once(command)  # compile .pyc files first, so every timed run is a cold interpreter on warm files
    wall: dict[str, list[float]] = {label: [] for label in commands}
    cpu: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(args.runs):
        for label, command in commands.items():
            elapsed, used = _once(command)
            wall[label].append(elapsed)
            cpu[label].append(used)
    bare, bare_cpu = statistics.median(wall[BARE]), statistics.median(cpu[BARE])
    print(f"{args.runs} runs each, interleaved; target: median under {TARGET_S * 1000:.0f} ms for every recipe")
    width = max(len(label) for label in commands)
    worst = 0.0
    for label in commands:
        median, median_cpu = statistics.median(wall[label]), statistics.median(cpu[label])
        verdict = "" if label == BARE else ("  ok" if median < TARGET_S else "  OVER the target")
        if label != BARE:
            worst = max(worst, median)
        print(
            f"{label:<{width}}  median {median * 1000:6.1f} ms  best {min(wall[label]) * 1000:6.1f} ms  "
            f"{median / bare:4.2f}x bare  +{(median - bare) * 1000:6.1f} ms  {median / TARGET_S:4.2f}x target  "
            f"| cpu median {median_cpu * 1000:6.1f} ms  {median_cpu / bare_cpu:4.2f}x bare{verdict}"
        )
    ratio_target = TARGET_S / QUIET_BARE_S
    print(f"slowest recipe: median {worst * 1000:.1f} ms ({worst / TARGET_S:.2f}x the {TARGET_S * 1000:.0f} ms target)")
    print(
        f"on a loaded machine read the ratios: the target is {ratio_target:.1f}x bare "
        f"(100 ms where the bare interpreter takes {QUIET_BARE_S * 1000:.0f} ms); slowest here {worst / bare:.2f}x bare"
    )
    if args.instructions:
        _print_instructions(commands)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
