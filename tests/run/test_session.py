"""Setting up a run: backend lookup, folders held, a Runner per lane, and on the way out the backends closed and
the reports written."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from helpers.jobs import jobs_in
from helpers.progress import EndedJobs

from joypix_recipes.atomic import atomic_write_bytes
from joypix_recipes.backends.contract import BackendOptions, JobReporter, JobResult, Ledger
from joypix_recipes.errors import UsageError
from joypix_recipes.job.model import Job
from joypix_recipes.run.progress import Progress
from joypix_recipes.run.session import Lane, RunSession, open_run_session, run_jobs


class GateBackend:
    """Writes a tiny file per job; a job whose output is named in ``hold`` waits until cancelled."""

    name = "gate"
    default_concurrency = 2

    def __init__(self, hold: frozenset[str] = frozenset()) -> None:
        self.hold = hold
        self.holding = asyncio.Event()
        self.closed = False

    async def run_job(self, job: Job, reporter: JobReporter, paid: Ledger | None = None) -> JobResult:
        if job.output.name in self.hold:
            self.holding.set()
            await asyncio.Event().wait()
        atomic_write_bytes(job.output, b"clip")
        return JobResult(output=job.output, poster=None, summary="", duration_s=0.0)

    async def aclose(self) -> None:
        self.closed = True


@contextlib.asynccontextmanager
async def gate_session(
    tmp_path: Path, backend: GateBackend, progress: Progress
) -> AsyncIterator[tuple[RunSession, Lane]]:
    """A run session with one lane on ``backend`` for recipe "r", writing into tmp_path/out."""
    lane = Lane(tmp_path / "out", "gate", "r")
    async with open_run_session([lane], progress=progress, backends={"gate": lambda options: backend}) as session:
        yield session, lane


@pytest.mark.parametrize(
    ("backend", "concurrency", "message"),
    [
        ("cloudy", None, "unknown backend 'cloudy'; use one of: local, nemo"),
        ("local", 0, "--concurrency must be 1 or more"),
    ],
)
def test_usage_errors_come_before_anything_is_written(
    tmp_path: Path, backend: str, concurrency: int | None, message: str
) -> None:
    run = run_jobs(
        jobs_in(tmp_path, "a"),
        backend_name=backend,
        options=BackendOptions(),
        out_dir=tmp_path / "out",
        recipe_name="r",
        concurrency=concurrency,
        force=False,
        progress_mode="quiet",
        verbose=False,
    )
    with pytest.raises(UsageError, match=message):
        asyncio.run(run)
    assert not (tmp_path / "out").exists()


def test_jobs_submitted_one_by_one_get_one_report_and_a_closed_backend(tmp_path: Path) -> None:
    backend, progress = GateBackend(), EndedJobs()

    async def main() -> None:
        async with gate_session(tmp_path, backend, progress) as (session, lane):
            await asyncio.gather(*(session.runner(lane).submit(job) for job in jobs_in(tmp_path, "a", "b")))

    asyncio.run(main())
    assert backend.closed
    ((summary, manifest),) = progress.runs
    assert manifest == tmp_path / "out" / "manifest.json"
    assert sorted(job["status"] for job in json.loads(manifest.read_text())["jobs"]) == ["done", "done"]
    assert summary.stopped_reason is None


def test_a_cancelled_run_still_writes_its_report_marked_interrupted(tmp_path: Path) -> None:
    backend, progress = GateBackend(hold=frozenset({"slow.mp4"})), EndedJobs()

    async def main() -> None:
        async with gate_session(tmp_path, backend, progress) as (session, lane):
            batch = asyncio.create_task(session.run(lane, jobs_in(tmp_path, "quick", "slow")))
            assert (await progress.next_ended()).job.output.name == "quick.mp4"
            await backend.holding.wait()
            batch.cancel()
            await batch

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(main())
    assert backend.closed
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["stopped_reason"] == "interrupted"
    assert sorted((Path(job["output"]).name, job["status"]) for job in manifest["jobs"]) == [
        ("quick.mp4", "done"),
        ("slow.mp4", "cancelled"),
    ]


def test_a_run_that_ran_nothing_writes_no_report(tmp_path: Path) -> None:
    progress = EndedJobs()

    async def main() -> None:
        async with gate_session(tmp_path, GateBackend(), progress):
            pass

    asyncio.run(main())
    assert progress.runs == [] and not (tmp_path / "out" / "manifest.json").exists()


def test_one_session_holds_every_lanes_folder_and_writes_each_its_own_report(tmp_path: Path) -> None:
    backend, progress = GateBackend(), EndedJobs()
    first, second = Lane(tmp_path / "out", "gate", "first"), Lane(tmp_path / "other", "gate", "second")
    also_first = Lane(tmp_path / "out", "gate", "a recipe sharing the folder")
    [job_a] = jobs_in(tmp_path, "a")
    [job_b] = [replace(job, output=tmp_path / "other" / "b.mp4") for job in jobs_in(tmp_path, "b")]
    held = []

    async def main() -> None:
        async with open_run_session(
            [first, second, also_first], progress=progress, backends={"gate": lambda options: backend}
        ) as session:
            owners = [folder / ".joypix" / "owner.json" for folder in (tmp_path / "out", tmp_path / "other")]
            held.extend(owner.parent.parent.name for owner in owners if owner.exists())
            assert session.runner(also_first) is session.runner(first) is not session.runner(second)
            await asyncio.gather(session.runner(first).submit(job_a), session.run(second, [job_b]))

    asyncio.run(main())
    assert held == ["out", "other"]
    assert not (tmp_path / "out" / ".joypix" / "owner.json").exists()
    reports = {folder: json.loads((tmp_path / folder / "manifest.json").read_text()) for folder in ("out", "other")}
    assert {
        folder: (manifest["recipe"], [Path(job["output"]).name for job in manifest["jobs"]])
        for folder, manifest in reports.items()
    } == {"out": ("first", ["a.mp4"]), "other": ("second", ["b.mp4"])}
    assert sorted(summary.outcomes[0].job.output.name for summary, _ in progress.runs) == ["a.mp4", "b.mp4"]


class PosterBackend(GateBackend):
    """Writes a clip and a poster per job, and hands over its own thumbnail of the poster (or none)."""

    def __init__(self, thumbnail: bytes | None) -> None:
        super().__init__()
        self.thumbnail = thumbnail

    async def run_job(self, job: Job, reporter: JobReporter, paid: Ledger | None = None) -> JobResult:
        from helpers.images import image_bytes

        atomic_write_bytes(job.output, b"clip")
        poster = job.output.with_suffix(".jpg")
        atomic_write_bytes(poster, image_bytes((64, 48), "JPEG"))
        return JobResult(output=job.output, poster=poster, summary="", duration_s=0.0, thumbnail=self.thumbnail)


@pytest.mark.parametrize("given", [b"\xff\xd8backend-made\xff\xd9", None])
def test_the_report_shows_the_backends_thumbnail_or_makes_one_from_the_poster(
    tmp_path: Path, given: bytes | None
) -> None:
    import base64

    backend, progress = PosterBackend(given), EndedJobs()

    async def main() -> None:
        async with gate_session(tmp_path, backend, progress) as (session, lane):
            await session.run(lane, jobs_in(tmp_path, "a"))

    asyncio.run(main())
    report = (tmp_path / "out" / "report.html").read_text()
    made = "data:image/jpeg;base64," + base64.b64encode(given).decode("ascii") if given else None
    assert report.count("data:image/jpeg;base64,") == 1
    assert (made in report) if made else ("data:image/jpeg;base64,/9j/" in report)  # a JPEG the report made itself
