"""The honest shapes the emulator can answer in: drafts as text, its own status words and numbers, fractional
progress, links elsewhere, URL uploads from ``urls``, late-listed uploads and replies lost after the act."""

from __future__ import annotations

import json
from typing import Any

from helpers.images import image_bytes
from helpers.waiting import wait_until

from joypix_recipes.emulator import Emulator

from .conftest import Client
from .test_renders import _post_render, _small_draft


def _statuses(client: Client, render_id: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def finished() -> bool:
        seen.append(client.call("GET", f"/api/render/proxy/lambda/{render_id}").json()["data"])
        return "url" in seen[-1] or "result" in seen[-1] or seen[-1]["status"] in (3, "aborted")

    wait_until(finished, 30, "the render did not finish")
    return seen


def test_the_draft_can_be_served_as_json_text_and_taken_back_as_text_or_object(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.stub_render = True
    served = _small_draft(client)
    emulator.state.knobs.draft_shape = "string"
    text = client.state()["data"]["draft"]
    assert isinstance(text, str) and json.loads(text) == served
    assert _post_render(client, text).json()["code"] == 0
    assert _post_render(client, served).json()["code"] == 0
    assert _post_render(client, "[1]").json()["code"] == 422
    counters = emulator.state.counters
    assert (counters.renders_started, counters.drafts_altered, counters.drafts_retyped) == (2, 0, 1)


def test_status_numbers_fractional_progress_and_a_relative_link(client: Client, emulator: Emulator) -> None:
    knobs = emulator.state.knobs
    knobs.stub_render, knobs.render_latency = True, 0.5
    knobs.render_words, knobs.progress_scale, knobs.url_shape = "numeric", "fraction", "relative"
    _post_render(client, _small_draft(client), render_id="render_n")
    seen = _statuses(client, "render_n")
    assert {s["status"] for s in seen} <= {0, 1, 2} and seen[-1]["status"] == 2
    assert all(0 <= s["progress"] <= 1 for s in seen) and seen[-1]["progress"] == 1
    assert seen[-1]["url"] == "/files/render_n.mp4"
    served = client.call("GET", seen[-1]["url"])
    assert served.status_code == 200 and served.content[4:8] == b"ftyp"


def test_odd_words_name_a_failure_aborted_and_links_can_sit_under_result(client: Client, emulator: Emulator) -> None:
    knobs = emulator.state.knobs
    knobs.stub_render, knobs.render_words, knobs.url_shape = True, "odd", "result"
    draft = _small_draft(client)
    _post_render(client, draft, render_id="render_ok")
    done = _statuses(client, "render_ok")[-1]
    assert done["status"] == "ok" and done["result"]["video_url"].endswith("/files/render_ok.mp4")
    knobs.render_fail_next = 1
    _post_render(client, draft, render_id="render_bad")
    failed = _statuses(client, "render_bad")[-1]
    assert failed["status"] == "aborted" and "render node" in failed["error"]


def test_a_url_upload_can_be_read_only_from_urls(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.url_upload_field = "urls"
    path = f"/api/upload-video/nemo_agent/me/{client.session_id}"
    refused = client.call("POST", path, json={"url": "http://127.0.0.1:9/a.png"})
    assert refused.status_code == 422 and '"urls"' in refused.json()["message"]
    unreachable = client.call("POST", path, json={"urls": ["http://127.0.0.1:9/a.png"]})
    assert unreachable.json()["code"] == 4001, "read from urls, then fetched (and this one cannot be)"


def test_an_upload_is_listed_only_after_the_ingest_delay_and_a_dropped_reply_still_stores_it(
    client: Client, emulator: Emulator
) -> None:
    emulator.state.knobs.ingest_delay_s = 0.3
    emulator.state.knobs.drop_upload_reply_next = 1
    path = f"/api/upload-video/nemo_agent/me/{client.session_id}"
    lost = client.call("POST", path, files={"file": ("photo.png", image_bytes())})
    assert lost.status_code == 502 and lost.headers["content-type"].startswith("text/html")
    assert emulator.state.counters.uploads == 1
    assert client.state()["data"]["video_infos"] == []
    listed = wait_until(lambda: client.state()["data"]["video_infos"], 5, "the upload was never listed")
    assert [m["name"] for m in listed] == ["photo.png"]


def test_a_dropped_token_reply_has_issued_the_token_and_the_same_id_is_then_refused(emulator: Emulator, client: Client) -> None:
    emulator.state.knobs.drop_token_reply_next = 1
    emulator.state.knobs.retry_after = 2
    headers = {"X-Client-Id": "client-lost"}
    lost = client.call("POST", "/api/auth/anonymous-token", auth=False, headers=headers)
    again = client.call("POST", "/api/auth/anonymous-token", auth=False, headers=headers)
    assert lost.status_code == 502 and again.status_code == 429 and again.headers["Retry-After"] == "2"
    assert emulator.state.counters.tokens_issued == 2  # the fixture's login and the lost one
    assert emulator.state.counters.token_client_ids == ["client-1", "client-lost", "client-lost"]
