"""Setting up a run for a command: the backend by name, a Runner on a journal and a progress display, and
at the end the backend closed and manifest.json and report.html written for whatever ran.

`joypix run` runs one batch through it; `joypix watch` keeps one open per output folder and backend.
On cancellation (Ctrl-C under ``asyncio.run``) the outputs are still written, for what finished, with
the run marked interrupted; ``asyncio.CancelledError`` then goes on up, and the CLI exits 130.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from joypix_recipes.backends.contract import BackendOptions
from joypix_recipes.backends.registry import BACKENDS, BackendFactory
from joypix_recipes.errors import UsageError
from joypix_recipes.job.model import Job
from joypix_recipes.run.journal import Journal
from joypix_recipes.run.notify import Notifier, NotifyingProgress, NotifySettings
from joypix_recipes.run.outcome import RunSummary
from joypix_recipes.run.outfolder import hold_output_folder
from joypix_recipes.run.progress import Progress, open_progress
from joypix_recipes.run.report import foreign_run_files, write_run_outputs
from joypix_recipes.run.runner import Runner

INTERRUPTED = "interrupted"

log = logging.getLogger(__name__)


def find_backend(name: str, backends: Mapping[str, BackendFactory] = BACKENDS, context: str = "") -> BackendFactory:
    """The factory registered as ``name``; a UsageError naming the choices otherwise."""
    factory = backends.get(name)
    if factory is None:
        raise UsageError(f"unknown backend '{name}'{context}; use one of: {', '.join(sorted(backends))}")
    return factory


def refuse_foreign_run_files(out_dir: Path) -> None:
    """Stop before anything runs when the manifest or report would replace a file joypix did not write."""
    foreign = foreign_run_files(out_dir)
    if foreign:
        names = " and ".join(str(path) for path in foreign)
        raise UsageError(f"{names} already exist{'s' if len(foreign) == 1 else ''} and joypix did not write "
                         f"{'it' if len(foreign) == 1 else 'them'}; give --out a folder of its own")


def _check_concurrency(concurrency: int | None) -> None:
    if concurrency is not None and concurrency < 1:
        raise UsageError("--concurrency must be 1 or more")


@dataclass
class RunSession:
    """One Runner writing into one output folder for one recipe, and the summary its report shows."""

    runner: Runner
    out_dir: Path
    recipe_name: str
    batch: RunSummary | None = None

    async def run(self, jobs: Sequence[Job]) -> RunSummary:
        """Run a batch; its summary (in job order) is what the report will show."""
        self.batch = await self.runner.run(jobs)
        return self.batch

    def write_outputs(self, stopped_reason: str | None = None) -> None:
        """manifest.json and report.html for every job that ended, and the run's last progress line."""
        summary = self.batch if self.batch is not None and stopped_reason is None else self.runner.summary(stopped_reason)
        if not summary.outcomes:
            return
        manifest, report = write_run_outputs(summary, self.out_dir, self.recipe_name)
        self.runner.progress.run_finished(summary, manifest, report)


@contextlib.asynccontextmanager
async def open_session(
    backend_name: str,
    *,
    journal: Journal,
    progress: Progress,
    out_dir: Path,
    recipe_name: str,
    options: BackendOptions | None = None,
    backends: Mapping[str, BackendFactory] = BACKENDS,
    concurrency: int | None = None,
    force: bool = False,
    notify: NotifySettings | None = None,
) -> AsyncIterator[RunSession]:
    """A Runner on the named backend; on the way out it is closed, the run's outputs are written and
    notifications (if any) get a short, bounded time to go out."""
    _check_concurrency(concurrency)
    backend = find_backend(backend_name, backends)(options if options is not None else BackendOptions())
    notifier = Notifier(notify) if notify is not None and notify.targets else None
    if notifier is not None:
        progress = NotifyingProgress(progress, notifier, recipe_name)
    running = RunSession(Runner(backend, journal, progress, concurrency=concurrency, force=force), out_dir, recipe_name)
    stopped_reason = None
    try:
        yield running
    except asyncio.CancelledError:
        stopped_reason = INTERRUPTED
        raise
    finally:
        try:
            # Closing the backend also stops worker processes that may still be writing temp files.
            await running.runner.aclose()
        finally:
            try:
                running.write_outputs(stopped_reason)
            finally:
                if notifier is not None:
                    notifier.close()


async def run_jobs(
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
    backends: Mapping[str, BackendFactory] = BACKENDS,
    notify: NotifySettings | None = None,
) -> RunSummary:
    """`joypix run`: run ``jobs`` on the named backend with resume, then write manifest.json and report.html."""
    find_backend(backend_name, backends)
    _check_concurrency(concurrency)  # both before the journal is made: a usage error leaves nothing behind
    out_dir = Path(out_dir)
    refuse_foreign_run_files(out_dir)
    async with hold_output_folder(out_dir, on_wait=log.warning):
        with open_progress(progress_mode, verbose) as progress, Journal.open(out_dir) as journal:
            async with open_session(
                backend_name,
                journal=journal,
                progress=progress,
                out_dir=out_dir,
                recipe_name=recipe_name,
                options=options,
                backends=backends,
                concurrency=concurrency,
                force=force,
                notify=notify,
            ) as running:
                return await running.run(jobs)
