"""Progress displays: JSON Lines shape, plain lines, quiet, and the live panel's content."""

from __future__ import annotations

import io
import json
from pathlib import Path

import helpers.jobs
import pytest

from joypix_recipes.errors import UsageError
from joypix_recipes.job.model import Job
from joypix_recipes.run.outcome import JobOutcome, RunSummary
from joypix_recipes.run.progress import (
    STILL_WORKING_AFTER_S,
    JsonProgress,
    LiveProgress,
    PlainProgress,
    QuietProgress,
    open_progress,
)


def make_job(name: str) -> Job:
    return helpers.jobs.make_job(Path(f"in/{name}.jpg"), output=Path(f"out/{name}.mp4"), variant="reels", recipe_name="r")


def outcomes() -> list[JobOutcome]:
    done, skipped, failed = make_job("a"), make_job("b"), make_job("c")
    return [
        JobOutcome(
            job=done, identity="id-a", status="done", output=done.output, error=None, duration_s=1.25,
            poster=Path("out/a.jpg"),
        ),
        JobOutcome(job=skipped, identity="id-b", status="skipped", output=skipped.output, error=None, duration_s=0.0),
        JobOutcome(job=failed, identity="id-c", status="failed", output=None, error="in/c.jpg: not an image", duration_s=0.5),
    ]


def drive(progress: PlainProgress | JsonProgress | QuietProgress) -> None:
    progress.run_started(3)
    job = make_job("a")
    progress.job_started(job, "id-a")
    progress.job_stage(job, "step 1/1: animate")
    progress.job_warning(job, "unknown word 'sparkly' ignored")
    for outcome in outcomes():
        progress.job_finished(outcome, detail="Traceback (most recent call last): ..." if outcome.status == "failed" else None)
    progress.run_finished(RunSummary(tuple(outcomes())), Path("out/manifest.json"), Path("out/report.html"))


def test_json_progress_writes_one_object_per_event_with_absolute_paths() -> None:
    out = io.StringIO()
    drive(JsonProgress(out, verbose=False))
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [event["event"] for event in events] == [
        "run_started", "job_started", "job_stage", "job_warning", "job_done", "job_skipped", "job_failed", "run_finished",
    ]
    started, stage, done, failed, finished = events[1], events[2], events[4], events[6], events[7]
    assert started["identity"] == "id-a" and started["job"] == "a.jpg [reels]" and started["variant"] == "reels"
    assert Path(started["input"]).is_absolute() and Path(started["output"]).is_absolute()
    assert stage["stage"] == "step 1/1: animate"
    assert done["duration_s"] == 1.25 and Path(done["poster"]).is_absolute()
    assert failed["error"] == "in/c.jpg: not an image" and "Traceback" not in out.getvalue()
    assert finished["done"] == 1 and finished["skipped"] == 1 and finished["failed"] == 1
    assert finished["exit_code"] == 1 and Path(finished["report"]).is_absolute()
    assert all(isinstance(event["time"], float) for event in events)


def test_plain_progress_puts_results_on_stdout_and_progress_on_stderr() -> None:
    out, err = io.StringIO(), io.StringIO()
    drive(PlainProgress(out, err, verbose=False))
    results = out.getvalue().splitlines()
    assert results[0].startswith("done") and "a.jpg [variant reels]" in results[0] and "rendered in 1.2 s" in results[0]
    assert results[1].startswith("skipped") and results[2].startswith("failed")
    assert results[3].startswith("1 done, 1 skipped, 1 failed")
    assert "start    a.jpg [variant reels] (1/3)" in err.getvalue()
    assert "step 1/1" not in err.getvalue() and "Traceback" not in err.getvalue()


def test_plain_progress_shows_stages_and_tracebacks_at_verbose() -> None:
    out, err = io.StringIO(), io.StringIO()
    drive(PlainProgress(out, err, verbose=True))
    assert "step 1/1: animate" in err.getvalue() and "Traceback" in err.getvalue()


def test_quiet_progress_prints_only_failures() -> None:
    err = io.StringIO()
    drive(QuietProgress(err, verbose=False))
    assert err.getvalue().splitlines() == ["failed   c.jpg [variant reels]: in/c.jpg: not an image"]


def test_auto_mode_is_plain_off_a_terminal_and_unknown_mode_is_a_usage_error() -> None:
    assert isinstance(open_progress("auto", False, out=io.StringIO(), err=io.StringIO()), PlainProgress)
    assert isinstance(open_progress("json", False, out=io.StringIO()), JsonProgress)
    assert isinstance(open_progress("quiet", False, err=io.StringIO()), QuietProgress)
    with pytest.raises(UsageError, match="loud"):
        open_progress("loud", False)


def test_live_panel_shows_counts_each_running_stage_and_still_working() -> None:
    from rich.console import Console

    now = [1000.0]
    live = LiveProgress(io.StringIO(), io.StringIO(), verbose=False, clock=lambda: now[0])
    job = make_job("slow")
    try:
        live.run_started(3)
        live.job_started(job, "id-slow")
        live.job_stage(job, "step 2/3: animate")
        live.job_finished(outcomes()[0])
        console = Console(record=True, width=120, file=io.StringIO())
        console.print(live.render())
        text = console.export_text()
        assert "1/3 finished" in text and "1 done" in text and "1 running" in text
        assert "slow.jpg [variant reels]" in text and "step 2/3: animate" in text and "still working" not in text
        now[0] += STILL_WORKING_AFTER_S + 1
        console.print(live.render())
        assert "still working (21.0 s)" in console.export_text()
    finally:
        live.close()
