"""One job message on a worker: skip what is done, take the lease, render, commit to storage, record.

Runs on the worker process's event loop (Dramatiq's AsyncIO middleware), so one process can hold many
cloud waits at once. A job is worked on only by the lease holder of its identity, and only for the
submission that owns its record; a stale or duplicate message is acknowledged and dropped. What an
error means, and the job's replies and warnings, come from the one attempt (``run/attempt.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import redis

from joypix_recipes.backends.contract import Backend, BackendOptions, JobReporter, JobResult
from joypix_recipes.backends.ledger import Ledger as PaidLedger
from joypix_recipes.backends.registry import BACKENDS, BackendFactory
from joypix_recipes.cluster.attachments import place_attachments
from joypix_recipes.cluster.broker import redis_client
from joypix_recipes.cluster.errors import LeaseLostError, LedgerUnwritableError, StorageUnreachable
from joypix_recipes.cluster.ledger import Ledger, Record, State, holder_write_now
from joypix_recipes.cluster.message import JobMessage
from joypix_recipes.cluster.settings import ClusterSettings
from joypix_recipes.cluster.storage import Storage, output_key
from joypix_recipes.errors import JoypixError
from joypix_recipes.job.model import Job, hash_file
from joypix_recipes.redact import redact
from joypix_recipes.run.attempt import Attempt, Failure, attempt_job

log = logging.getLogger("joypix_recipes.cluster")

INTERNAL_ERROR = "internal error on the worker {worker}; its log has the details, please report it"
CHECKPOINT_RETRY_S = 10.0
# A finished clip is worth waiting for: a store that stops answering (a network cut, a restart) is
# tried again for this long, while the lease is kept alive, before the job is failed.
STORAGE_PATIENCE_S = 120.0
"""The longest a worker tries to record what a job is about to pay for (less with a short lease)."""

STAGE_PACE_S = 1.0
"""The least time between two stage writes of one job (the follower looks every tenth of a second)."""

T = TypeVar("T")

Requeue = Callable[[JobMessage, float], None]
"""Puts a message back on its queue after a delay in seconds (the broker's enqueue, injected)."""


@dataclass
class WorkerContext:
    """What every job on one worker process shares: settings, Redis, storage and backends."""

    settings: ClusterSettings
    requeue: Requeue
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}")
    storage_url: str | None = None
    local_workers: int | None = None
    backends: Mapping[str, BackendFactory] = field(default_factory=lambda: dict(BACKENDS))
    _ledger: Ledger | None = None
    _client: redis.Redis | None = None
    _backends: dict[tuple[str, str | None, float | None, str | None], Backend] = field(default_factory=dict)
    _storages: dict[str, Storage] = field(default_factory=dict)
    _running: dict[asyncio.Task[None], JobMessage] = field(default_factory=dict)
    _renewals: _Renewals | None = None

    @property
    def renewals(self) -> _Renewals:
        """The lease renewals of this process's jobs, made on first use (on the loop that runs them)."""
        if self._renewals is None:
            self._renewals = _Renewals(self)
        return self._renewals

    @property
    def ledger(self) -> Ledger:
        """The asyncio Redis client, made on first use (on the loop that will use it)."""
        if self._ledger is None:
            self._ledger = Ledger(self.settings.broker_url)
        return self._ledger

    @property
    def checkpoint_window_s(self) -> float:
        """How long recording a paid request may try: the write blocks the event loop, so a quarter of a
        lease at most, or the other jobs' renewals (a third of a lease apart) would come too late."""
        return min(CHECKPOINT_RETRY_S, self.settings.lease_s / 4)

    @property
    def client(self) -> redis.Redis:
        """A blocking Redis client for writes that must land before the backend goes on; no command
        waits longer than the checkpoint window."""
        if self._client is None:
            self._client = redis_client(self.settings.broker_url, timeout_s=self.checkpoint_window_s)
        return self._client

    def storage_for(self, message: JobMessage) -> Storage:
        """This worker's own view of the storage (its mount point), else the submitter's URL."""
        url = self.storage_url or message.storage_url
        if url not in self._storages:
            self._storages[url] = Storage(url)
        return self._storages[url]

    def backend_for(self, message: JobMessage) -> Backend:
        """One backend per kind and cloud settings, shared by every job of this process."""
        key = (message.job.backend, message.base_url, message.poll_interval, message.language)
        if key not in self._backends:
            options = BackendOptions(
                base_url=message.base_url,
                poll_interval=message.poll_interval,
                language=message.language,
                workers=self.local_workers,
            )
            self._backends[key] = self.backends[message.job.backend](options)
        return self._backends[key]

    async def execute(self, message: JobMessage) -> None:
        """Work one message to its end; never raises, so Dramatiq acknowledges it."""
        task = asyncio.current_task()
        assert task is not None
        self._running[task] = message
        try:
            await _LeasedJob(self, message).run()
        except asyncio.CancelledError:
            # Stopped (the worker is going): the message goes back; a job under way left its cloud ids in its record.
            await self.requeue_patiently(message, 0.0)
        except Exception:  # noqa: BLE001 - Redis gone for longer than our patience: try again later
            log.exception("job %s could not be worked on; it goes back to the queue", message.identity)
            await self.requeue_patiently(message, self.settings.lease_s)
        finally:
            del self._running[task]

    async def requeue_patiently(self, message: JobMessage, delay_s: float) -> None:
        """Put the message back, waiting out a broker restart: a message lost here strands its job."""
        await _retrying(lambda: asyncio.to_thread(self.requeue, message, delay_s))

    def hand_back(self, loop: asyncio.AbstractEventLoop, backends: frozenset[str] | None = None) -> None:
        """Stop the running jobs of these backends (all when None); each puts its message back on the queue."""
        for task, message in list(self._running.items()):
            if backends is None or message.job.backend in backends:
                loop.call_soon_threadsafe(task.cancel)

    def holding(self) -> list[str]:
        """The identities of the jobs this process works on now (read from the presence thread)."""
        return [message.identity for message in tuple(self._running.values())]

    async def aclose(self) -> None:
        """Close backends and connections."""
        for backend in self._backends.values():
            with contextlib.suppress(Exception):
                await backend.aclose()
        self._backends.clear()
        if self._renewals is not None:
            await self._renewals.aclose()
        if self._ledger is not None:
            await self._ledger.aclose()
        if self._client is not None:
            self._client.close()


