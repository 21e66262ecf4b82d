"""Reading a render poll by its evidence: words, numbers, links, error messages, progress scales; and drafts as text."""

from __future__ import annotations

from typing import Any

import pytest

from joypix_recipes.api.envelope import as_draft
from joypix_recipes.api.render_reading import absolute_link, percent, read_render
from joypix_recipes.errors import ProtocolError

BASE = "https://api.example.test/v2"
LINK = "https://cdn.example.test/r.mp4"


@pytest.mark.parametrize(
    ("data", "phase"),
    [
        ({"status": "ok", "url": LINK}, "done"),
        ({"status": "Rendered"}, "done"),
        ({"status": "aborted"}, "failed"),
        ({"status": "timed-out"}, "failed"),
        ({"status": 2, "url": LINK}, "done"),
        ({"status": 1, "progress": 40}, "running"),
        ({"status": 3, "error": "node lost"}, "failed"),
        ({"status": "zebra", "url": LINK}, "done"),
        ({"status": "zebra", "error": {"message": "out of memory"}}, "failed"),
        ({"status": "zebra", "message": "rendering your video"}, "running"),
        ({"status": "zebra"}, "running"),
        ({"status": "rendering", "progress": 100, "url": LINK}, "done"),
        ({"status": "rendering", "progress": 60, "url": LINK}, "running"),
        ({"status": "processing", "url": LINK}, "done"),
        ({"status": "processing", "error": "a warning"}, "running"),
        ({"url": LINK}, "done"),
        ({"errorMessage": "bad draft"}, "failed"),
        ({"status": "failed", "url": LINK}, "failed"),
        ({"status": "queued", "error": None, "progress": 0}, "running"),
    ],
)
def test_the_phase_comes_from_the_whole_reply(data: dict[str, Any], phase: str) -> None:
    assert read_render(data, BASE).phase == phase


def test_the_failure_reason_is_kept_and_a_plain_message_is_shown_only_once_failed() -> None:
    failed = read_render({"status": "aborted", "message": "the node restarted"}, BASE)
    assert failed.error == "the node restarted"
    running = read_render({"status": "zebra", "message": "rendering your video"}, BASE)
    assert running.error is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.42, 42.0), (1.0, 100.0), ("0.5", 50.0), (42, 42.0), (1, 1.0), ("42%", 42.0), ("0.5%", 0.5), (0, 0.0),
     (150, 100.0), (-3, 0.0), (None, None), ("soon", None), (True, None), (float("nan"), None), (55.5, 55.5)],
)  # fmt: skip
def test_progress_is_read_in_percent_and_a_decimal_fraction_is_scaled(value: Any, expected: float | None) -> None:
    assert percent(value) == expected


def test_a_poll_without_progress_reads_zero() -> None:
    assert read_render({"status": "rendering"}, BASE).progress == 0.0
    assert read_render({"status": "rendering", "progress": 0.25}, BASE).progress == 25.0


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("/files/r.mp4", "https://api.example.test/files/r.mp4"),
        ("files/r.mp4", "https://api.example.test/v2/files/r.mp4"),
        ("//cdn.example.test/r.mp4", "https://cdn.example.test/r.mp4"),
        (LINK, LINK),
        ("ftp://cdn.example.test/r.mp4", None),
        ("0", None),
        ("", None),
        (None, None),
    ],
)
def test_relative_links_are_resolved_against_the_api_base_url(link: str | None, expected: str | None) -> None:
    assert absolute_link(link, BASE) == expected


@pytest.mark.parametrize(
    "data",
    [{"result": {"video_url": LINK}}, {"video_url": LINK}, {"output": LINK}, {"outputs": [{"url": LINK}]},
     {"result": {"download_url": LINK}}, {"downloadUrl": LINK}],
)  # fmt: skip
def test_the_link_is_looked_for_in_many_places(data: dict[str, Any]) -> None:
    assert read_render(data, BASE).url == LINK


def test_a_draft_sent_as_json_text_is_parsed_and_other_values_are_refused() -> None:
    assert as_draft('{"t": [], "d": 0}', "reading") == {"t": [], "d": 0}
    assert as_draft({"t": []}, "reading") == {"t": []}
    assert as_draft(None, "reading") is None and as_draft("", "reading") is None
    for wrong in ("not json", "[1, 2]", '"{}"', 7, ["t"]):
        with pytest.raises(ProtocolError, match="the draft is not a JSON object"):
            as_draft(wrong, "reading the session state")
