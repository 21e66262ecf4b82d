"""Staging a fault inside a paid request: held render replies, expiring links, stalled turns that finish
without a reader, and what was paid per session and per uploaded file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.images import image_bytes
from helpers.waiting import wait_until

from joypix_recipes.cli.parser import build_parser
from joypix_recipes.emulator import Emulator, Knobs
from joypix_recipes.emulator.state import set_knob
from joypix_recipes.timeline.draft import Draft

from .conftest import Client
from .test_renders import _post_render, _small_draft


def _poll(client: Client, render_id: str) -> dict[str, Any]:
    reply = client.call("GET", f"/api/render/proxy/lambda/{render_id}").json()
    assert reply["code"] == 0
    data: dict[str, Any] = reply["data"]
    return data


def _completed(client: Client, render_id: str) -> dict[str, Any]:
    return wait_until(lambda: (d := _poll(client, render_id))["status"] == "completed" and d, 30, "render did not finish")


def test_a_held_render_reply_is_charged_and_rendering_before_the_client_hears_anything(
    client: Client, emulator: Emulator
) -> None:
    emulator.state.knobs.stub_render = True
    draft = _small_draft(client)
    emulator.state.knobs.hold_render_reply_s = 2.0
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        _post_render(client, draft, render_id="render_held", timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert emulator.state.paid()[client.session_id or ""] == (1, 1)
    assert emulator.state.counters.renders_started == 1 and emulator.state.knobs.credits == 95
    emulator.state.knobs.hold_render_reply_s = 0.0
    assert _completed(client, "render_held")["url"].endswith("/files/render_held.mp4")
    again = _post_render(client, draft, render_id="render_held")
    assert again.json()["data"]["id"] == "render_held"
    assert emulator.state.paid().renders == 1, "the same id again is not paid again"


def test_the_first_signed_link_of_each_render_is_refused_as_expired_and_later_ones_work(
    client: Client, emulator: Emulator
) -> None:
    emulator.state.knobs.stub_render = True
    emulator.state.knobs.expire_first_link = True
    assert _post_render(client, _small_draft(client), render_id="render_signed").json()["code"] == 0
    first = _completed(client, "render_signed")["url"]
    second = _poll(client, "render_signed")["url"]
    assert first.endswith("/files/render_signed.mp4?sig=1") and second.endswith("?sig=2")
    with httpx.Client(trust_env=False, timeout=10) as http:
        refused, served = http.get(first), http.get(second)
    assert refused.status_code == 403 and b"expired" in refused.content
    assert served.status_code == 200 and served.content[4:8] == b"ftyp"
    assert emulator.state.counters.links_refused == 1 and emulator.state.counters.downloads == 1


def test_a_held_upload_reply_comes_after_the_file_is_stored_and_listed(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.hold_upload_reply_s = 2.0
    with pytest.raises(httpx.ReadTimeout):
        client.http.post(
            f"/api/upload-video/nemo_agent/me/{client.session_id}",
            files={"file": ("held.png", image_bytes())},
            headers=client.headers(),
            timeout=0.5,
        )
    assert emulator.state.counters.uploads == 1
    listed = client.state()["data"]["video_infos"]
    assert [entry["name"] for entry in listed] == ["held.png"]


def test_a_held_download_starts_its_body_only_after_the_hold(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.stub_render = True
    assert _post_render(client, _small_draft(client), render_id="render_slow").json()["code"] == 0
    url = _completed(client, "render_slow")["url"]
    emulator.state.knobs.hold_download_s = 1.0
    with httpx.Client(trust_env=False, timeout=10) as http:
        started = time.monotonic()
        served = http.get(url)
    assert served.status_code == 200 and time.monotonic() - started >= 0.9
    assert emulator.state.counters.downloads == 1


def _open_turn_and_leave(client: Client, text: str) -> list[str]:
    """Start a turn, read until its first heartbeat, then hang up."""
    headers = {**client.headers(), "Accept": "text/event-stream"}
    seen: list[str] = []
    with client.http.stream("POST", "/run_sse", json=client.turn_request(text), headers=headers) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            seen.append(line)
            if line.startswith(":") or line == "data: ":
                break
    return seen


def test_a_stalled_turn_beats_its_heart_and_finishes_on_the_server_after_its_client_left(
    client: Client, emulator: Emulator
) -> None:
    client.upload("photo.png", image_bytes())
    emulator.state.knobs.stall_turn_next = 1
    emulator.state.knobs.stall_turn_s = 0.6
    started = time.monotonic()
    seen = _open_turn_and_leave(client, "Animate this image into a 2-second clip with a slow zoom-in.")
    assert all(not line.startswith("data: {") for line in seen), "only heartbeats before the client left"
    session = emulator.state.sessions[client.session_id or ""]
    assert emulator.state.counters.edits_applied.get(session.session_id) is None
    wait_until(lambda: emulator.state.counters.edits_applied.get(session.session_id) == 1, 10, "the turn never finished")
    assert time.monotonic() - started >= 0.6
    assert Draft.from_json(client.state()["data"]["draft"]).duration_ms == 2000
    record = client.call("GET", f"/apps/nemo_agent/users/me/sessions/{client.session_id}").json()
    authors = [event["author"] for event in record["events"]]
    assert authors[0] == "user" and authors[1:] and set(authors[1:]) == {"nemo_agent"}
    agent_events = record["events"][1:]
    assert len({event["invocationId"] for event in agent_events}) == 1
    assert not any(event["partial"] for event in agent_events), "partial chunks are not recorded"
    assert agent_events[-1]["turnComplete"] is True
    assert emulator.state.knobs.stall_turn_next == 0
    quick = time.monotonic()
    client.turn('Add the title "Hi" at the top.')
    assert time.monotonic() - quick < 0.5, "only the next N turns stall"


def test_a_finished_turn_records_its_agent_events_as_the_stream_sent_them(client: Client) -> None:
    client.upload("photo.png", image_bytes())
    turn = client.turn("Animate this image into a 1-second clip.")
    record = client.call("GET", f"/apps/nemo_agent/users/me/sessions/{client.session_id}").json()
    whole = [event for event in turn.events if not event["partial"]]
    assert record["events"][1:] == whole


def test_paid_counts_turns_and_renders_per_session_and_per_uploaded_file(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.stub_render = True
    first = client.session_id or ""
    draft = _small_draft(client)  # one turn, one upload (photo.png)
    for _ in range(2):
        _post_render(client, draft, render_id="render_one")
    second = client.new_session()
    client.upload("other.png", image_bytes())
    client.upload("photo.png", image_bytes())
    client.turn("Animate this image into a 1-second clip.")
    client.turn('Add the title "Hi" at the top.')
    emulator.state.knobs.server_errors_next = 1
    assert client.call("POST", "/run_sse", json=client.turn_request("add a fade")).status_code == 503
    paid = emulator.state.paid()
    assert paid == {first: (1, 1), second: (2, 0)}
    assert (paid.turns, paid.renders) == (3, 1)
    assert emulator.state.counters.renders_posted == 2
    assert emulator.state.paid_by_upload() == {"photo.png": (3, 1), "other.png": (2, 0)}
    assert emulator.paid() == paid and emulator.paid_by_upload() == emulator.state.paid_by_upload()


def test_knobs_are_settable_by_name_from_the_command_line() -> None:
    args = build_parser().parse_args(
        ["emulator", "--hold-render-reply", "3", "--expire-first-link", "--stall-turns", "2", "--stall-turn-seconds", "9",
         "--knob", "ingest_delay_s=1.5", "--knob", "url_shape=relative", "--knob", "vary=none"]
    )  # fmt: skip
    assert (args.hold_render_reply, args.expire_first_link, args.stall_turns, args.stall_turn_seconds) == (3.0, True, 2, 9.0)
    knobs = Knobs(vary=4)
    for assignment in args.knob:
        set_knob(knobs, assignment)
    assert (knobs.ingest_delay_s, knobs.url_shape, knobs.vary) == (1.5, "relative", None)
    set_knob(knobs, "expire-first-link=yes")
    set_knob(knobs, "drop_upload_reply_next=2")
    assert knobs.expire_first_link is True and knobs.drop_upload_reply_next == 2
    for wrong in ("nope=1", "url_shape=sideways", "credits=lots", "expire_first_link=maybe", "credits"):
        with pytest.raises(ValueError, match="--knob"):
            set_knob(knobs, wrong)


def test_joypix_emulator_serves_with_the_knobs_its_flags_set(tmp_path: Path) -> None:
    import subprocess
    import sys

    command = [sys.executable, "-m", "joypix_recipes", "emulator", "--port", "0", "--expire-first-link",
               "--knob", "draft_shape=string"]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert "emulator listening on" in line, process.stderr.read() if process.poll() is not None else line
            base_url = line.split(" on ", 1)[1].split()[0]
            with httpx.Client(base_url=base_url, timeout=10, trust_env=False) as http:
                client = Client(http)
                client.login()
                client.new_session()
                assert isinstance(client.state()["data"]["draft"], str)
        finally:
            process.terminate()
            process.wait(10)
    bad = subprocess.run([*command[:5], "--knob", "no_such_knob=1"], capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert bad.returncode == 2 and "--knob" in bad.stderr