class _Renewals:
    """Every lease one worker process holds, renewed together every third of a lease: one round trip for
    all its jobs, not one per job. A lease found taken stops that job paying (``lose_lease``); one that
    cannot be renewed yet is tried again at the next round, well within the lease."""

    def __init__(self, context: WorkerContext) -> None:
        self.context = context
        self.held: dict[str, tuple[str, _LedgerReporter]] = {}
        """Token -> the job's identity and reporter."""
        self._task: asyncio.Task[None] | None = None

    def hold(self, token: str, identity: str, reporter: _LedgerReporter) -> None:
        """Renew this job's lease from the next round on (it was taken or renewed just now)."""
        self.held[token] = (identity, reporter)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def drop(self, token: str) -> None:
        """Stop renewing this job's lease (it ended, or was handed back)."""
        self.held.pop(token, None)

    async def aclose(self) -> None:
        """Stop the rounds."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        lease_s = self.context.settings.lease_s
        while self.held:
            await asyncio.sleep(lease_s / 3)
            jobs = list(self.held.items())
            if not jobs:
                continue
            try:
                renewed = await self.context.ledger.renew_leases(
                    [(identity, token) for token, (identity, _) in jobs], lease_s
                )
            except redis.RedisError as error:
                log.warning("cannot renew the leases of %d job(s) yet: %s", len(jobs), error)
                continue
            for (token, (identity, reporter)), kept in zip(jobs, renewed, strict=True):
                if not kept and token in self.held:
                    log.debug("job %s: its lease was taken over", identity)
                    reporter.lose_lease()  # said once, when the attempt ends (_stand_down)
                    self.held.pop(token, None)


class _LedgerReporter:
    """A JobReporter writing to the job's record as the lease holder; checkpoints land before it returns.

    A worker that is not sure it still holds the lease pays for nothing more: from the first refused or
    unwritable checkpoint, or the renewal finding the lease taken, every ``record`` raises ``stopped``,
    so the backend never sends the paid request that entry stood for.
    """

    def __init__(self, context: WorkerContext, message: JobMessage, token: str) -> None:
        self.context, self.token = context, token
        # The submitter hashed the input once; the worker's backend reuses that identity as it is.
        self.identity, self.input_hash = message.identity, message.input_hash
        self.stopped: JoypixError | None = None
        """Why this worker must stop paying for the job; None while it may go on."""
        self._unwritten_stage: str | None = None
        self._staging: asyncio.Task[None] | None = None
        self._settling = asyncio.Event()

    def lose_lease(self) -> None:
        """The renewal found another worker holding the lease: the next ``record`` raises without trying."""
        if self.stopped is None:
            self.stopped = LeaseLostError()

    def stage(self, text: str) -> None:
        # Stages only inform the follower: written in the background, never holding the loop, at most one
        # write per STAGE_PACE_S, and a stage that arrives meanwhile replaces any still waiting (the newest
        # is what counts). A cloud job passes through a dozen stages in seconds; each write is a round trip.
        if self._settling.is_set():
            return  # the job has ended or been handed back: its stage is written with that
        self._unwritten_stage = text
        if self._staging is None or self._staging.done():
            self._staging = asyncio.get_running_loop().create_task(self._write_stages())

    async def settle(self) -> None:
        """Wait until a stage being written has landed (or given up); stages not yet written are dropped,
        since how the job ended is written next and says more."""
        self.hush()
        if self._staging is not None:
            await self._staging

    def hush(self) -> None:
        """Drop the stages not yet written, and write no more."""
        self._unwritten_stage = None
        self._settling.set()

    async def _write_stages(self) -> None:
        while self._unwritten_stage is not None and self.stopped is None:
            text, self._unwritten_stage = self._unwritten_stage, None
            try:
                await self.context.ledger.holder_write(self.identity, self.token, stage=text)
            except redis.RedisError as error:
                log.debug("could not record the stage of job %s: %s", self.identity, error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._settling.wait(), STAGE_PACE_S)

    def record(self, ledger: PaidLedger) -> None:
        """Keep ``ledger`` in the record before returning; raise (so nothing is paid) when that cannot be sure."""
        if self.stopped is not None:
            raise self.stopped
        values = {
            "ledger": ledger.to_json(),
            "session_id": ledger.session_id or "",
            "render_id": ledger.render_id or "",
        }
        try:
            written = self._write(values)
        except redis.RedisError as error:
            reason = redact(str(error).split("\n")[0]) or type(error).__name__
            self.stopped = LedgerUnwritableError(
                f"cannot record what this job is about to pay for ({reason}); it pays for nothing more on this worker"
                " and goes back to the queue"
            )
            raise self.stopped from error
        if not written:
            self.stopped = LeaseLostError()
            raise self.stopped

    def warn(self, message: str) -> None:
        """Nothing to do now: the attempt keeps it, and it is written once, with the finished record."""

    def reply(self, text: str) -> None:
        """Nothing to do now: the attempt keeps it, and it is written once, with the finished record."""

    def _write(self, values: dict[str, str]) -> bool:
        """A holder write that has landed (True) or was refused (False); raises the last Redis error once
        the checkpoint window is spent. Blocking, and bounded by that window plus one command's timeout."""
        deadline = time.monotonic() + self.context.checkpoint_window_s
        while True:
            try:
                return holder_write_now(self.context.client, self.identity, self.token, values)
            except redis.RedisError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))


