"""What the hot folder does with one settled image: plan its jobs, skip what the journal has done, run the rest.

Exactly once comes from the runner's journal: a job whose identity (image content + specification) is
done there is never run again, whatever the file is called now.

A clip is never replaced by another image's: a second ``slow.jpg`` (kept as ``done/slow-2.jpg``) gets
``slow-2.mp4`` when ``slow.mp4`` is taken (on disk, in the journal or by an image running now).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from joypix_recipes.errors import JobError, RunError
from joypix_recipes.job.model import Job, job_identity, poster_path
from joypix_recipes.run.journal import JobState, Journal
from joypix_recipes.run.outcome import JobOutcome
from joypix_recipes.run.runner import Identified, Runner
from joypix_recipes.watch.config import Flow
from joypix_recipes.watch.filters import DONE
from joypix_recipes.watch.hotfolder import Handled
from joypix_recipes.watch.moves import MAX_SUFFIX, numbered

Planner = Callable[[Path], list[Job]]
"""Plans the jobs of one flow's recipe for one image (blocking; run in a thread)."""


class DoneIndex:
    """Identity -> output of every job the journal records as done (loaded once, then kept current)."""

    def __init__(self, journal: Journal) -> None:
        self._outputs = {record.identity: record.output for record in journal.records() if record.state == JobState.DONE}

    def output_of(self, identity: str) -> Path | None:
        """Where the finished job with this identity wrote its output, if it is done and still there."""
        output = self._outputs.get(identity)
        return output if output is not None and output.exists() else None

    def add(self, identity: str, output: Path) -> None:
        """Remember a job that just finished."""
        self._outputs[identity] = output


class FlowJobs:
    """A flow's way to run an image: its planner, its runner and the done index of its journal."""

    def __init__(self, planner: Planner, runner: Runner, done: DoneIndex) -> None:
        self.planner = planner
        self.runner = runner
        self.done = done


class RunnerHandler:
    """The `FileHandler` that runs images through the runner, one `FlowJobs` per flow."""

    def __init__(self, flows: Mapping[Flow, FlowJobs], max_planning: int = 8) -> None:
        self._flows = dict(flows)
        # Images planned at once (in threads): enough to keep the runner's slots fed in a burst.
        self._planning = asyncio.Semaphore(max_planning)
        # Outputs of jobs running now: a name another image holds is taken even before anything is on disk.
        self._claimed: set[Path] = set()

    async def __call__(self, path: Path, flow: Flow, content_hash: str) -> Handled:
        """Run the image's jobs; done, duplicate (all its jobs done under another name) or failed."""
        jobs_of = self._flows[flow]
        async with self._planning:
            jobs = await asyncio.to_thread(jobs_of.planner, path)
        if not jobs:
            return Handled("failed", f"the recipe {flow.recipe.name} planned no jobs for {path.name}")
        jobs_of.runner.progress.run_started(len(jobs))
        results = await asyncio.gather(*(self._run_one(jobs_of, job, content_hash, path, flow) for job in jobs))
        outcomes = [result for result in results if isinstance(result, JobOutcome)]
        stopped = jobs_of.runner.stopped_reason
        if stopped is not None and any(outcome.status == "cancelled" for outcome in outcomes):
            raise RunError(stopped)
        failures = [outcome for outcome in outcomes if outcome.status not in ("done", "skipped")]
        if failures:
            return Handled("failed", "\n".join(_reason(outcome) for outcome in failures))
        earlier = [result for result in results if isinstance(result, Path)]
        if earlier and not outcomes:
            listing = ", ".join(str(output) for output in earlier)
            return Handled("duplicate", f"{path.name} is the same image as one already done; its clips: {listing}")
        return Handled("done")

    async def _run_one(self, jobs_of: FlowJobs, job: Job, content_hash: str, path: Path, flow: Flow) -> JobOutcome | Path:
        """The runner's outcome, or the output of the same job done earlier for an identical image."""
        identified = Identified(job_identity(job, content_hash), content_hash)
        journal = jobs_of.runner.journal
        output = self._own_output(journal, job.output, identified.identity, flow.folder / DONE / path.name)
        job = replace(job, output=output)
        earlier = jobs_of.done.output_of(identified.identity)
        if earlier is not None and earlier != job.output:
            return earlier
        # Same output (a restart before the move): the runner checks it is intact and skips it.
        self._claimed.add(output)
        try:
            outcome = await jobs_of.runner.submit(job, identified)
        finally:
            self._claimed.discard(output)
        if outcome.status in ("done", "skipped") and outcome.output is not None:
            jobs_of.done.add(outcome.identity, outcome.output)
        return outcome

    def _own_output(self, journal: Journal, planned: Path, identity: str, kept_as: Path) -> Path:
        """``planned``, or NAME-N beside it when that is another image's; N is first the one the input will
        likely get in done/ (``kept_as`` is where it goes), so ``done/slow-2.jpg`` goes with ``slow-2.mp4``."""
        if not self._taken(journal, planned, identity):
            return planned
        likely = next((number for number in range(2, MAX_SUFFIX) if not _lexists(kept_as.with_name(numbered(kept_as.name, number)))), 2)
        for number in (likely, *range(2, MAX_SUFFIX)):
            candidate = planned.with_name(numbered(planned.name, number))
            if not self._taken(journal, candidate, identity):
                return candidate
        raise JobError(f"no free name for {planned.name} in {planned.parent}; move some clips away")

    def _taken(self, journal: Journal, output: Path, identity: str) -> bool:
        """Whether ``output`` belongs to another job: one running now, a file there, or the journal's word."""
        if journal.get(identity, output) is not None:
            return False  # this very job's (a restart before its image was moved): resume or skip it there
        return (
            output in self._claimed
            or _lexists(output)
            or _lexists(poster_path(output))
            or journal.made(output)
            or journal.ledger(output) is not None  # what another image paid for must not follow this one
        )


def _lexists(path: Path) -> bool:
    return os.path.lexists(path)


def _reason(outcome: JobOutcome) -> str:
    # Errors already name the input; a variant is the one thing they may not say.
    error = outcome.error or "the job did not finish"
    return f"[{outcome.job.variant}] {error}" if outcome.job.variant else error
