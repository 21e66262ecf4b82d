"""Exports: render lifecycle, the download origin, credits, 402, idempotent POSTs and faults on renders."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

import av
import httpx
import pytest
from helpers.images import image_bytes

from joypix_recipes.emulator import Emulator

from .conftest import SKILL_HEADERS, Client


def _small_draft(client: Client) -> dict[str, Any]:
    """The session's one-second draft, as served (renders ask for 160x284 so they stay fast)."""
    client.upload("photo.png", image_bytes())
    client.turn('Animate this image into a 1-second clip with a slow zoom-in. Add the title "Hi" at the top.')
    draft: dict[str, Any] = client.state()["data"]["draft"]
    return draft


SMALL_OUTPUT = {"format": "mp4", "quality": "high", "width": 160, "height": 284}


def _post_render(
    client: Client, draft: Any, render_id: str | None = None, output: Any = None, **kwargs: Any
) -> httpx.Response:
    body = {
        "id": render_id or f"render_{int(time.time() * 1000)}_{uuid.uuid4().hex[:6]}",
        "sessionId": client.session_id,
        "draft": draft,
        "output": SMALL_OUTPUT if output is None else output,
    }
    return client.call("POST", "/api/render/proxy/lambda", json=body, **kwargs)


def _poll_until_done(client: Client, render_id: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = client.call("GET", f"/api/render/proxy/lambda/{render_id}").json()
        assert reply["code"] == 0
        seen.append(reply["data"])
        if reply["data"]["status"] in ("completed", "failed"):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"render did not finish: {seen[-1]}")


def _decode(data: bytes) -> tuple[int, int, int]:
    with av.open(io.BytesIO(data)) as container:
        frames = list(container.decode(video=0))
    return frames[0].width, frames[0].height, len(frames)


def test_render_goes_queued_rendering_completed_and_downloads_a_decodable_mp4(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.render_latency = 0.6
    draft = _small_draft(client)
    reply = _post_render(client, draft)
    assert reply.json()["code"] == 0 and reply.json()["data"]["status"] == "queued"
    render_id = reply.json()["data"]["id"]
    seen = _poll_until_done(client, render_id)
    statuses = [s["status"] for s in seen]
    assert statuses[0] == "queued" and "rendering" in statuses and statuses[-1] == "completed"
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress) and progress[-1] == 100 and any(0 < p < 100 for p in progress)
    url = seen[-1]["url"]
    assert url == f"{emulator.download_base_url}/files/{render_id}.mp4"
    download = httpx.get(url)
    assert download.status_code == 200 and download.headers["content-type"] == "video/mp4"
    assert _decode(download.content) == (160, 284, 30)
    counters = emulator.state.counters
    assert (counters.renders_started, counters.renders_completed, counters.downloads) == (1, 1, 1)
    assert counters.polls == len(seen)
    (fetched,) = emulator.state.requests.download
    assert fetched.path == f"/files/{render_id}.mp4" and "authorization" not in fetched.headers
    assert client.state()["data"]["generated_media"][0]["status"] == "completed"


