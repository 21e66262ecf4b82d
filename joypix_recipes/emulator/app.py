"""The emulator's routes: the API origin (auth, sessions, uploads, turns, credits, state, renders)
and the download origin (finished files, no auth), each wrapped in the request recorder.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from joypix_recipes.emulator import agent, judge, timeline
from joypix_recipes.emulator.media import (
    DRAIN_LIMIT,
    UploadRefused,
    fetch_url,
    receive_multipart,
    too_large,
)
from joypix_recipes.emulator.renders import RenderFarm
from joypix_recipes.emulator.state import (
    EmulatorState,
    Origin,
    RenderRecord,
    SessionRecord,
    StoredMedia,
)
from joypix_recipes.emulator.stream import run_turn
from joypix_recipes.emulator.variation import PLAIN, Variation
from joypix_recipes.emulator.wrappers import Faults, Recorder, envelope, seconds_header

APP_NAME = "nemo_agent"
NO_CREDITS = 2001
AUTH_FAILED = 1001
SESSION_LOST = 1002
_RENDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_MULTIPART_SLACK = 64 * 1024
"""Room for multipart framing around the file when judging a declared Content-Length."""


def _auth_failed(status: int = 200) -> JSONResponse:
    return envelope(code=AUTH_FAILED, message="Your token is missing or has expired; get a new one.", status=status)


def _session_lost(status: int = 200) -> JSONResponse:
    return envelope(code=SESSION_LOST, message="Session not found; start a new session.", status=status)


def _bad_request(message: str) -> JSONResponse:
    return envelope(code=422, message=message, status=422)


def _gateway_failure() -> Response:
    """What a client hears when a gateway loses the service's reply: a 502 without the envelope."""
    return Response(b"<html><body>502 Bad Gateway</body></html>", status_code=502, media_type="text/html")


_STATUS_CODES = {"queued": 0, "rendering": 1, "completed": 2, "failed": 3}
_ODD_WORDS = {"queued": "waiting", "rendering": "working", "completed": "ok", "failed": "aborted"}


async def _hold(state: EmulatorState, seconds: float) -> None:
    """Wait ``seconds``, or less if the emulator stops meanwhile."""
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while not state.stopping.is_set() and loop.time() < until:
        await asyncio.sleep(min(0.05, until - loop.time()))


async def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


