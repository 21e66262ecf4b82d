"""Each error code and HTTP status of the documented error table (docs/protocol.md), against the emulator's fault knobs."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from starlette.responses import PlainTextResponse

from joypix_recipes.api.client import NemoClient
from joypix_recipes.api.settings import ClientSettings
from joypix_recipes.emulator import Emulator
from joypix_recipes.errors import (
    ExportBlockedError,
    FileTooLargeError,
    JobError,
    NoCreditsError,
    ProtocolError,
    RateLimitedError,
    RunError,
    ServerError,
    UnsupportedFileError,
)

from .conftest import (
    Proxy,
    RecordingSleep,
    api_requests,
    fast_settings,
    run,
    session_with_draft,
    session_with_image,
)


def test_429_waits_retry_after_then_retries_once(emulator: Emulator, settings: ClientSettings) -> None:
    emulator.state.knobs.rate_limit_next = 1
    emulator.state.knobs.retry_after = 0.3
    started = time.monotonic()
    credits = run(lambda client: client.credits(), settings)
    assert credits.available == 100
    assert time.monotonic() - started >= 0.3
    statuses = [r.status for r in emulator.state.requests.api]
    assert statuses.count(429) == 1


def test_429_without_retry_after_waits_30_seconds(emulator: Emulator, settings: ClientSettings) -> None:
    emulator.state.knobs.rate_limit_next = 2  # anonymous-token and credits both hit
    sleep = RecordingSleep()
    with pytest.raises(RateLimitedError) as caught:
        run(lambda client: client.credits(), settings, sleep=sleep)
    assert "rate limiting" in str(caught.value)
    # The emulator sends Retry-After: 30 by default; the client waited it once, then gave up.
    assert sleep.waits == [30.0]
    assert [r.status for r in emulator.state.requests.api] == [429, 429]


def test_503_burst_is_survived_with_growing_backoff(emulator: Emulator, settings: ClientSettings) -> None:
    emulator.state.knobs.server_errors_next = 4
    sleep = RecordingSleep()
    credits = run(lambda client: client.credits(), settings, sleep=sleep)
    assert credits.total == 100
    assert len(sleep.waits) == 4
    assert sleep.waits[-1] > sleep.waits[0]
    assert all(wait <= settings.retry.max_delay_s for wait in sleep.waits)


def test_503_that_never_ends_gives_a_server_error_after_bounded_attempts(
    emulator: Emulator, settings: ClientSettings
) -> None:
    emulator.state.knobs.server_errors_next = 100
    with pytest.raises(ServerError) as caught:
        run(lambda client: client.credits(), settings)
    assert "try again later" in str(caught.value)
    assert len(emulator.state.requests.api) == settings.retry.attempts


def test_402_export_blocked_is_a_plan_problem_not_credits(emulator: Emulator, settings: ClientSettings, tmp_path: Path) -> None:
    emulator.state.knobs.export_blocked = True

    async def export(client: NemoClient) -> str:
        session, draft = await session_with_draft(client, tmp_path)
        return await client.start_render(session.session_id, draft)

    with pytest.raises(ExportBlockedError) as caught:
        run(export, settings)
    assert "export needs a registered or upgraded plan" in str(caught.value)
    assert "credit" in str(caught.value) and "not a credits problem" in str(caught.value)
    assert isinstance(caught.value, JobError)


def test_2001_no_credits_stops_the_run_with_a_registration_link_bound_to_the_account(
    emulator: Emulator, settings: ClientSettings, tmp_path: Path
) -> None:
    emulator.state.knobs.credits = 0

    async def export(client: NemoClient) -> tuple[RunError, str]:
        session, draft = await session_with_draft(client, tmp_path)
        assert session.bind_id
        try:
            await client.start_render(session.session_id, draft)
        except RunError as error:  # what the runner catches to stop starting new jobs
            return error, session.bind_id
        raise AssertionError("no NoCreditsError")

    error, bind_id = run(export, settings)
    assert isinstance(error, NoCreditsError)
    assert f"?bind={bind_id}" in str(error)
    assert emulator.state.counters.renders_started == 0


def test_2001_for_a_registered_token_says_top_up(
    emulator: Emulator, settings: ClientSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEMO_TOKEN", emulator.state.issue_token().token)
    emulator.state.knobs.credits = 0

    async def export(client: NemoClient) -> str:
        session, draft = await session_with_draft(client, tmp_path)
        return await client.start_render(session.session_id, draft)

    with pytest.raises(NoCreditsError) as caught:
        run(export, settings)
    assert "top up credits in your account" in str(caught.value)
    assert "bind=" not in str(caught.value)


def test_unsupported_suffix_is_refused_before_sending(emulator: Emulator, settings: ClientSettings, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")

    async def upload(client: NemoClient) -> object:
        session = await client.create_session()
        return await client.upload_file(session.session_id, notes)

    with pytest.raises(UnsupportedFileError) as caught:
        run(upload, settings)
    assert str(notes) in str(caught.value) and "png" in str(caught.value)
    assert api_requests(emulator, "POST", "/api/upload-video") == []


def test_4001_from_the_service_fails_with_the_supported_formats(
    emulator: Emulator, settings: ClientSettings, tmp_path: Path
) -> None:
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"this is not a png at all" * 10)

    async def upload(client: NemoClient) -> object:
        session = await client.create_session()
        return await client.upload_file(session.session_id, fake)

    with pytest.raises(UnsupportedFileError) as caught:
        run(upload, settings)
    assert "fake.png" in str(caught.value) and "webp" in str(caught.value)
    assert len(api_requests(emulator, "POST", "/api/upload-video")) == 1


def test_4002_from_the_service_suggests_compressing(emulator: Emulator, settings: ClientSettings, tmp_path: Path) -> None:
    emulator.state.knobs.max_upload_bytes = 50
    with pytest.raises(FileTooLargeError) as caught:
        run(lambda client: session_with_image(client, tmp_path), settings)
    assert "photo.png" in str(caught.value) and "compress" in str(caught.value)


def test_file_over_200_mb_is_refused_before_sending(emulator: Emulator, settings: ClientSettings, tmp_path: Path) -> None:
    huge = tmp_path / "huge.mp4"
    with huge.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024 + 1)  # sparse: costs no disk
    assert os.path.getsize(huge) > 200 * 1024 * 1024

    async def upload(client: NemoClient) -> object:
        session = await client.create_session()
        return await client.upload_file(session.session_id, huge)

    with pytest.raises(FileTooLargeError):
        run(upload, settings)
    assert api_requests(emulator, "POST", "/api/upload-video") == []


def test_url_input_is_uploaded_as_json(emulator: Emulator, settings: ClientSettings) -> None:
    async def upload(client: NemoClient) -> object:
        session = await client.create_session()
        return await client.upload_url(session.session_id, "http://127.0.0.1:9/photo.png")

    with pytest.raises(UnsupportedFileError) as caught:  # the emulator cannot fetch from a closed port
        run(upload, settings)
    assert "http://127.0.0.1:9/photo.png" in str(caught.value)
    (request,) = api_requests(emulator, "POST", "/api/upload-video")
    assert request.body == {"url": "http://127.0.0.1:9/photo.png", "urls": ["http://127.0.0.1:9/photo.png"]}


def test_unreachable_service_raises_server_error_not_an_httpx_exception(tmp_path: Path) -> None:
    settings = fast_settings("http://127.0.0.1:9", tmp_path / "home")  # nothing listens on the discard port
    with pytest.raises(ServerError) as caught:
        run(lambda client: client.credits(), settings)
    assert "cannot reach http://127.0.0.1:9" in str(caught.value)


def test_reply_without_the_envelope_is_a_protocol_error(proxy: Proxy, emulator: Emulator, tmp_path: Path) -> None:
    proxy.answer_once[("GET", "/api/credits/balance/simple")] = PlainTextResponse("<html>maintenance</html>")
    settings = fast_settings(proxy.url, tmp_path / "home")
    with pytest.raises(ProtocolError) as caught:
        run(lambda client: client.credits(), settings)
    assert "checking credits" in str(caught.value) and "envelope" in str(caught.value)
