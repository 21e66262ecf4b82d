"""The one run set-up every command shares: output folders held, their journals open, notifiers on the
progress display, and a Runner per lane (an output folder and a backend); at the end every backend
closed, manifest.json and report.html written for whatever ran, and notifications given a short,
bounded time to go out.

`joypix run` (and a farm run, whose backend follows the farm) opens one lane through ``run_jobs``;
`joypix watch` opens one per output folder and backend of its flows. On cancellation (Ctrl-C under
``asyncio.run``) the outputs are still written, for what finished, with the run marked interrupted;
``asyncio.CancelledError`` then goes on up, and the CLI exits 130.
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
from joypix_recipes.errors import JoypixError, UsageError
from joypix_recipes.job.model import Job
from joypix_recipes.run.attempt import INTERRUPTED
from joypix_recipes.run.clip import ClipFacts, read_clip_facts
from joypix_recipes.run.journal import Journal
from joypix_recipes.run.notify import Notifier, NotifyingProgress, NotifySettings, Subscription
from joypix_recipes.run.outcome import JobOutcome, RunSummary, Status
from joypix_recipes.run.outfolder import hold_output_folder
from joypix_recipes.run.progress import ForwardingProgress, Progress, open_progress
from joypix_recipes.run.report import foreign_run_files, jpeg_data_uri, thumbnail_data_uri, write_run_outputs
from joypix_recipes.run.runner import Runner

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
        raise UsageError(
            f"{names} already exist{'s' if len(foreign) == 1 else ''} and joypix did not write "
            f"{'it' if len(foreign) == 1 else 'them'}; give --out a folder of its own"
        )


def _check_concurrency(concurrency: int | None) -> None:
    if concurrency is not None and concurrency < 1:
        raise UsageError("--concurrency must be 1 or more")


@dataclass(frozen=True)
class Lane:
    """One Runner of a session: the output folder it writes, the backend it runs on, the recipe its report names."""

    out_dir: Path
    backend_name: str
    recipe_name: str


class _Thumbnailing(ForwardingProgress):
    """Passes every event on, and starts each finished job's report thumbnail (unless its backend made one
    already) and the reading of its clip's facts in worker threads.

    The report is written when the run ends; with the thumbnails made as the jobs finished, it only
    lays out the page then, instead of decoding every poster after the last clip.
    """

    def __init__(self, inner: Progress) -> None:
        super().__init__(inner)
        self._made: dict[Path, asyncio.Future[str | None]] = {}
        self._facts: dict[Path, asyncio.Future[ClipFacts | None]] = {}

    def job_finished(self, outcome: JobOutcome, detail: str | None = None) -> None:
        super().job_finished(outcome, detail)
        if outcome.status not in ("done", "skipped"):
            return
        loop = asyncio.get_running_loop()
        if outcome.output is not None:
            # The manifest's clip facts, read from the file now rather than all at once after the last clip.
            self._facts[outcome.output] = loop.run_in_executor(None, read_clip_facts, outcome.output)
        poster = outcome.poster
        if poster is None:
            return
        if outcome.thumbnail is not None:
            # Made by the backend from the frame it held: nothing to decode again.
            made: asyncio.Future[str | None] = loop.create_future()
            made.set_result(jpeg_data_uri(outcome.thumbnail))
            self._made[poster] = made
        else:
            self._made[poster] = loop.run_in_executor(None, thumbnail_data_uri, poster)

    async def thumbnails(self) -> dict[Path, str | None]:
        """Every thumbnail started so far, once made."""
        made = dict(self._made)
        return dict(zip(made, await asyncio.gather(*made.values())))

    async def clip_facts(self) -> dict[Path, ClipFacts | None]:
        """The facts of every clip that ended so far, once read."""
        read = dict(self._facts)
        return dict(zip(read, await asyncio.gather(*read.values())))


@dataclass
class _LaneRun:
    """A lane's Runner, and the batch (if one ran) whose summary its report shows in job order."""

    lane: Lane
    runner: Runner
    thumbnails: _Thumbnailing
    batch: RunSummary | None = None
    planned: tuple[Job, ...] = ()
    failure: str | None = None
    """Why the batch ended early with an error (a journal on a full disk), if it did."""

    async def close(self, stopped_reason: str | None) -> None:
        """Close the backend, then write manifest.json and report.html for every job planned or ended."""
        try:
            # Closing the backend also stops worker processes that may still be writing temp files.
            await self.runner.aclose()
        finally:
            reason = stopped_reason or self.failure
            summary = self.batch if self.batch is not None and reason is None else self._unfinished(reason)
            if summary.outcomes:
                thumbnails = await self.thumbnails.thumbnails()
                facts = await self.thumbnails.clip_facts()
                # Off the event loop: the writes are synced, and a watcher's other lanes go on meanwhile.
                manifest, report = await asyncio.to_thread(
                    write_run_outputs, summary, self.lane.out_dir, self.lane.recipe_name, thumbnails, facts
                )
                self.runner.progress.run_finished(summary, manifest, report)

    def _unfinished(self, reason: str | None) -> RunSummary:
        """What ended so far, plus every planned job that did not, as not run for ``reason``.

        The manifest must agree with the exit code: a batch an error stopped lists each job it never
        finished, not only the ones that ended.
        """
        ended = self.runner.summary(reason)
        if not self.planned:
            return ended
        by_job = {id(outcome.job): outcome for outcome in ended.outcomes}
        status: Status = "cancelled" if reason == INTERRUPTED else "failed"
        outcomes = [
            by_job.pop(id(job))
            if id(job) in by_job
            else JobOutcome(
                job=job, identity="", status=status, output=None, error=f"not finished: {reason}", duration_s=0.0
            )
            for job in self.planned
        ]
        # Anything else that ended (jobs submitted on their own) keeps its place after the batch.
        return RunSummary((*outcomes, *by_job.values()), ended.stopped_reason)


