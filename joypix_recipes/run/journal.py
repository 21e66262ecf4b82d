"""The run journal: one SQLite row per (job identity, output path), written at every state change.

It lives at ``OUT/.joypix/journal.sqlite`` in WAL mode, so a SIGKILL loses at most the transition in
progress, and a rerun can skip finished jobs. Beside the jobs it keeps, per output path, the ledger of
what the job paid for on the cloud (``backends/ledger.py``): written with a full sync before each
paid request, kept whatever becomes of the attempt, and handed to the next attempt at that output.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from joypix_recipes.atomic import STATE_FOLDER, scratch_folder
from joypix_recipes.backends.ledger import Ledger
from joypix_recipes.errors import JoypixError
from joypix_recipes.job.export import CLIP_SUFFIXES
from joypix_recipes.job.model import Job, hash_file, poster_path
from joypix_recipes.run.provenance import embedded_identity

log = logging.getLogger(__name__)

JOURNAL_FOLDER = STATE_FOLDER
JOURNAL_NAME = "journal.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    identity    TEXT NOT NULL,
    output      TEXT NOT NULL,
    state       TEXT NOT NULL,
    session_id  TEXT,
    render_id   TEXT,
    output_hash TEXT,
    output_size INTEGER,
    poster      TEXT,
    error       TEXT,
    created_at  REAL NOT NULL,
    started_at  REAL,
    finished_at REAL,
    duration_s  REAL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    job_json    TEXT NOT NULL,
    PRIMARY KEY (identity, output)
);
CREATE TABLE IF NOT EXISTS ledgers (
    output      TEXT PRIMARY KEY,
    identity    TEXT NOT NULL,
    ledger_json TEXT NOT NULL,
    at          REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS transitions (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    identity TEXT NOT NULL,
    output   TEXT NOT NULL,
    state    TEXT NOT NULL,
    at       REAL NOT NULL
);
"""


class JobState(StrEnum):
    """Where a job stands in the journal."""

    PENDING = "pending"
    RUNNING = "running"
    RENDERING = "rendering"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


IN_FLIGHT = frozenset({JobState.RUNNING, JobState.RENDERING, JobState.CANCELLED})
"""States in which a previous attempt may have left a file half made at its output path."""


class JournalError(JoypixError):
    """The journal database cannot be opened or written."""