class Api:
    """Handlers of the API origin over one shared state."""

    def __init__(self, state: EmulatorState, farm: RenderFarm) -> None:
        self.state = state
        self.farm = farm
        self.turns: set[asyncio.Task[None]] = set()
        """Turns still running on the server, readers or not."""

    def routes(self) -> list[Route]:
        """The API origin's routing table."""
        return [
            Route("/api/auth/anonymous-token", self.anonymous_token, methods=["POST"]),
            Route("/api/tasks/me/with-session/nemo_agent", self.create_session, methods=["POST"]),
            Route("/api/upload-video/nemo_agent/me/{sid}", self.upload, methods=["POST"]),
            Route("/api/credits/balance/simple", self.credits, methods=["GET"]),
            Route("/api/state/nemo_agent/me/{sid}/latest", self.session_state, methods=["GET"]),
            Route("/run_sse", self.run_sse, methods=["POST"]),
            Route("/apps/{app}/users/{uid}/sessions/{sid}", self.agent_session, methods=["GET"]),
            Route("/api/render/proxy/lambda", self.start_render, methods=["POST"]),
            Route("/api/render/proxy/lambda/{render_id}", self.render_status, methods=["GET"]),
            # Relative download links (``url_shape="relative"``) resolve against this origin.
            Route("/files/{name}", Downloads(self.state).file, methods=["GET", "HEAD"]),
        ]

    def _refuse(self, request: Request, problem: str, *, status: int = 400, code: int | None = None) -> JSONResponse:
        self.state.violation(f"{request.method} {request.url.path}: {problem}")
        return envelope(code=code if code is not None else status, message=f"Bad request: {problem}.", status=status)

    def _judge(self, request: Request, *, body_type: str | None = None) -> JSONResponse | None:
        """The documented rules every call obeys: attribution headers, then (if it has one) the body's type."""
        problem = judge.attribution_problem(request.headers)
        if problem is not None:
            return self._refuse(request, problem)
        if body_type is not None and judge.media_type(request.headers) != body_type:
            return self._refuse(request, f"the body must be {body_type}", status=415)
        return None

    def _authorised(self, request: Request) -> bool:
        if judge.bearer_token(request.headers) is None:
            self.state.violation(f"{request.method} {request.url.path}: no Authorization: Bearer header")
        return self.state.authorise(request.headers.get("authorization")) is not None

    async def anonymous_token(self, request: Request) -> Response:
        """Issue a token for a new client id; one per client id per token lifetime."""
        refused = self._judge(request)
        if refused is not None:
            return refused
        client_id = request.headers.get("x-client-id", "").strip()
        if not client_id:
            return envelope(code=400, message="Missing X-Client-Id header.", status=400)
        with self.state.lock:
            self.state.counters.token_client_ids.append(client_id)
        with self.state.lock:  # check and issue as one step, so twin requests get one token
            recent = self.state.client_recently_issued(client_id)
            record = None if recent else self.state.issue_token(client_id)
        if record is None:
            return envelope(
                code=429,
                message="This client already has a token; try again later.",
                status=429,
                headers={"Retry-After": seconds_header(self.state.knobs.retry_after)},
            )
        if self.state.take("drop_token_reply_next"):
            return _gateway_failure()  # issued, but the client never hears of it
        data = {"token": record.token, "expires_in": int(self.state.knobs.token_lifetime), "credits": self.state.knobs.credits}
        return envelope(data)

    async def create_session(self, request: Request) -> Response:
        """Start an editing session with an empty 9:16 draft and this session's undocumented shapes."""
        refused = self._judge(request, body_type=judge.JSON_TYPE)
        if refused is not None:
            return refused
        token = self.state.authorise(request.headers.get("authorization"))
        if token is None:
            return _auth_failed()
        body = await _json_body(request)
        missing = judge.missing_fields(body, judge.SESSION_FIELDS)
        if missing:
            return self._refuse(request, f"the body lacks {', '.join(missing)}", status=422)
        assert body is not None
        variation = self.state.next_variation()
        session = SessionRecord(
            session_id=f"sess_{uuid.uuid4().hex}",
            task_id=f"task_{uuid.uuid4().hex[:12]}",
            bind_id=token.bind_id,
            language=str(body.get("language") or "en"),
            draft=agent.start_draft(),
            variation=variation,
            user_id=f"user_{uuid.uuid4().hex[:10]}" if variation.names_user else None,
        )
        self.state.add_session(session)
        data: dict[str, Any] = {"session_id": session.session_id, "task_id": session.task_id, "bind_id": session.bind_id}
        if session.user_id is not None:
            data["user_id"] = session.user_id
        cookie = self.state.knobs.affinity_cookie
        headers = {"Set-Cookie": f"{cookie}; Path=/; HttpOnly"} if cookie else None
        return envelope(variation.decorate(data), headers=headers)

    async def upload(self, request: Request) -> Response:
        """Store a multipart file part (any field name), or fetch ``{"url": ...}``; images join the draft."""
        content_type = judge.media_type(request.headers)
        expected = judge.JSON_TYPE if content_type == judge.JSON_TYPE else judge.MULTIPART_TYPE
        refused = self._judge(request, body_type=expected)
        if refused is not None:
            return refused
        if not self._authorised(request):
            return _auth_failed()
        session = self.state.find_session(request.path_params["sid"])
        if session is None:
            return _session_lost()
        media_id = f"media_{uuid.uuid4().hex[:16]}"
        limit = self.state.knobs.max_upload_bytes
        try:
            if content_type == judge.JSON_TYPE:
                url = _upload_url(await _json_body(request), self.state.knobs.url_upload_field)
                if url is None:
                    field = self.state.knobs.url_upload_field
                    shape = '{"url": "https://..."}' if field == "url" else '{"urls": ["https://..."]}'
                    return _bad_request(f"A URL upload needs a JSON body {shape}.")
                received = await fetch_url(url, self.state.uploads_dir, media_id, limit)
            else:
                declared = request.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit + _MULTIPART_SLACK:
                    raise too_large("the file", limit)
                received = await receive_multipart(
                    request.stream(), request.headers.get("content-type", ""), self.state.uploads_dir, media_id, limit
                )
        except UploadRefused as refusal:
            await _drain(request)
            return envelope(code=refusal.code, message=refusal.message)
        listed_at = self.state.clock() + max(self.state.knobs.ingest_delay_s, 0.0)
        media = StoredMedia(
            media_id, received.name, received.type, received.size, received.path, session.session_id, listed_at
        )
        self.state.add_media(media)
        with self.state.lock:
            session.media.append(media)
            session.draft = agent.attach_upload(session.draft, media)
        if self.state.take("drop_upload_reply_next"):
            return _gateway_failure()  # stored, but the client never hears of it
        if self.state.knobs.hold_upload_reply_s > 0:
            await _hold(self.state, self.state.knobs.hold_upload_reply_s)  # stored; the reply is what is late
        return envelope(session.variation.upload_reply(media.info()))

    async def credits(self, request: Request) -> Response:
        """The account's balance."""
        refused = self._judge(request)
        if refused is not None:
            return refused
        if not self._authorised(request):
            return _auth_failed()
        return envelope(self.state.balance())

    async def session_state(self, request: Request) -> Response:
        """The session's draft, uploads and renders, flat or nested per the ``state_shape`` knob."""
        refused = self._judge(request)
        if refused is not None:
            return refused
        if not self._authorised(request):
            return _auth_failed()
        session = self.state.find_session(request.path_params["sid"])
        if session is None:
            return _session_lost()
        variation = session.variation
        with self.state.lock:
            renders = [r for r in self.state.renders.values() if r.session_id == session.session_id]
            generated = [self._render_info(r, variation) for r in renders]
            draft: Any = timeline.wire_draft(session.draft, variation)
            if self.state.knobs.draft_shape == "string":
                draft = json.dumps(draft, separators=(",", ":"))
            now = self.state.clock()
            body = {
                "draft": draft,
                "video_infos": [variation.decorate(media.info()) for media in session.media if media.listed_at <= now],
                "generated_media": generated,
            }
        if self.state.knobs.state_shape == "nested":
            return envelope(variation.decorate({"state": body, "bind_id": session.bind_id}))
        return envelope(variation.decorate({**body, "bind_id": session.bind_id}))

    async def run_sse(self, request: Request) -> Response:
        """One agent turn as an ADK event stream."""
        with self.state.lock:
            self.state.counters.turns_posted += 1
        refused = self._judge(request, body_type=judge.JSON_TYPE)
        if refused is not None:
            return refused
        if not judge.accepts_event_stream(request.headers):
            return self._refuse(request, "a turn must accept text/event-stream", status=406)
        if not self._authorised(request):
            return _auth_failed(status=401)
        body = await _json_body(request)
        missing = judge.missing_fields(body, judge.TURN_FIELDS)
        text = judge.message_text(body.get("new_message")) if body is not None else None
        if missing or text is None or body is None:
            problem = f"the body lacks {', '.join(missing)}" if missing else "new_message has no user text part"
            return self._refuse(request, problem, status=422, code=422)
        if body["app_name"] != APP_NAME:
            return envelope(code=404, message=f"App {body['app_name']} not found.", status=404)
        session = self.state.find_session(str(body["session_id"]))
        if session is None or (session.user_id is not None and body["user_id"] != session.user_id):
            return _session_lost(status=404)  # the agent server keys sessions by app, user and session
        with self.state.lock:
            self.state.count_paid_turn(session.session_id)
            session.events.append(agent.user_event(text))
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        frames = run_turn(self.state, session, text, streaming=body.get("streaming") is not False, tasks=self.turns)
        return StreamingResponse(frames, media_type="text/event-stream", headers=headers)

    async def agent_session(self, request: Request) -> Response:
        """The agent server's own session record (ADK's shape, no envelope): its events, user messages included."""
        refused = self._judge(request)
        if refused is not None:
            return refused
        if not self._authorised(request):
            return _auth_failed(status=401)
        session = self.state.find_session(request.path_params["sid"])
        expected_user = session.user_id if session is not None else None
        if session is None or request.path_params["app"] != APP_NAME or request.path_params["uid"] not in (expected_user or "me", "me"):
            return JSONResponse({"detail": "Session not found"}, status_code=404)
        with self.state.lock:
            record = {
                "id": session.session_id,
                "appName": APP_NAME,
                "userId": session.user_id or "me",
                "state": {},
                "events": list(session.events),
                "lastUpdateTime": self.state.clock(),
            }
        return JSONResponse(record)

    async def start_render(self, request: Request) -> Response:
        """Queue an export of the session's timeline; the same id again returns the same render."""
        state = self.state
        with state.lock:
            state.counters.renders_posted += 1
        if judge.attribution_problem(request.headers) is not None:
            # Documented: an export without the attribution headers is answered 402.
            state.violation(f"POST {request.url.path}: {judge.attribution_problem(request.headers)}")
            return envelope(code=402, message="Register or upgrade your plan to unlock export.", status=402)
        refused = self._judge(request, body_type=judge.JSON_TYPE)
        if refused is not None:
            return refused
        if not self._authorised(request):
            return _auth_failed()
        if state.knobs.export_blocked:
            return envelope(code=402, message="Register or upgrade your plan to unlock export.", status=402)
        body = await _json_body(request)
        missing = judge.missing_fields(body, judge.RENDER_FIELDS)
        if missing or body is None:
            return self._refuse(request, f"the body lacks {', '.join(missing)}", status=422, code=422)
        if not isinstance(body["id"], str) or not _RENDER_ID.match(body["id"]):
            return _bad_request("A render needs an id made of letters, digits, _ and -.")
        posted_draft = _draft_object(body["draft"])
        if posted_draft is None or not isinstance(body["output"], dict):
            return self._refuse(request, "draft and output must be JSON objects", status=422, code=422)
        with state.lock:
            existing = state.renders.get(body["id"])
            if existing is not None:
                return envelope(self._render_info(existing, self._variation_of(existing)))
        session = state.find_session(str(body["sessionId"]))
        if session is None:
            return _session_lost()
        with state.lock:
            if posted_draft != timeline.wire_draft(session.draft, session.variation):
                state.counters.drafts_altered += 1
            if isinstance(body["draft"], str) != (state.knobs.draft_shape == "string"):
                state.counters.drafts_retyped += 1
            draft = timeline.apply_output(session.draft, body["output"])
            if body["id"] in state.renders:  # a concurrent duplicate POST won the race
                return envelope(self._render_info(state.renders[body["id"]], session.variation))
            cost = state.charge_render(session.session_id)
            if cost is None:
                link = f"https://nemovideo.ai/register?bind={session.bind_id}"
                return envelope(
                    {"bind_id": session.bind_id},
                    code=NO_CREDITS,
                    message=f"You have no credits left. Register or top up at {link}",
                )
            quality = str(body["output"].get("quality", "high"))
            record = RenderRecord(body["id"], session.session_id, draft, quality, state.clock(), cost)
            state.renders[record.render_id] = record
            state.counters.renders_started += 1
        self.farm.submit(record)
        if state.knobs.hold_render_reply_s > 0:
            await _hold(state, state.knobs.hold_render_reply_s)  # taken and paid; the reply is what is late
        reply = {"id": record.render_id, "status": self._status_value(record, session.variation)}
        return envelope(session.variation.decorate(reply))

    async def render_status(self, request: Request) -> Response:
        """A render's status and, once completed, its download URL on the other origin."""
        state = self.state
        refused = self._judge(request)
        if refused is not None:
            return refused
        if not self._authorised(request):
            return _auth_failed()
        render_id = request.path_params["render_id"]
        with state.lock:
            state.counters.polls += 1
            record = state.renders.get(render_id)
            if record is None:
                return envelope(code=404, message="No render with that id.", status=404)
            state.poll_times.setdefault(render_id, []).append(time.monotonic())
            running = record.status in ("queued", "rendering")
            info = self._render_info(record, self._variation_of(record))
        headers = None
        if state.knobs.poll_retry_after is not None and running:
            headers = {"Retry-After": seconds_header(state.knobs.poll_retry_after)}
        return envelope(info, headers=headers)

    def _variation_of(self, record: RenderRecord) -> Variation:
        session = self.state.sessions.get(record.session_id)
        return session.variation if session is not None else PLAIN

    def _status_value(self, record: RenderRecord, variation: Variation) -> str | int:
        words = self.state.knobs.render_words
        if words == "numeric":
            return _STATUS_CODES[record.status]
        if words == "odd":
            return _ODD_WORDS[record.status]
        return variation.status_word(record.status)

    def _render_info(self, record: RenderRecord, variation: Variation) -> dict[str, Any]:
        knobs = self.state.knobs
        info: dict[str, Any] = {"id": record.render_id, "status": self._status_value(record, variation)}
        if variation.shows_progress and not knobs.hide_render_progress:
            progress = self.farm.progress(record)
            info["progress"] = round(progress / 100, 3) if knobs.progress_scale == "fraction" else progress
        if record.status == "completed":
            path = f"/files/{record.render_id}.mp4"
            if knobs.expire_first_link:
                record.links += 1  # every link handed out is freshly signed
                path += f"?sig={record.links}"
            url = path if knobs.url_shape == "relative" else f"{self.state.download_base_url}{path}"
            if knobs.url_shape == "nested":
                info["output"] = {"url": url}
            elif knobs.url_shape == "result":
                info["result"] = {"video_url": url, "format": "mp4"}
            elif knobs.url_shape == "relative":
                info["url"] = url
            else:
                variation.place_url(info, url)
        if record.status == "failed":
            info["error"] = record.error
        return variation.decorate(info)


