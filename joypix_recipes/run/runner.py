"""Runs jobs through a backend under a concurrency bound, journaling every state change so a rerun resumes.

Skips finished jobs whose output is intact, hands in-flight cloud ids back as ``Resume``, fails one job
without stopping the others, and stops starting new jobs on a ``RunError`` (no credits).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import traceback
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from joypix_recipes.atomic import remove_partials
from joypix_recipes.backends.contract import Backend, JobResult, Resume
from joypix_recipes.errors import JobError, JoypixError, RunError
from joypix_recipes.job.model import Job, hash_file, input_hash, job_identity, poster_path
from joypix_recipes.redact import redact
from joypix_recipes.run.journal import IN_FLIGHT, JobRecord, JobState, Journal
from joypix_recipes.run.outcome import JobOutcome, RunSummary, Status
from joypix_recipes.run.progress import Progress
from joypix_recipes.run.provenance import embedded_identity

INTERNAL_ERROR = "internal error in the {backend} backend; rerun with -v to see the details and please report it"


@dataclass
class _Reporter:
    """The ``JobReporter`` one job's backend talks to: forwards to the journal and the progress."""

    job: Job
    identity: str
    input_hash: str
    journal: Journal
    progress: Progress
    replies: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rendering: bool = False

    def stage(self, text: str) -> None:
        if not self.rendering and text.lower().startswith("render"):
            self.rendering = True
            self.journal.set_state(self.identity, self.job.output, JobState.RENDERING)
        self.progress.job_stage(self.job, text)

    def checkpoint(self, session_id: str | None = None, render_id: str | None = None) -> None:
        self.rendering = self.rendering or render_id is not None
        self.journal.checkpoint(self.identity, self.job.output, session_id, render_id)

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.progress.job_warning(self.job, message)

    def reply(self, text: str) -> None:
        self.replies.append(text)
        self.progress.job_reply(self.job, text)


