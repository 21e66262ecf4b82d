"""One agent turn over /run_sse, sent once: heartbeats keep it alive, doubt is settled by the server's state.

A turn runs the agent and costs credits, so it is never re-sent on a hunch (docs/protocol.md, "Turns"):
- refused before any stream with a documented code (1001, 429, a 400 naming X-Client-Id): the turn
  never ran; recover and send it again;
- a connect error: the request never left; send it again;
- a refusal event (``errorCode``): the job fails with the agent's words, after this one turn;
- anything else that leaves doubt (a cut stream, an error frame, a 5xx, a long silence): look at the
  session; a changed draft means the edit landed; re-send only when the agent server's own session
  record proves the message never arrived; otherwise fail the step without sending it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import EventSource

from joypix_recipes.api import endpoints as api
from joypix_recipes.api.auth import Credentials
from joypix_recipes.api.envelope import Answer, read_answer, server_failure
from joypix_recipes.api.sse import Transcript, TurnDeadlineExceeded, read_frames, still_working_ticker, turn_deadline
from joypix_recipes.api.transport import UNSENT_ERRORS, Recovery, Transport
from joypix_recipes.errors import AgentRefusedError, ProtocolError, ServerError, StepInDoubtError
from joypix_recipes.redact import get_logger, redact

log = get_logger()

DraftReader = Callable[[str], Any]
"""Reads a session's current draft (``NemoClient.state(...).draft``)."""


