"""Submitting jobs to the farm: stage the input once, claim the job's record, enqueue one message.

A job that is queued, running or done on the farm is not enqueued again: rerunning a submission
re-attaches to it. A failed job is claimed by the new submission and tried again; its record keeps
what earlier attempts paid for on the cloud, so the new attempt settles that instead of paying again.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from joypix_recipes.backends.contract import BackendOptions
from joypix_recipes.cluster.attachments import files_to_attach
from joypix_recipes.cluster.broker import job_message, make_broker
from joypix_recipes.cluster.ledger import Ledger, State
from joypix_recipes.cluster.message import JobMessage
from joypix_recipes.cluster.settings import ClusterSettings
from joypix_recipes.cluster.storage import Storage
from joypix_recipes.errors import UsageError
from joypix_recipes.job.model import Job, hash_file, input_hash, job_identity

SUBMITTING_AT_ONCE = 16


@dataclass(frozen=True)
class Submitted:
    """A job after submitting: its identity, and whether this submission enqueued it (or found it there)."""

    job: Job
    identity: str
    enqueued: bool


class Producer:
    """Stages inputs and enqueues jobs; safe to use from many tasks on one event loop."""

    def __init__(self, settings: ClusterSettings, options: BackendOptions, *, force: bool = False) -> None:
        if settings.storage_url is None:
            raise UsageError(
                "--broker needs shared storage: give --storage URL (file:///mnt/share/joypix or s3://bucket/prefix)"
                " or set $JOYPIX_STORAGE"
            )
        self.settings = settings
        self.options = options
        self.force = force
        self.ledger = Ledger(settings.broker_url)
        self.storage = Storage(settings.storage_url)
        self._broker = make_broker(settings)
        self._forced: set[str] = set()
        # Bounds hashing, uploads and enqueues in flight (each holds a thread); following is not bounded.
        self._submitting = asyncio.Semaphore(SUBMITTING_AT_ONCE)

    async def submit(self, job: Job, identity: str | None = None, content: str | None = None) -> Submitted:
        """Enqueue ``job`` unless the farm already has it queued, running or done.

        ``identity`` and ``content`` (the input hash) are the ones the runner computed, when it ran the job;
        the input is hashed here only when they are not given.
        """
        async with self._submitting:
            if identity is None or content is None:
                content = await asyncio.to_thread(input_hash, job.input)
                identity = job_identity(job, content)
            return await self._submit(job, identity, content)

    async def _submit(self, job: Job, identity: str, content: str) -> Submitted:
        force = self.force and identity not in self._forced
        self._forced.add(identity)
        record = await self.ledger.read(identity)
        if record is not None and not force and record.state != State.FAILED:
            if record.state == State.QUEUED and not record.get("message_id"):
                # The submitter died between claiming the job and enqueueing it: finish its work.
                await self._enqueue(job, identity, content, record.submission)
            return Submitted(job, identity, enqueued=False)
        submission = uuid.uuid4().hex
        input_key = await self._stage(job, content)
        owner = await self.ledger.claim(identity, submission, force=force)
        if owner == submission:
            await self._enqueue(job, identity, content, submission, input_key)
        return Submitted(job, identity, enqueued=owner == submission)

    async def aclose(self) -> None:
        """Close connections."""
        await self.ledger.aclose()
        self._broker.close()

    async def _stage(self, job: Job, content: str) -> str | None:
        if job.input.path is None or job.input.images:
            return None  # a URL needs no staging; a group's images are staged one by one (_stage_images)
        path = job.input.path
        return await asyncio.to_thread(self.storage.stage_input, path, content)

    async def _stage_images(self, job: Job) -> tuple[str, ...]:
        """Every image of a group under its own content hash, in the group's order."""
        return tuple(
            [await asyncio.to_thread(self.storage.stage_input, image, hash_file(image)) for image in job.input.images]
        )

    def _stage_attachments(self, job: Job) -> dict[str, str]:
        """Audio tracks and fonts from this machine's disk, each under its content hash."""
        return {
            name: self.storage.stage_input(local, hash_file(local)) for name, local in files_to_attach(job).items()
        }

    async def _enqueue(
        self, job: Job, identity: str, content: str, submission: str, input_key: str | None = None
    ) -> None:
        if input_key is None:
            input_key = await self._stage(job, content)
        image_keys = await self._stage_images(job)
        attachment_keys = await asyncio.to_thread(self._stage_attachments, job)
        message = JobMessage(
            identity=identity,
            submission=submission,
            job=job,
            input_key=input_key,
            storage_url=self.storage.url,
            base_url=self.options.base_url,
            poll_interval=self.options.poll_interval,
            language=self.options.language,
            input_hash=content,
            image_keys=image_keys,
            attachment_keys=attachment_keys,
        )
        sent = await asyncio.to_thread(self._broker.enqueue, job_message(message.queue, message.to_dict()))
        await self.ledger.note(identity, submission, message_id=sent.message_id)
