"""Runs jobs through a backend under a concurrency bound, journaling every state change so a rerun resumes.

Skips finished jobs whose output is intact, hands each job the ledger of what earlier attempts at its
output paid for (``backends/ledger.py``) and keeps the new entries as they come, fails one job
without stopping the others, and stops starting new jobs on a ``RunError`` (no credits); what an error
means is ``run/attempt.py``'s to say.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from joypix_recipes.atomic import remove_partials
from joypix_recipes.backends.contract import Backend, JobReporter, JobResult, Ledger
from joypix_recipes.errors import JobError
from joypix_recipes.job.model import Job, hash_file, input_hash, job_identity, poster_path
from joypix_recipes.run.attempt import INTERRUPTED, Attempt, Failure, attempt_job
from joypix_recipes.run.journal import JobRecord, JobState, Journal
from joypix_recipes.run.outcome import JobOutcome, RunSummary, Status
from joypix_recipes.run.progress import Progress
from joypix_recipes.run.provenance import embedded_identity

INTERNAL_ERROR = "internal error in the {backend} backend; rerun with -v to see the details and please report it"


@dataclass(frozen=True)
class Identified:
    """A job's identity and its input's content hash, computed once before the job runs."""

    identity: str
    input_hash: str


@dataclass(frozen=True)
class Unreadable:
    """A job whose input could not be read to identify it, and what to tell the user."""

    message: str


@dataclass(frozen=True)
class _Made:
    """What a successful attempt leaves: the backend's result and the output's fingerprint for the journal."""

    result: JobResult
    output_hash: str
    output_size: int


@dataclass
class _JournalReporter:
    """The ``JobReporter`` one job's backend talks to: forwards to the journal and the progress."""

    job: Job
    identity: str
    input_hash: str
    journal: Journal
    progress: Progress
    rendering: bool = False

    def stage(self, text: str) -> None:
        if not self.rendering and text.lower().startswith("render"):
            self.rendering = True
            self.journal.set_state(self.identity, self.job.output, JobState.RENDERING)
        self.progress.job_stage(self.job, text)

    def record(self, ledger: Ledger) -> None:
        self.rendering = self.rendering or ledger.render_id is not None
        self.journal.record_ledger(self.identity, self.job.output, ledger)

    def warn(self, message: str) -> None:
        self.progress.job_warning(self.job, message)

    def reply(self, text: str) -> None:
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
        self._pending_order = asyncio.Lock()

    async def run(self, jobs: Sequence[Job]) -> RunSummary:
        """Run a batch; returns when every job has ended (cancellation propagates after recording)."""
        self.progress.run_started(len(jobs))
        # A backend may get ready (a client, credentials) meanwhile, so the first job starts at once.
        prepare = getattr(self.backend, "prepare", None)
        readying = asyncio.ensure_future(prepare()) if prepare is not None else None
        identities = await asyncio.gather(*(self._identify(job) for job in jobs))
        if readying is not None:
            await readying
        # Journal writes run in a thread: SQLite may wait on the disk or on another process's lock, and
        # on the event loop that wait would stall every job's requests.
        await asyncio.to_thread(
            self.journal.add_pending,
            [(known.identity, job) for job, known in zip(jobs, identities) if isinstance(known, Identified)],
        )
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._submit(job, known)) for job, known in zip(jobs, identities)]
        except BaseExceptionGroup as group:
            # Jobs never raise; only the journal can (a full disk), and the CLI should see that one error.
            raise _first_leaf(group) from None
        return RunSummary(tuple(task.result() for task in tasks), self.stopped_reason)

    async def submit(self, job: Job, identified: Identified | None = None) -> JobOutcome:
        """Run one job (the hot folder calls this from many tasks); same bound, skip and resume rules.

        ``identified`` is the job's identity when the caller has already worked it out (the hot folder has).
        """
        known = identified if identified is not None else await self._identify(job)
        if isinstance(known, Identified):
            # One submission's write at a time, so jobs still reach their slots in the order they came.
            async with self._pending_order:
                await _journal(functools.partial(self.journal.add_pending, [(known.identity, job)]))
        return await self._submit(job, known)

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

    async def _identify(self, job: Job) -> Identified | Unreadable:
        try:
            content = await self._input_hash(job)
        except OSError as e:
            return Unreadable(
                f"cannot read input {job.input.display}: {e.strerror or e}; check the file is still there"
            )
        return Identified(job_identity(job, content), content)

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

    async def _submit(self, job: Job, known: Identified | Unreadable) -> JobOutcome:
        if isinstance(known, Unreadable):
            return self._record(
                JobOutcome(job=job, identity="", status="failed", output=None, error=known.message, duration_s=0.0)
            )
        identity, content = known.identity, known.input_hash
        self._clean_folder(job.output.parent)
        # Two submissions for one output run one after the other; the second usually finds it done.
        async with self._output_lock(job.output):
            # A read, on the loop: in WAL mode it never waits for a writer, and jobs reach their slots in order.
            record = self.journal.get(identity, job.output)
            if not self.force and record is not None and await self._intact(record):
                return self._record(
                    JobOutcome(
                        job=job,
                        identity=identity,
                        status="skipped",
                        output=job.output,
                        error=None,
                        duration_s=0.0,
                        input_hash=content,
                        poster=record.poster,
                    )
                )
            if self.stopped_reason is not None:
                return self._not_started(job, known)
            async with self._slots:
                if self.stopped_reason is not None:
                    return self._not_started(job, known)
                return await self._attempt(job, known, record)

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

    async def _attempt(self, job: Job, known: Identified, record: JobRecord | None) -> JobOutcome:
        identity = known.identity
        # What any earlier job at this output paid for, failed or not: the backend settles it with the
        # service before paying again. --force asks for a fresh start.
        paid = None if self.force else await asyncio.to_thread(self.journal.ledger, job.output)
        # Asked before this attempt is journaled as running, which would make any file there look like ours.
        foreign = None
        if os.path.lexists(job.output) or os.path.lexists(poster_path(job.output)):  # the usual case: neither
            foreign = await asyncio.to_thread(self._foreign_file, job)
        try:
            await _journal(functools.partial(self.journal.start, identity, job))
        except asyncio.CancelledError:
            self.journal.fail(identity, job.output, INTERRUPTED, 0.0, state=JobState.CANCELLED)
            raise
        self.progress.job_started(job, identity)

        async def make(reporter: JobReporter) -> _Made:
            if foreign is not None:
                raise JobError(
                    f"{foreign} already exists and was not made by joypix; move it away or choose another output folder"
                )
            result = await self.backend.run_job(job, reporter, paid)
            try:
                output_hash, size = await asyncio.to_thread(_fingerprint, result.output)
            except OSError as e:
                raise JobError(
                    f"the output {result.output} is missing after the job ({e.strerror or e}); run it again"
                ) from e
            return _Made(result, output_hash, size)

        async def cancelled(attempt: Attempt[_Made]) -> None:
            outcome = _outcome(job, known, attempt, "cancelled")
            # On the loop: the task is being cancelled, and an await here could be cut short before the write.
            self.journal.fail(identity, job.output, outcome.error or "", outcome.duration_s, state=JobState.CANCELLED)
            self._record(outcome)

        attempt = await attempt_job(
            make,
            _JournalReporter(job, identity, known.input_hash, self.journal, self.progress),
            internal_error=INTERNAL_ERROR.format(backend=self.backend.name),
            on_cancel=cancelled,
        )
        if isinstance(attempt.result, Failure):
            failure = attempt.result
            if failure.stops_run:
                self._stop(failure.message)
            outcome = _outcome(job, known, attempt, "failed")
            return await self._end(
                functools.partial(self.journal.fail, identity, job.output, failure.message, outcome.duration_s),
                outcome,
                failure.detail,
            )
        made = attempt.result
        outcome = _outcome(job, known, attempt, "done")
        return await self._end(
            functools.partial(
                self.journal.finish,
                identity,
                job.output,
                output_hash=made.output_hash,
                output_size=made.output_size,
                poster=made.result.poster,
                duration_s=outcome.duration_s,
            ),
            outcome,
        )

    async def _end(self, write: Callable[[], None], outcome: JobOutcome, detail: str | None = None) -> JobOutcome:
        """Journal how a job ended, then record its outcome; a run cancelled meanwhile still records it."""
        try:
            await _journal(write)
        except asyncio.CancelledError:
            self._record(outcome, detail)
            raise
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

    def _not_started(self, job: Job, known: Identified) -> JobOutcome:
        return self._record(
            JobOutcome(
                job=job,
                identity=known.identity,
                status="cancelled",
                output=None,
                error=f"not started: {self.stopped_reason}",
                duration_s=0.0,
                input_hash=known.input_hash,
            )
        )

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


