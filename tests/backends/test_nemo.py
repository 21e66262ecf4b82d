"""The nemo backend end to end against the emulator: MP4s, lost sessions, credits, refusals, resume, secrecy."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path
from typing import Any

import pytest
from helpers.audio import write_wav
from helpers.images import write_image
from helpers.jobs import make_job
from helpers.video import probe
from PIL import Image

from joypix_recipes import __version__
from joypix_recipes.api.auth import TOKEN_FILE
from joypix_recipes.api.settings import RetryPolicy, resolve_settings
from joypix_recipes.backends.account import fetch_credits, fetch_status
from joypix_recipes.backends.contract import BackendOptions, JobResult, Ledger
from joypix_recipes.backends.nemo import NemoBackend
from joypix_recipes.backends.registry import BACKENDS
from joypix_recipes.cli.doctor import collect_doctor_report
from joypix_recipes.emulator import Emulator, Knobs
from joypix_recipes.errors import (
    ExportBlockedError,
    FileTooLargeError,
    JobError,
    NoCreditsError,
    UnsupportedFileError,
)
from joypix_recipes.job.actions import Animate, Audio, Prompt, Text
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.job.model import Job, PlannedStep

from .conftest import RecordingReporter


def _photo(tmp_path: Path) -> Path:
    return write_image(tmp_path / "in" / "photo.png", (64, 48))


def _job(tmp_path: Path, image: Path, *steps: PlannedStep, name: str = "photo") -> Job:
    """A cloud job over ``image``: a one-second animation unless steps are given, a small square export."""
    job = make_job(
        image,
        steps or (PlannedStep("animate", Animate(duration=1.0)),),
        output=tmp_path / "out" / f"{name}.mp4",
        export=ExportSettings(aspect="1:1", resolution="480p", quality="low"),
        recipe_name="demo",
        recipe_path=tmp_path / "recipe.yaml",
    )
    return dataclasses.replace(job, backend="nemo")


def _options(emulator: Emulator, tmp_path: Path) -> BackendOptions:
    return BackendOptions(base_url=emulator.base_url, poll_interval=0.05, home=tmp_path / "home", language="en")


def _fast_backend(emulator: Emulator, tmp_path: Path) -> NemoBackend:
    options = _options(emulator, tmp_path)
    settings = resolve_settings(
        base_url=options.base_url,
        poll_interval=options.poll_interval,
        language=options.language,
        home=options.home,
        retry=RetryPolicy(attempts=5, base_delay_s=0.01, max_delay_s=0.05),
    )
    return NemoBackend(options, settings=settings)


def _run(backend: NemoBackend, *jobs_and_resumes: tuple[Job, RecordingReporter, Ledger | None]) -> list[Any]:
    async def main() -> list[Any]:
        outcomes: list[Any] = []
        try:
            for job, reporter, resume in jobs_and_resumes:
                try:
                    outcomes.append(await backend.run_job(job, reporter, resume))
                except JobError as error:
                    outcomes.append(error)
        finally:
            await backend.aclose()
        return outcomes

    return asyncio.run(main())


def _token(emulator: Emulator) -> str:
    (token,) = emulator.state.tokens
    return token


def test_nemo_job_end_to_end_makes_the_mp4_the_export_asks_for(
    knobs: Knobs,
    emulator: Emulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    knobs.stub_render = False  # the emulator renders with the local renderer
    job = _job(tmp_path, _photo(tmp_path))
    reporter = RecordingReporter()
    backend = BACKENDS["nemo"](_options(emulator, tmp_path))
    assert backend.default_concurrency == 8
    (result,) = _run(backend, (job, reporter, None))  # type: ignore[arg-type]

    assert isinstance(result, JobResult) and result.output == job.output
    clip = probe(job.output)
    assert clip["size"] == (480, 480)
    assert clip["frames"] == 30 and result.duration_s == pytest.approx(1.0, abs=0.05)
    assert result.poster == job.output.with_suffix(".jpg") and result.poster.stat().st_size > 0
    assert reporter.warnings == []
    assert result.summary == "Timeline (1 track): 1. Video: photo.png (0-1s)"
    render_id = emulator.state.renders and next(iter(emulator.state.renders))
    assert reporter.ledgers[-1].render_id == render_id
    assert reporter.replies and not any("Click Export" in reply for reply in reporter.replies)

    token = _token(emulator)
    for request in emulator.state.requests.api:
        assert request.headers["x-skill-source"] == "image-to-video-joypix"
        assert request.headers["x-skill-version"] == __version__
    assert all("authorization" not in r.headers for r in emulator.state.requests.download)
    out = capsys.readouterr()
    assert token not in caplog.text and token not in out.out and token not in out.err
    for path in (tmp_path / "out").iterdir():
        assert token.encode() not in path.read_bytes()
    assert token in (tmp_path / "home" / TOKEN_FILE).read_text()  # only the private cache holds it


def test_lost_session_is_rebuilt_with_a_new_upload_and_the_steps_replayed(emulator: Emulator, tmp_path: Path) -> None:
    emulator.state.knobs.lose_session_after_turns = 1
    job = _job(
        tmp_path,
        _photo(tmp_path),
        PlannedStep("animate", Animate(duration=1.0)),
        PlannedStep("title", Text(content="Hi", position="top")),
    )
    reporter = RecordingReporter()
    (result,) = _run(_fast_backend(emulator, tmp_path), (job, reporter, None))
    assert isinstance(result, JobResult) and job.output.exists()
    counters = emulator.state.counters
    assert counters.sessions_created == 2 and counters.uploads == 2
    (first, second) = counters.edits_applied.values()
    assert (first, second) == (1, 2)  # the new session got both steps, each once
    assert 'Title: "Hi"' in result.summary
    assert any("session was lost" in warning for warning in reporter.warnings)


def test_no_credits_stops_the_run_with_the_registration_link(emulator: Emulator, tmp_path: Path) -> None:
    emulator.state.knobs.credits = 0
    with pytest.raises(NoCreditsError) as caught:
        _run(_fast_backend(emulator, tmp_path), (_job(tmp_path, _photo(tmp_path)), RecordingReporter(), None))
    (session,) = emulator.state.sessions.values()
    assert f"register?bind={session.bind_id}" in str(caught.value)


def test_refused_file_fails_only_that_job(emulator: Emulator, tmp_path: Path) -> None:
    fake = tmp_path / "in" / "fake.png"
    fake.parent.mkdir(parents=True)
    fake.write_bytes(b"not an image" * 20)
    bad = _job(tmp_path, fake, name="fake")
    good = _job(tmp_path, _photo(tmp_path))
    backend = _fast_backend(emulator, tmp_path)
    failed, done = _run(backend, (bad, RecordingReporter(), None), (good, RecordingReporter(), None))
    assert isinstance(failed, UnsupportedFileError) and "fake.png" in str(failed)
    assert isinstance(done, JobResult) and good.output.exists() and not bad.output.exists()


def test_file_over_the_service_limit_fails_the_job_with_advice(emulator: Emulator, tmp_path: Path) -> None:
    emulator.state.knobs.max_upload_bytes = 50
    (failed,) = _run(
        _fast_backend(emulator, tmp_path), (_job(tmp_path, _photo(tmp_path)), RecordingReporter(), None)
    )
    assert isinstance(failed, FileTooLargeError) and "compress" in str(failed)


def test_export_blocked_402_fails_the_job_as_a_plan_problem(emulator: Emulator, tmp_path: Path) -> None:
    emulator.state.knobs.export_blocked = True
    (failed,) = _run(
        _fast_backend(emulator, tmp_path), (_job(tmp_path, _photo(tmp_path)), RecordingReporter(), None)
    )
    assert isinstance(failed, ExportBlockedError)
    assert "export needs a registered or upgraded plan" in str(failed)


def test_resume_with_a_render_id_downloads_it_without_paying_again(emulator: Emulator, tmp_path: Path) -> None:
    job = _job(tmp_path, _photo(tmp_path))
    first = RecordingReporter()
    _run(_fast_backend(emulator, tmp_path), (job, first, None))
    paid = first.ledgers[-1]
    job.output.unlink()
    second = RecordingReporter()
    (result,) = _run(_fast_backend(emulator, tmp_path), (job, second, paid))
    assert isinstance(result, JobResult) and job.output.exists()
    assert emulator.state.counters.renders_started == 1
    assert emulator.state.counters.sessions_created == 1 and emulator.state.counters.turns == 1
    assert result.summary == "Timeline (1 track): 1. Video: photo.png (0-1s)"
    assert second.warnings == [] and second.ledgers == []  # nothing new was paid for


def test_a_recorded_render_is_downloaded_even_after_its_session_expired(emulator: Emulator, tmp_path: Path) -> None:
    job = _job(tmp_path, _photo(tmp_path))
    first = RecordingReporter()
    _run(_fast_backend(emulator, tmp_path), (job, first, None))
    emulator.state.sessions.clear()  # the service forgot the session; the render is still there
    job.output.unlink()
    second = RecordingReporter()
    (result,) = _run(_fast_backend(emulator, tmp_path), (job, second, first.ledgers[-1]))
    assert isinstance(result, JobResult) and job.output.exists()
    counters = emulator.state.counters
    assert (counters.sessions_created, counters.turns, counters.renders_started) == (1, 1, 1)


def test_a_recorded_render_the_service_never_received_is_posted_again_under_its_id(
    emulator: Emulator, tmp_path: Path
) -> None:
    job = _job(tmp_path, _photo(tmp_path))
    first = RecordingReporter()
    _run(_fast_backend(emulator, tmp_path), (job, first, None))
    paid = first.ledgers[-1]
    assert paid.render_id is not None
    emulator.state.renders.clear()  # as if the POST had been lost on its way
    job.output.unlink()
    second = RecordingReporter()
    (result,) = _run(_fast_backend(emulator, tmp_path), (job, second, paid))
    assert isinstance(result, JobResult) and job.output.exists()
    assert list(emulator.state.renders) == [paid.render_id]
    counters = emulator.state.counters
    assert (counters.sessions_created, counters.turns, counters.renders_started) == (1, 1, 2)


def test_a_recorded_render_that_failed_is_exported_again_without_new_turns(emulator: Emulator, tmp_path: Path) -> None:
    emulator.state.knobs.render_fail_next = 1
    job = _job(tmp_path, _photo(tmp_path))
    first = RecordingReporter()
    (failed,) = _run(_fast_backend(emulator, tmp_path), (job, first, None))
    assert isinstance(failed, JobError) and "the cloud export failed" in str(failed)
    second = RecordingReporter()
    (result,) = _run(_fast_backend(emulator, tmp_path), (job, second, first.ledgers[-1]))
    assert isinstance(result, JobResult)
    counters = emulator.state.counters
    assert (counters.sessions_created, counters.turns, counters.renders_started) == (1, 1, 2)
    assert counters.renders_failed == 1


def test_silent_turn_tells_the_reporter_what_changed(emulator: Emulator, tmp_path: Path) -> None:
    emulator.state.knobs.no_text_ratio = 1.0
    reporter = RecordingReporter()
    _run(_fast_backend(emulator, tmp_path), (_job(tmp_path, _photo(tmp_path)), reporter, None))
    (reply,) = reporter.replies
    assert "step 1/1: animate: no reply from the agent; the timeline changed" in reply
    assert "Video: photo.png (0-1s)" in reply


def test_audio_step_uploads_the_file_and_names_it_in_the_prompt(emulator: Emulator, tmp_path: Path) -> None:
    music = write_wav(tmp_path / "music.wav", seconds=0.5, rate=8000)
    job = _job(
        tmp_path,
        _photo(tmp_path),
        PlannedStep("animate", Animate(duration=1.0)),
        PlannedStep("music", Audio(file=str(music), volume=0.5)),
    )
    (result,) = _run(_fast_backend(emulator, tmp_path), (job, RecordingReporter(), None))
    assert isinstance(result, JobResult)
    assert emulator.state.counters.uploads == 2
    turns = [r.body["new_message"]["parts"][0]["text"] for r in emulator.state.requests.api if r.path == "/run_sse"]
    assert "music.wav" in turns[1]
    assert "BGM:" in result.summary and "50%" in result.summary


def test_free_text_prompt_is_sent_as_written_after_the_frame_asked_in_words(emulator: Emulator, tmp_path: Path) -> None:
    text = "Animate this image into a smooth 1-second video clip with a slow pan to the left."
    job = _job(tmp_path, _photo(tmp_path), PlannedStep("free", Prompt(text)))
    _run(_fast_backend(emulator, tmp_path), (job, RecordingReporter(), None))
    (turn,) = [r for r in emulator.state.requests.api if r.path == "/run_sse"]
    assert turn.body["new_message"]["parts"] == [{"text": f"Make the video 1:1 at 480p, 30 fps. {text}"}]
    (render,) = [r for r in emulator.state.requests.api if r.path == "/api/render/proxy/lambda"]
    assert render.body["output"] == {
        "format": "mp4", "quality": "low", "aspect": "1:1", "resolution": "480p", "width": 480, "height": 480, "fps": 30,
    }  # fmt: skip
    assert emulator.state.counters.drafts_altered == 0, "the draft went back untouched"


def test_credits_status_and_doctor_read_the_account_without_showing_the_token(
    emulator: Emulator, tmp_path: Path
) -> None:
    _run(_fast_backend(emulator, tmp_path), (_job(tmp_path, _photo(tmp_path)), RecordingReporter(), None))
    options = _options(emulator, tmp_path)
    credits = asyncio.run(fetch_credits(options))
    assert credits == {"available": 95, "frozen": 0, "total": 95}
    status = asyncio.run(fetch_status(options, None))
    assert status == "Timeline (1 track): 1. Video: photo.png (0-1s)"
    rows = dict(asyncio.run(collect_doctor_report(options)))
    assert rows["joypix"] == __version__
    assert "answers (HTTP" in rows["base URL"]
    assert "expires" in rows["token"] and _token(emulator) not in " ".join(rows.values())
    assert "libx264" in rows["H.264 encoder"] and rows["HEIC photos"] in (
        "supported",
        "not available (install pillow-heif)",
    )


def test_concurrent_jobs_share_one_anonymous_token_and_each_get_a_session(emulator: Emulator, tmp_path: Path) -> None:
    image = _photo(tmp_path)
    jobs = [_job(tmp_path, image, name=f"clip{index}") for index in range(3)]
    backend = _fast_backend(emulator, tmp_path)

    async def main() -> list[JobResult]:
        try:
            return list(await asyncio.gather(*(backend.run_job(job, RecordingReporter()) for job in jobs)))
        finally:
            await backend.aclose()

    results = asyncio.run(main())
    assert [result.output for result in results] == [job.output for job in jobs]
    assert all(job.output.exists() for job in jobs)
    assert emulator.state.counters.tokens_issued == 1
    assert emulator.state.counters.sessions_created == 3 and emulator.state.counters.renders_started == 3


def test_a_photo_with_a_color_profile_is_uploaded_as_it_is(emulator: Emulator, tmp_path: Path) -> None:
    from PIL import ImageCms

    photo = tmp_path / "in" / "tagged.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(photo, quality=90, icc_profile=profile)
    job = _job(tmp_path, photo, PlannedStep("animate", Animate(duration=1.0)))
    (result,) = _run(_fast_backend(emulator, tmp_path), (job, RecordingReporter(), None))
    assert isinstance(result, JobResult)
    (stored,) = emulator.state.media.values()
    assert stored.path.read_bytes() == photo.read_bytes()  # the service gets the profile and does its own color


def _three_steps(tmp_path: Path) -> Job:
    return _job(
        tmp_path,
        _photo(tmp_path),
        PlannedStep("animate", Animate(duration=1.0)),
        PlannedStep("title", Text("Sale", position="top")),
        PlannedStep("again", Animate(motion="zoom-out", duration=1.0)),
    )


@pytest.mark.parametrize(
    ("no_text_ratio", "reads"),
    [
        # Every turn speaks: each turn reads its "before"; the render reads the draft; the clip reads nothing more.
        (0.0, 4),
        # Every turn is silent: the first turn's "before", then each turn's "after", which is the next
        # turn's "before" and the draft the render sends.
        (1.0, 4),
    ],
)
def test_a_job_reads_the_session_state_only_where_a_rule_needs_it(
    emulator: Emulator, tmp_path: Path, no_text_ratio: float, reads: int
) -> None:
    emulator.state.knobs.no_text_ratio = no_text_ratio
    reporter = RecordingReporter()
    (result,) = _run(_fast_backend(emulator, tmp_path), (_three_steps(tmp_path), reporter, None))
    assert isinstance(result, JobResult)
    state_reads = [r for r in emulator.state.requests.api if r.path.startswith("/api/state/")]
    assert len(state_reads) == reads
    # The render sent the draft the session held after the last step, untouched.
    assert emulator.state.counters.drafts_altered == 0
    assert result.summary.startswith("Timeline")


def test_a_fresh_render_is_first_polled_one_interval_after_its_post(emulator: Emulator, tmp_path: Path) -> None:
    emulator.state.knobs.render_latency = 0.3
    _run(_fast_backend(emulator, tmp_path), (_job(tmp_path, _photo(tmp_path)), RecordingReporter(), None))
    (post,) = [r for r in emulator.state.requests.api if r.path == "/api/render/proxy/lambda"]
    first_poll = min(r.at for r in emulator.state.requests.api if r.path.startswith("/api/render/proxy/lambda/"))
    assert first_poll - post.at >= 0.05


def test_getting_ready_reads_the_cached_token_and_sends_nothing(emulator: Emulator, tmp_path: Path) -> None:
    # A first job caches a token; a new backend gets ready without a request, and its first job needs no token call.
    _run(_fast_backend(emulator, tmp_path), (_job(tmp_path, _photo(tmp_path)), RecordingReporter(), None))
    before = len(emulator.state.requests.api)
    backend = _fast_backend(emulator, tmp_path)

    async def ready() -> str | None:
        try:
            await backend.prepare()
            credentials = backend.client.credentials
            return credentials.source if credentials is not None else None
        finally:
            await backend.aclose()

    assert asyncio.run(ready()) == "anonymous"
    assert len(emulator.state.requests.api) == before
