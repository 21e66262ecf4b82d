"""A progress display a test can wait on."""

from __future__ import annotations

import asyncio
from pathlib import Path

from joypix_recipes.run.outcome import JobOutcome, RunSummary
from joypix_recipes.run.progress import Progress


class EndedJobs(Progress):
    """A progress display that queues each ended job, so a test can wait for the next one; and keeps runs' ends."""

    def __init__(self) -> None:
        self.ended: asyncio.Queue[JobOutcome] = asyncio.Queue()
        self.runs: list[tuple[RunSummary, Path | None]] = []

    def job_finished(self, outcome: JobOutcome, detail: str | None = None) -> None:
        self.ended.put_nowait(outcome)

    def run_finished(self, summary: RunSummary, manifest: Path | None = None, report: Path | None = None) -> None:
        self.runs.append((summary, manifest))

    async def next_ended(self, timeout: float = 10.0) -> JobOutcome:
        """The next job to end, waiting at most ``timeout`` seconds."""
        return await asyncio.wait_for(self.ended.get(), timeout)
