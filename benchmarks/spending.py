"""Credits over the fault matrix: what one cloud job pays when a kill or a fault hits each paid request.

    python benchmarks/spending.py

For each cell (see tests/helpers/spending.py) a one-photo, three-step job runs against the emulator,
is killed with SIGKILL while that request is in flight (or meets the fault), and runs again to its end.
The emulator counts uploads, turns and renders across both runs. The minimum is what an undisturbed
run pays (1 upload, 3 turns, 1 render); the goal is the minimum in every cell. Credits are priced
with one credit per agent turn and the emulator's 5 per render (the service charges both; it does
not publish the turn price), so the ratio to the minimum is what matters, not the figure.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from helpers.spending import FAULTS, STEPS, run_cell  # noqa: E402  (the tests' fault matrix)

TURN_CREDITS = 1
RENDER_CREDITS = 5


def main() -> int:
    minimum = STEPS * TURN_CREDITS + RENDER_CREDITS
    print(f"{'cell':<36} {'uploads':>7} {'turns':>5} {'renders':>7} {'credits':>7} {'x min':>6} {'seconds':>7}")
    worst = 1.0
    for fault in FAULTS:
        with tempfile.TemporaryDirectory(prefix="joypix-spend-") as folder:
            began = time.perf_counter()
            spent = run_cell(fault, Path(folder))
            took = time.perf_counter() - began
        credits = spent.turns * TURN_CREDITS + spent.renders * RENDER_CREDITS
        worst = max(worst, credits / minimum)
        clip = "" if spent.clip else "  (no clip!)"
        print(
            f"{fault.name:<36} {spent.uploads:>7} {spent.turns:>5} {spent.renders:>7} {credits:>7}"
            f" {credits / minimum:>6.2f} {took:>7.1f}{clip}"
        )
    print(f"minimum per job: {minimum} credits ({STEPS} turns, 1 render); worst cell {worst:.2f}x the minimum")
    return 0 if worst == 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
