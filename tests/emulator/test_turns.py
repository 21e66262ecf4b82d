"""The /run_sse turn: ADK events framed as SSE, read with a plain line reader."""

from __future__ import annotations

from fractions import Fraction

import httpx
import pytest
from helpers.images import image_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joypix_recipes.emulator import Emulator
from joypix_recipes.timeline.draft import Draft

from .conftest import Client, parse_sse, wav_bytes

ANIMATE = "Animate this image into a smooth 5-second video clip with a slow zoom-in."
TITLE = 'Add the title "Hello" at the top.'


def _draft(client: Client) -> Draft:
    return Draft.from_json(client.state()["data"]["draft"])


def test_turn_streams_tool_events_then_partial_text_then_the_whole_text_once(client: Client, emulator: Emulator) -> None:
    client.upload("photo.png", image_bytes())
    turn = client.turn(ANIMATE)
    assert turn.other_lines == []
    calls, results = turn.parts("functionCall"), turn.parts("functionResponse")
    assert calls == [{"id": calls[0]["id"], "name": "apply_edit", "args": {"instruction": ANIMATE}}]
    assert results[0]["id"] == calls[0]["id"]
    assert results[0]["response"]["summary"] == "Timeline (1 track): 1. Video: photo.png (0-5s)"
    partials, whole = turn.texts(partial=True), turn.texts(partial=False)
    assert 2 <= len(partials) <= 3
    assert len(whole) == 1 and "".join(partials) == whole[0]
    assert turn.events[-1]["turnComplete"] is True
    assert {event["author"] for event in turn.events} == {"nemo_agent"}
    assert len({event["invocationId"] for event in turn.events}) == 1
    assert emulator.state.counters.turns == 1
    assert emulator.state.counters.edits_applied == {client.session_id: 1}


def test_turn_edits_the_session_draft_with_the_interpreter(client: Client) -> None:
    client.upload("photo.png", image_bytes())
    client.turn("Animate this image into a 3-second clip with a pan left.")
    client.turn(TITLE)
    draft = _draft(client)
    assert (draft.video[0].motion, draft.video[0].duration_ms) == ("pan-left", 3000)
    assert [t.text for t in draft.text] == ["Hello"]


@pytest.mark.parametrize(("phrase", "rate"), [("29.97 fps", Fraction(30000, 1001)), ("at 15 fps", Fraction(15))])
def test_a_frame_rate_in_words_sets_the_draft_rate_exactly(client: Client, phrase: str, rate: Fraction) -> None:
    client.upload("photo.png", image_bytes())
    client.turn(f"Make the video 9:16 at 1080p, {phrase}. {ANIMATE}")
    assert _draft(client).fps == rate


def test_uploaded_audio_named_in_a_prompt_becomes_the_background_track(client: Client) -> None:
    client.upload("photo.png", image_bytes())
    media_id = client.upload("song.wav", wav_bytes()).json()["data"]["media_id"]
    turn = client.turn("Add song.wav as background music at 40% volume.")
    draft = _draft(client)
    assert [(a.src, a.label, a.volume) for a in draft.audio] == [(media_id, "song.wav", 0.4)]
    assert "BGM: song.wav" in turn.parts("functionResponse")[0]["response"]["summary"]


