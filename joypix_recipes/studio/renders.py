"""The studio's two kinds of render, both on the run set-up `joypix run` uses: drafts of the jobs that changed,
one batch after another, and the finals when the page asks, with every job's progress sent to the page."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from joypix_recipes.errors import JoypixError
from joypix_recipes.job.model import Job
from joypix_recipes.run.preview import PREVIEW_BACKENDS, preview_job, preview_lane
from joypix_recipes.run.progress import Progress
from joypix_recipes.run.session import Lane, open_run_session
from joypix_recipes.studio.state import Final, Render, StudioState, final_url

if TYPE_CHECKING:
    from joypix_recipes.backends.contract import BackendOptions
    from joypix_recipes.run.outcome import JobOutcome, RunSummary

log = logging.getLogger(__name__)

UNEXPECTED = "stopped on an unexpected error; the terminal running joypix studio shows it"

Changed = Callable[[], None]
"""Called after the state changed, to send the page its new snapshot."""


class _DraftProgress(Progress):
    """Marks each card rendering, then ready or failed, as its draft goes."""

    def __init__(self, state: StudioState, changed: Changed) -> None:
        self._state = state
        self._changed = changed

    def job_started(self, job: Job, identity: str) -> None:
        self._state.draft_started(self._key(job), identity)
        self._changed()

    def job_finished(self, outcome: JobOutcome, detail: str | None = None) -> None:
        if outcome.status == "cancelled":
            return  # abandoned for a newer version, or the studio is stopping: not a failure to show
        ok = outcome.status in ("done", "skipped")
        self._state.draft_ended(self._key(outcome.job), outcome.identity, ok, outcome.error, outcome.warnings)
        self._changed()

    def _key(self, draft: Job) -> str:
        return draft.output.relative_to(self._state.out_dir).as_posix()


class Previewer:
    """Renders drafts of the jobs handed to it, one batch at a time; jobs handed over meanwhile make the next batch.

    A save that changes a job whose draft is being made abandons the batch at once: its other unfinished jobs
    go into the next batch with the newer versions, so no one waits for a draft nobody will see.
    """

    def __init__(self, state: StudioState, changed: Changed, options: BackendOptions | None = None) -> None:
        self._state = state
        self._changed = changed
        self._options = options
        self._waiting: dict[str, Job] = {}
        self._wake = asyncio.Event()
        self._rendering: dict[str, Job] = {}
        self._batch: asyncio.Task[None] | None = None

    def want(self, jobs: Sequence[Job]) -> None:
        """Render these jobs' drafts soon (a newer version of a job replaces one not started yet, or abandons it)."""
        for job in jobs:
            key = self._state.key(job)
            self._waiting[key] = job
            if key in self._rendering and self._rendering[key] != job and self._batch is not None:
                self._batch.cancel()
        if self._waiting:
            self._wake.set()

    async def run_forever(self) -> None:
        """Render each batch handed over, until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            jobs, self._waiting = list(self._waiting.values()), {}
            self._rendering = {self._state.key(job): job for job in jobs}
            self._batch = asyncio.create_task(self._render(jobs), name="studio drafts")
            try:
                await asyncio.wait({self._batch})
            finally:
                if not self._batch.done():  # the studio is stopping
                    self._batch.cancel()
                    await asyncio.gather(self._batch, return_exceptions=True)
            batch, self._batch, self._rendering = self._batch, None, {}
            if batch.cancelled():
                self._take_up_abandoned(jobs)
                continue
            error = batch.exception()
            if isinstance(error, JoypixError):
                log.warning("drafts could not be rendered: %s", error)
                self._failed(jobs, str(error))
            elif error is not None:
                # The studio outlives one bad batch: the next save drafts again.
                log.error("drafts stopped on an unexpected error", exc_info=error)
                self._failed(jobs, UNEXPECTED)

    def _take_up_abandoned(self, jobs: Sequence[Job]) -> None:
        """The abandoned batch's jobs that are still current and not drafted go first into the next batch."""
        for job in jobs:
            key = self._state.key(job)
            card = self._state.cards.get(key)
            if key in self._waiting or card is None or card.status == "ready":
                continue
            self._waiting = {key: job, **self._waiting}
        self._wake.set()

    def _failed(self, jobs: Sequence[Job], error: str) -> None:
        for job in jobs:
            self._state.draft_ended(self._state.key(job), _identity_of(self._state, job), False, error)
        self._changed()

    async def _render(self, jobs: Sequence[Job]) -> None:
        out_dir = self._state.out_dir
        lane = preview_lane(out_dir, self._state.planned.recipe_name or self._state.recipe_path.stem)
        progress = _DraftProgress(self._state, self._changed)
        async with open_run_session(
            [lane], progress=progress, options=self._options, backends=PREVIEW_BACKENDS
        ) as session:
            await session.run(lane, [preview_job(job, out_dir) for job in jobs])


def _identity_of(state: StudioState, job: Job) -> str:
    card = state.cards.get(state.key(job))
    return card.identity if card is not None else ""


class _FinalProgress(Progress):
    """Keeps the render's state (each final's status and link) and tells the page at every step."""

    def __init__(self, state: StudioState, changed: Changed, jobs: Sequence[Job]) -> None:
        self._state = state
        self._changed = changed
        self._order = {job.output: index for index, job in enumerate(jobs)}

    def _set(self, job: Job, final: Final) -> None:
        render = self._state.render
        finals = list(render.finals)
        index = self._order.get(job.output)
        if index is not None and index < len(finals):
            finals[index] = final
            self._state.set_render(replace(render, finals=tuple(finals)))
            self._changed()

    def job_started(self, job: Job, identity: str) -> None:
        self._set(job, Final(job.label, "rendering"))

    def job_stage(self, job: Job, text: str) -> None:
        self._set(job, Final(job.label, text))

    def job_finished(self, outcome: JobOutcome, detail: str | None = None) -> None:
        url = final_url(outcome.output, self._state.out_dir) if outcome.status in ("done", "skipped") else None
        self._set(outcome.job, Final(outcome.job.label, outcome.status, url, outcome.error))

    def run_finished(self, summary: RunSummary, manifest: Path | None = None, report: Path | None = None) -> None:
        self._state.set_render(replace(self._state.render, report=final_url(report, self._state.out_dir)))
        self._changed()


def render_finals(
    state: StudioState, jobs: Sequence[Job], changed: Changed, options: BackendOptions | None = None
) -> Coroutine[Any, Any, None]:
    """The render of ``jobs`` as `joypix run` would make it, into the output folder; the state follows every job.

    The state says the render runs from now on, before the returned coroutine is first awaited, so no page
    (and no second press of the button) sees a render started but not yet running.
    """
    state.set_render(Render(running=True, total=len(jobs), finals=tuple(Final(job.label, "waiting") for job in jobs)))
    changed()
    return _render_finals(state, jobs, changed, options)


async def _render_finals(
    state: StudioState, jobs: Sequence[Job], changed: Changed, options: BackendOptions | None
) -> None:
    lane = Lane(state.out_dir, jobs[0].backend, state.planned.recipe_name)
    error: str | None = None
    try:
        progress = _FinalProgress(state, changed, jobs)
        async with open_run_session([lane], progress=progress, options=options) as session:
            await session.run(lane, jobs)
    except JoypixError as failure:
        error = str(failure)
    except Exception:
        log.exception("the final render stopped on an unexpected error")
        error = UNEXPECTED
    finally:
        state.set_render(replace(state.render, running=False, error=error))
        changed()
