"""The SQLite journal: WAL mode, one transition row per state change, rows keyed by identity and output."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import helpers.jobs
import pytest

from joypix_recipes.backends.ledger import Ledger, Upload
from joypix_recipes.job.model import Job
from joypix_recipes.run.journal import JobState, Journal, JournalError


def make_job(tmp_path: Path, output: str = "a.mp4") -> Job:
    return helpers.jobs.make_job(tmp_path / "a.jpg", output=tmp_path / "out" / output, recipe_name="r")


def test_journal_is_in_wal_mode_under_the_output_folder(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "out") as journal:
        assert journal.journal_mode() == "wal"
        assert journal.path == tmp_path / "out" / ".joypix" / "journal.sqlite"
    assert journal.path.exists()


def test_every_state_change_writes_a_row_visible_to_another_connection(tmp_path: Path) -> None:
    job = make_job(tmp_path)
    with Journal.open(tmp_path / "out") as journal:
        journal.add_pending([("id1", job)])
        journal.start("id1", job)
        journal.record_ledger("id1", job.output, Ledger("s1", "b"))
        journal.record_ledger("id1", job.output, Ledger("s1", "b", render_id="r1"))
        # A second reader (a rerun after SIGKILL) sees each change as soon as it is made.
        reader = sqlite3.connect(journal.path)
        assert reader.execute("SELECT state, session_id, render_id FROM jobs").fetchall() == [("rendering", "s1", "r1")]
        journal.finish("id1", job.output, output_hash="h", output_size=3, poster=None, duration_s=1.5)
        assert reader.execute("SELECT state, output_hash, output_size FROM jobs").fetchall() == [("done", "h", 3)]
        reader.close()
        assert journal.transitions("id1", job.output) == [
            JobState.PENDING, JobState.RUNNING, JobState.RENDERING, JobState.DONE,
        ]
        (record,) = journal.records()
        assert record.job["output"] == str(job.output)
        assert record.attempts == 1 and record.duration_s == 1.5


def test_add_pending_keeps_a_known_rows_state_and_ids(tmp_path: Path) -> None:
    job = make_job(tmp_path)
    with Journal.open(tmp_path / "out") as journal:
        journal.add_pending([("id1", job)])
        journal.start("id1", job)
        journal.record_ledger("id1", job.output, Ledger("s1", "b", render_id="r1"))
        journal.fail("id1", job.output, "interrupted", 2.0, state=JobState.CANCELLED)
        journal.add_pending([("id1", job)])
        record = journal.get("id1", job.output)
    assert record is not None
    assert (record.state, record.session_id, record.render_id) == (JobState.CANCELLED, "s1", "r1")


def test_a_ledger_outlives_failed_attempts_and_follows_the_output_to_a_new_identity(tmp_path: Path) -> None:
    job = make_job(tmp_path)
    paid = Ledger("s1", "b", uploads=(Upload("image 1:photo.jpg", "photo.jpg"),), steps=("f1",), render_id="r1")
    with Journal.open(tmp_path / "out") as journal:
        journal.start("id1", job)
        journal.record_ledger("id1", job.output, paid)
        journal.fail("id1", job.output, "downloading failed", 1.0)
        journal.start("id1", job)
        assert journal.ledger(job.output) == paid
        # A recipe that gained a step makes a new identity for the same output: it finds the session.
        journal.start("id2", job)
        longer = paid.with_step("f2")
        journal.record_ledger("id2", job.output, longer)
    with Journal.open(tmp_path / "out") as reopened:
        assert reopened.ledger(job.output) == longer
        assert reopened.ledger(tmp_path / "out" / "other.mp4") is None
        record = reopened.get("id1", job.output)
    assert record is not None and record.attempts == 2


def test_rows_are_keyed_by_identity_and_output(tmp_path: Path) -> None:
    first, second = make_job(tmp_path, "a.mp4"), make_job(tmp_path, "b.mp4")
    with Journal.open(tmp_path / "out") as journal:
        journal.add_pending([("same", first), ("same", second), ("other", first)])
        assert len(journal.records()) == 3
        assert journal.get("same", second.output) is not None
        assert journal.get("missing", first.output) is None


def test_unopenable_journal_names_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "out"
    blocker.write_text("not a folder")
    with pytest.raises(JournalError, match="journal"):
        Journal.open(blocker)