class Runner:
    """Runs jobs on one backend; ``run`` takes a batch, ``submit`` one job, under the same bound."""

    def __init__(
        self,
        backend: Backend,
        journal: Journal,
        progress: Progress,
        concurrency: int | None = None,
        force: bool = False,
        hash_file: Callable[[Path], str] = hash_file,
    ) -> None:
        self.backend = backend
        # Injected so a test can count reads; the one place a job's input is hashed before it runs.
        self._hash_file = hash_file
        self.journal = journal
        self.progress = progress
        self.force = force
        self.concurrency = max(1, concurrency if concurrency is not None else backend.default_concurrency)
        self.stopped_reason: str | None = None
        self.outcomes: list[JobOutcome] = []
        self._slots = asyncio.Semaphore(self.concurrency)
        self._output_locks: dict[Path, tuple[asyncio.Lock, int]] = {}
        self._input_hashes: dict[tuple[str, int, int], asyncio.Future[str]] = {}
        self._cleaned: set[Path] = set()

    async def run(self, jobs: Sequence[Job]) -> RunSummary:
        """Run a batch; returns when every job has ended (cancellation propagates after recording)."""
        self.progress.run_started(len(jobs))
        identities = await asyncio.gather(*(self._identify(job) for job in jobs))
        self.journal.add_pending([(identity, job) for job, (identity, _) in zip(jobs, identities) if identity])
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._submit(job, identity)) for job, identity in zip(jobs, identities)]
        except BaseExceptionGroup as group:
            # Jobs never raise; only the journal can (a full disk), and the CLI should see that one error.
            raise _first_leaf(group) from None
        return RunSummary(tuple(task.result() for task in tasks), self.stopped_reason)

    async def submit(self, job: Job, input_hash: str | None = None) -> JobOutcome:
        """Run one job (the hot folder calls this from many tasks); same bound, skip and resume rules.

        ``input_hash`` is the input's content hash when the caller has already read it (the hot folder has).
        """
        identity = await self._identify(job) if input_hash is None else (job_identity(job, input_hash), input_hash)
        if identity[0]:
            self.journal.add_pending([(identity[0], job)])
        return await self._submit(job, identity)

    def summary(self, stopped_reason: str | None = None) -> RunSummary:
        """Every outcome recorded so far (for a report after an interrupted run)."""
        return RunSummary(tuple(self.outcomes), stopped_reason or self.stopped_reason)

    async def aclose(self) -> None:
        """Close the backend, then remove temp files a cancelled worker may have left behind."""
        try:
            await self.backend.aclose()
        finally:
            for folder in (*self._cleaned, self.journal.scratch):
                remove_partials(folder)

    async def _identify(self, job: Job) -> tuple[str, str]:
        """(identity, input hash), or ("", message) when the input cannot be read."""
        try:
            content = await self._input_hash(job)
        except OSError as e:
            return "", f"cannot read input {job.input.display}: {e.strerror or e}; check the file is still there"
        return job_identity(job, content), content

    async def _input_hash(self, job: Job) -> str:
        # Variants of one photo share one hashing, even while it is still running; stat keys the cache
        # so a replaced file is hashed again.
        path = job.input.path
        if path is None or job.input.images:
            return input_hash(job.input)
        stat = await asyncio.to_thread(path.stat)
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        hashing = self._input_hashes.get(key)
        if hashing is None:
            hashing = asyncio.ensure_future(asyncio.to_thread(self._hash_file, path))
            # Retrieved here too, so a failure nobody waits for any more (all cancelled) is not reported as lost.
            hashing.add_done_callback(lambda done: done.cancelled() or done.exception())
            self._input_hashes[key] = hashing
        try:
            return await asyncio.shield(hashing)
        except OSError:
            self._input_hashes.pop(key, None)
            raise

    async def _submit(self, job: Job, identified: tuple[str, str]) -> JobOutcome:
        identity, content = identified
        if not identity:
            return self._record(JobOutcome(job, "", "failed", None, content, 0.0))
        self._clean_folder(job.output.parent)
        # Two submissions for one output run one after the other; the second usually finds it done.
        async with self._output_lock(job.output):
            record = self.journal.get(identity, job.output)
            if not self.force and record is not None and await self._intact(record):
                return self._record(
                    JobOutcome(job, identity, "skipped", job.output, None, 0.0, content, record.poster)
                )
            if self.stopped_reason is not None:
                return self._not_started(job, identity, content)
            async with self._slots:
                if self.stopped_reason is not None:
                    return self._not_started(job, identity, content)
                return await self._attempt(job, identity, content, record)

    @contextlib.asynccontextmanager
    async def _output_lock(self, output: Path) -> AsyncIterator[None]:
        lock, users = self._output_locks.get(output, (asyncio.Lock(), 0))
        self._output_locks[output] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._output_locks[output]
            # Forget idle locks, so a hot folder running for months does not keep one per file ever seen.
            if users == 1:
                del self._output_locks[output]
            else:
                self._output_locks[output] = (lock, users - 1)

    async def _attempt(self, job: Job, identity: str, content: str, record: JobRecord | None) -> JobOutcome:
        resume = None
        # Only a render id is worth re-attaching to: replaying steps into an old session could apply them twice.
        if not self.force and record is not None and record.state in IN_FLIGHT and record.render_id:
            resume = Resume(session_id=record.session_id, render_id=record.render_id)
        reporter = _Reporter(job, identity, content, self.journal, self.progress)
        # Asked before this attempt is journaled as running, which would make any file there look like ours.
        foreign = None
        if os.path.lexists(job.output) or os.path.lexists(poster_path(job.output)):  # the usual case: neither
            foreign = await asyncio.to_thread(self._foreign_file, job)
        self.journal.start(identity, job, keep_ids=resume is not None)
        self.progress.job_started(job, identity)
        started_at = time.time()
        began = time.monotonic()

        def ended(status: Status, error: str | None, result: JobResult | None = None) -> JobOutcome:
            # The message goes to the journal, the manifest and the report: no URL password may ride along.
            error = redact(error) if error else error
            return JobOutcome(
                job, identity, status, result.output if result else None, error, time.monotonic() - began, content,
                result.poster if result else None, result.summary if result else "",
                tuple(reporter.replies), tuple(reporter.warnings), started_at,
            )

        detail = None
        try:
            if foreign is not None:
                raise JobError(
                    f"{foreign} already exists and was not made by joypix; move it away or choose another output folder"
                )
            result = await self.backend.run_job(job, reporter, resume)
        except asyncio.CancelledError:
            outcome = ended("cancelled", "interrupted")
            self.journal.fail(identity, job.output, "interrupted", outcome.duration_s, state=JobState.CANCELLED)
            self._record(outcome)
            raise
        except RunError as e:
            self._stop(str(e))
            outcome = ended("failed", str(e))
        except JoypixError as e:
            outcome = ended("failed", str(e))
        except Exception:  # noqa: BLE001 - anything else is a backend bug: fail this job, keep the run going
            outcome = ended("failed", INTERNAL_ERROR.format(backend=self.backend.name))
            detail = redact(traceback.format_exc())
        else:
            try:
                output_hash, size = await asyncio.to_thread(_fingerprint, result.output)
            except OSError as e:
                outcome = ended("failed", f"the output {result.output} is missing after the job ({e.strerror or e}); run it again")
            else:
                outcome = ended("done", None, result)
                self.journal.finish(
                    identity, job.output, output_hash=output_hash, output_size=size, poster=result.poster,
                    duration_s=outcome.duration_s,
                )
                return self._record(outcome)
        self.journal.fail(identity, job.output, outcome.error or "", outcome.duration_s)
        return self._record(outcome, detail)

    def _foreign_file(self, job: Job) -> Path | None:
        """The output or poster path holding a file this tool did not make (the journal or the file itself says)."""
        for path in (job.output, poster_path(job.output)):
            if os.path.lexists(path) and not self.journal.made(path) and embedded_identity(path) is None:
                return path
        return None

    async def _intact(self, record: JobRecord) -> bool:
        """Done, and the output on disk still has the size and hash the journal recorded."""
        if record.state != JobState.DONE or record.output_hash is None:
            return False
        try:
            output_hash, size = await asyncio.to_thread(_fingerprint, record.output)
        except OSError:
            return False
        return size == record.output_size and output_hash == record.output_hash

    def _not_started(self, job: Job, identity: str, content: str | None) -> JobOutcome:
        return self._record(JobOutcome(job, identity, "cancelled", None, f"not started: {self.stopped_reason}", 0.0, content))

    def _stop(self, reason: str) -> None:
        if self.stopped_reason is None:
            self.stopped_reason = reason
            self.progress.run_stopped(reason)

    def _record(self, outcome: JobOutcome, detail: str | None = None) -> JobOutcome:
        self.outcomes.append(outcome)
        self.progress.job_finished(outcome, detail)
        return outcome

    def _clean_folder(self, folder: Path) -> None:
        # Only once per folder per runner: later, other jobs' temp files there are live.
        if folder not in self._cleaned:
            self._cleaned.add(folder)
            remove_partials(folder)


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


def _fingerprint(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file."""
    return hash_file(path), path.stat().st_size
