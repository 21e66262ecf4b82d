"""Shapes an honest server may choose, each staged by an emulator knob and read by the client.

The draft sent as JSON text, render status words and numbers of its own, progress as a fraction, links
that are relative or under ``result.video_url``, URL uploads read from ``urls``, uploads still ingesting
after a lost reply, and token replies lost after the token was issued. Outcomes are checked from what
the emulator received and made, not from what the client says.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import pytest
from helpers.images import write_image
from helpers.jobs import make_job
from helpers.servers import serving_folder

from joypix_recipes.api.auth import CLIENT_ID_FILE
from joypix_recipes.api.client import NemoClient
from joypix_recipes.api.settings import ClientSettings
from joypix_recipes.backends.contract import BackendOptions, JobResult
from joypix_recipes.backends.nemo import NemoBackend
from joypix_recipes.emulator import Emulator, Knobs
from joypix_recipes.errors import RateLimitedError
from joypix_recipes.job.actions import Animate
from joypix_recipes.job.export import ExportSettings

from .conftest import RecordingSleep, api_requests, fast_settings, image_file, run, session_with_draft

POLL_S = 0.05
SMALL = ExportSettings(resolution="480p", aspect="1:1", fps=24)
SHAPES: dict[str, dict[str, Any]] = {
    "draft as a string": {"draft_shape": "string"},
    "odd status words": {"render_words": "odd"},
    "numeric status codes": {"render_words": "numeric"},
    "progress as a fraction": {"progress_scale": "fraction"},
    "relative link": {"url_shape": "relative"},
    "link under result.video_url": {"url_shape": "result"},
    "upload still ingesting": {"ingest_delay_s": 0.3},
    "all at once": {
        "draft_shape": "string", "render_words": "numeric", "progress_scale": "fraction", "url_shape": "relative",
        "ingest_delay_s": 0.3,
    },
}  # fmt: skip


def _knobs(**shape: Any) -> Knobs:
    return Knobs(stub_render=True, heartbeat_interval=0.05, render_latency=0.3, no_text_ratio=0.0, **shape)


async def _render(client: NemoClient, folder: Path, *, same_type: bool = False) -> tuple[str, Path]:
    """A session with one image, exported; returns the download link the client read and the file."""
    session, _ = await session_with_draft(client, folder)
    state = await client.state(session.session_id)
    assert state.draft is not None
    draft = state.draft_to_send if same_type else state.draft
    render_id = await client.start_render(session.session_id, draft, {"width": 160, "height": 160})
    url = await client.wait_for_render(render_id)
    target = folder / "clip.mp4"
    await client.download(url, target)
    return url, target


def _decodes(path: Path) -> bool:
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).width == 160


@pytest.mark.parametrize("shape", list(SHAPES), ids=list(SHAPES))
def test_a_whole_cloud_job_makes_its_clip_when_the_server_uses_this_shape(shape: str, tmp_path: Path) -> None:
    image = write_image(tmp_path / "photo.jpg", size=(96, 64))
    job = make_job(image, [Animate(duration=1.0)], output=tmp_path / "out" / "photo.mp4", export=SMALL)
    with Emulator(_knobs(**SHAPES[shape]), workdir=tmp_path / "emulator") as emulator:
        options = BackendOptions(base_url=emulator.base_url, poll_interval=POLL_S, home=tmp_path / "home", language="en")

        async def one_job() -> JobResult:
            from backends.conftest import RecordingReporter

            backend = NemoBackend(options)
            try:
                return await asyncio.wait_for(backend.run_job(job, RecordingReporter()), 60)
            finally:
                await backend.aclose()

        result = asyncio.run(one_job())
        assert isinstance(result, JobResult)
        counters = emulator.state.counters
        assert (counters.uploads, counters.turns, counters.renders_started) == (1, 1, 1), "nothing paid twice"
        assert counters.drafts_altered == 0 and emulator.state.violations == []
        assert counters.downloads == 1
    with av.open(str(job.output)) as container:
        assert next(container.decode(video=0)).width == 480


# ---- a. the draft as JSON text -----------------------------------------------------------------


@contextlib.contextmanager
def _shaped(tmp_path: Path, **shape: Any) -> Iterator[Emulator]:
    """An emulator in this shape (knob=value pairs)."""
    with Emulator(_knobs(**shape), workdir=tmp_path / "emulator") as emulator:
        yield emulator


def _settings(emulator: Emulator, tmp_path: Path, **overrides: Any) -> ClientSettings:
    return fast_settings(emulator.base_url, tmp_path / "home", **{"poll_interval": POLL_S, **overrides})


def test_a_draft_sent_as_json_text_is_read_and_goes_back_as_the_same_text(tmp_path: Path) -> None:
    with _shaped(tmp_path, draft_shape="string") as shaped:
        async def scenario(client: NemoClient) -> tuple[Any, Any]:
            session, draft = await session_with_draft(client, tmp_path)
            state = await client.state(session.session_id)
            _, target = await _render(client, tmp_path / "second", same_type=True)
            assert _decodes(target)
            return draft, state.draft_to_send

        draft, wire = run(scenario, _settings(shaped, tmp_path))
        assert isinstance(draft, dict) and draft["t"], "the text was parsed into the draft object"
        assert isinstance(wire, str) and wire.startswith("{")
        (posted,) = api_requests(shaped, "POST", "/api/render/proxy/lambda")
        assert isinstance(posted.body["draft"], str), "the draft went back as the same JSON text"
        assert shaped.state.counters.drafts_retyped == 0 and shaped.state.counters.drafts_altered == 0


# ---- b. status words and numbers of the server's own --------------------------------------------


@pytest.mark.parametrize("words", ["odd", "numeric"])
def test_status_words_and_numbers_outside_our_list_finish_and_fail_promptly(words: str, tmp_path: Path) -> None:
    with Emulator(_knobs(render_words=words), workdir=tmp_path / "emulator") as emulator:
        settings = _settings(emulator, tmp_path, render_deadline_s=20.0)
        url, target = run(lambda client: _render(client, tmp_path), settings)
        assert _decodes(target) and url.endswith(".mp4")
        statuses = {r.status for r in api_requests(emulator, "GET", "/api/render/proxy/lambda/")}
        assert statuses == {200}
        emulator.state.knobs.render_fail_next = 1
        with pytest.raises(Exception, match="the cloud export failed") as caught:
            run(lambda client: _render(client, tmp_path / "failing"), settings)
        assert "render node" in str(caught.value), "the server's own reason is shown"


# ---- c. progress as a fraction ------------------------------------------------------------------


def test_progress_given_as_a_fraction_is_read_as_percent_and_keeps_polls_close(tmp_path: Path) -> None:
    with _shaped(tmp_path, progress_scale="fraction") as shaped:
        shaped.state.knobs.render_latency = 1.0
        seen: list[float] = []
        sleep = RecordingSleep()

        async def scenario(client: NemoClient) -> None:
            session, draft = await session_with_draft(client, tmp_path)
            render_id = await client.start_render(session.session_id, draft, {"width": 160, "height": 160})
            await client.wait_for_render(render_id, on_progress=lambda status: seen.append(status.progress))

        run(scenario, _settings(shaped, tmp_path, poll_interval=0.1), sleep=sleep)
        raw = [r for r in shaped.state.requests.api if r.path.startswith("/api/render/proxy/lambda/")]
        assert raw, "the render was polled"
        assert any(5 < p < 95 for p in seen), f"mid-render progress read in percent: {seen}"
        assert seen[-1] == 100
        assert max(sleep.waits) < 0.8, "never the longest wait a misread figure would ask for"


# ---- d. relative links and result.video_url ------------------------------------------------------


def test_a_relative_link_is_fetched_from_the_api_origin_without_the_token(tmp_path: Path) -> None:
    with _shaped(tmp_path, url_shape="relative") as shaped:
        url, target = run(lambda client: _render(client, tmp_path), _settings(shaped, tmp_path))
        assert url.startswith(shaped.base_url + "/files/") and _decodes(target)
        (fetch,) = [r for r in shaped.state.requests.api if r.path.startswith("/files/")]
        assert "authorization" not in fetch.headers and "x-client-id" not in fetch.headers
        assert fetch.headers["x-skill-source"] == "image-to-video-joypix"


def test_a_link_under_result_video_url_is_found(tmp_path: Path) -> None:
    with _shaped(tmp_path, url_shape="result") as shaped:
        url, target = run(lambda client: _render(client, tmp_path), _settings(shaped, tmp_path))
        assert url.startswith(shaped.download_base_url) and _decodes(target)


# ---- e. URL uploads read from "urls" ------------------------------------------------------------


@pytest.fixture
def image_server(tmp_path: Path) -> Iterator[str]:
    """A plain HTTP server on 127.0.0.1 serving ``tmp_path/served``."""
    folder = tmp_path / "served"
    image_file(folder, "remote.png")
    with serving_folder(folder) as url:
        yield url


def test_a_url_upload_reaches_a_server_that_reads_only_urls(tmp_path: Path, image_server: str) -> None:
    with _shaped(tmp_path, url_upload_field="urls") as shaped:
        async def scenario(client: NemoClient) -> Any:
            session = await client.create_session()
            return await client.upload_url(session.session_id, f"{image_server}/remote.png")

        media = run(scenario, _settings(shaped, tmp_path))
        assert media.name == "remote.png" and shaped.state.counters.uploads == 1
        (request,) = api_requests(shaped, "POST", "/api/upload-video")
        assert request.body == {"url": f"{image_server}/remote.png", "urls": [f"{image_server}/remote.png"]}


# ---- f. an upload still ingesting after its reply was lost ---------------------------------------


@pytest.mark.parametrize(("ingest_s", "uploads"), [(0.3, 1), (2.0, 2)], ids=["within the grace", "past the grace"])
def test_a_lost_upload_reply_is_given_a_grace_to_show_up_before_uploading_again(
    ingest_s: float, uploads: int, tmp_path: Path
) -> None:
    with Emulator(_knobs(ingest_delay_s=ingest_s, drop_upload_reply_next=1), workdir=tmp_path / "emulator") as emulator:

        async def scenario(client: NemoClient) -> Any:
            session = await client.create_session()
            return await client.upload_file(session.session_id, image_file(tmp_path))

        sleep = RecordingSleep()
        media = run(scenario, _settings(emulator, tmp_path, poll_interval=0.2), sleep=sleep)
        assert media.name == "photo.png"
        assert emulator.state.counters.uploads == uploads
        looks = len(api_requests(emulator, "GET", "/api/state/"))
        if uploads == 1:
            assert 2 <= looks <= 3, "the file showed up within the grace, so it was not sent again"
        else:
            assert looks == 3 and sleep.waits.count(0.2) == 2, "three looks a poll interval apart, then sent again"


# ---- g. one client id per home, kept through doubtful token calls -------------------------------


def test_a_token_call_that_failed_in_doubt_is_asked_again_with_the_same_client_id(emulator: Emulator, tmp_path: Path) -> None:
    emulator.state.knobs.server_errors_next = 1
    settings = _settings(emulator, tmp_path)
    assert run(lambda client: client.credits(), settings).available == 100
    calls = api_requests(emulator, "POST", "/api/auth/anonymous-token")
    assert [r.status for r in calls] == [503, 200] and emulator.state.counters.tokens_issued == 1
    assert calls[0].headers["x-client-id"] == calls[1].headers["x-client-id"]
    assert (settings.home / CLIENT_ID_FILE).stat().st_mode & 0o777 == 0o600


def test_a_token_issued_but_never_heard_of_mints_no_second_client_id(emulator: Emulator, tmp_path: Path) -> None:
    emulator.state.knobs.drop_token_reply_next = 1
    emulator.state.knobs.retry_after = 0.1
    sleep = RecordingSleep()
    with pytest.raises(RateLimitedError, match="rate limiting this client id"):
        run(lambda client: client.credits(), _settings(emulator, tmp_path), sleep=sleep)
    counters = emulator.state.counters
    assert len(counters.token_client_ids) == 3 and len(set(counters.token_client_ids)) == 1
    assert counters.tokens_issued == 1
    assert 0.1 in sleep.waits, "the 429 was waited out once (Retry-After) before asking again"


def test_jobs_of_two_processes_sharing_a_home_share_one_client_id_and_one_token(emulator: Emulator, tmp_path: Path) -> None:
    emulator.state.knobs.retry_after = 0.3
    settings = _settings(emulator, tmp_path)

    async def two_clients() -> list[int]:
        first, second = NemoClient(settings), NemoClient(replace(settings))
        try:
            credits = await asyncio.gather(first.credits(), second.credits())
            return [c.available for c in credits]
        finally:
            await first.aclose()
            await second.aclose()

    assert asyncio.run(two_clients()) == [100, 100]
    assert emulator.state.counters.tokens_issued == 1
    assert len(set(emulator.state.counters.token_client_ids)) == 1
    assert len({r.headers["authorization"] for r in api_requests(emulator, "GET", "/api/credits")}) == 1


def test_each_home_keeps_its_own_client_id(emulator: Emulator, tmp_path: Path) -> None:
    for home in ("a", "b"):
        run(lambda client: client.credits(), fast_settings(emulator.base_url, tmp_path / home))
    run(lambda client: client.credits(), fast_settings(emulator.base_url, tmp_path / "a"))
    ids = emulator.state.counters.token_client_ids
    assert len(ids) == 2 and ids[0] != ids[1], "a cached token is reused; another home has another id"