def test_heartbeats_are_comments_and_empty_data_frames_while_the_turn_thinks(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.turn_latency = 0.4
    emulator.state.knobs.heartbeat_interval = 0.05
    turn = client.turn(ANIMATE)
    assert len(turn.comments) >= 2 and set(turn.comments) == {"heartbeat"}
    assert turn.empty_data >= 2
    assert turn.other_lines == []


def test_no_text_turns_carry_only_tool_events(client: Client, emulator: Emulator) -> None:
    client.upload("photo.png", image_bytes())
    emulator.state.knobs.no_text_ratio = 1.0
    turn = client.turn(ANIMATE)
    assert turn.texts(partial=True) == [] and turn.texts(partial=False) == []
    assert len(turn.parts("functionCall")) == 1 and len(turn.parts("functionResponse")) == 1
    assert turn.events[-1]["turnComplete"] is True
    assert emulator.state.counters.edits_applied == {client.session_id: 1}


def test_about_thirty_percent_of_turns_are_silent_and_the_seed_decides_which(emulator: Emulator, client: Client) -> None:
    from joypix_recipes.emulator.agent import has_text

    decisions = [has_text(7, turn, ANIMATE, 0.3) for turn in range(1, 401)]
    assert 0.2 < decisions.count(False) / len(decisions) < 0.4
    assert decisions == [has_text(7, turn, ANIMATE, 0.3) for turn in range(1, 401)]


def test_unknown_words_get_a_did_not_understand_reply_and_no_edit(client: Client, emulator: Emulator) -> None:
    client.upload("photo.png", image_bytes())
    emulator.state.knobs.no_text_ratio = 1.0  # an agent that did not understand always says so
    before = _draft(client)
    turn = client.turn("make it wobble purple")
    (reply,) = turn.texts(partial=False)
    assert "did not understand" in reply and "wobble purple" in reply
    assert _draft(client) == before
    assert emulator.state.counters.edits_applied == {}


def test_gui_wording_appears_in_some_replies(client: Client) -> None:
    client.upload("photo.png", image_bytes())
    replies = [client.turn(f'Add the caption "{n}" at the bottom.').texts(partial=False)[0] for n in range(12)]
    assert any("Click Export" in reply or "preview in timeline" in reply for reply in replies)


def test_turn_error_arrives_as_a_last_error_frame_on_http_200(client: Client, emulator: Emulator) -> None:
    client.upload("photo.png", image_bytes())
    emulator.state.knobs.turn_error_next = 1
    turn = client.turn(ANIMATE)
    assert list(turn.events[-1]) == ["error"] and turn.events[-1]["error"]
    assert len(turn.parts("functionCall")) == 1 and turn.parts("functionResponse") == []
    assert emulator.state.counters.edits_applied == {}
    assert client.turn(ANIMATE).texts(partial=False)


@pytest.mark.parametrize("after_edit", [False, True])
def test_dropped_stream_cuts_the_body_mid_turn_with_or_without_the_edit(
    client: Client, emulator: Emulator, after_edit: bool
) -> None:
    client.upload("photo.png", image_bytes())
    emulator.state.knobs.drop_stream_next = 1
    emulator.state.knobs.drop_stream_after_edit = after_edit
    headers = {**client.headers(), "Accept": "text/event-stream"}
    seen: list[str] = []
    request = client.turn_request(TITLE)
    with pytest.raises(httpx.RemoteProtocolError), client.http.stream("POST", "/run_sse", json=request, headers=headers) as reply:
        assert reply.status_code == 200
        seen.extend(reply.iter_lines())
    turn = parse_sse(iter(seen))
    assert len(turn.parts("functionCall")) == 1 and turn.parts("functionResponse") == []
    assert [t.text for t in _draft(client).text] == (["Hello"] if after_edit else [])
    assert emulator.state.counters.edits_applied.get(client.session_id, 0) == int(after_edit)
    assert client.turn(ANIMATE).parts("functionResponse")  # the next turn streams normally


def test_unknown_session_is_http_404_before_any_stream(client: Client) -> None:
    headers = {**client.headers(), "Accept": "text/event-stream"}
    reply = client.http.post("/run_sse", json=client.turn_request(ANIMATE, session_id="sess_nope"), headers=headers)
    assert reply.status_code == 404
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json()["code"] == 1002


def test_run_sse_without_a_valid_token_is_http_401_with_code_1001(client: Client) -> None:
    headers = {**client.headers(auth=False), "Accept": "text/event-stream"}
    reply = client.http.post("/run_sse", json=client.turn_request(ANIMATE), headers=headers)
    assert (reply.status_code, reply.json()["code"]) == (401, 1001)


def test_malformed_turn_request_is_refused_before_streaming(client: Client) -> None:
    headers = {"Accept": "text/event-stream"}
    reply = client.call("POST", "/run_sse", json={"app_name": "nemo_agent", "session_id": client.session_id}, headers=headers)
    assert reply.status_code == 422 and "user_id, new_message" in reply.json()["message"]


def test_session_is_lost_after_the_knob_number_of_turns(client: Client, emulator: Emulator) -> None:
    client.upload("photo.png", image_bytes())
    emulator.state.knobs.lose_session_after_turns = 1
    client.turn(ANIMATE)
    headers = {**client.headers(), "Accept": "text/event-stream"}
    reply = client.http.post("/run_sse", json=client.turn_request(TITLE), headers=headers)
    assert (reply.status_code, reply.json()["code"]) == (404, 1002)
    assert client.state()["code"] == 1002


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=80).filter(str.strip))
def test_any_prompt_gives_a_well_framed_turn_whose_partials_join_into_the_whole(client: Client, text: str) -> None:
    if not client.uploads:
        client.upload("photo.png", image_bytes())
    turn = client.turn(text)
    assert turn.other_lines == [] and turn.comments == []
    assert len(turn.parts("functionCall")) == 1 and len(turn.parts("functionResponse")) == 1
    whole = turn.texts(partial=False)
    assert len(whole) == 1 and "".join(turn.texts(partial=True)) == whole[0]


@given(text=st.text(min_size=1, max_size=200), seed=st.integers(0, 10**6))
def test_streamed_chunks_always_join_back_into_the_reply(text: str, seed: int) -> None:
    from joypix_recipes.emulator.agent import split_text

    chunks = split_text(text, seed)
    assert "".join(chunks) == text and 1 <= len(chunks) <= 3


def test_non_streaming_request_gets_the_reply_only_whole(client: Client) -> None:
    client.upload("photo.png", image_bytes())
    request = {**client.turn_request(TITLE), "streaming": False}
    headers = {**client.headers(), "Accept": "text/event-stream"}
    with client.http.stream("POST", "/run_sse", json=request, headers=headers) as reply:
        turn = parse_sse(reply.iter_lines())
    assert turn.texts(partial=True) == [] and len(turn.texts(partial=False)) == 1
