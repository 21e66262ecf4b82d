"""/run_sse turns through the real client: replies once, heartbeats, deadlines, drops, errors, 1001/1002."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from starlette.responses import JSONResponse

from joypix_recipes.api.client import NemoClient
from joypix_recipes.api.models import TurnResult
from joypix_recipes.api.settings import ClientSettings
from joypix_recipes.emulator import Emulator
from joypix_recipes.errors import AgentRefusedError, ServerError, SessionLostError, StepInDoubtError
from joypix_recipes.timeline.draft import Draft

from .conftest import Proxy, api_requests, fast_settings, run, session_with_image

ANIMATE = "Animate this image into a smooth 1-second video clip with a slow zoom-in."


def _turn(folder: Path, text: str = ANIMATE, replies: list[str] | None = None):  # type: ignore[no-untyped-def]
    async def go(client: NemoClient) -> tuple[str, TurnResult]:
        session = await session_with_image(client, folder)
        result = await client.turn(session.session_id, text, on_reply=(replies.append if replies is not None else None))
        return session.session_id, result

    return go


def test_partial_text_is_shown_once_as_the_whole_reply(emulator: Emulator, settings: ClientSettings, tmp_path: Path) -> None:
    shown: list[str] = []
    session_id, result = run(_turn(tmp_path, replies=shown), settings)
    assert len(shown) == 1 and shown[0].startswith("Done! I animated the image")
    assert result.replies == tuple(shown)
    assert result.after is None  # a turn with text needs no extra state poll
    assert emulator.state.counters.edits_applied == {session_id: 1}


def test_turn_request_is_an_adk_run_agent_request(emulator: Emulator, settings: ClientSettings, tmp_path: Path) -> None:
    session_id, _ = run(_turn(tmp_path), settings)
    (request,) = api_requests(emulator, "POST", "/run_sse")
    assert request.headers["accept"] == "text/event-stream"
    body = request.body
    assert body["app_name"] == "nemo_agent" and body["session_id"] == session_id and body["streaming"] is True
    assert body["new_message"] == {"role": "user", "parts": [{"text": ANIMATE}]}
    assert body["user_id"] == "me"  # stable across token renewals


def test_silent_turn_is_followed_by_a_state_poll_showing_the_change(
    emulator: Emulator, settings: ClientSettings, tmp_path: Path
) -> None:
    emulator.state.knobs.no_text_ratio = 1.0
    shown: list[str] = []
    _, result = run(_turn(tmp_path, replies=shown), settings)
    assert shown == [] and result.replies == ()
    assert result.after is not None and result.after != result.before
    assert Draft.from_json(result.after).video[0].duration_ms == 1000


def test_heartbeats_keep_a_turn_alive_beyond_the_read_timeout(emulator: Emulator, tmp_path: Path) -> None:
    emulator.state.knobs.turn_latency = 1.2
    emulator.state.knobs.heartbeat_interval = 0.1
    settings = fast_settings(emulator.base_url, tmp_path / "home", stream_read_timeout_s=0.5)
    session_id, result = run(_turn(tmp_path), settings)
    assert result.sends == 1 and not result.interrupted
    assert emulator.state.counters.turns == 1
    assert emulator.state.counters.edits_applied == {session_id: 1}


def test_whole_turn_deadline_stops_a_turn_that_heartbeats_forever_without_sending_it_again(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.state.knobs.turn_latency = 30.0
    emulator.state.knobs.heartbeat_interval = 0.05
    settings = fast_settings(emulator.base_url, tmp_path / "home", turn_deadline_s=0.6)
    started = time.monotonic()
    with pytest.raises(StepInDoubtError) as caught:
        run(_turn(tmp_path), settings)
    assert time.monotonic() - started < 5
    assert "no end of the step after 0.6 s" in str(caught.value) and "not sent again" in str(caught.value)
    assert emulator.state.counters.turns_posted == 1  # a possibly still running turn is never re-sent


def test_silence_without_heartbeats_past_the_limit_is_reported_not_resent(emulator: Emulator, tmp_path: Path) -> None:
    emulator.state.knobs.turn_latency = 3.0
    emulator.state.knobs.heartbeat_interval = 60.0  # not one byte while the agent thinks
    settings = fast_settings(emulator.base_url, tmp_path / "home", stream_read_timeout_s=0.4)
    with pytest.raises(StepInDoubtError) as caught:
        run(_turn(tmp_path), settings)
    assert "no word from the agent for 0.4 s" in str(caught.value)
    assert emulator.state.counters.turns_posted == 1


def test_stream_dropped_before_the_edit_is_not_resent_because_the_agent_got_it(
    emulator: Emulator, settings: ClientSettings, tmp_path: Path
) -> None:
    emulator.state.knobs.drop_stream_next = 1
    with pytest.raises(StepInDoubtError) as caught:
        run(_turn(tmp_path), settings)
    assert "the event stream broke" in str(caught.value)
    assert emulator.state.counters.turns_posted == 1 and emulator.state.counters.edits_applied == {}


def test_stream_dropped_after_the_edit_is_not_resent(emulator: Emulator, settings: ClientSettings, tmp_path: Path) -> None:
    emulator.state.knobs.drop_stream_next = 1
    emulator.state.knobs.drop_stream_after_edit = True
    session_id, result = run(_turn(tmp_path), settings)
    assert result.sends == 1 and result.interrupted
    assert result.after is not None and result.after != result.before
    assert emulator.state.counters.turns_posted == 1
    assert emulator.state.counters.edits_applied == {session_id: 1}


def test_agent_error_frame_fails_the_step_without_sending_it_again(
    emulator: Emulator, settings: ClientSettings, tmp_path: Path
) -> None:
    emulator.state.knobs.turn_error_next = 1
    with pytest.raises(ServerError) as caught:
        run(_turn(tmp_path), settings)
    assert "the agent reported an error" in str(caught.value) and "not sent again" in str(caught.value)
    assert emulator.state.counters.turns_posted == 1


def test_a_refusal_event_fails_the_step_with_the_agents_words_after_one_turn(
    emulator: Emulator, settings: ClientSettings, tmp_path: Path
) -> None:
    emulator.state.knobs.refuse_next = 1
    with pytest.raises(AgentRefusedError) as caught:
        run(_turn(tmp_path), settings)
    assert str(caught.value) == "the agent refused: This request was blocked by the safety filter. (SAFETY)"
    assert emulator.state.counters.turns_posted == 1 and emulator.state.counters.edits_applied == {}


def test_a_503_from_a_gateway_that_never_forwarded_is_resent_once_the_session_record_proves_it(
    proxy: Proxy, emulator: Emulator, tmp_path: Path
) -> None:
    proxy.answer_once[("POST", "/run_sse")] = JSONResponse({"code": 503, "message": "busy"}, status_code=503)
    settings = fast_settings(proxy.url, tmp_path / "home")
    session_id, result = run(_turn(tmp_path), settings)
    assert result.sends == 2 and result.replies
    assert emulator.state.counters.turns_posted == 1, "the agent received the step exactly once"
    assert emulator.state.counters.edits_applied == {session_id: 1}
    assert api_requests(emulator, "GET", "/apps/nemo_agent/users/me/sessions/"), "the proof was looked up"


def test_a_502_after_the_agent_ran_the_step_is_not_resent(proxy: Proxy, emulator: Emulator, tmp_path: Path) -> None:
    proxy.fail_after_forward_once[("POST", "/run_sse")] = 502
    settings = fast_settings(proxy.url, tmp_path / "home")
    session_id, result = run(_turn(tmp_path), settings)
    assert result.sends == 1 and result.interrupted
    assert emulator.state.counters.turns_posted == 1 and emulator.state.counters.edits_applied == {session_id: 1}


def test_the_user_id_from_the_session_reply_is_used_for_turns(emulator: Emulator, tmp_path: Path) -> None:
    emulator.state.knobs.vary = 2  # this seed's first session names its user
    settings = fast_settings(emulator.base_url, tmp_path / "home")
    run(_turn(tmp_path), settings)
    (session,) = emulator.state.sessions.values()
    (turn,) = api_requests(emulator, "POST", "/run_sse")
    assert session.user_id is not None and turn.body["user_id"] == session.user_id


def test_401_on_run_sse_renews_the_token_and_sends_the_turn_once(
    emulator: Emulator, settings: ClientSettings, tmp_path: Path
) -> None:
    # create session, upload, state before the turn: the token dies exactly at /run_sse.
    emulator.state.knobs.expire_token_after_calls = 3
    session_id, result = run(_turn(tmp_path), settings)
    assert [r.status for r in api_requests(emulator, "POST", "/run_sse")] == [401, 200]
    assert emulator.state.counters.tokens_issued == 2
    assert emulator.state.counters.edits_applied == {session_id: 1}
    assert result.replies


def test_lost_session_is_reported_as_session_lost(emulator: Emulator, settings: ClientSettings, tmp_path: Path) -> None:
    emulator.state.knobs.lose_session_after_turns = 0
    with pytest.raises(SessionLostError):
        run(_turn(tmp_path), settings)


def test_429_before_the_stream_waits_retry_after_and_sends_the_turn_once(
    proxy: Proxy, emulator: Emulator, tmp_path: Path
) -> None:
    refusal = {"code": 429, "message": "Too many requests.", "data": None}
    proxy.answer_once[("POST", "/run_sse")] = JSONResponse(refusal, status_code=429, headers={"Retry-After": "0.2"})
    settings = fast_settings(proxy.url, tmp_path / "home")
    started = time.monotonic()
    session_id, result = run(_turn(tmp_path), settings)
    assert time.monotonic() - started >= 0.2
    assert result.sends == 1 and result.replies
    assert emulator.state.counters.turns == 1
    assert emulator.state.counters.edits_applied == {session_id: 1}


def test_a_long_turn_reports_still_working_periodically(emulator: Emulator, tmp_path: Path) -> None:
    emulator.state.knobs.turn_latency = 0.7
    emulator.state.knobs.heartbeat_interval = 0.05
    settings = fast_settings(emulator.base_url, tmp_path / "home", still_working_every_s=0.2)
    ticks: list[float] = []

    async def go(client: NemoClient) -> TurnResult:
        session = await session_with_image(client, tmp_path)
        return await client.turn(session.session_id, ANIMATE, on_still_working=ticks.append)

    run(go, settings)
    assert 2 <= len(ticks) <= 4 and ticks == sorted(ticks)
