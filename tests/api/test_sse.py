"""ADK event frames: classification, partial vs whole text, error frames, and any chunking of the body."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator

import httpx
from httpx_sse import EventSource
from hypothesis import given, settings
from hypothesis import strategies as st

from joypix_recipes.api.sse import Frame, Transcript, parse_frame, read_frames


def _event(parts: list[dict[str, object]], partial: bool = False, **extra: object) -> str:
    return json.dumps({"author": "nemo_agent", "content": {"role": "model", "parts": parts}, "partial": partial, **extra})


def test_empty_data_is_a_heartbeat() -> None:
    assert parse_frame("") == Frame(heartbeat=True)
    assert parse_frame("   ") == Frame(heartbeat=True)


def test_text_tool_call_and_tool_result_are_told_apart() -> None:
    frame = parse_frame(
        _event([
            {"text": "Done."},
            {"functionCall": {"id": "1", "name": "apply_edit", "args": {}}},
            {"functionResponse": {"id": "1", "name": "apply_edit", "response": {"summary": "s"}}},
        ])
    )
    assert frame is not None
    assert frame.texts == ("Done.",) and frame.tool_calls == ("apply_edit",)
    assert frame.tool_results == (("apply_edit", {"summary": "s"}),)


def test_thought_parts_and_user_echoes_are_not_replies() -> None:
    thought = parse_frame(_event([{"text": "thinking...", "thought": True}]))
    echo = parse_frame(json.dumps({"content": {"role": "user", "parts": [{"text": "my prompt"}]}}))
    assert thought is not None and thought.texts == ()
    assert echo is not None and echo.texts == ()


def test_an_error_frame_is_an_error_and_an_error_code_is_a_refusal() -> None:
    assert parse_frame('{"error": "boom"}') == Frame(error="boom")
    frame = parse_frame(json.dumps({"errorCode": "SAFETY", "errorMessage": "blocked", "unknownKey": 1}))
    assert frame is not None and (frame.error, frame.refusal) == (None, "blocked (SAFETY)")
    bare = parse_frame(json.dumps({"errorCode": "MAX_TOKENS"}))
    assert bare is not None and bare.refusal == "MAX_TOKENS"


def test_non_object_frames_are_skipped() -> None:
    assert parse_frame("not json") is None
    assert parse_frame("[1, 2]") is None


def test_partial_chunks_then_whole_text_are_shown_once() -> None:
    transcript = Transcript()
    shown = []
    for data in (_event([{"text": "Hel"}], partial=True), _event([{"text": "lo"}], partial=True), _event([{"text": "Hello"}])):
        frame = parse_frame(data)
        assert frame is not None
        shown += transcript.feed(frame)
    shown += transcript.finish()
    assert shown == ["Hello"]


def test_partial_text_whose_whole_never_comes_is_shown_once_at_the_end() -> None:
    transcript = Transcript()
    for data in (_event([{"text": "Hel"}], partial=True), _event([{"text": "lo"}], partial=True)):
        frame = parse_frame(data)
        assert frame is not None
        assert transcript.feed(frame) == []
    assert transcript.finish() == ["Hello"]
    assert transcript.finish() == []


def _body(texts: list[str]) -> bytes:
    frames = [": heartbeat\n\n", "data: \n\n"]
    for text in texts:
        for chunk in (text[: len(text) // 2], text[len(text) // 2 :]):
            frames.append(f"data: {_event([{'text': chunk}], partial=True)}\n\n")
        frames.append(f"data: {_event([{'text': text}])}\n\n")
        frames.append(": heartbeat\n\n")
    return "".join(frames).encode("utf-8")


async def _replies(body: bytes, cuts: list[int]) -> list[str]:
    points = sorted({min(max(cut, 0), len(body)) for cut in cuts} | {0, len(body)})
    pieces = [body[a:b] for a, b in itertools.pairwise(points) if b > a]

    async def stream() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=stream())
    transcript = Transcript()
    shown: list[str] = []
    async for frame in read_frames(EventSource(response).aiter_sse()):
        shown += transcript.feed(frame)
    return shown + transcript.finish()


@settings(max_examples=30, deadline=None)
@given(
    texts=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).map(str.strip).filter(bool), max_size=4),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=12),
)
def test_any_chunking_of_the_body_shows_each_reply_exactly_once(texts: list[str], cuts: list[int]) -> None:
    assert asyncio.run(_replies(_body(texts), cuts)) == texts