def _outcome(job: Job, known: Identified, attempt: Attempt[_Made], status: Status) -> JobOutcome:
    """The outcome of an attempt that ended (done, failed or cancelled), for the journal, the manifest and the report."""
    made = None if isinstance(attempt.result, Failure) else attempt.result.result
    return JobOutcome(
        job=job,
        identity=known.identity,
        status=status,
        output=made.output if made else None,
        error=attempt.result.message if isinstance(attempt.result, Failure) else None,
        duration_s=attempt.duration_s,
        input_hash=known.input_hash,
        poster=made.poster if made else None,
        summary=made.summary if made else "",
        replies=attempt.replies,
        warnings=attempt.warnings,
        started_at=attempt.started_at,
        thumbnail=made.thumbnail if made else None,
    )


async def _journal(write: Callable[[], None]) -> None:
    """One journal write in a thread: SQLite may wait on the disk or on another process's lock, and on the
    event loop that wait would stall every job's requests. It has ended when this returns, even when the
    caller is cancelled meanwhile (then the loop waits for it, as it would for a write of its own)."""
    ended = threading.Event()

    def run() -> None:
        try:
            write()
        finally:
            ended.set()

    writing = asyncio.ensure_future(asyncio.to_thread(run))
    try:
        await asyncio.shield(writing)
    except asyncio.CancelledError:
        ended.wait()
        writing.add_done_callback(lambda done: done.cancelled() or done.exception())  # a failure nobody waits for
        raise


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


def _fingerprint(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file."""
    return hash_file(path), path.stat().st_size