class RunSession:
    """What one command's run holds open: a journal per output folder and a Runner per lane."""

    def __init__(self, journals: Mapping[Path, Journal]) -> None:
        self._journals = dict(journals)
        self._lanes: dict[tuple[Path, str], _LaneRun] = {}
        self.stopped_reason: str | None = None

    def runner(self, lane: Lane) -> Runner:
        """The Runner of ``lane`` (jobs submitted to it one by one end up in its report)."""
        return self._lanes[lane.out_dir, lane.backend_name].runner

    def journal(self, out_dir: Path) -> Journal:
        """The journal of an output folder of this session."""
        return self._journals[out_dir]

    @property
    def slots(self) -> int:
        """How many jobs the session's runners run at once, all lanes together."""
        return sum(run.runner.concurrency for run in self._lanes.values())

    async def run(self, lane: Lane, jobs: Sequence[Job]) -> RunSummary:
        """Run a batch on ``lane``; its summary (in job order) is what the lane's report will show."""
        run = self._lanes[lane.out_dir, lane.backend_name]
        run.planned = tuple(jobs)
        try:
            run.batch = await run.runner.run(jobs)
        except JoypixError as error:
            run.failure = str(error)
            raise
        return run.batch

    def _has_lane(self, lane: Lane) -> bool:
        return (lane.out_dir, lane.backend_name) in self._lanes

    def _add_lane(self, lane: Lane, runner: Runner, thumbnails: _Thumbnailing) -> None:
        self._lanes[lane.out_dir, lane.backend_name] = _LaneRun(lane, runner, thumbnails)

    async def _close(self) -> None:
        """Close every lane, the last opened first, each even when one closed before it failed."""
        async with contextlib.AsyncExitStack() as closing:
            for run in self._lanes.values():
                closing.push_async_callback(run.close, self.stopped_reason)


@contextlib.asynccontextmanager
async def open_run_session(
    lanes: Sequence[Lane],
    *,
    progress: Progress,
    options: BackendOptions | None = None,
    backends: Mapping[str, BackendFactory] = BACKENDS,
    concurrency: int | None = None,
    force: bool = False,
    notify: Sequence[Subscription] = (),
) -> AsyncIterator[RunSession]:
    """Hold each lane's output folder, open its journal and start its Runner; ``notify`` hears of the jobs.

    Usage errors (an unknown backend, a bad concurrency, run files joypix did not write) come before
    anything is written. On the way out every lane is closed and its outputs written, then the notifiers
    get a short, bounded time, then the journals close and the folders are let go.
    """
    _check_concurrency(concurrency)
    factories = {lane.backend_name: find_backend(lane.backend_name, backends) for lane in lanes}
    out_dirs = sorted({lane.out_dir for lane in lanes})
    for out_dir in out_dirs:
        refuse_foreign_run_files(out_dir)
    options = options if options is not None else BackendOptions()
    async with contextlib.AsyncExitStack() as stack:
        # Sorted, so two processes asking for the same folders cannot deadlock.
        for out_dir in out_dirs:
            await stack.enter_async_context(hold_output_folder(out_dir, on_wait=log.warning))
        session = RunSession({out_dir: stack.enter_context(Journal.open(out_dir)) for out_dir in out_dirs})
        for subscription in notify:
            notifier = Notifier(subscription.settings)
            stack.callback(notifier.close)
            progress = NotifyingProgress(
                progress, notifier, subscription.recipe_name, recipe_path=subscription.recipe_path
            )
        # Closed before the notifiers (registered earlier), so the run's last events still go out.
        stack.push_async_callback(session._close)
        thumbnailing = _Thumbnailing(progress)
        for lane in lanes:
            # Lanes of one folder and backend (watch flows with different recipes) share the first one's runner.
            if not session._has_lane(lane):
                backend = factories[lane.backend_name](options)
                journal = session.journal(lane.out_dir)
                runner = Runner(backend, journal, thumbnailing, concurrency=concurrency, force=force)
                session._add_lane(lane, runner, thumbnailing)
        try:
            yield session
        except asyncio.CancelledError:
            session.stopped_reason = INTERRUPTED
            raise


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
    lane = Lane(Path(out_dir), backend_name, recipe_name)
    subscriptions = [Subscription(notify, recipe_name)] if notify is not None and notify.targets else []
    with open_progress(progress_mode, verbose) as progress:
        async with open_run_session(
            [lane],
            progress=progress,
            options=options,
            backends=backends,
            concurrency=concurrency,
            force=force,
            notify=subscriptions,
        ) as session:
            return await session.run(lane, jobs)
