"""Preview benchmark: the quickstart's draft against its final render, side by side in one run.

    python benchmarks/preview.py [--repeat 3] [--workdir DIR]

Each round renders the final (`joypix run`) and then the preview (`joypix preview`) of
recipes/quickstart.yaml, both forced, each through the same run set-up in this process (holding the
folder, the journal, a fresh worker pool, manifest and report), so both pay the same fixed costs. The
figure is the preview's time over the final's, best and median of the rounds; the target is at most 0.15.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET = 0.15


def _planned(recipe: Path, out_dir: Path) -> tuple[list[object], str]:
    from joypix_recipes.recipe.batch import load_batch

    batch = load_batch(recipe, inputs=None, var_overrides={}, overrides=())
    plan = batch.plan(out_dir=out_dir, backend=None, group=False)
    return list(plan.jobs), batch.recipe.name


def _final(jobs: list[object], out_dir: Path, name: str) -> float:
    from joypix_recipes.backends.contract import BackendOptions
    from joypix_recipes.run.session import run_jobs

    began = time.perf_counter()
    summary = asyncio.run(run_jobs(
        jobs,  # type: ignore[arg-type]
        backend_name="local", options=BackendOptions(), out_dir=out_dir, recipe_name=name,
        concurrency=None, force=True, progress_mode="quiet", verbose=False,
    ))
    took = time.perf_counter() - began
    _check(summary)
    return took


def _preview(jobs: list[object], out_dir: Path, name: str) -> float:
    from joypix_recipes.run.preview import run_previews

    began = time.perf_counter()
    summary = asyncio.run(run_previews(jobs, out_dir=out_dir, recipe_name=name, force=True))  # type: ignore[arg-type]
    took = time.perf_counter() - began
    _check(summary)
    return took


def _check(summary: object) -> None:
    outcomes = getattr(summary, "outcomes", ())
    failed = [outcome.error for outcome in outcomes if outcome.status != "done"]
    if failed or not outcomes:
        raise SystemExit(f"a render failed: {failed}")


def _probe(path: Path) -> str:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        seconds = float(container.duration or 0) / 1_000_000
        return f"{stream.width}x{stream.height} {float(stream.average_rate or 0):g} fps {seconds:.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="joypix-preview-bench-"))
    shutil.copytree(REPO / "recipes", work / "recipes", dirs_exist_ok=True)
    recipe = work / "recipes" / "quickstart.yaml"
    out_dir = work / "out"
    jobs, name = _planned(recipe, out_dir)
    finals, previews = [], []
    for round_number in range(1, args.repeat + 1):
        finals.append(_final(jobs, out_dir, name))
        previews.append(_preview(jobs, out_dir, name))
        print(f"round {round_number}: final {finals[-1]:.2f} s, preview {previews[-1]:.2f} s", flush=True)
    from joypix_recipes.run.preview import preview_path

    job = jobs[0]
    print(f"final:   {_probe(job.output)}")  # type: ignore[attr-defined]
    print(f"preview: {_probe(preview_path(job, out_dir))}")  # type: ignore[arg-type]
    best = min(previews) / min(finals)
    median = statistics.median(previews) / statistics.median(finals)
    print(
        f"final best {min(finals):.2f} s, median {statistics.median(finals):.2f} s; "
        f"preview best {min(previews):.2f} s, median {statistics.median(previews):.2f} s"
    )
    verdict = "ok" if median <= TARGET else "OVER TARGET"
    print(f"preview/final: best {best:.3f}x, median {median:.3f}x (target <= {TARGET}x) {verdict}")
    return 0 if median <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
