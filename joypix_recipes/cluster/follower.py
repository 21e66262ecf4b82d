"""The submitting side as a backend: ``run_job`` submits one job to the farm, follows it, and fetches its output.

The ordinary runner drives it, so a farm run keeps the local run's progress, ``--json`` events, SQLite
journal, exit codes, manifest.json and report.html. One poller reads the records of every followed
job in one Redis round trip; a broker restart only pauses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

from joypix_recipes.atomic import atomic_path
from joypix_recipes.backends.contract import BackendOptions, JobReporter, JobResult, Ledger
from joypix_recipes.cluster.broker import unreachable
from joypix_recipes.cluster.errors import StorageError
from joypix_recipes.cluster.ledger import UNSEEN, Record, State
from joypix_recipes.cluster.producer import Producer, Submitted
from joypix_recipes.cluster.settings import ClusterSettings
from joypix_recipes.cluster.storage import Storage
from joypix_recipes.errors import JobError, RunError
from joypix_recipes.job.model import Job, hash_file
from joypix_recipes.redact import redact

log = logging.getLogger("joypix_recipes.cluster")

POLL_INTERVAL_S = 0.1
MAX_POLL_INTERVAL_S = 2.0
ENDED = (State.DONE, State.FAILED)
FOLLOW_EVERYTHING = 100_000
SUBMIT_PATIENCE_S = 30.0
"""How long submitting one job waits out a broker that stopped answering (it answered when the run began):
a Redis busy with ten thousand jobs may let a new connection time out without being gone."""
"""The runner's bound for a farm run: every job is in flight at once; the workers decide what runs."""


@dataclass
class _Waiter:
    on_record: Callable[[Record], None]
    ended: asyncio.Future[Record]
    last_stage: str = ""
    last_state: State | None = None


@dataclass
class _Poller:
    """Asks Redis each tick which followed records changed, and wakes the jobs whose record ended.

    Redis compares each record with the glance this poller last saw (``Ledger.glance_changed``), so a tick
    over a thousand jobs that did not change costs one small reply, not a thousand records to decode.
    """

    producer: Producer
    waiters: dict[str, list[_Waiter]] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    seen: dict[str, str] = field(default_factory=dict)
    """The glance last delivered per followed identity."""

    async def wait(self, identity: str, on_record: Callable[[Record], None]) -> Record:
        waiter = _Waiter(on_record, asyncio.get_running_loop().create_future())
        self.waiters.setdefault(identity, []).append(waiter)
        # A new waiter has seen nothing yet: the next tick hands it the record even if nothing changed.
        self.seen[identity] = UNSEEN
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._poll())
        self.wake.set()
        try:
            return await waiter.ended
        finally:
            left = [other for other in self.waiters.get(identity, []) if other is not waiter]
            if left:
                self.waiters[identity] = left
            else:
                self.waiters.pop(identity, None)
                self.seen.pop(identity, None)

    async def aclose(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _poll(self) -> None:
        delay = POLL_INTERVAL_S
        warned = False
        while self.waiters:
            asked = {identity: self.seen.get(identity, UNSEEN) for identity in self.waiters}
            try:
                changed = await self.producer.ledger.glance_changed(asked)
                ended = [identity for identity, (_, record) in changed.items() if record and record.state in ENDED]
                # The whole record (output keys, errors, replies) only for jobs that ended.
                full = dict(zip(ended, await self.producer.ledger.read_many(ended))) if ended else {}
            except (redis.ConnectionError, redis.TimeoutError) as error:
                if not warned:
                    log.warning("%s; still following, retrying", unreachable(self.producer.settings.broker_url, error))
                    warned = True
                delay = min(MAX_POLL_INTERVAL_S, delay * 2)
            else:
                if warned:
                    log.warning("the broker answers again")
                    warned = False
                delay = POLL_INTERVAL_S
                for identity, (glance, record) in changed.items():
                    if identity in full:
                        record = full[identity]
                    if identity in full and record is None:
                        continue  # gone between the two reads: asked again next tick
                    if self.seen.get(identity) == asked[identity]:  # no new waiter came meanwhile
                        self.seen[identity] = glance
                    self._deliver(identity, record)
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), delay)

    def _deliver(self, identity: str, record: Record | None) -> None:
        if record is None:
            # Every followed job was submitted, so its record existed: the broker lost it (restarted without
            # its data, or evicting keys). Nothing will ever finish the job, and resubmitting could pay again
            # for cloud work the lost record held, so the user decides.
            lost = RunError(
                f"the broker at {redact(self.producer.settings.broker_url)} no longer holds this job's record"
                " (restarted without its data?); nothing on the farm will finish it: run the command again"
                " to submit it anew"
            )
            for waiter in self.waiters.get(identity, []):
                if not waiter.ended.done():
                    waiter.ended.set_exception(lost)
            return
        for waiter in self.waiters.get(identity, []):
            if waiter.ended.done():
                continue
            waiter.on_record(record)
            if record.state in ENDED:
                waiter.ended.set_result(record)


