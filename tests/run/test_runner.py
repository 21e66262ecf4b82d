"""The runner with a recording backend injected: bound, failures, stop on RunError, skip, rerun, resume."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
from collections.abc import Awaitable, Callable
from pathlib import Path

from helpers.jobs import make_job
from helpers.progress import EndedJobs

from joypix_recipes.atomic import atomic_path, atomic_write_bytes
from joypix_recipes.backends.contract import JobReporter, JobResult, Ledger
from joypix_recipes.errors import ImageError, NoCreditsError
from joypix_recipes.job.actions import Animate, Prompt
from joypix_recipes.job.model import Job, PlannedStep, job_identity
from joypix_recipes.run.journal import JobState, Journal
from joypix_recipes.run.outcome import RunSummary
from joypix_recipes.run.progress import PlainProgress, Progress
from joypix_recipes.run.runner import Identified, Runner

Behaviour = Callable[[Job, JobReporter], Awaitable[None]]


class RecordingBackend:
    """Writes a small fake MP4 per job and records every call; per-output behaviours inject trouble."""

    name = "recording"

    def __init__(self, default_concurrency: int = 2, delay: float = 0.0, behaviours: dict[str, Behaviour] | None = None):
        self._default_concurrency = default_concurrency
        self.delay = delay
        self.behaviours = behaviours or {}
        self.calls: list[tuple[str, Ledger | None]] = []
        self.active = 0
        self.max_active = 0
        self.closed = False

    @property
    def default_concurrency(self) -> int:
        return self._default_concurrency

    @property
    def ran(self) -> list[str]:
        return [name for name, _ in self.calls]

    async def run_job(self, job: Job, reporter: JobReporter, paid: Ledger | None = None) -> JobResult:
        self.calls.append((job.output.name, paid))
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            reporter.stage("step 1/1: animate")
            behaviour = self.behaviours.get(job.output.name)
            if behaviour is not None:
                await behaviour(job, reporter)
            await asyncio.sleep(self.delay)
            atomic_write_bytes(job.output, f"fake video {job.output.name} {job.spec_hash()}".encode())
            poster = job.output.with_suffix(".jpg")
            atomic_write_bytes(poster, b"poster")
            return JobResult(output=job.output, poster=poster, summary="Timeline (1 track)", duration_s=0.0)
        finally:
            self.active -= 1

    async def aclose(self) -> None:
        self.closed = True


def make_jobs(tmp_path: Path, count: int, *, motion: str = "zoom-in") -> list[Job]:
    inputs = tmp_path / "in"
    inputs.mkdir(exist_ok=True)
    jobs = []
    for index in range(count):
        source = inputs / f"photo{index}.jpg"
        if not source.exists():
            source.write_bytes(f"image bytes {index}".encode())
        steps = (PlannedStep("animate", Animate(motion=motion)),)  # type: ignore[arg-type]
        jobs.append(
            make_job(source, steps, output=tmp_path / "out" / f"photo{index}.mp4", recipe_name="test",
                     recipe_path=tmp_path / "recipe.yaml", index=index)
        )
    return jobs


def run_batch(
    backend: RecordingBackend,
    jobs: list[Job],
    out_dir: Path,
    *,
    concurrency: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> RunSummary:
    async def main() -> RunSummary:
        with Journal.open(out_dir) as journal:
            runner = Runner(backend, journal, progress or Progress(), concurrency=concurrency, force=force)
            try:
                return await runner.run(jobs)
            finally:
                await runner.aclose()

    return asyncio.run(main())


def statuses(summary: RunSummary) -> dict[str, str]:
    return {outcome.job.output.name: outcome.status for outcome in summary.outcomes}


def test_concurrency_bound_holds_and_is_reached(tmp_path: Path) -> None:
    backend = RecordingBackend(delay=0.02)
    summary = run_batch(backend, make_jobs(tmp_path, 10), tmp_path / "out", concurrency=3)
    assert backend.max_active == 3
    assert summary.counts()["done"] == 10 and summary.exit_code == 0
    assert backend.closed


def test_default_concurrency_comes_from_the_backend(tmp_path: Path) -> None:
    backend = RecordingBackend(default_concurrency=2, delay=0.02)
    run_batch(backend, make_jobs(tmp_path, 6), tmp_path / "out")
    assert backend.max_active == 2


def test_failed_job_does_not_stop_the_others(tmp_path: Path) -> None:
    async def bad_image(job: Job, reporter: JobReporter) -> None:
        raise ImageError(f"{job.input.path}: not an image; replace the file")

    backend = RecordingBackend(behaviours={"photo1.mp4": bad_image})
    summary = run_batch(backend, make_jobs(tmp_path, 4), tmp_path / "out", concurrency=1)
    assert statuses(summary) == {"photo0.mp4": "done", "photo1.mp4": "failed", "photo2.mp4": "done", "photo3.mp4": "done"}
    failed = summary.outcomes[1]
    assert failed.error is not None and "not an image" in failed.error
    assert summary.exit_code == 1 and summary.stopped_reason is None


def test_run_error_stops_starting_new_jobs_and_says_why(tmp_path: Path) -> None:
    async def no_credits(job: Job, reporter: JobReporter) -> None:
        raise NoCreditsError("no credits left; top up at the registration link")

    backend = RecordingBackend(behaviours={"photo1.mp4": no_credits})
    summary = run_batch(backend, make_jobs(tmp_path, 5), tmp_path / "out", concurrency=1)
    assert backend.ran == ["photo0.mp4", "photo1.mp4"]
    assert statuses(summary) == {
        "photo0.mp4": "done", "photo1.mp4": "failed",
        "photo2.mp4": "cancelled", "photo3.mp4": "cancelled", "photo4.mp4": "cancelled",
    }
    assert summary.stopped_reason is not None and "no credits" in summary.stopped_reason
    assert summary.outcomes[2].error is not None and "not started" in summary.outcomes[2].error


def test_unexpected_exception_is_an_internal_error_with_traceback_only_at_verbose(tmp_path: Path) -> None:
    async def bug(job: Job, reporter: JobReporter) -> None:
        raise KeyError("oops")

    for verbose in (False, True):
        out, err = io.StringIO(), io.StringIO()
        backend = RecordingBackend(behaviours={"photo0.mp4": bug})
        folder = tmp_path / f"verbose-{verbose}"
        folder.mkdir()
        summary = run_batch(
            backend, make_jobs(folder, 3), folder / "out", force=True,
            progress=PlainProgress(out, err, verbose),
        )
        assert statuses(summary)["photo0.mp4"] == "failed"
        assert summary.counts()["done"] == 2
        assert summary.outcomes[0].error is not None and "internal error" in summary.outcomes[0].error
        assert ("Traceback" in err.getvalue()) is verbose
        assert "KeyError" not in out.getvalue()


def test_done_and_intact_output_is_skipped(tmp_path: Path) -> None:
    jobs = make_jobs(tmp_path, 3)
    run_batch(RecordingBackend(), jobs, tmp_path / "out")
    again = RecordingBackend()
    summary = run_batch(again, jobs, tmp_path / "out")
    assert again.ran == []
    assert set(statuses(summary).values()) == {"skipped"}
    assert summary.exit_code == 0
    assert summary.outcomes[0].poster == jobs[0].output.with_suffix(".jpg")


def test_corrupted_or_removed_output_reruns(tmp_path: Path) -> None:
    jobs = make_jobs(tmp_path, 3)
    run_batch(RecordingBackend(), jobs, tmp_path / "out")
    jobs[0].output.unlink()
    size = jobs[1].output.stat().st_size
    jobs[1].output.write_bytes(b"x" * size)  # same size, other bytes
    again = RecordingBackend()
    summary = run_batch(again, jobs, tmp_path / "out")
    assert sorted(again.ran) == ["photo0.mp4", "photo1.mp4"]
    assert statuses(summary)["photo2.mp4"] == "skipped"
    assert jobs[0].output.exists()


def test_editing_a_step_reruns_only_that_job(tmp_path: Path) -> None:
    jobs = make_jobs(tmp_path, 3)
    run_batch(RecordingBackend(), jobs, tmp_path / "out")
    edited = list(jobs)
    edited[2] = dataclasses.replace(jobs[2], steps=(PlannedStep("animate", Animate(motion="pan-left")),))
    again = RecordingBackend()
    summary = run_batch(again, edited, tmp_path / "out")
    assert again.ran == ["photo2.mp4"]
    assert statuses(summary) == {"photo0.mp4": "skipped", "photo1.mp4": "skipped", "photo2.mp4": "done"}


def test_replacing_an_input_image_reruns_its_job(tmp_path: Path) -> None:
    jobs = make_jobs(tmp_path, 2)
    run_batch(RecordingBackend(), jobs, tmp_path / "out")
    assert jobs[1].input.path is not None
    jobs[1].input.path.write_bytes(b"a different photo")
    again = RecordingBackend()
    run_batch(again, jobs, tmp_path / "out")
    assert again.ran == ["photo1.mp4"]


def test_force_reruns_everything(tmp_path: Path) -> None:
    jobs = make_jobs(tmp_path, 3)
    run_batch(RecordingBackend(), jobs, tmp_path / "out")
    again = RecordingBackend()
    summary = run_batch(again, jobs, tmp_path / "out", force=True)
    assert sorted(again.ran) == ["photo0.mp4", "photo1.mp4", "photo2.mp4"]
    assert summary.counts()["done"] == 3


def test_same_spec_different_outputs_are_separate_journal_rows(tmp_path: Path) -> None:
    (job,) = make_jobs(tmp_path, 1)
    twin = dataclasses.replace(job, output=tmp_path / "out" / "twin.mp4")
    backend = RecordingBackend()
    run_batch(backend, [job, twin], tmp_path / "out")
    assert sorted(backend.ran) == ["photo0.mp4", "twin.mp4"]
    with Journal.open(tmp_path / "out") as journal:
        rows = journal.records()
    assert len(rows) == 2 and rows[0].identity == rows[1].identity
    assert {row.state for row in rows} == {JobState.DONE}


def test_missing_input_fails_that_job_only(tmp_path: Path) -> None:
    jobs = make_jobs(tmp_path, 3)
    assert jobs[0].input.path is not None
    jobs[0].input.path.unlink()
    backend = RecordingBackend()
    summary = run_batch(backend, jobs, tmp_path / "out")
    assert statuses(summary) == {"photo0.mp4": "failed", "photo1.mp4": "done", "photo2.mp4": "done"}
    assert summary.outcomes[0].error is not None and "photo0.jpg" in summary.outcomes[0].error


def test_a_ledger_survives_cancellation_and_comes_back_to_the_next_attempt(tmp_path: Path) -> None:
    jobs = make_jobs(tmp_path, 2)
    out_dir = tmp_path / "out"

    async def interrupted() -> None:
        in_render = asyncio.Event()

        async def long_render(job: Job, reporter: JobReporter) -> None:
            reporter.record(Ledger(session_id="sess-1", basis="b"))
            reporter.record(Ledger(session_id="sess-1", basis="b", steps=("s1",), render_id="render-9"))
            # A half-written download must not survive the interruption.
            with atomic_path(job.output) as temp:
                temp.write_bytes(b"half")
                in_render.set()
                await asyncio.sleep(30)

        backend = RecordingBackend(behaviours={"photo0.mp4": long_render})
        progress = EndedJobs()
        with Journal.open(out_dir) as journal:
            runner = Runner(backend, journal, progress, concurrency=2)
            task = asyncio.create_task(runner.run(jobs))
            await asyncio.wait_for(in_render.wait(), 10)
            assert (await progress.next_ended()).job.output.name == "photo1.mp4"  # while photo0 renders
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            await runner.aclose()
            assert [(o.job.output.name, o.status) for o in runner.outcomes] == [
                ("photo1.mp4", "done"), ("photo0.mp4", "cancelled"),
            ]
            (row,) = [row for row in journal.records() if row.output == jobs[0].output]
            assert (row.state, row.session_id, row.render_id) == (JobState.CANCELLED, "sess-1", "render-9")
            assert journal.transitions(row.identity, row.output) == [
                JobState.PENDING, JobState.RUNNING, JobState.RENDERING, JobState.CANCELLED,
            ]

    asyncio.run(interrupted())
    assert not jobs[0].output.exists()
    assert not [path for path in out_dir.rglob("*") if ".partial" in path.name]

    again = RecordingBackend()
    summary = run_batch(again, jobs, out_dir)
    assert again.calls == [("photo0.mp4", Ledger(session_id="sess-1", basis="b", steps=("s1",), render_id="render-9"))]
    assert statuses(summary) == {"photo0.mp4": "done", "photo1.mp4": "skipped"}


def test_submit_from_many_tasks_shares_one_bound(tmp_path: Path) -> None:
    jobs = make_jobs(tmp_path, 8)
    backend = RecordingBackend(delay=0.02)

    async def main() -> list[str]:
        with Journal.open(tmp_path / "out") as journal:
            runner = Runner(backend, journal, Progress(), concurrency=3)
            outcomes = await asyncio.gather(*(runner.submit(job) for job in jobs))
            await runner.aclose()
        return [outcome.status for outcome in outcomes]

    assert asyncio.run(main()) == ["done"] * 8
    assert backend.max_active == 3


def test_leftover_partial_files_are_removed_at_start(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    leftover = out_dir / ".photo0.mp4.abc123.partial.mp4"
    leftover.write_bytes(b"half a video")
    run_batch(RecordingBackend(), make_jobs(tmp_path, 1), out_dir)
    assert not leftover.exists()


def test_prompt_steps_change_identity_like_structured_ones(tmp_path: Path) -> None:
    (job,) = make_jobs(tmp_path, 1)
    first = dataclasses.replace(job, steps=(PlannedStep("p", Prompt("zoom in slowly")),))
    second = dataclasses.replace(job, steps=(PlannedStep("p", Prompt("zoom in quickly")),))
    run_batch(RecordingBackend(), [first], tmp_path / "out")
    again = RecordingBackend()
    run_batch(again, [second], tmp_path / "out")
    assert again.ran == ["photo0.mp4"]


def test_a_failed_attempt_keeps_what_it_paid_for_and_force_starts_afresh(tmp_path: Path) -> None:
    paid = {"photo0.mp4": Ledger("sess-2", "b", render_id="render-2"), "photo1.mp4": Ledger("sess-3", "b")}

    async def pay_then_fail(job: Job, reporter: JobReporter) -> None:
        reporter.record(paid[job.output.name])
        raise ImageError("the service refused this file")

    jobs = make_jobs(tmp_path, 2)
    behaviours = {job.output.name: pay_then_fail for job in jobs}
    run_batch(RecordingBackend(behaviours=behaviours), jobs, tmp_path / "out")
    again = RecordingBackend(behaviours=behaviours)
    run_batch(again, jobs, tmp_path / "out")
    assert sorted(again.calls, key=lambda call: call[0]) == sorted(paid.items())
    forced = RecordingBackend()
    summary = run_batch(forced, jobs, tmp_path / "out", force=True)
    assert sorted(forced.calls, key=lambda call: call[0]) == [("photo0.mp4", None), ("photo1.mp4", None)]
    assert summary.counts()["done"] == 2


def test_the_same_job_submitted_twice_at_once_runs_once(tmp_path: Path) -> None:
    (job,) = make_jobs(tmp_path, 1)
    backend = RecordingBackend(delay=0.05)

    async def main() -> list[str]:
        with Journal.open(tmp_path / "out") as journal:
            runner = Runner(backend, journal, Progress(), concurrency=4)
            outcomes = await asyncio.gather(runner.submit(job), runner.submit(job))
            await runner.aclose()
        return sorted(outcome.status for outcome in outcomes)

    assert asyncio.run(main()) == ["done", "skipped"]
    assert backend.ran == ["photo0.mp4"]


def test_a_result_whose_output_is_missing_fails_the_job(tmp_path: Path) -> None:
    class LosingBackend(RecordingBackend):
        async def run_job(self, job: Job, reporter: JobReporter, paid: Ledger | None = None) -> JobResult:
            result = await super().run_job(job, reporter, paid)
            result.output.unlink()
            return result

    summary = run_batch(LosingBackend(), make_jobs(tmp_path, 2), tmp_path / "out")
    assert statuses(summary) == {"photo0.mp4": "failed", "photo1.mp4": "failed"}
    assert summary.outcomes[0].error is not None and "missing after the job" in summary.outcomes[0].error


def test_an_output_left_by_an_attempt_killed_before_it_was_journaled_is_replaced_on_rerun(tmp_path: Path) -> None:
    (job,) = make_jobs(tmp_path, 1)
    with Journal.open(tmp_path / "out") as journal:
        journal.add_pending([("an-identity", job)])
        journal.start("an-identity", job)  # then the kill, after the rename, before finish
    job.output.write_bytes(b"finished by the killed attempt, not yet journaled")
    backend = RecordingBackend()
    summary = run_batch(backend, [job], tmp_path / "out")
    assert statuses(summary) == {"photo0.mp4": "done"}


def test_an_output_path_holding_someone_elses_file_fails_that_job_and_keeps_the_file(tmp_path: Path) -> None:
    jobs = make_jobs(tmp_path, 2)
    jobs[0].output.parent.mkdir(parents=True)
    jobs[0].output.write_bytes(b"the user's own video")
    summary = run_batch(RecordingBackend(), jobs, tmp_path / "out")
    assert statuses(summary) == {"photo0.mp4": "failed", "photo1.mp4": "done"}
    assert summary.outcomes[0].error is not None and "not made by joypix" in summary.outcomes[0].error
    assert jobs[0].output.read_bytes() == b"the user's own video"


class CountingHasher:
    """A file hasher handed to the runner, counting how often each input is read to be hashed."""

    def __init__(self) -> None:
        self.reads: dict[Path, int] = {}

    def __call__(self, path: Path) -> str:
        self.reads[path] = self.reads.get(path, 0) + 1
        return hashlib.sha256(path.read_bytes()).hexdigest()


class ContextRecordingBackend(RecordingBackend):
    """Also keeps the identity and input hash each job's context handed it."""

    def __init__(self) -> None:
        super().__init__()
        self.contexts: dict[str, tuple[str, str]] = {}

    async def run_job(self, job: Job, reporter: JobReporter, paid: Ledger | None = None) -> JobResult:
        self.contexts[job.output.name] = (reporter.identity, reporter.input_hash)
        return await super().run_job(job, reporter, paid)


