"""One ``/run_sse`` turn as SSE frames: heartbeats while the agent "thinks", tool events, text, faults.

The turn is a server-side task; the response only relays its frames, so a turn whose user message was
recorded always finishes (edit applied, agent events recorded) even when its client has gone.

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


async def _think(state: EmulatorState, silent_s: float = 0.0, stall_s: float = 0.0) -> AsyncIterator[str]:
    """Wait out the turn's latency (plus ``stall_s``), sending a heartbeat every ``heartbeat_interval`` seconds.

    A varied session may first stay silent for ``silent_s`` (no byte at all), as a busy agent can.
    """
    loop = asyncio.get_running_loop()
    quiet_until = loop.time() + silent_s
    while not state.stopping.is_set() and loop.time() < quiet_until:
        await asyncio.sleep(min(_STOP_CHECK_S, quiet_until - loop.time()))
    deadline = loop.time() + max(state.knobs.turn_latency, 0.0) + max(stall_s, 0.0)
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


class _Drop:
    """The turn's producer asks the relay to cut the connection."""


_DROP = _Drop()
_Item = str | _Drop | None


def run_turn(
    state: EmulatorState,
    session: SessionRecord,
    text: str,
    *,
    streaming: bool = True,
    tasks: set[asyncio.Task[None]] | None = None,
) -> AsyncIterator[str]:
    """The frames of one accepted turn on ``session``; the edit is applied to its draft exactly once.

    The turn runs as a task of its own on the server's loop and the returned iterator only relays its
    frames: a client that disconnects stops the relay, never the turn, which still edits the draft and
    records its events in the session, as an agent server finishes an invocation it has recorded.
    ``tasks`` keeps the running turns referenced. Without ``streaming`` the reply comes only whole.
    """
    queue: asyncio.Queue[_Item] = asyncio.Queue()
    task = asyncio.get_running_loop().create_task(_produce(state, session, text, streaming, queue))
    if tasks is not None:
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    return _relay(queue)


async def _relay(queue: asyncio.Queue[_Item]) -> AsyncIterator[str]:
    while True:
        item = await queue.get()
        if item is None:
            return
        if isinstance(item, _Drop):
            raise StreamDropped("turn dropped on purpose")
        yield item


async def _produce(
    state: EmulatorState, session: SessionRecord, text: str, streaming: bool, queue: asyncio.Queue[_Item]
) -> None:
    try:
        async for item in _turn(state, session, text, streaming=streaming):
            queue.put_nowait(item)
    except Exception:  # noqa: BLE001 -- a bug in the fake agent must end this turn, not the server
        logging.getLogger(__name__).exception("turn on session %s crashed", session.session_id)
    finally:
        queue.put_nowait(None)


def _recorded(state: EmulatorState, session: SessionRecord, event: dict[str, Any]) -> str:
    """The frame of ``event``, after keeping it in the session's record unless it is a partial chunk (as ADK does)."""
    if not event.get("partial"):
        with state.lock:
            session.events.append(event)
    return frame(event)


async def _turn(state: EmulatorState, session: SessionRecord, text: str, *, streaming: bool) -> AsyncIterator[_Item]:
    with state.lock:
        session.turns += 1
        turn = session.turns
    variation = session.variation
    invocation = agent.Invocation(variation)
    silent = state.knobs.vary_silence if variation.silent_thinking else 0.0
    stall = state.knobs.stall_turn_s if state.take("stall_turn_next") else 0.0
    async for beat in _think(state, silent, stall):
        yield beat
    if state.stopping.is_set():
        return
    if state.take("refuse_next") or agent.refuses(text):
        with state.lock:
            state.counters.refusals += 1
        yield _recorded(state, session, invocation.refusal())
        return
    yield _recorded(state, session, invocation.function_call(text))
    if state.take("turn_error_next"):
        yield frame({"error": "The agent hit an internal error while editing; please try again."})
        return
    if state.take("drop_stream_next"):
        if state.knobs.drop_stream_after_edit:
            _edit(state, session, text)
        yield _DROP
        return
    outcome = _edit(state, session, text)
    seed = state.knobs.seed
    # Whatever the ratio, an agent that did not understand (part of) a prompt says so.
    understood = outcome.changed and not outcome.unknown
    speaks = not understood or agent.has_text(seed, turn, text, state.knobs.no_text_ratio)
    yield _recorded(state, session, invocation.function_response(outcome.draft.summary(), complete=not speaks))
    if speaks:
        events = invocation.text_events(agent.reply_for(outcome, seed, turn), seed)
        for event in events if streaming else events[-1:]:
            yield _recorded(state, session, event)
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
