"""One ``joypix run`` from planned jobs to outputs: backend, journal, progress, runner, manifest and report.

On cancellation (Ctrl-C under ``asyncio.run``) it records the interrupted jobs, writes the manifest and
report for what finished, closes everything and re-raises ``asyncio.CancelledError``; ``asyncio.run``
then raises ``KeyboardInterrupt`` to the CLI, which exits 130.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from joypix_recipes.backends import BACKENDS, BackendOptions
from joypix_recipes.errors import UsageError
from joypix_recipes.job import Job
from joypix_recipes.journal import Journal
from joypix_recipes.outfolder import hold_output_folder
from joypix_recipes.progress import open_progress
from joypix_recipes.report import foreign_run_files, write_run_outputs
from joypix_recipes.runner import Runner, RunSummary

INTERRUPTED = "interrupted"

log = logging.getLogger(__name__)


async def execute_run(
    jobs: Sequence[Job],
    *,
    backend_name: str,
    options: BackendOptions,
    out_dir: Path,
    recipe_name: str,
    concurrency: int | None,
    force: bool,
    progress_mode: str,
    verbose: bool,
) -> RunSummary:
    """Run ``jobs`` on the named backend with resume, then write manifest.json and report.html."""
    factory = BACKENDS.get(backend_name)
    if factory is None:
        raise UsageError(f"unknown backend '{backend_name}'; use one of: {', '.join(sorted(BACKENDS))}")
    if concurrency is not None and concurrency < 1:
        raise UsageError("--concurrency must be 1 or more")
    out_dir = Path(out_dir)
    refuse_foreign_run_files(out_dir)
    async with hold_output_folder(out_dir, on_wait=log.warning):
        progress = open_progress(progress_mode, verbose)
        with Journal.open(out_dir) as journal, progress:
            runner = Runner(factory(options), journal, progress, concurrency=concurrency, force=force)
            try:
                try:
                    summary = await runner.run(jobs)
                finally:
                    # Closing the backend also stops worker processes that may still be writing temp files.
                    await runner.aclose()
            except asyncio.CancelledError:
                _write_outputs(runner.summary(stopped_reason=INTERRUPTED), runner, out_dir, recipe_name)
                raise
            _write_outputs(summary, runner, out_dir, recipe_name)
    return summary


def refuse_foreign_run_files(out_dir: Path) -> None:
    """Stop before anything runs when the manifest or report would replace a file joypix did not write."""
    foreign = foreign_run_files(out_dir)
    if foreign:
        names = " and ".join(str(path) for path in foreign)
        raise UsageError(f"{names} already exist{'s' if len(foreign) == 1 else ''} and joypix did not write "
                         f"{'it' if len(foreign) == 1 else 'them'}; give --out a folder of its own")


def _write_outputs(summary: RunSummary, runner: Runner, out_dir: Path, recipe_name: str) -> None:
    manifest, report = write_run_outputs(summary, out_dir, recipe_name)
    runner.progress.run_finished(summary, manifest, report)
