"""What costs money is sent once: uploads and state calls after doubt, long turns, and shapes the protocol leaves open."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.responses import JSONResponse

from joypix_recipes.api.client import NemoClient
from joypix_recipes.api.models import Media, TurnResult
from joypix_recipes.emulator import Emulator
from joypix_recipes.errors import ProtocolError

from .conftest import Proxy, api_requests, fast_settings, image_file, run, session_with_image

UPLOAD = "/api/upload-video/nemo_agent/me/"
ANIMATE = "Animate this image into a smooth 1-second video clip with a slow zoom-in."


def _upload(folder: Path):  # type: ignore[no-untyped-def]
    async def go(client: NemoClient) -> Media:
        session = await client.create_session()
        return await client.upload_file(session.session_id, image_file(folder))

    return go


def test_a_400_on_a_state_call_is_an_error_and_mints_no_token(proxy: Proxy, emulator: Emulator, tmp_path: Path) -> None:
    async def go(client: NemoClient) -> None:
        session = await client.create_session()
        path = f"/api/state/nemo_agent/me/{session.session_id}/latest"
        proxy.answer_once[("GET", path)] = JSONResponse({"code": 400, "message": "Bad request"}, status_code=400)
        await client.state(session.session_id)

    with pytest.raises(ProtocolError):
        run(go, fast_settings(proxy.url, tmp_path / "home"))
    assert emulator.state.counters.tokens_issued == 1
    assert len(api_requests(emulator, "POST", "/api/auth/anonymous-token")) == 1


def test_a_400_naming_the_client_id_on_a_state_call_gets_a_fresh_id(proxy: Proxy, emulator: Emulator, tmp_path: Path) -> None:
    async def go(client: NemoClient) -> None:
        session = await client.create_session()
        path = f"/api/state/nemo_agent/me/{session.session_id}/latest"
        refusal = {"code": 400, "message": "Missing X-Client-Id header"}
        proxy.answer_once[("GET", path)] = JSONResponse(refusal, status_code=400)
        await client.state(session.session_id)

    run(go, fast_settings(proxy.url, tmp_path / "home"))
    assert emulator.state.counters.tokens_issued == 2  # an anonymous token belongs to its client id


def test_an_upload_whose_answer_was_lost_is_found_in_the_session_not_sent_again(
    proxy: Proxy, emulator: Emulator, tmp_path: Path
) -> None:

    async def go(client: NemoClient) -> Media:
        session = await client.create_session()
        proxy.fail_after_forward_once[("POST", UPLOAD + session.session_id)] = 502
        return await client.upload_file(session.session_id, image_file(tmp_path))

    media = run(go, fast_settings(proxy.url, tmp_path / "home"))
    assert media.name == "photo.png" and media.media_id is not None
    assert emulator.state.counters.uploads == 1
    assert len(api_requests(emulator, "POST", UPLOAD)) == 1


def test_an_upload_refused_before_it_arrived_is_sent_once_more_when_the_session_proves_it(
    emulator: Emulator, tmp_path: Path
) -> None:
    async def go(client: NemoClient) -> Media:
        session = await client.create_session()
        emulator.state.knobs.server_errors_next = 1
        return await client.upload_file(session.session_id, image_file(tmp_path))

    media = run(go, fast_settings(emulator.base_url, tmp_path / "home"))
    assert media.name == "photo.png"
    assert [r.status for r in api_requests(emulator, "POST", UPLOAD)] == [503, 200]
    assert emulator.state.counters.uploads == 1


@pytest.mark.parametrize("seed", [1, 3, 4, 5, 7])
def test_upload_replies_with_the_id_absent_nested_renamed_or_listed_are_accepted(
    emulator: Emulator, tmp_path: Path, seed: int
) -> None:
    emulator.state.knobs.vary = seed
    media = run(_upload(tmp_path), fast_settings(emulator.base_url, tmp_path / "home"))
    (stored,) = emulator.state.media.values()
    assert media.name == "photo.png"
    assert media.media_id in (None, stored.media_id)
    assert emulator.state.counters.uploads == 1


def test_twenty_minutes_of_heartbeats_keep_a_turn_waiting_on_a_scaled_clock(emulator: Emulator, tmp_path: Path) -> None:
    # One real second stands for ten minutes: heartbeats every 5 s, "still working" every 2 minutes,
    # a 15-minute silence limit; the agent thinks for 20 minutes before it answers.
    minute = 1 / 10
    emulator.state.knobs.turn_latency = 20 * minute
    emulator.state.knobs.heartbeat_interval = minute / 12
    settings = fast_settings(
        emulator.base_url,
        tmp_path / "home",
        stream_read_timeout_s=15 * minute,
        turn_deadline_s=60 * minute,
        still_working_every_s=2 * minute,
    )
    ticks: list[float] = []

    async def go(client: NemoClient) -> TurnResult:
        session = await session_with_image(client, tmp_path)
        return await client.turn(session.session_id, ANIMATE, on_still_working=ticks.append)

    result = run(go, settings)
    assert result.sends == 1 and not result.interrupted and result.replies
    assert emulator.state.counters.turns_posted == 1
    assert 8 <= len(ticks) <= 11, "still working, every two (scaled) minutes"
