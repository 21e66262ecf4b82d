"""Tokens, sessions, credits and the request log of the emulator's API origin."""

from __future__ import annotations

import httpx

from joypix_recipes.emulator import Emulator

from .conftest import SKILL_HEADERS, Client


def test_anonymous_token_returns_envelope_with_token_lifetime_and_credits(emulator: Emulator) -> None:
    reply = httpx.post(f"{emulator.base_url}/api/auth/anonymous-token", headers={**SKILL_HEADERS, "X-Client-Id": "abc"})
    body = reply.json()
    assert (reply.status_code, body["code"], body["message"]) == (200, 0, "ok")
    assert body["data"]["token"].startswith("nemo_")
    assert body["data"]["expires_in"] == 604800
    assert body["data"]["credits"] == 100
    assert emulator.state.counters.tokens_issued == 1


def test_anonymous_token_without_client_id_is_http_400(emulator: Emulator) -> None:
    reply = httpx.post(f"{emulator.base_url}/api/auth/anonymous-token", headers=SKILL_HEADERS)
    assert reply.status_code == 400
    assert reply.json()["code"] == 400


def test_same_client_id_twice_is_rate_limited_with_retry_after(emulator: Emulator) -> None:
    emulator.state.knobs.retry_after = 30
    url = f"{emulator.base_url}/api/auth/anonymous-token"
    assert httpx.post(url, headers={**SKILL_HEADERS, "X-Client-Id": "same"}).json()["code"] == 0
    again = httpx.post(url, headers={**SKILL_HEADERS, "X-Client-Id": "same"})
    assert again.status_code == 429
    assert again.headers["Retry-After"] == "30"
    assert again.json()["code"] == 429
    assert httpx.post(url, headers={**SKILL_HEADERS, "X-Client-Id": "fresh"}).json()["code"] == 0


def test_create_session_returns_ids_and_starts_an_empty_vertical_1080p_draft(client: Client) -> None:
    reply = client.call("POST", "/api/tasks/me/with-session/nemo_agent", json={"task_name": "project", "language": "de"})
    data = reply.json()["data"]
    assert set(data) == {"session_id", "task_id", "bind_id"}
    client.session_id = data["session_id"]
    state = client.state()
    assert state["code"] == 0
    assert state["data"]["draft"]["m"]["w"] == 1080 and state["data"]["draft"]["m"]["h"] == 1920
    assert state["data"]["draft"]["t"] == []
    assert state["data"]["bind_id"] == data["bind_id"]


def test_missing_authorization_is_code_1001_on_json_endpoints(emulator: Emulator) -> None:
    with httpx.Client(base_url=emulator.base_url) as http:
        for method, path in [
            ("POST", "/api/tasks/me/with-session/nemo_agent"),
            ("GET", "/api/credits/balance/simple"),
            ("GET", "/api/state/nemo_agent/me/sess_x/latest"),
            ("POST", "/api/render/proxy/lambda"),
            ("GET", "/api/render/proxy/lambda/render_1"),
        ]:
            reply = http.request(method, path, headers=SKILL_HEADERS, json={})
            assert (reply.status_code, reply.json()["code"]) == (200, 1001), path


def test_token_expires_after_the_knob_number_of_calls(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.expire_token_after_calls = 3  # login is free; the session already used one
    assert client.call("GET", "/api/credits/balance/simple").json()["code"] == 0
    assert client.call("GET", "/api/credits/balance/simple").json()["code"] == 0
    assert client.call("GET", "/api/credits/balance/simple").json()["code"] == 1001
    client.login("client-2")
    assert client.call("GET", "/api/credits/balance/simple").json()["code"] == 0


def test_token_expires_after_its_lifetime(client: Client, emulator: Emulator) -> None:
    assert client.call("GET", "/api/credits/balance/simple").json()["code"] == 0
    emulator.state.knobs.token_lifetime = 0.0
    assert client.call("GET", "/api/credits/balance/simple").json()["code"] == 1001


def test_seven_day_lifetime_is_measured_on_the_state_clock(client: Client, emulator: Emulator) -> None:
    real_clock = emulator.state.clock
    emulator.state.clock = lambda: real_clock() + 7 * 24 * 3600 + 1
    assert client.call("GET", "/api/credits/balance/simple").json()["code"] == 1001


def test_issued_token_works_like_an_environment_token(emulator: Emulator) -> None:
    token = emulator.state.issue_token().token
    reply = httpx.get(
        f"{emulator.base_url}/api/credits/balance/simple", headers={**SKILL_HEADERS, "Authorization": f"Bearer {token}"}
    )
    assert reply.json()["data"] == {"available": 100, "frozen": 0, "total": 100}


def test_unknown_session_is_code_1002(client: Client) -> None:
    client.session_id = "sess_missing"
    assert client.state()["code"] == 1002


def test_session_is_lost_once_after_the_knob_number_of_turns(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.lose_session_after_turns = 0
    assert client.state()["code"] == 1002
    assert emulator.state.knobs.lose_session_after_turns is None
    client.new_session()
    assert client.state()["code"] == 0


def test_every_request_is_recorded_with_headers_and_json_body(client: Client, emulator: Emulator) -> None:
    client.call("POST", "/api/tasks/me/with-session/nemo_agent", json={"task_name": "project", "language": "fr"})
    log = emulator.state.requests.api
    assert [r.path for r in log] == ["/api/auth/anonymous-token", *["/api/tasks/me/with-session/nemo_agent"] * 2]
    last = log[-1]
    assert last.method == "POST" and last.status == 200
    assert last.body == {"task_name": "project", "language": "fr"}
    assert last.headers["X-Skill-Source"] == "image-to-video-joypix"
    assert last.headers["authorization"] == f"Bearer {client.token}"
    assert "x-skill-platform" in last.headers
    assert emulator.state.requests.download == []


def test_unknown_path_is_an_envelope_404(emulator: Emulator) -> None:
    reply = httpx.get(f"{emulator.base_url}/api/nothing")
    assert (reply.status_code, reply.json()["code"]) == (404, 404)
