"""The job message: a ``Job`` as JSON plus what a worker on another machine needs to find its files.

The job's paths are the submitting machine's; a worker reads the input from storage by ``input_key``
(a group's images by ``image_keys``, in order; audio tracks and fonts by ``attachment_keys``) and writes
the output into storage under the job identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from joypix_recipes.job.model import Job


@dataclass(frozen=True)
class JobMessage:
    """One job on the queue, tagged with the submission that enqueued it."""

    identity: str
    submission: str
    job: Job
    input_key: str | None
    storage_url: str
    base_url: str | None = None
    poll_interval: float | None = None
    language: str | None = None
    # The input's content hash the identity was computed from; empty in messages from older submitters.
    input_hash: str = ""
    image_keys: tuple[str, ...] = ()
    # Audio tracks and fonts from the submitter's disk, in storage: the name the job uses -> storage key.
    attachment_keys: dict[str, str] = field(default_factory=dict)

    @property
    def queue(self) -> str:
        """The queue of the job's backend."""
        return self.job.backend

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, as Dramatiq carries it."""
        return {
            "identity": self.identity,
            "submission": self.submission,
            "job": self.job.to_dict(),
            "input_key": self.input_key,
            "storage_url": self.storage_url,
            "base_url": self.base_url,
            "poll_interval": self.poll_interval,
            "language": self.language,
            "input_hash": self.input_hash,
            **({"image_keys": list(self.image_keys)} if self.image_keys else {}),
            **({"attachment_keys": dict(self.attachment_keys)} if self.attachment_keys else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobMessage:
        """Inverse of ``to_dict``."""
        return cls(
            identity=str(data["identity"]),
            submission=str(data["submission"]),
            job=Job.from_dict(data["job"]),
            input_key=data.get("input_key"),
            storage_url=str(data["storage_url"]),
            base_url=data.get("base_url"),
            poll_interval=data.get("poll_interval"),
            language=data.get("language"),
            input_hash=str(data.get("input_hash") or ""),
            image_keys=tuple(str(key) for key in data.get("image_keys", ())),
            attachment_keys={str(name): str(key) for name, key in dict(data.get("attachment_keys") or {}).items()},
        )