class ClusterBackend:
    """Runs each job on the farm and brings its output home to ``job.output``."""

    name = "cluster"

    def __init__(self, settings: ClusterSettings, options: BackendOptions, *, force: bool = False) -> None:
        self.producer = Producer(settings, options, force=force)
        self._poller = _Poller(self.producer)

    @property
    def default_concurrency(self) -> int:
        """Every job at once: following costs nothing; the farm's workers bound the real work."""
        return FOLLOW_EVERYTHING

    def describe_spending(self, job: Job, input_hash: str, paid: Ledger | None) -> str | None:
        """Nothing from here: the farm's workers keep what its jobs paid for."""
        return None

    async def run_job(self, job: Job, reporter: JobReporter, paid: Ledger | None = None) -> JobResult:
        """Submit (or re-attach to) the job, wait for the farm to finish it, then fetch its output."""
        submitted = await self._submit(job, reporter)
        reporter.stage("queued on the farm" if submitted.enqueued else "following the farm's job")
        seen: dict[str, str] = {}

        def forward(record: Record) -> None:
            worker = record.get("worker") or "a worker"
            stage = record.get("stage") or record.state.value
            text = f"{stage} on {worker}" if record.state == State.RUNNING else stage
            if seen.get("text") != text:
                seen["text"] = text
                reporter.stage(text)

        record = await self._poller.wait(submitted.identity, forward)
        if record.state == State.FAILED:
            reason = record.get("error") or "the job failed on the farm"
            raise RunError(reason) if record.get("error_kind") == "run" else JobError(reason)
        reporter.stage("fetching the output")
        poster = await asyncio.to_thread(self._fetch, job, record)
        for text in record.texts("warnings"):
            reporter.warn(text)
        for text in record.texts("replies"):
            reporter.reply(text)
        return JobResult(
            output=job.output,
            poster=poster,
            summary=record.get("summary") or "",
            duration_s=float(record.get("duration_s") or 0.0),
        )

    async def _submit(self, job: Job, reporter: JobReporter) -> Submitted:
        """Submit or re-attach, retrying for a while; RunError (the run stops) once the broker stays silent."""
        loop = asyncio.get_running_loop()
        deadline, delay = loop.time() + SUBMIT_PATIENCE_S, 0.2
        while True:
            try:
                return await self.producer.submit(job, reporter.identity, reporter.input_hash)
            except (redis.ConnectionError, redis.TimeoutError) as error:
                if loop.time() >= deadline:
                    raise RunError(unreachable(self.producer.settings.broker_url, error)) from error
                log.debug("submitting %s: %s; trying again", job.label, error)
                await asyncio.sleep(delay)
                delay = min(2.0, delay * 2)

    async def aclose(self) -> None:
        """Stop following (the farm keeps working) and close connections."""
        await self._poller.aclose()
        await self.producer.aclose()

    def _fetch(self, job: Job, record: Record) -> Path | None:
        """Download output and poster atomically beside each other; the output's hash must match the worker's."""
        storage = self.producer.storage
        output_key = record.get("output_key")
        if output_key is None:
            raise StorageError(
                f"{job.label}: the farm finished the job but recorded no output; run it again with --force"
            )
        poster = None
        poster_key = record.get("poster_key")
        if poster_key is not None:
            poster = job.output.with_name(poster_key.rsplit("/", 1)[-1])
            _download(storage, poster_key, poster)
        with atomic_path(job.output) as temp:
            storage.fetch(output_key, temp)
            expected = record.get("output_hash")
            if expected is not None and hash_file(temp) != expected:
                raise StorageError(
                    f"{job.label}: the output in the storage {storage.public} does not match what the worker wrote"
                )
        return poster


def _download(storage: Storage, key: str, target: Path) -> None:
    with atomic_path(target) as temp:
        storage.fetch(key, temp)
