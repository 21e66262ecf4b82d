"""The emulator judges what the protocol documents and accepts what it does not; ``--vary`` shapes per session."""

from __future__ import annotations

import httpx
import pytest
from helpers.images import image_bytes

from joypix_recipes.emulator import Emulator
from joypix_recipes.emulator.variation import draw

from .conftest import Client

CREDITS = "/api/credits/balance/simple"


@pytest.mark.parametrize(
    ("header", "value", "problem"),
    [
        ("X-Skill-Source", None, "the X-Skill-Source header is missing"),
        ("X-Skill-Source", "someone-else", "X-Skill-Source must be image-to-video-joypix"),
        ("X-Skill-Version", None, "the X-Skill-Version header is missing"),
        ("X-Skill-Platform", "vscode", "X-Skill-Platform must be clawhub, cursor or unknown"),
    ],
)
def test_attribution_headers_are_checked_on_every_call(
    client: Client, emulator: Emulator, header: str, value: str | None, problem: str
) -> None:
    headers = {**client.headers(), header: value or ""}
    if value is None:
        del headers[header]
    reply = client.http.get(CREDITS, headers=headers)
    assert reply.status_code == 400 and problem in reply.json()["message"]
    assert emulator.state.violations == [f"GET {CREDITS}: {problem}"]


def test_a_path_or_method_the_protocol_does_not_have_is_a_violation(client: Client, emulator: Emulator) -> None:
    assert client.call("GET", "/api/tasks/me/with-session/nemo_agent").status_code == 405
    assert client.call("POST", "/api/render/proxy/lambda/render_1").status_code == 405
    assert client.call("GET", "/api/nothing-here").status_code == 404
    assert emulator.state.violations == [
        "GET /api/tasks/me/with-session/nemo_agent: the endpoint does not take this method",
        "POST /api/render/proxy/lambda/render_1: the endpoint does not take this method",
        "GET /api/nothing-here: no such endpoint",
    ]


def test_a_call_without_a_bearer_token_is_recorded_and_refused_with_1001(client: Client, emulator: Emulator) -> None:
    reply = client.call("GET", CREDITS, auth=False)
    assert reply.json()["code"] == 1001
    assert emulator.state.violations == [f"GET {CREDITS}: no Authorization: Bearer header"]


def test_a_session_body_lacking_a_documented_field_is_refused(client: Client, emulator: Emulator) -> None:
    reply = client.call("POST", "/api/tasks/me/with-session/nemo_agent", json={"task_name": "project"})
    assert reply.status_code == 422 and "language" in reply.json()["message"]
    assert len(emulator.state.violations) == 1


def test_a_json_endpoint_sent_a_form_is_refused_with_415(client: Client, emulator: Emulator) -> None:
    reply = client.call("POST", "/api/tasks/me/with-session/nemo_agent", data={"task_name": "project", "language": "en"})
    assert reply.status_code == 415 and emulator.state.violations


def test_a_turn_that_does_not_accept_an_event_stream_is_refused(client: Client, emulator: Emulator) -> None:
    reply = client.call("POST", "/run_sse", json=client.turn_request("hello"), headers={"Accept": "application/json"})
    assert reply.status_code == 406 and emulator.state.violations


def test_undocumented_extras_are_accepted_without_complaint(client: Client, emulator: Emulator) -> None:
    body = {"task_name": "project", "language": "en", "client_hint": {"anything": 1}}
    assert client.call("POST", "/api/tasks/me/with-session/nemo_agent", json=body).json()["code"] == 0
    sid = client.session_id
    upload = client.call("POST", f"/api/upload-video/nemo_agent/me/{sid}", files={"media": ("beach.png", image_bytes())})
    assert upload.json()["code"] == 0, "any form field may carry the file"
    assert emulator.state.violations == []


def test_the_agent_session_record_lists_each_user_message(client: Client, emulator: Emulator) -> None:
    client.upload("photo.png", image_bytes())
    client.turn("Animate this image into a 1-second clip.")
    record = client.call("GET", f"/apps/nemo_agent/users/me/sessions/{client.session_id}").json()
    users = [event for event in record["events"] if event["author"] == "user"]
    assert [event["content"]["parts"][0]["text"] for event in users] == ["Animate this image into a 1-second clip."]


def test_the_agent_session_record_keeps_the_whole_answer_after_the_message_and_no_streamed_chunk(
    client: Client, emulator: Emulator
) -> None:
    emulator.state.knobs.no_text_ratio = 0.0  # the agent speaks, in streamed chunks and then whole
    client.upload("photo.png", image_bytes())
    client.turn("Animate this image into a 1-second clip.")
    record = client.call("GET", f"/apps/nemo_agent/users/me/sessions/{client.session_id}").json()
    events = record["events"]
    assert events[0]["author"] == "user" and {event["author"] for event in events[1:]} == {"nemo_agent"}
    assert not any(event.get("partial") for event in events)
    assert events[-1]["turnComplete"] is True and "text" in events[-1]["content"]["parts"][0]


def test_a_seed_draws_the_same_shapes_for_the_same_session_and_varies_across_sessions() -> None:
    assert draw(7, 0) == draw(7, 0)
    assert len({draw(7, ordinal) for ordinal in range(12)}) > 1


def test_varied_sessions_answer_in_their_own_shapes(emulator: Emulator) -> None:
    emulator.state.knobs.vary = 3  # first session: no id in the upload reply, its own segment keys, a user id
    with httpx.Client(base_url=emulator.base_url, timeout=10.0, trust_env=False) as http:
        client = Client(http)
        client.login()
        session = client.call("POST", "/api/tasks/me/with-session/nemo_agent", json={"task_name": "p", "language": "en"})
        client.session_id = session.json()["data"]["session_id"]
        assert session.json()["data"]["user_id"].startswith("user_")
        upload = client.upload("photo.png", image_bytes()).json()["data"]
        assert "media_id" not in upload and upload["name"] == "photo.png"
        segment = client.state()["data"]["draft"]["t"][0]["sg"][0]
        assert "src" not in segment["m"] and segment["m"]["asset"].startswith("media_")
        request = client.turn_request("Animate this image into a 1-second clip.")
        headers = {**client.headers(), "Accept": "text/event-stream"}
        assert http.post("/run_sse", json=request, headers=headers).status_code == 404, "a turn for user 'me' is not this user's"
    assert emulator.state.violations == []
