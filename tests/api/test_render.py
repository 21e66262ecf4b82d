"""Exports: the render POST (never paid twice), polling with Retry-After, shapes, and the download origin."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers.video import probe

from joypix_recipes import __version__
from joypix_recipes.api.client import NemoClient
from joypix_recipes.api.settings import ClientSettings
from joypix_recipes.emulator import Emulator
from joypix_recipes.errors import RenderError

from .conftest import (
    Proxy,
    RecordingSleep,
    api_requests,
    fast_settings,
    run,
    session_with_draft,
)

RENDER = "/api/render/proxy/lambda"
SMALL_OUTPUT = {"quality": "low", "width": 64, "height": 96}


def _export(folder: Path, target: Path):  # type: ignore[no-untyped-def]
    async def go(client: NemoClient) -> str:
        session, draft = await session_with_draft(client, folder)
        render_id = await client.start_render(session.session_id, draft, SMALL_OUTPUT)
        url = await client.wait_for_render(render_id)
        await client.download(url, target)
        return render_id

    return go


def test_export_polls_until_completed_and_downloads_a_decodable_mp4(
    emulator: Emulator, settings: ClientSettings, tmp_path: Path
) -> None:
    target = tmp_path / "out.mp4"
    render_id = run(_export(tmp_path, target), settings)
    assert render_id.startswith("render_")
    assert probe(target)["size"] == (64, 96)
    (post,) = api_requests(emulator, "POST", RENDER)
    assert post.body["id"] == render_id and post.body["output"] == {"format": "mp4", **SMALL_OUTPUT}
    assert emulator.state.counters.renders_started == 1 and emulator.state.counters.downloads == 1
    assert emulator.state.counters.drafts_altered == 0, "the draft went back exactly as the service served it"
    assert emulator.state.violations == []


def test_download_origin_never_receives_the_token_and_api_requests_all_carry_attribution(
    emulator: Emulator, settings: ClientSettings, tmp_path: Path
) -> None:
    run(_export(tmp_path, tmp_path / "out.mp4"), settings)
    downloads = emulator.state.requests.download
    assert len(downloads) == 1
    assert all("authorization" not in r.headers and "x-client-id" not in r.headers for r in downloads)
    for request in emulator.state.requests.all():
        assert request.headers["x-skill-source"] == "image-to-video-joypix"
        assert request.headers["x-skill-version"] == __version__
        assert request.headers["x-skill-platform"] == "unknown"
    authed = [r for r in emulator.state.requests.api if r.path != "/api/auth/anonymous-token"]
    assert authed and all(r.headers["authorization"].startswith("Bearer ") for r in authed)


def test_render_post_that_times_out_is_looked_up_not_posted_again(
    proxy: Proxy, emulator: Emulator, tmp_path: Path
) -> None:
    proxy.delay_once[("POST", RENDER)] = 1.5
    settings = fast_settings(proxy.url, tmp_path / "home", request_timeout_s=0.5)
    run(_export(tmp_path, tmp_path / "out.mp4"), settings)
    posts = api_requests(emulator, "POST", RENDER)
    assert len(posts) == 1
    assert emulator.state.counters.renders_started == 1
    lookups = api_requests(emulator, "GET", f"{RENDER}/{posts[0].body['id']}")
    assert lookups, "the render was looked up by its id"


def test_render_post_answered_502_after_it_arrived_is_looked_up_not_posted_again(
    proxy: Proxy, emulator: Emulator, tmp_path: Path
) -> None:
    proxy.fail_after_forward_once[("POST", RENDER)] = 502
    target = tmp_path / "out.mp4"
    run(_export(tmp_path, target), fast_settings(proxy.url, tmp_path / "home"))
    assert probe(target)["size"] == (64, 96)
    assert emulator.state.counters.renders_posted == emulator.state.counters.renders_started == 1


def test_render_post_503_is_looked_up_then_posted_with_the_same_id(
    emulator: Emulator, settings: ClientSettings, tmp_path: Path
) -> None:
    async def go(client: NemoClient) -> str:
        session, draft = await session_with_draft(client, tmp_path)
        emulator.state.knobs.server_errors_next = 1
        return await client.start_render(session.session_id, draft)

    render_id = run(go, settings)
    posts = api_requests(emulator, "POST", RENDER)
    assert [p.status for p in posts] == [503, 200]
    assert {p.body["id"] for p in posts} == {render_id}
    lookup = api_requests(emulator, "GET", f"{RENDER}/{render_id}")[0]
    assert emulator.state.requests.api.index(lookup) < emulator.state.requests.api.index(posts[1])
    assert emulator.state.counters.renders_started == 1


def test_polls_honour_retry_after_over_the_poll_interval(
    emulator: Emulator, settings: ClientSettings, tmp_path: Path
) -> None:
    emulator.state.knobs.render_latency = 0.6
    emulator.state.knobs.poll_retry_after = 0.25
    sleep = RecordingSleep()
    run(_export(tmp_path, tmp_path / "out.mp4"), settings, sleep=sleep)
    assert sleep.waits and min(sleep.waits) >= 0.25


def test_a_retry_after_shorter_than_the_poll_interval_does_not_speed_polls_up(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.state.knobs.render_latency = 0.8
    emulator.state.knobs.poll_retry_after = 0.01
    settings = fast_settings(emulator.base_url, tmp_path / "home", poll_interval=0.2)
    sleep = RecordingSleep()
    run(_export(tmp_path, tmp_path / "out.mp4"), settings, sleep=sleep)
    polls = emulator.state.poll_times.values()
    gaps = [later - earlier for times in polls for earlier, later in zip(times, times[1:])]
    assert sleep.waits and min(sleep.waits) >= 0.2 and gaps and min(gaps) >= 0.2


def test_a_render_showing_steady_progress_is_polled_a_few_times_and_seen_soon_after_it_ends(
    emulator: Emulator, settings: ClientSettings, tmp_path: Path
) -> None:
    latency = 1.5
    emulator.state.knobs.render_latency = latency

    async def render_and_wait(client: NemoClient) -> float:
        session, draft = await session_with_draft(client, tmp_path)
        render_id = await client.start_render(session.session_id, draft, SMALL_OUTPUT)
        began = time.monotonic()
        await client.wait_for_render(render_id)
        return time.monotonic() - began

    waited = run(render_and_wait, settings)
    (polls,) = emulator.state.poll_times.values()
    gaps = [later - earlier for earlier, later in zip(polls, polls[1:])]
    # At the 0.05 s interval alone it would take 30 polls; the pace never goes below the interval.
    assert len(polls) <= 12 and min(gaps) >= settings.poll_interval_s
    assert waited < latency + 0.6


def test_a_render_without_progress_figures_is_polled_at_the_interval(
    emulator: Emulator, settings: ClientSettings, tmp_path: Path
) -> None:
    emulator.state.knobs.render_latency = 0.4
    emulator.state.knobs.hide_render_progress = True
    sleep = RecordingSleep()
    run(_export(tmp_path, tmp_path / "out.mp4"), settings, sleep=sleep)
    assert sleep.waits and set(sleep.waits) == {settings.poll_interval_s}


def test_a_clients_later_render_without_progress_is_polled_near_the_end_earlier_ones_took(
    emulator: Emulator, settings: ClientSettings, tmp_path: Path
) -> None:
    latency = 0.6
    emulator.state.knobs.render_latency = latency
    emulator.state.knobs.hide_render_progress = True

    async def two_renders(client: NemoClient) -> None:
        session, draft = await session_with_draft(client, tmp_path)
        for _ in range(2):
            render_id = await client.start_render(session.session_id, draft, SMALL_OUTPUT)
            await client.wait_for_render(render_id, just_posted=True)

    run(two_renders, settings)
    first, second = emulator.state.poll_times.values()
    # The first had nothing to go by (every interval); the second waits most of the first's time out at once.
    assert len(first) >= 5 and len(second) <= 4 and len(second) < len(first)
    gaps = [later - earlier for earlier, later in zip(second, second[1:])]
    assert all(gap >= settings.poll_interval_s for gap in gaps)


def test_nested_state_and_url_shapes_are_accepted(emulator: Emulator, settings: ClientSettings, tmp_path: Path) -> None:
    emulator.state.knobs.state_shape = "nested"
    emulator.state.knobs.url_shape = "nested"
    target = tmp_path / "out.mp4"
    run(_export(tmp_path, target), settings)
    assert probe(target)["size"] == (64, 96)


def test_failed_render_raises_a_render_error(emulator: Emulator, settings: ClientSettings, tmp_path: Path) -> None:
    emulator.state.knobs.render_fail_next = 1
    target = tmp_path / "out.mp4"
    with pytest.raises(RenderError) as caught:
        run(_export(tmp_path, target), settings)
    assert "cloud export failed" in str(caught.value)
    assert not target.exists()


def test_a_cookie_the_service_sets_goes_back_with_every_later_request(
    emulator: Emulator, settings: ClientSettings, tmp_path: Path
) -> None:
    emulator.state.knobs.affinity_cookie = "lb=node-7"
    run(_export(tmp_path, tmp_path / "out.mp4"), settings)
    api = emulator.state.requests.api
    created = next(index for index, request in enumerate(api) if request.path.endswith("/with-session/nemo_agent"))
    later = api[created + 1 :]
    assert {request.method for request in later} == {"GET", "POST"}  # the upload, the state, the render, its polls
    assert all("lb=node-7" in request.headers.get("cookie", "") for request in later)
