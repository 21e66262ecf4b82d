"""One ``/run_sse`` turn as SSE frames: heartbeats while the agent "thinks", tool events, text, faults.

Each ADK event is one ``data: <json>`` frame; heartbeats alternate between a comment line and an
empty ``data:`` frame. A dropped stream raises ``StreamDropped`` so the server cuts the connection
without ending the chunked body, which is what a client sees when a proxy or the network drops it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from joypix_recipes.emulator import agent
from joypix_recipes.emulator.state import EmulatorState, SessionRecord

HEARTBEATS = (": heartbeat\n\n", "data: \n\n")
_STOP_CHECK_S = 0.05


class StreamDropped(Exception):
    """Raised inside a turn's body to cut the connection mid-turn (the ``drop_stream_next`` knob)."""


class _HideDroppedStreams(logging.Filter):
    """Keeps uvicorn from logging a traceback for a stream the emulator dropped on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        while error is not None:
            if isinstance(error, StreamDropped):
                return False
            if isinstance(error, BaseExceptionGroup) and any(
                isinstance(inner, StreamDropped) for inner in error.exceptions
            ):
                return False
            error = error.__cause__ or error.__context__
        return True


def hide_dropped_stream_logs() -> None:
    """Install (once) the filter that silences deliberate stream drops in uvicorn's error log."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(existing, _HideDroppedStreams) for existing in logger.filters):
        logger.addFilter(_HideDroppedStreams())


def frame(event: dict[str, Any]) -> str:
    """One SSE frame carrying a JSON event."""
    return f"data: {json.dumps(event, separators=(',', ':'))}\n\n"


async def _think(state: EmulatorState, silent_s: float = 0.0) -> AsyncIterator[str]:
    """Wait out the turn's latency, sending a heartbeat every ``heartbeat_interval`` seconds.

    A varied session may first stay silent for ``silent_s`` (no byte at all), as a busy agent can.
    """
    loop = asyncio.get_running_loop()
    quiet_until = loop.time() + silent_s
    while not state.stopping.is_set() and loop.time() < quiet_until:
        await asyncio.sleep(min(_STOP_CHECK_S, quiet_until - loop.time()))
    deadline = loop.time() + max(state.knobs.turn_latency, 0.0)
    next_beat = loop.time() + max(state.knobs.heartbeat_interval, 0.01)
    beats = 0
    while not state.stopping.is_set():
        now = loop.time()
        if now >= deadline:
            return
        if now >= next_beat:
            yield HEARTBEATS[beats % 2]
            beats += 1
            next_beat = now + max(state.knobs.heartbeat_interval, 0.01)
        await asyncio.sleep(min(deadline, next_beat, now + _STOP_CHECK_S) - now)


async def run_turn(
    state: EmulatorState, session: SessionRecord, text: str, *, streaming: bool = True
) -> AsyncIterator[str]:
    """The frames of one turn on ``session``; applies the edit to its draft exactly once.

    Without ``streaming`` the reply comes only whole, as ADK does for a non-streaming request.
    """
    with state.lock:
        session.turns += 1
        turn = session.turns
    variation = session.variation
    invocation = agent.Invocation(variation)
    silent = state.knobs.vary_silence if variation.silent_thinking else 0.0

    def answer(event: dict[str, Any]) -> str:
        # The agent server keeps every whole event in the session's record (streamed chunks are not kept):
        # that is how a client tells a step that ended from one still running.
        if not event.get("partial"):
            with state.lock:
                session.events.append(event)
        return frame(event)

    async for beat in _think(state, silent):
        yield beat
    if state.stopping.is_set():
        return
    if state.take("refuse_next") or agent.refuses(text):
        with state.lock:
            state.counters.refusals += 1
        yield answer(invocation.refusal())
        return
    yield answer(invocation.function_call(text))
    if state.take("turn_error_next"):
        yield frame({"error": "The agent hit an internal error while editing; please try again."})
        return
    if state.take("drop_stream_next"):
        if state.knobs.drop_stream_after_edit:
            _edit(state, session, text)
        raise StreamDropped(f"turn {turn} of session {session.session_id} dropped on purpose")
    outcome = _edit(state, session, text)
    seed = state.knobs.seed
    # Whatever the ratio, an agent that did not understand (part of) a prompt says so.
    understood = outcome.changed and not outcome.unknown
    speaks = not understood or agent.has_text(seed, turn, text, state.knobs.no_text_ratio)
    yield answer(invocation.function_response(outcome.draft.summary(), complete=not speaks))
    if speaks:
        events = invocation.text_events(agent.reply_for(outcome, seed, turn), seed)
        for event in events if streaming else events[-1:]:
            yield answer(event)
    if variation.error_frame_after_edit and turn == 1 and outcome.changed:
        # Some agents report a failure of their own bookkeeping after the edit has landed.
        yield frame({"error": "The agent could not save its notes for this step."})


def _edit(state: EmulatorState, session: SessionRecord, text: str) -> agent.EditOutcome:
    with state.lock:
        outcome = agent.edit_draft(session.draft, text, list(session.media))
        if outcome.changed:
            session.draft = outcome.draft
            state.count_edit(session.session_id)
    return outcome