@dataclass(frozen=True)
class _Stored:
    """What a worker's attempt leaves: the backend's result and where its files went in the storage."""

    result: JobResult
    keys: dict[str, str]


class _LeasedJob:
    """One message's job on this worker: take its lease, keep it renewed, attempt the job, record how it ended."""

    def __init__(self, context: WorkerContext, message: JobMessage) -> None:
        self.context = context
        self.message = message
        self.identity = message.identity
        self.token = f"{context.name}:{uuid.uuid4().hex[:8]}"
        self.reporter = _LedgerReporter(context, message, self.token)
        self.released = False
        """Whether the job's last write let its lease go already."""

    async def run(self) -> None:
        ledger, lease_s = self.context.ledger, self.context.settings.lease_s
        outcome, record = await _retrying(
            lambda: ledger.start(self.identity, self.message.submission, self.token, lease_s, self.context.name)
        )
        if outcome == "stale":
            log.info("dropping a message for job %s: already done, failed or submitted anew", self.identity)
            return
        if record is None:
            # Someone holds the job. If that worker dies, this message is what brings the job back.
            log.info("job %s is leased by another worker; looking again in %.0f s", self.identity, lease_s)
            await self.context.requeue_patiently(self.message, lease_s)
            return
        self.context.renewals.hold(self.token, self.identity, self.reporter)
        try:
            await self._work(record)
        finally:
            self.context.renewals.drop(self.token)
            if not self.released:  # the last write lets the lease go with it
                with contextlib.suppress(redis.RedisError):
                    await ledger.release_lease(self.identity, self.token)

    async def _work(self, record: Record) -> None:
        ledger = self.context.ledger
        job = self.message.job
        paid = PaidLedger.from_json(record.get("ledger"))
        on_record = self.reporter

        async def make(reporter: JobReporter) -> _Stored:
            # Making and removing the scratch folder are file work: off the loop, like fetching and committing.
            scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="joypix-job-"))
            try:
                storage = self.context.storage_for(self.message)
                local_job = await asyncio.to_thread(self._localise, storage, scratch)
                if paid is not None and not paid.empty:
                    log.info(
                        "job %s: settling what earlier attempts paid for (session %s)", self.identity, paid.session_id
                    )
                result = await self.context.backend_for(self.message).run_job(local_job, reporter, paid)
                await self._still_holding()
                reporter.stage("storing the output")
                return _Stored(result, await asyncio.to_thread(self._commit, storage, result))
            finally:
                await asyncio.to_thread(shutil.rmtree, scratch, True)

        attempt = await attempt_job(
            make, on_record, internal_error=INTERNAL_ERROR.format(worker=self.context.name), on_cancel=self._hand_back
        )
        await on_record.settle()  # a stage still being written must not land over how the job ended
        if isinstance(attempt.result, Failure):
            if on_record.stopped is not None:
                await self._stand_down(on_record.stopped)
            else:
                await self._fail(attempt.result)
            return
        # The output is committed: a broker restart now must not send the job back to be rendered again.
        finished = {
            "stage": "done",
            "finished_at": f"{time.time():.3f}",
            "duration_s": f"{attempt.duration_s:.3f}",
            "summary": attempt.result.result.summary,
            "replies": list(attempt.replies),
            "warnings": list(attempt.warnings),
            **attempt.result.keys,
        }
        keep_s = self.context.settings.keep_records_s
        done = await _retrying(lambda: ledger.finish(self.identity, self.token, State.DONE, finished, keep_s=keep_s))
        if not done:
            log.warning(
                "job %s finished after its lease lapsed; the worker that took it over records it", self.identity
            )
        self.released = done
        log.info("done %s (%s)", job.label, self.identity)

    async def _still_holding(self) -> None:
        """Raise (so the output is dropped, never published) unless this attempt still holds the job.

        A worker cut off from the network longer than its lease comes back to find the job taken over,
        maybe finished and released: its copy of the output is stale, and publishing it would be a second one.
        """
        lease_s = self.context.settings.lease_s
        if self.reporter.stopped is None and not await _retrying(
            lambda: self.context.ledger.renew_lease(self.identity, self.token, lease_s)
        ):
            self.reporter.lose_lease()
        if self.reporter.stopped is not None:
            log.warning(
                "job %s: dropping this worker's output unpublished; another worker took the job over", self.identity
            )
            raise self.reporter.stopped

    def _localise(self, storage: Storage, scratch: Path) -> Job:
        """The job as this machine sees it: its input and attachments fetched from storage, its output in scratch space."""
        job = self.message.job
        inputs, outputs = scratch / "input", scratch / "output"
        inputs.mkdir()
        outputs.mkdir()
        job_input = job.input
        if self.message.input_key is not None:
            local = inputs / job.input.name
            storage.fetch(self.message.input_key, local)
            job_input = replace(job_input, path=local)
        if self.message.image_keys:
            # Numbered, so two images of one name in a group stay apart.
            images = tuple(inputs / f"{number:03d}-{image.name}" for number, image in enumerate(job.input.images))
            for key, local in zip(self.message.image_keys, images, strict=True):
                storage.fetch(key, local)
            job_input = replace(job_input, path=images[0], images=images)
        job, targets = place_attachments(job, self.message.attachment_keys, scratch)
        for name, target in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            storage.fetch(self.message.attachment_keys[name], target)
        return replace(job, input=job_input, output=outputs / job.output.name)

    def _commit(self, storage: Storage, result: JobResult) -> dict[str, str]:
        """Poster first, then the output: once the output is there, everything is."""
        stored: dict[str, str] = {}
        if result.poster is not None and result.poster.is_file():
            stored["poster_key"] = output_key(self.identity, result.poster.name)
            _commit_patiently(storage, result.poster, stored["poster_key"])
        stored["output_key"] = output_key(self.identity, result.output.name)
        stored["output_hash"] = hash_file(result.output)
        stored["output_size"] = str(result.output.stat().st_size)
        _commit_patiently(storage, result.output, stored["output_key"])
        return stored

    async def _fail(self, failure: Failure) -> None:
        if failure.detail is not None:
            log.error("job %s failed with an unexpected error:\n%s", self.identity, failure.detail)
        log.warning("failed %s: %s", self.message.job.label, failure.message)
        seen = {
            "identity": self.identity,
            "job": self.message.job.label,
            "error": failure.message,
            "worker": self.context.name,
            "at": f"{time.time():.3f}",
        }
        ended = {
            "stage": "failed",
            "error": failure.message,
            "error_kind": "run" if failure.stops_run else "job",
            "finished_at": f"{time.time():.3f}",
        }
        self.released = await _retrying(
            lambda: self.context.ledger.finish(
                self.identity,
                self.token,
                State.FAILED,
                ended,
                keep_s=self.context.settings.keep_records_s,
                failure=seen,
            )
        )

    async def _stand_down(self, reason: JoypixError) -> None:
        """Stopped paying (``_LedgerReporter.stopped``): whatever else went wrong, the record is not ours to
        write. The message comes back later, to find the job leased, finished, or free to take over with
        the ledger its record keeps; Dramatiq itself never retries it."""
        log.warning("job %s: %s", self.identity, reason)
        await self.context.requeue_patiently(self.message, self.context.settings.lease_s)

    async def _hand_back(self, attempt: Attempt[_Stored]) -> None:
        """The worker is stopping: the job is queued again (the message goes back on the way out), its cloud
        ids stay for the next worker."""
        log.info("handing job %s back to the queue", self.identity)
        if self.reporter.stopped is not None:
            return  # another worker's record (or one Redis will not take): nothing of ours to write
        self.reporter.hush()  # a stage waiting for its turn must not land over this one
        with contextlib.suppress(redis.RedisError):
            await self.context.ledger.holder_write(
                self.identity, self.token, state=State.QUEUED.value, stage="handed back"
            )


async def _retrying(operation: Callable[[], Awaitable[T]], patience_s: float = 60.0) -> T:
    """Run a Redis operation, waiting out a broker restart for up to ``patience_s``."""
    deadline = time.monotonic() + patience_s
    delay, warned = 0.1, False
    while True:
        try:
            return await operation()
        except (redis.ConnectionError, redis.TimeoutError) as error:
            if time.monotonic() >= deadline:
                raise
            if not warned:
                log.warning(
                    "the broker does not answer (%s); retrying for up to %.0f s", type(error).__name__, patience_s
                )
                warned = True
            await asyncio.sleep(delay)
            delay = min(2.0, delay * 2)


def _commit_patiently(storage: Storage, local: Path, key: str, patience_s: float = STORAGE_PATIENCE_S) -> None:
    """Commit, trying again with backoff while the store does not answer, for up to ``patience_s``."""
    deadline = time.monotonic() + patience_s
    pause = 1.0
    while True:
        try:
            storage.commit(local, key)
            return
        except StorageUnreachable as error:
            if time.monotonic() + pause > deadline:
                raise
            log.warning("%s; trying again in %.0f s", error, pause)
            time.sleep(pause)
            pause = min(pause * 2, 10.0)