class _Damaged(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _connect(path: Path) -> sqlite3.Connection:
    """A connection to a sound journal; _Damaged when the file is not one, JournalError when it cannot be opened."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch_folder(path.parent.parent).mkdir(exist_ok=True)
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    except (OSError, sqlite3.Error) as e:
        raise _cannot_open(path, e) from e
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL survives a killed process; only a power cut can lose the last commits.
        connection.execute("PRAGMA synchronous=NORMAL")
        verdict = connection.execute("PRAGMA quick_check").fetchone()
        if verdict is None or verdict[0] != "ok":
            raise _Damaged(str(verdict[0]) if verdict else "no answer to an integrity check")
        connection.executescript(_SCHEMA)
    except sqlite3.OperationalError as e:
        connection.close()
        raise _cannot_open(path, e) from e
    except sqlite3.DatabaseError as e:  # "file is not a database", "database disk image is malformed"
        connection.close()
        raise _Damaged(str(e)) from e
    except _Damaged:
        connection.close()
        raise
    return connection


def _refuse_empty(path: Path) -> None:
    """_Damaged for a journal of 0 bytes with nothing in its WAL.

    SQLite takes an empty file for a new, empty database, so every job would look never done and run
    (and on the cloud be paid for) again. A journal joypix made is never empty: switching it to WAL
    writes its first page, so an empty one was truncated (a full disk, a sync tool, a user).
    """
    try:
        if path.stat().st_size > 0:
            return
        wal = path.with_name(path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            return  # its pages may all be in the WAL still; SQLite reads them from there
    except OSError:
        return  # missing (a first run) or unreadable: opening it says which
    raise _Damaged("the file is empty")


def _cannot_open(path: Path, error: BaseException) -> JournalError:
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return JournalError(f"cannot open the run journal {path}: {reason}; check the output folder is writable")


def _move_aside(path: Path) -> Path:
    """Rename the damaged journal (and its WAL files) to ``journal.sqlite.damaged-TIME``; returns the new name."""
    kept = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        for suffix in ("", "-wal", "-shm"):
            source = path.with_name(path.name + suffix)
            if source.exists():
                os.replace(source, kept.with_name(kept.name + suffix))
    except OSError as e:
        raise JournalError(
            f"the run journal {path} is damaged and cannot be moved aside ({e.strerror or e}); move it away by hand"
        ) from e
    return kept


@dataclass(frozen=True)
class JobRecord:
    """One journal row."""

    identity: str
    output: Path
    state: JobState
    session_id: str | None
    render_id: str | None
    output_hash: str | None
    output_size: int | None
    poster: Path | None
    error: str | None
    started_at: float | None
    finished_at: float | None
    duration_s: float | None
    attempts: int
    job: dict[str, Any]


class Journal:
    """The SQLite journal of one output folder; every method is one short write or read."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.path = path
        self.scratch = scratch_folder(path.parent.parent)
        """Where temp files of this output folder are written."""
        self._connection = connection
        # Backends may report from worker threads; one lock keeps each statement whole.
        self._lock = threading.Lock()

    @classmethod
    def open(cls, out_dir: Path) -> Journal:
        """Open (creating if needed) ``out_dir/.joypix/journal.sqlite`` in WAL mode.

        A damaged journal is moved aside (kept, for a post-mortem) and rebuilt from the outputs on disk.
        """
        path = Path(out_dir) / JOURNAL_FOLDER / JOURNAL_NAME
        try:
            _refuse_empty(path)
            return cls(_connect(path), path)
        except _Damaged as damage:
            reason = damage.reason
        kept = _move_aside(path)
        journal = cls(_connect(path), path)
        found = journal.rebuild_from_outputs(Path(out_dir))
        log.warning(
            "the run journal %s was damaged (%s); it was kept as %s and rebuilt from %d finished clip%s in %s",
            path, reason, kept.name, found, "" if found == 1 else "s", out_dir,
        )
        return journal

    def rebuild_from_outputs(self, out_dir: Path) -> int:
        """Record as done every clip under ``out_dir`` that carries its job identity; returns how many."""
        found = 0
        clips = sorted(path for path in out_dir.rglob("*") if path.suffix.lower() in CLIP_SUFFIXES)
        for video in clips:
            if JOURNAL_FOLDER in video.relative_to(out_dir).parts or not video.is_file():
                continue
            identity = embedded_identity(video)
            if identity is None:
                continue
            poster = poster_path(video)
            self.add_recovered(identity, video, hash_file(video), video.stat().st_size,
                               poster if embedded_identity(poster) == identity else None)
            found += 1
        return found

    def add_recovered(self, identity: str, output: Path, output_hash: str, size: int, poster: Path | None) -> None:
        """A finished job known only from its output on disk (its specification is not)."""
        now = time.time()
        self._change(
            identity,
            output,
            JobState.DONE,
            """INSERT OR IGNORE INTO jobs (identity, output, state, output_hash, output_size, poster, created_at,
                   finished_at, job_json) VALUES (:identity, :output, :state, :hash, :size, :poster, :now, :now, '{}')""",
            {"hash": output_hash, "size": size, "poster": str(poster) if poster else None, "now": now},
        )

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def journal_mode(self) -> str:
        """SQLite's journal mode for this database (``wal``)."""
        return str(self._query("PRAGMA journal_mode")[0][0])

    def get(self, identity: str, output: Path) -> JobRecord | None:
        """The row for this identity and output, if any."""
        rows = self._query(f"SELECT {_SELECT} FROM jobs WHERE identity = ? AND output = ?", (identity, str(output)))
        return _record(rows[0]) if rows else None

    def made(self, path: Path) -> bool:
        """True when a job of this journal wrote ``path`` (as its output or its poster).

        That is: it finished at least once, or an attempt was under way (a crash can come between the
        rename that finishes a file and the journal entry that records it).
        """
        in_flight = ", ".join(f"'{state.value}'" for state in sorted(IN_FLIGHT))
        rows = self._query(
            f"SELECT 1 FROM jobs WHERE (output = ? AND (output_hash IS NOT NULL OR state IN ({in_flight}))) OR poster = ?"
            " LIMIT 1",
            (str(path), str(path)),
        )
        return bool(rows)

    def records(self) -> list[JobRecord]:
        """Every row, oldest first."""
        return [_record(row) for row in self._query(f"SELECT {_SELECT} FROM jobs ORDER BY created_at, rowid")]

    def transitions(self, identity: str, output: Path) -> list[JobState]:
        """The states this job has passed through, in order."""
        rows = self._query(
            "SELECT state FROM transitions WHERE identity = ? AND output = ? ORDER BY id", (identity, str(output))
        )
        return [JobState(row[0]) for row in rows]

    def add_pending(self, entries: list[tuple[str, Job]]) -> None:
        """Record jobs not seen before as pending, in one transaction; known rows keep their state."""
        now = time.time()
        fresh = [(identity, str(job.output), json.dumps(job.to_dict()), now) for identity, job in entries]
        with self._lock:
            try:
                self._connection.execute("BEGIN")
                for identity, output, job_json, at in fresh:
                    cursor = self._connection.execute(
                        "INSERT OR IGNORE INTO jobs (identity, output, state, created_at, job_json) VALUES (?, ?, ?, ?, ?)",
                        (identity, output, JobState.PENDING.value, at, job_json),
                    )
                    if cursor.rowcount:
                        self._log(identity, output, JobState.PENDING, at)
                self._connection.execute("COMMIT")
            except sqlite3.Error as e:
                self._connection.execute("ROLLBACK")
                raise JournalError(f"cannot write the run journal {self.path}: {e}") from e

    def start(self, identity: str, job: Job) -> None:
        """The job is running now (what earlier attempts paid for stays in its ledger)."""
        now = time.time()
        self._change(
            identity,
            job.output,
            JobState.RUNNING,
            """INSERT INTO jobs (identity, output, state, created_at, started_at, attempts, job_json)
                VALUES (:identity, :output, :state, :now, :now, 1, :job_json)
                ON CONFLICT (identity, output) DO UPDATE SET state = :state, started_at = :now,
                    finished_at = NULL, duration_s = NULL, error = NULL, attempts = attempts + 1,
                    job_json = :job_json""",
            {"now": now, "job_json": json.dumps(job.to_dict())},
        )

    def record_ledger(self, identity: str, output: Path, ledger: Ledger) -> None:
        """Keep what the job at ``output`` paid for, synced to disk before returning (a paid request follows).

        The job's row shows the session and render too; a render moves it to ``rendering``.
        """
        state = JobState.RENDERING if ledger.render_id else None
        self._change(
            identity,
            output,
            state,
            """UPDATE jobs SET session_id = :session_id, render_id = :render_id, state = COALESCE(:state, state)
               WHERE identity = :identity AND output = :output""",
            {"session_id": ledger.session_id, "render_id": ledger.render_id},
            ledger=ledger,
        )

    def ledger(self, output: Path) -> Ledger | None:
        """What the latest job at ``output`` paid for, whatever became of it (None: nothing recorded)."""
        rows = self._query("SELECT ledger_json FROM ledgers WHERE output = ?", (str(output),))
        return Ledger.from_json(rows[0][0]) if rows else None

    def set_state(self, identity: str, output: Path, state: JobState) -> None:
        """Move a job to ``state`` without touching anything else."""
        self._change(identity, output, state, "UPDATE jobs SET state = :state WHERE identity = :identity AND output = :output", {})

    def finish(
        self, identity: str, output: Path, *, output_hash: str, output_size: int, poster: Path | None, duration_s: float
    ) -> None:
        """The job's output is in place with this hash and size."""
        self._change(
            identity,
            output,
            JobState.DONE,
            """UPDATE jobs SET state = :state, output_hash = :hash, output_size = :size, poster = :poster,
                   error = NULL, finished_at = :now, duration_s = :duration
               WHERE identity = :identity AND output = :output""",
            {"hash": output_hash, "size": output_size, "poster": str(poster) if poster else None,
             "now": time.time(), "duration": duration_s},
        )

    def fail(self, identity: str, output: Path, error: str, duration_s: float, *, state: JobState = JobState.FAILED) -> None:
        """The job failed (or was cancelled) with this message; cloud ids are kept."""
        self._change(
            identity,
            output,
            state,
            """UPDATE jobs SET state = :state, error = :error, finished_at = :now, duration_s = :duration
               WHERE identity = :identity AND output = :output""",
            {"error": error, "now": time.time(), "duration": duration_s},
        )

    def _change(
        self,
        identity: str,
        output: Path,
        state: JobState | None,
        sql: str,
        params: dict[str, Any],
        *,
        ledger: Ledger | None = None,
    ) -> None:
        now = time.time()
        values = {"identity": identity, "output": str(output), "state": state.value if state else None, **params}
        with self._lock:
            try:
                if ledger is not None:
                    # Money follows this write: it must survive a power cut, not only a killed process.
                    self._connection.execute("PRAGMA synchronous=FULL")
                self._connection.execute("BEGIN")
                self._connection.execute(sql, values)
                if ledger is not None:
                    self._connection.execute(
                        """INSERT INTO ledgers (output, identity, ledger_json, at) VALUES (?, ?, ?, ?)
                           ON CONFLICT (output) DO UPDATE SET identity = excluded.identity,
                               ledger_json = excluded.ledger_json, at = excluded.at""",
                        (str(output), identity, ledger.to_json(), now),
                    )
                if state is not None:
                    self._log(identity, str(output), state, now)
                self._connection.execute("COMMIT")
            except sqlite3.Error as e:
                if self._connection.in_transaction:
                    self._connection.execute("ROLLBACK")
                raise JournalError(f"cannot write the run journal {self.path}: {e}") from e
            finally:
                if ledger is not None:
                    with contextlib.suppress(sqlite3.Error):
                        self._connection.execute("PRAGMA synchronous=NORMAL")

    def _log(self, identity: str, output: str, state: JobState, at: float) -> None:
        self._connection.execute(
            "INSERT INTO transitions (identity, output, state, at) VALUES (?, ?, ?, ?)", (identity, output, state.value, at)
        )

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._connection.execute(sql, params).fetchall()
            except sqlite3.Error as e:
                raise JournalError(f"cannot read the run journal {self.path}: {e}") from e


_COLUMNS = [
    "identity", "output", "state", "session_id", "render_id", "output_hash", "output_size", "poster", "error",
    "created_at", "started_at", "finished_at", "duration_s", "attempts", "job_json",
]
_SELECT = ", ".join(_COLUMNS)


def _record(row: tuple[Any, ...]) -> JobRecord:
    values = dict(zip(_COLUMNS, row))
    return JobRecord(
        identity=values["identity"],
        output=Path(values["output"]),
        state=JobState(values["state"]),
        session_id=values["session_id"],
        render_id=values["render_id"],
        output_hash=values["output_hash"],
        output_size=values["output_size"],
        poster=Path(values["poster"]) if values["poster"] else None,
        error=values["error"],
        started_at=values["started_at"],
        finished_at=values["finished_at"],
        duration_s=values["duration_s"],
        attempts=values["attempts"],
        job=json.loads(values["job_json"]),
    )
