"""The backend contract: what the runner needs from anything that turns a Job into an MP4.

The runner sees backends only through ``Backend`` and looks them up by name in the registry
(``backends/registry.py``). One contract test suite (tests/backends/test_contract.py) drives every
registered backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from joypix_recipes.backends.ledger import Ledger, Upload
from joypix_recipes.job.model import Job

__all__ = ["REPORT_THUMBNAIL_SIZE", "Backend", "BackendOptions", "JobReporter", "JobResult", "Ledger", "Upload"]

REPORT_THUMBNAIL_SIZE = (360, 360)
"""The largest thumbnail the run's report shows of a poster (width, height)."""


class JobReporter(Protocol):
    """The job's context: who the job is, and where its backend tells the runner how it is going.

    ``identity`` and ``input_hash`` are computed once per job, before it runs, off the event loop;
    a backend uses them as they are and never reads the input to hash it again.
    """

    identity: str
    input_hash: str

    def stage(self, text: str) -> None:
        """The job entered a new stage ("uploading", "step 2/3: animate", "rendering 40%")."""

    def record(self, ledger: Ledger) -> None:
        """Keep ``ledger`` durably before returning; a backend calls it before every paid request.

        Raises a JoypixError when it cannot be kept (a full disk, a farm lease lost): the paid request
        must then not be sent.
        """

    def warn(self, message: str) -> None:
        """Something the user should know that does not fail the job (said once; this is its only way out)."""

    def reply(self, text: str) -> None:
        """A text reply from the editing agent, already translated for the user (said once; its only way out)."""


@dataclass(frozen=True)
class JobResult:
    """A finished job: the MP4 (already in place, written atomically) and the timeline that made it.

    Replies and warnings are not here: they went through the ``JobReporter`` as they came, their one channel.
    """

    output: Path
    poster: Path | None
    summary: str
    duration_s: float
    draft_json: dict[str, object] = field(default_factory=dict)
    thumbnail: bytes | None = None
    """The report's thumbnail of the poster (a JPEG within ``REPORT_THUMBNAIL_SIZE``), when the backend made one
    from the frame it already held; otherwise the report makes its own from the poster file."""


@dataclass(frozen=True)
class BackendOptions:
    """Settings a backend may need; each backend reads only its own."""

    base_url: str | None = None
    poll_interval: float | None = None
    language: str | None = None
    home: Path | None = None
    workers: int | None = None


class Backend(Protocol):
    """Turns jobs into MP4 files. Implementations raise JobError (one job) or RunError (stop the run)."""

    name: str

    @property
    def default_concurrency(self) -> int:
        """How many jobs to run at once when the user does not say."""
        ...

    async def run_job(self, job: Job, reporter: JobReporter, paid: Ledger | None = None) -> JobResult:
        """Make ``job.output`` (and a poster beside it) or raise a JoypixError.

        ``paid`` is what earlier attempts at this output paid for (``backends/ledger.py``): a backend
        that spends money settles it with the service before it pays for anything again.
        """
        ...

    def describe_spending(self, job: Job, input_hash: str, paid: Ledger | None) -> str | None:
        """What running ``job`` would pay for given ``paid``, in one line for ``--dry-run`` (None: nothing)."""
        ...

    async def aclose(self) -> None:
        """Release pools, sessions and connections."""
        ...
