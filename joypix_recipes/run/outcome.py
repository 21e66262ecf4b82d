"""How jobs and runs ended: the records the runner produces and progress, reports and watchers read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from joypix_recipes.job.model import Job

Status = Literal["done", "skipped", "failed", "cancelled"]


@dataclass(frozen=True, kw_only=True)
class JobOutcome:
    """How one job ended, with what the report needs to show it; built with keywords (twelve fields read badly in a row)."""

    job: Job
    identity: str
    status: Status
    output: Path | None
    error: str | None
    duration_s: float
    input_hash: str | None = None
    poster: Path | None = None
    summary: str = ""
    replies: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    started_at: float | None = None
    thumbnail: bytes | None = None
    """The report's thumbnail of the poster (JPEG), when the backend made one; else the report makes it."""


@dataclass(frozen=True)
class RunSummary:
    """Every outcome of a batch, in job order, and why the run stopped early, if it did."""

    outcomes: tuple[JobOutcome, ...]
    stopped_reason: str | None = None

    @property
    def exit_code(self) -> int:
        """0 when every job is done or skipped, 1 otherwise."""
        ok = all(outcome.status in ("done", "skipped") for outcome in self.outcomes)
        return 0 if ok and self.stopped_reason is None else 1

    def counts(self) -> dict[str, int]:
        """Jobs per status."""
        counts = {"done": 0, "skipped": 0, "failed": 0, "cancelled": 0}
        for outcome in self.outcomes:
            counts[outcome.status] += 1
        return counts
