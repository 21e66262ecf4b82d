"""What can go wrong between machines: the broker cannot be reached, or the shared storage fails a job."""

from __future__ import annotations

from joypix_recipes.errors import JobError, JoypixError


class BrokerError(JoypixError):
    """The Redis broker cannot be reached or refused a command; nothing can be submitted or followed."""


class StorageError(JobError):
    """The shared storage cannot be read or written; the job fails and nothing is left under a final name."""


class StorageUnreachable(StorageError):
    """The storage did not answer (no connection, a timeout): worth trying again, unlike a refusal."""


class LeaseLostError(JoypixError):
    """Another worker holds the job's lease now: this one stops before paying for anything more."""

    def __init__(self) -> None:
        super().__init__("lost the lease of this job; another worker carries it on")


class LedgerUnwritableError(BrokerError):
    """What the job is about to pay for cannot be recorded in Redis, so it is not paid for."""