def test_render_post_with_an_existing_id_returns_that_render_without_charging_again(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.stub_render = True
    draft = _small_draft(client)
    first = _post_render(client, draft, "render_1_abc").json()
    again = _post_render(client, draft, "render_1_abc").json()
    assert first["data"]["id"] == again["data"]["id"] == "render_1_abc"
    assert emulator.state.counters.renders_started == 1
    assert emulator.state.balance()["available"] == 95


def test_render_charges_credits_and_no_credits_is_code_2001_with_a_bind_link(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.stub_render = True
    emulator.state.knobs.credits = 7
    draft = _small_draft(client)
    assert _post_render(client, draft).json()["code"] == 0
    refused = _post_render(client, draft).json()
    assert refused["code"] == 2001
    bind_id = client.state()["data"]["bind_id"]
    assert f"?bind={bind_id}" in refused["message"] and refused["data"]["bind_id"] == bind_id
    assert emulator.state.counters.renders_started == 1


def test_zero_credits_refuse_the_first_render(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.credits = 0
    assert _post_render(client, _small_draft(client)).json()["code"] == 2001


def test_credits_balance_moves_from_frozen_to_spent(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.stub_render = True
    assert client.call("GET", "/api/credits/balance/simple").json()["data"] == {"available": 100, "frozen": 0, "total": 100}
    render_id = _post_render(client, _small_draft(client)).json()["data"]["id"]
    _poll_until_done(client, render_id)
    assert client.call("GET", "/api/credits/balance/simple").json()["data"] == {"available": 95, "frozen": 0, "total": 95}


def test_export_blocked_knob_answers_http_402(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.export_blocked = True
    reply = _post_render(client, _small_draft(client))
    assert (reply.status_code, reply.json()["code"]) == (402, 402)
    assert "upgrade" in reply.json()["message"]


@pytest.mark.parametrize("missing", sorted(SKILL_HEADERS))
def test_render_without_an_attribution_header_is_http_402(client: Client, missing: str) -> None:
    draft = _small_draft(client)
    headers = {name: value for name, value in client.headers().items() if name != missing}
    body = {"id": "render_2_x", "sessionId": client.session_id, "draft": draft, "output": {"format": "mp4"}}
    reply = client.http.post("/api/render/proxy/lambda", json=body, headers=headers)
    assert reply.status_code == 402


def test_render_fail_knob_ends_the_render_failed_with_an_error_and_refunds(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.stub_render = True
    emulator.state.knobs.render_fail_next = 1
    render_id = _post_render(client, _small_draft(client)).json()["data"]["id"]
    last = _poll_until_done(client, render_id)[-1]
    assert last["status"] == "failed" and last["error"] and "url" not in last
    assert emulator.state.balance()["available"] == 100
    assert httpx.get(f"{emulator.download_base_url}/files/{render_id}.mp4").status_code == 404


def test_a_draft_posted_as_served_is_not_counted_as_altered(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.stub_render = True
    _post_render(client, _small_draft(client))
    assert emulator.state.counters.drafts_altered == 0


def test_a_draft_changed_before_posting_is_counted_as_altered(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.stub_render = True
    draft = _small_draft(client)
    draft["m"]["seed"] = 7
    assert _post_render(client, draft).json()["code"] == 0
    assert emulator.state.counters.drafts_altered == 1


def test_output_settings_choose_the_frame_size_and_rate(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.stub_render = True
    output = {"format": "mp4", "quality": "low", "width": 320, "height": 240, "fps": 12}
    render_id = _post_render(client, _small_draft(client), output=output).json()["data"]["id"]
    last = _poll_until_done(client, render_id)[-1]
    assert _decode(httpx.get(last["url"]).content) == (320, 240, 12)


def test_nested_url_shape_puts_the_link_under_output(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.stub_render = True
    emulator.state.knobs.url_shape = "nested"
    render_id = _post_render(client, _small_draft(client)).json()["data"]["id"]
    last = _poll_until_done(client, render_id)[-1]
    assert "url" not in last
    stub = httpx.get(last["output"]["url"]).content
    assert _decode(stub)[:2] == (160, 284)


def test_poll_retry_after_knob_adds_the_header_while_rendering(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.stub_render = True
    emulator.state.knobs.render_latency = 1.0
    emulator.state.knobs.poll_retry_after = 2
    render_id = _post_render(client, _small_draft(client)).json()["data"]["id"]
    reply = client.call("GET", f"/api/render/proxy/lambda/{render_id}")
    assert reply.headers["Retry-After"] == "2"


def test_unknown_render_id_is_envelope_404(client: Client) -> None:
    reply = client.call("GET", "/api/render/proxy/lambda/render_0_none")
    assert (reply.status_code, reply.json()["code"]) == (404, 404)


def test_render_for_a_lost_session_is_code_1002(client: Client) -> None:
    draft = _small_draft(client)
    client.session_id = "sess_gone"
    assert _post_render(client, draft).json()["code"] == 1002


def test_a_draft_that_is_not_an_object_is_refused_with_422_as_a_violation(client: Client, emulator: Emulator) -> None:
    client.upload("photo.png", image_bytes())
    reply = _post_render(client, ["not", "a", "draft"])
    assert (reply.status_code, reply.json()["code"]) == (422, 422)
    assert emulator.state.violations == ["POST /api/render/proxy/lambda: draft and output must be JSON objects"]


def test_a_render_without_output_settings_is_refused_with_422(client: Client, emulator: Emulator) -> None:
    body = {"id": "render_1", "sessionId": client.session_id, "draft": {}}
    reply = client.call("POST", "/api/render/proxy/lambda", json=body)
    assert (reply.status_code, reply.json()["code"]) == (422, 422)
    assert emulator.state.counters.renders_started == 0
