"""manifest.json and report.html: every job listed, posters inline, no network references."""

from __future__ import annotations

import json
import re
from pathlib import Path

import helpers.jobs
from PIL import Image

from joypix_recipes.job.actions import Animate, Prompt
from joypix_recipes.job.model import Job, PlannedStep
from joypix_recipes.run.outcome import JobOutcome, RunSummary
from joypix_recipes.run.report import write_run_outputs


def make_job(tmp_path: Path, name: str) -> Job:
    steps = (
        PlannedStep("look", Prompt('Add the title "Summer <sale>" at the top')),
        PlannedStep("move", Animate(motion="ken-burns", duration=4.0)),
    )
    image = tmp_path / "in" / f"{name}.jpg"
    return helpers.jobs.make_job(image, steps, output=tmp_path / "out" / f"{name}.mp4", recipe_name="product-reels")


def make_summary(tmp_path: Path) -> RunSummary:
    out = tmp_path / "out"
    out.mkdir()
    poster = out / "a.jpg"
    Image.new("RGB", (1080, 1920), (200, 40, 40)).save(poster)
    done, failed = make_job(tmp_path, "a"), make_job(tmp_path, "b")
    return RunSummary(
        (
            JobOutcome(
                job=done, identity="id-a", status="done", output=done.output, error=None, duration_s=3.5,
                input_hash="hash-a", poster=poster, summary="Timeline (1 track): 1. Video: a.jpg",
                replies=("Added a title.",),
            ),
            JobOutcome(
                job=failed, identity="id-b", status="failed", output=None,
                error="b.jpg: not an image; replace the file", duration_s=0.2, input_hash="hash-b",
            ),
        ),
        stopped_reason=None,
    )


def test_manifest_lists_every_job_with_hash_steps_backend_output_duration_status(tmp_path: Path) -> None:
    manifest_path, _ = write_run_outputs(make_summary(tmp_path), tmp_path / "out", "product-reels")
    manifest = json.loads(manifest_path.read_text())
    assert manifest["recipe"] == "product-reels" and manifest["exit_code"] == 1
    assert manifest["counts"] == {"done": 1, "skipped": 0, "failed": 1, "cancelled": 0}
    first, second = manifest["jobs"]
    assert first["input_hash"] == "hash-a" and first["identity"] == "id-a" and first["backend"] == "local"
    assert first["steps"][0] == {"name": "look", "prompt": 'Add the title "Summer <sale>" at the top'}
    assert first["output"] == str((tmp_path / "out" / "a.mp4").resolve())
    assert first["status"] == "done" and first["duration_s"] == 3.5
    assert second["status"] == "failed" and "not an image" in second["error"]


def test_report_is_self_contained_with_poster_data_uris_and_escaped_text(tmp_path: Path) -> None:
    _, report_path = write_run_outputs(make_summary(tmp_path), tmp_path / "out", "product-reels")
    page = report_path.read_text()
    assert not re.search(r"https?://", page)
    assert "<script src" not in page and "<link rel=\"stylesheet\"" not in page
    posters = re.findall(r'poster="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(posters) == 1
    assert 'src="a.mp4"' in page  # relative, so the folder can move
    assert "Summer &lt;sale&gt;" in page and "<sale>" not in page
    assert "ken-burns" in page and "3.5 s" in page
    assert "not an image; replace the file" in page
    assert "Added a title." in page


def test_report_thumbnail_is_small(tmp_path: Path) -> None:
    import base64
    import io

    _, report_path = write_run_outputs(make_summary(tmp_path), tmp_path / "out", "product-reels")
    (encoded,) = re.findall(r'data:image/jpeg;base64,([A-Za-z0-9+/=]+)', report_path.read_text())
    with Image.open(io.BytesIO(base64.b64decode(encoded))) as thumbnail:
        assert max(thumbnail.size) <= 360
        assert thumbnail.size[1] > thumbnail.size[0]


def test_missing_poster_still_writes_a_report(tmp_path: Path) -> None:
    summary = make_summary(tmp_path)
    (tmp_path / "out" / "a.jpg").unlink()
    _, report_path = write_run_outputs(summary, tmp_path / "out", "product-reels")
    assert "data:image" not in report_path.read_text()


def test_cloud_jobs_show_the_prompts_sent_to_the_agent(tmp_path: Path) -> None:
    import dataclasses

    summary = make_summary(tmp_path)
    cloud = tuple(
        dataclasses.replace(outcome, job=dataclasses.replace(outcome.job, backend="nemo")) for outcome in summary.outcomes
    )
    _, report_path = write_run_outputs(RunSummary(cloud), tmp_path / "out", "product-reels")
    page = report_path.read_text()
    assert "motion ken-burns" not in page
    assert "4-second" in page


def test_a_gif_or_webp_clip_is_shown_as_an_animated_picture_not_a_video(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    poster = out / "a.jpg"
    Image.new("RGB", (160, 284), (40, 200, 40)).save(poster)
    job = helpers.jobs.make_job(
        tmp_path / "in" / "a.jpg", (PlannedStep("move", Animate(motion="ken-burns", duration=1.0)),),
        output=out / "a.gif", recipe_name="gifs",
    )
    summary = RunSummary(
        (JobOutcome(job=job, identity="id-a", status="done", output=job.output, error=None, duration_s=0.5,
                    input_hash="hash-a", poster=poster),),
        stopped_reason=None,
    )

    _, report_path = write_run_outputs(summary, out, "gifs")
    page = report_path.read_text()

    assert '<img class="clip" src="a.gif"' in page
    assert "<video" not in page