class TurnDoubt(Exception):
    """A turn whose fate is unknown: ``received`` when the server certainly got it, ``unsent`` when it never left."""

    def __init__(self, reason: str, *, received: bool = False, unsent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.received = received
        self.unsent = unsent


class _Recovered(Exception):
    """Refused before any stream with a documented code, and recovered: the turn never ran."""


@dataclass
class TurnRequest:
    """What one turn sends, and the callbacks that see it progress."""

    session_id: str
    user_id: str
    text: str
    on_reply: Callable[[str], None]
    on_still_working: Callable[[float], None] | None = None
    earlier_sends: int = 0
    """How many times this exact text already reached this session (so a record can prove a new one did not)."""


def turn_body(request: TurnRequest) -> dict[str, Any]:
    """The ADK run request: app, user, session, the message as one text part, streaming on."""
    return {
        "app_name": api.APP_NAME,
        "user_id": request.user_id,
        "session_id": request.session_id,
        "new_message": {"role": "user", "parts": [{"text": request.text}]},
        "streaming": True,
    }


async def send_turn(transport: Transport, request: TurnRequest, recovery: Recovery) -> Transcript:
    """One POST /run_sse, read to its end; raises TurnDoubt, AgentRefusedError, or _Recovered."""
    settings = transport.settings
    credentials = await transport.tokens.get()
    # The read timeout is the longest silence we sit through; heartbeats (bytes) reset it.
    timeout = httpx.Timeout(
        settings.request_timeout_s, connect=settings.connect_timeout_s, read=settings.stream_read_timeout_s
    )
    ticker = None
    if request.on_still_working is not None:
        ticker = asyncio.ensure_future(still_working_ticker(request.on_still_working, settings.still_working_every_s))
    headers = {**transport.headers(credentials), "Accept": api.SSE_CONTENT_TYPE, "Cache-Control": "no-store"}
    transcript = Transcript()
    try:
        async with (
            turn_deadline(settings.turn_deadline_s),
            # What httpx-sse's aconnect_sse does, with the URL merged once (``Transport.url``) rather than per turn.
            transport.streams.stream(
                "POST", transport.url(api.RUN_SSE_PATH), json=turn_body(request), headers=headers, timeout=timeout
            ) as response,
        ):
            events = EventSource(response)
            content_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
            if response.status_code != 200 or content_type != api.SSE_CONTENT_TYPE:
                await response.aread()
                await _refused(transport, response, recovery, credentials)
            async for frame in read_frames(events.aiter_sse()):
                for reply in transcript.feed(frame):
                    request.on_reply(reply)
            for reply in transcript.finish():
                request.on_reply(reply)
    except TurnDeadlineExceeded as error:
        raise TurnDoubt(f"no end of the step after {settings.turn_deadline_s:g} s of heartbeats") from error
    except httpx.TransportError as error:
        if isinstance(error, UNSENT_ERRORS):
            raise TurnDoubt(f"cannot reach {settings.base_url}", unsent=True) from error
        if isinstance(error, httpx.ReadTimeout):
            raise TurnDoubt(f"no word from the agent for {settings.stream_read_timeout_s:g} s") from error
        raise TurnDoubt(f"the event stream broke ({type(error).__name__})") from error
    finally:
        if ticker is not None:
            ticker.cancel()
    if transcript.refusal:
        raise AgentRefusedError(f"the agent refused: {redact(transcript.refusal)[:300]}")
    if transcript.error:
        raise TurnDoubt(f"the agent reported an error ({redact(transcript.error)[:200]})", received=True)
    return transcript


async def _refused(
    transport: Transport, response: httpx.Response, recovery: Recovery, credentials: Credentials
) -> None:
    """A reply that is not an event stream: recover (raise _Recovered), doubt, or a typed error."""
    what = "sending a step to the editing agent"
    try:
        answer = read_answer(response, what)
    except ProtocolError as error:
        raise TurnDoubt(f"HTTP {response.status_code} without an event stream") from error
    code = answer.code
    if code == api.CODE_OK:
        raise ProtocolError(f"{what}: the reply was not an event stream")
    if code == response.status_code:
        code = api.SSE_STATUS_CODES.get(code, code)
    answer = Answer(code, answer.message, answer.data, answer.retry_after)
    if await recovery.recover(answer, credentials):
        raise _Recovered()
    if server_failure(code):
        raise TurnDoubt(f"HTTP {code} before the event stream")
    raise await transport.error(answer, what)


UNREAD: Any = object()
"""The draft before a turn when the caller does not know it: ``run_turn`` reads it."""


async def run_turn(
    transport: Transport, request: TurnRequest, read_draft: DraftReader, before: Any = UNREAD
) -> tuple[Any, Any, bool, int]:
    """Send a turn exactly once in effect; returns (draft before, draft after or None, interrupted, sends).

    ``before`` is the draft as it stands, when the caller knows it (read after the previous turn, with
    nothing sent since): a doubt compares against it, so it is read here only when unknown.
    """
    if before is UNREAD:
        before = await read_draft(request.session_id)
    recovery = Recovery(transport)
    sends = 0
    while True:
        sends += 1
        try:
            transcript = await send_turn(transport, request, recovery)
        except _Recovered:
            sends -= 1
            continue
        except TurnDoubt as doubt:
            log.info("step in doubt (%s); checking the session", doubt.reason)
            if doubt.unsent and sends < transport.settings.turn_sends:
                await transport.sleep(transport.settings.retry.delay(sends))
                continue
            after = await _settled_draft(transport, read_draft, request.session_id, before)
            if after != before:
                return before, after, True, sends
            if doubt.received:
                raise ServerError(
                    f"{doubt.reason}; the session did not change and the step was not sent again, "
                    "so nothing was paid twice; run the job again"
                ) from doubt
            if sends < transport.settings.turn_sends and await never_arrived(transport, request):
                log.info("the agent's session has no record of the step; sending it again")
                continue
            raise StepInDoubtError(
                f"{doubt.reason}; the session did not change and nothing proves the step never arrived, so it "
                "was not sent again (it may still be running; nothing was paid twice); run the job again later"
            ) from doubt
        after = None if transcript.has_text else await read_draft(request.session_id)
        return before, after, False, sends


async def _settled_draft(transport: Transport, read_draft: DraftReader, session_id: str, before: Any) -> Any:
    """The draft after a doubt; if unchanged, look once more after a poll interval (edits may settle late)."""
    after = await read_draft(session_id)
    if after == before:
        await transport.sleep(transport.settings.poll_interval_s)
        after = await read_draft(session_id)
    return after


async def never_arrived(transport: Transport, request: TurnRequest) -> bool:
    """True only when the agent server's session record lists this message no more than its earlier sends."""
    events = await _record_events(transport, request.user_id, request.session_id)
    if events is None:
        return False  # no record to read: nothing is proven
    return len(_user_messages(events, request.text)) <= request.earlier_sends


@dataclass(frozen=True)
class TurnLanding:
    """What the agent server's record says of a message: arrived (None: unknown), and answered since."""

    arrived: bool | None
    finished: bool = False


async def read_landing(transport: Transport, user_id: str, session_id: str, text: str, times: int) -> TurnLanding:
    """Whether ``text`` reached the session at least ``times`` times, and whether the agent spoke after the last."""
    events = await _record_events(transport, user_id, session_id)
    if events is None:
        return TurnLanding(None)
    positions = _user_messages(events, text)
    if len(positions) < times:
        return TurnLanding(False)
    last = positions[times - 1] if times > 0 else -1
    return TurnLanding(True, finished=any(_answer(event) for event in events[last + 1 :]))


async def _record_events(transport: Transport, user_id: str, session_id: str) -> list[Any] | None:
    """The events of the agent server's own session record, or None when there is no record to read."""
    path = api.ADK_SESSION_PATH.format(user_id=user_id, session_id=session_id)
    try:
        credentials = await transport.tokens.get()
        response = await transport.http.get(transport.url(path), headers=transport.headers(credentials))
        record = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    if isinstance(record, dict) and isinstance(record.get("data"), dict) and "events" not in record:
        record = record["data"]  # the same record inside the service's envelope
    events = record.get("events") if isinstance(record, dict) else None
    return events if isinstance(events, list) else None


def _user_messages(events: list[Any], text: str) -> list[int]:
    """Where in a session record the user events carrying exactly ``text`` are."""
    found = []
    for index, event in enumerate(events):
        if _said_by(event, "user") == text:
            found.append(index)
    return found


def _said_by(event: Any, role: str) -> str | None:
    """The text of an event from ``role`` (parts joined), or None when the event is not one."""
    content = event.get("content") if isinstance(event, dict) else None
    if not isinstance(content, dict) or content.get("role") != role:
        return None
    parts = content.get("parts")
    return "".join(p.get("text", "") for p in parts if isinstance(p, dict)) if isinstance(parts, list) else ""


def _answer(event: Any) -> bool:
    """An event that ends the agent's answer to a message: a later user message, the turn's end, or final text."""
    if not isinstance(event, dict):
        return False
    if _said_by(event, "user") is not None or event.get("turnComplete") is True or event.get("turn_complete") is True:
        return True
    content = event.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    if event.get("partial") is True or not isinstance(parts, list):
        return False
    texts = [part for part in parts if isinstance(part, dict) and part.get("text")]
    calls = [part for part in parts if isinstance(part, dict) and ("functionCall" in part or "function_call" in part)]
    return bool(texts) and not calls
