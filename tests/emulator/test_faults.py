"""Transport-level fault knobs (429 bursts, 5xx bursts) and the state reply's two shapes."""

from __future__ import annotations

from helpers.images import image_bytes

from joypix_recipes import __version__
from joypix_recipes.emulator import Emulator

from .conftest import Client


def test_rate_limit_knob_answers_429_with_retry_after_then_recovers(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.rate_limit_next = 2
    emulator.state.knobs.retry_after = 1.5
    replies = [client.call("GET", "/api/credits/balance/simple") for _ in range(3)]
    assert [r.status_code for r in replies] == [429, 429, 200]
    assert replies[0].headers["Retry-After"] == "1.5"
    assert replies[0].json() == {"code": 429, "message": "Too many requests.", "data": None}
    assert emulator.state.knobs.rate_limit_next == 0


def test_server_error_knob_answers_503_bursts_on_any_endpoint(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.server_errors_next = 2
    turn = client.call("POST", "/run_sse", json=client.turn_request("add a fade"))
    upload = client.upload("a.png", image_bytes())
    assert (turn.status_code, turn.json()["code"]) == (503, 503)
    assert (upload.status_code, upload.json()["code"]) == (503, 503)
    assert client.upload("a.png", image_bytes()).json()["code"] == 0
    assert emulator.state.counters.turns == 0 and emulator.state.counters.uploads == 1


def test_faulted_requests_are_still_recorded(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.server_errors_next = 1
    client.call("GET", "/api/credits/balance/simple")
    last = emulator.state.requests.api[-1]
    assert (last.path, last.status) == ("/api/credits/balance/simple", 503)
    assert last.headers["x-skill-version"] == __version__


def test_state_shape_knob_nests_the_draft_under_state(client: Client, emulator: Emulator) -> None:
    flat = client.state()["data"]
    emulator.state.knobs.state_shape = "nested"
    nested = client.state()["data"]
    assert set(flat) == {"draft", "video_infos", "generated_media", "bind_id"}
    assert nested["state"] == {k: flat[k] for k in ("draft", "video_infos", "generated_media")}
    assert nested["bind_id"] == flat["bind_id"] and "draft" not in nested