def _upload_url(body: dict[str, Any] | None, field: str) -> str | None:
    """The URL a JSON upload names in ``field`` (``url``: a string; ``urls``: a list whose first item is one)."""
    if body is None:
        return None
    value = body.get(field)
    if field == "urls":
        value = value[0] if isinstance(value, list) and value else None
    return value if isinstance(value, str) and value else None


def _draft_object(draft: Any) -> dict[str, Any] | None:
    """A posted draft as an object: an object as it is, or a string holding one (as ``draft_shape="string"`` serves it)."""
    if isinstance(draft, str):
        try:
            draft = json.loads(draft)
        except ValueError:
            return None
    return draft if isinstance(draft, dict) else None


async def _drain(request: Request) -> None:
    """Read and discard what is left of a refused body (up to a limit) so the client gets its reply."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > DRAIN_LIMIT:
        return
    drained = 0
    try:
        async for chunk in request.stream():
            drained += len(chunk)
            if drained > DRAIN_LIMIT:
                return
    except Exception:  # noqa: BLE001 -- the stream was already consumed, or the client went away
        return


class Downloads:
    """Handlers of the download origin: finished renders, no auth."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        """The download origin's routing table."""
        return [Route("/files/{name}", self.file, methods=["GET", "HEAD"])]

    async def file(self, request: Request) -> Response:
        """Serve a completed render's MP4; with ``expire_first_link``, a render's first signed link is refused."""
        name: str = request.path_params["name"]
        with self.state.lock:
            record = self.state.renders.get(name.removesuffix(".mp4")) if name.endswith(".mp4") else None
            ready = record is not None and record.status == "completed" and record.path is not None
            if ready and self.state.knobs.expire_first_link and request.query_params.get("sig") in (None, "1"):
                self.state.counters.links_refused += 1
                return Response(b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                                status_code=403, media_type="application/xml")  # fmt: skip
            if ready and request.method == "GET":
                self.state.counters.downloads += 1
        if not ready or record is None or record.path is None:
            return envelope(code=404, message="No such file.", status=404)
        if self.state.knobs.hold_download_s > 0 and request.method == "GET":
            await _hold(self.state, self.state.knobs.hold_download_s)
        return FileResponse(record.path, media_type="video/mp4", filename=name)


