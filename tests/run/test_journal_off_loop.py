"""The runner's journal writes wait for SQLite in a thread: a journal locked elsewhere does not stall the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from joypix_recipes.run.journal import JOURNAL_FOLDER, JOURNAL_NAME, JobState, Journal
from joypix_recipes.run.progress import Progress
from joypix_recipes.run.runner import Runner
from tests.run.test_runner import RecordingBackend, make_jobs

HELD_S = 0.6


def test_a_locked_journal_leaves_the_event_loop_running(tmp_path: Path) -> None:
    out = tmp_path / "out"
    jobs = make_jobs(tmp_path, 2)

    async def main() -> float:
        with Journal.open(out) as journal:
            # Another process's writer holds the journal for a while, as a busy farm's may.
            other = sqlite3.connect(out / JOURNAL_FOLDER / JOURNAL_NAME, isolation_level=None, check_same_thread=False)
            other.execute("BEGIN IMMEDIATE")
            release = threading.Timer(HELD_S, lambda: (other.execute("COMMIT"), other.close()))
            release.start()
            longest = 0.0
            done = False

            async def tick() -> None:
                nonlocal longest
                last = time.monotonic()
                while not done:
                    await asyncio.sleep(0.01)
                    now = time.monotonic()
                    longest, last = max(longest, now - last), now

            ticker = asyncio.ensure_future(tick())
            runner = Runner(RecordingBackend(), journal, Progress(), concurrency=2)
            try:
                summary = await runner.run(jobs)
            finally:
                await runner.aclose()
                done = True
                await ticker
                release.join()
            assert summary.counts()["done"] == 2
            assert {record.state for record in journal.records()} == {JobState.DONE}
            return longest

    assert asyncio.run(main()) < HELD_S / 2
