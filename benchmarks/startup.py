"""How fast `joypix validate` starts: a fresh interpreter per run, against `python -c pass` in the same run.

    python benchmarks/startup.py [--runs 15] [RECIPE]

Prints the median and best wall time of each command and their ratio to the bare interpreter: the CLI
and `load_recipe` alone, which shows what the CLI adds on top.
The target is in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _time(command: list[str], runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
        timings.append(time.perf_counter() - started)
        if completed.returncode != 0:
            message = completed.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise SystemExit(f"{' '.join(command)} exited {completed.returncode}: {message[0]}")
    return timings


def _commands(recipe: str) -> list[tuple[str, list[str]]]:
    code = f"from pathlib import Path; from joypix_recipes.recipe import load_recipe; load_recipe(Path({recipe!r}))"
    return [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("load_recipe", [sys.executable, "-c", code]),
        ("joypix validate", [sys.executable, "-m", "joypix_recipes", "validate", recipe]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe", nargs="?", default="recipes/quickstart.yaml")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    commands = _commands(args.recipe)
    for _, command in commands:
        _time(command, 2)  # compile .pyc files first, so every timed run is a cold interpreter on warm files
    results = {label: _time(command, args.runs) for label, command in commands}
    baseline = statistics.median(results["python -c pass"])
    print(f"{args.runs} runs each, {args.recipe}")
    for label, timings in results.items():
        median = statistics.median(timings)
        print(
            f"{label:<18} median {median * 1000:6.1f} ms   best {min(timings) * 1000:6.1f} ms   "
            f"{median / baseline:5.1f}x bare   +{(median - baseline) * 1000:6.1f} ms"
        )
    print("target: joypix validate well under 300 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