async def _not_found(request: Request, exc: Exception) -> Response:
    return envelope(code=404, message="Not found.", status=404)


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return envelope(code=405, message="Method not allowed.", status=405)


def _off_protocol(state: EmulatorState) -> dict[Any, Any]:
    """Routing misses on the API origin: a path or method the protocol does not have is a violation."""

    async def not_found(request: Request, exc: Exception) -> Response:
        state.violation(f"{request.method} {request.url.path}: no such endpoint")
        return await _not_found(request, exc)

    async def not_allowed(request: Request, exc: Exception) -> Response:
        state.violation(f"{request.method} {request.url.path}: the endpoint does not take this method")
        return await _not_allowed(request, exc)

    return {404: not_found, 405: not_allowed}


def create_app(state: EmulatorState, origin: Origin, farm: RenderFarm | None = None) -> ASGIApp:
    """The ASGI app of one origin: ``"api"`` (needs the render farm) or ``"download"``."""
    handlers: dict[Any, Any] = {404: _not_found, 405: _not_allowed}
    if origin == "api":
        if farm is None:
            raise ValueError("the API origin needs a render farm")
        api = Starlette(routes=Api(state, farm).routes(), exception_handlers=_off_protocol(state))
        return Recorder(Faults(api, state), state, "api")
    downloads = Starlette(routes=Downloads(state).routes(), exception_handlers=handlers)
    return Recorder(downloads, state, "download")