def test_each_input_is_hashed_once_and_the_backend_gets_that_identity(tmp_path: Path) -> None:
    photos = make_jobs(tmp_path, 2)
    variants = [dataclasses.replace(job, variant="square", output=job.output.with_name(f"sq-{job.output.name}"))
                for job in photos]
    backend, hasher = ContextRecordingBackend(), CountingHasher()

    async def main() -> RunSummary:
        with Journal.open(tmp_path / "out") as journal:
            runner = Runner(backend, journal, Progress(), hash_file=hasher)
            try:
                return await runner.run(photos + variants)
            finally:
                await runner.aclose()

    summary = asyncio.run(main())
    assert hasher.reads == {job.input.path: 1 for job in photos}
    for outcome in summary.outcomes:
        assert outcome.job.input.path is not None
        content = hashlib.sha256(outcome.job.input.path.read_bytes()).hexdigest()
        assert backend.contexts[outcome.job.output.name] == (outcome.identity, content)
        assert outcome.identity == job_identity(outcome.job, content)


def test_a_submitted_job_already_identified_is_not_hashed_again(tmp_path: Path) -> None:
    [job] = make_jobs(tmp_path, 1)
    assert job.input.path is not None
    content = hashlib.sha256(job.input.path.read_bytes()).hexdigest()
    backend, hasher = ContextRecordingBackend(), CountingHasher()

    async def main() -> str:
        with Journal.open(tmp_path / "out") as journal:
            runner = Runner(backend, journal, Progress(), hash_file=hasher)
            try:
                return (await runner.submit(job, Identified(job_identity(job, content), content))).status
            finally:
                await runner.aclose()

    assert asyncio.run(main()) == "done"
    assert hasher.reads == {}
    assert backend.contexts[job.output.name] == (job_identity(job, content), content)
