"""What the hot folder does with one settled image: plan its jobs, skip what the journal has done, run the rest.

Exactly once comes from the runner's journal: a job whose identity (image content + specification) is
done there is never run again, whatever the file is called now.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path

from joypix_recipes.errors import RunError
from joypix_recipes.job.model import Job, job_identity
from joypix_recipes.run.journal import JobState, Journal
from joypix_recipes.run.outcome import JobOutcome
from joypix_recipes.run.runner import Identified, Runner
from joypix_recipes.watch.config import Flow
from joypix_recipes.watch.hotfolder import Handled

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

    def __init__(self, flows: Mapping[Flow, FlowJobs]) -> None:
        self._flows = dict(flows)

    async def __call__(self, path: Path, flow: Flow, content_hash: str) -> Handled:
        """Run the image's jobs; done, duplicate (all its jobs done under another name) or failed."""
        jobs_of = self._flows[flow]
        jobs = await asyncio.to_thread(jobs_of.planner, path)
        if not jobs:
            return Handled("failed", f"the recipe {flow.recipe.name} planned no jobs for {path.name}")
        jobs_of.runner.progress.run_started(len(jobs))
        results = await asyncio.gather(*(self._run_one(jobs_of, job, content_hash) for job in jobs))
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

    async def _run_one(self, jobs_of: FlowJobs, job: Job, content_hash: str) -> JobOutcome | Path:
        """The runner's outcome, or the output of the same job done earlier for an identical image."""
        identified = Identified(job_identity(job, content_hash), content_hash)
        earlier = jobs_of.done.output_of(identified.identity)
        if earlier is not None and earlier != job.output:
            return earlier
        # Same output (a restart before the move): the runner checks it is intact and skips it.
        outcome = await jobs_of.runner.submit(job, identified)
        if outcome.status in ("done", "skipped") and outcome.output is not None:
            jobs_of.done.add(outcome.identity, outcome.output)
        return outcome


def _reason(outcome: JobOutcome) -> str:
    # Errors already name the input; a variant is the one thing they may not say.
    error = outcome.error or "the job did not finish"
    return f"[{outcome.job.variant}] {error}" if outcome.job.variant else error
