"""``NemoClient``: the JoyPix/NemoVideo API over async httpx, with its retry and recovery rules.

Rules (the reference's error table, made safe for unattended runs):
- every non-SSE reply is an envelope; a non-zero code is an error whatever the HTTP status;
- 1001: renew the token once and retry; 400: fresh client id, retry once; 429: wait Retry-After
  (else 30 s), retry once; 5xx and network errors: bounded backoff with jitter, only where repeating
  cannot do a paid or visible thing twice;
- a render POST that failed ambiguously is looked up by its id before it is posted again;
- a turn whose stream broke is not re-sent blindly: the draft is compared with the one before it.
The bearer token only ever goes to the API origin; downloads use a second client without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Self

import httpx
from httpx_sse import aconnect_sse

from joypix_recipes.api import endpoints as api
from joypix_recipes.api.auth import (
    Credentials,
    TokenCache,
    TokenProvider,
    new_client_id,
)
from joypix_recipes.api.codes import (
    RenderNotFound,
    error_for,
    file_too_large_error,
    unsupported_file_error,
)
from joypix_recipes.api.download import Downloader
from joypix_recipes.api.envelope import (
    Answer,
    as_int,
    as_text,
    read_answer,
    server_failure,
)
from joypix_recipes.api.home import record_session
from joypix_recipes.api.models import (
    Credits,
    Media,
    RenderStatus,
    Session,
    SessionState,
    TurnResult,
)
from joypix_recipes.api.redact import get_logger, redact, remember_secret
from joypix_recipes.api.settings import ClientSettings
from joypix_recipes.api.sse import (
    Transcript,
    TurnDeadlineExceeded,
    read_frames,
    still_working_ticker,
    turn_deadline,
)
from joypix_recipes.errors import (
    ApiError,
    JoypixError,
    ProtocolError,
    RenderError,
    ServerError,
    UnsupportedFileError,
)

log = get_logger()

Repeat = Literal["always", "unsent", "never"]
"""When a failed request may be sent again: always (reads, idempotent ids), only if it provably never
reached the server (connect errors) or on a 5xx answer (``unsent``), or never (the caller decides)."""

_UNSENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class _Recovery:
    """The once-only recoveries of one logical request: re-auth, new client id, rate-limit wait."""

    def __init__(self, client: NemoClient) -> None:
        self._client = client
        self.reauthed = self.new_id = self.waited = False

    async def recover(self, code: int, retry_after: float | None, credentials: Credentials | None) -> bool:
        """Perform the recovery ``code`` calls for, if not done yet; True means send again."""
        provider = self._client._tokens
        if code == api.CODE_BAD_TOKEN and credentials is not None and not self.reauthed:
            self.reauthed = True
            log.info("token refused; renewing it")
            await provider.renew(credentials)
            return True
        if code == api.CODE_MISSING_CLIENT_ID and credentials is not None and not self.new_id:
            self.new_id = True
            log.info("service reported a missing client id; using a fresh one")
            await provider.new_client_id(credentials)
            return True
        if code == api.CODE_RATE_LIMITED and not self.waited:
            self.waited = True
            await self._client._wait_rate_limit(retry_after)
            return True
        return False


class _TurnInterrupted(Exception):
    """The turn may or may not have landed: stream cut, agent error frame, 5xx before the stream."""


class NemoClient:
    """Async client for one API origin; share one across jobs, close it with ``aclose``."""

    def __init__(self, settings: ClientSettings, *, sleep: Callable[[float], Any] | None = None) -> None:
        self.settings = settings
        self._sleep = sleep or asyncio.sleep
        self._tokens = TokenProvider(TokenCache(settings.home, settings.base_url), self._fetch_anonymous)
        timeout = httpx.Timeout(settings.request_timeout_s, connect=settings.connect_timeout_s)
        self._http = httpx.AsyncClient(base_url=settings.base_url, timeout=timeout, follow_redirects=False)
        # Downloads may be on a CDN: a separate client that has never heard of the token.
        self._downloader = Downloader(settings, self._sleep)
        self._bind_id: str | None = None
        self._last_session: str | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close both HTTP clients."""
        await self._http.aclose()
        await self._downloader.aclose()

    @property
    def credentials(self) -> Credentials | None:
        """The credentials in use (for messages about their source, never their value)."""
        return self._tokens.current

    # ---- endpoints -------------------------------------------------------------------------------

    async def credits(self) -> Credits:
        """The account's balance."""
        data = (await self._request("GET", api.CREDITS_PATH, what="checking credits", repeat="always")).data
        return Credits(as_int(data.get("available")), as_int(data.get("frozen")), as_int(data.get("total")))

    async def create_session(self, language: str | None = None) -> Session:
        """A new editing session (an empty one is harmless, so this may be retried)."""
        body = {"task_name": api.TASK_NAME, "language": language or self.settings.language}
        answer = await self._request(
            "POST", api.CREATE_SESSION_PATH, what="creating a session", repeat="always", body=lambda _: {"json": body}
        )
        session_id = answer.data.get("session_id")
        if not isinstance(session_id, str) or not session_id:
            raise ProtocolError("creating a session: the service did not return a session id")
        bind_id = api.dig(answer.data, api.BIND_ID_PATHS)
        session = Session(session_id, as_text(answer.data.get("task_id")), as_text(bind_id))
        self._bind_id = session.bind_id or self._bind_id
        self._last_session = session_id
        with contextlib.suppress(OSError):
            record_session(self.settings.home, self.settings.base_url, session_id, session.bind_id)
        return session

    async def upload_file(self, session_id: str, path: Path) -> Media:
        """Upload a local file (streamed multipart) after checking its type and size."""
        check_uploadable(path.name, display=str(path))
        try:
            size = path.stat().st_size
        except OSError as error:
            raise UnsupportedFileError(f"{path}: cannot read the file to upload it") from error
        if size > api.MAX_UPLOAD_BYTES:
            raise file_too_large_error(str(path))
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"

        def body(stack: contextlib.ExitStack) -> dict[str, Any]:
            handle = stack.enter_context(path.open("rb"))
            return {"files": {"file": (path.name, handle, mime)}}

        return await self._upload(session_id, body, str(path))

    async def upload_url(self, session_id: str, url: str) -> Media:
        """Ask the service to fetch a file from ``url`` itself."""
        name = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        if "." in name:
            check_uploadable(name, display=url)
        return await self._upload(session_id, lambda _: {"json": {"url": url}}, url)

    async def state(self, session_id: str) -> SessionState:
        """The session's current state; the draft is accepted at ``data.draft`` or ``data.state.draft``."""
        path = api.STATE_PATH.format(session_id=session_id)
        data = (await self._request("GET", path, what="reading the session state", repeat="always")).data
        draft = api.dig(data, api.DRAFT_PATHS)
        if draft is not None and not isinstance(draft, dict):
            raise ProtocolError("reading the session state: the draft is not a JSON object")
        bind_id = as_text(api.dig(data, api.BIND_ID_PATHS))
        self._bind_id = bind_id or self._bind_id
        nested = data.get("state")
        state: dict[str, Any] = nested if isinstance(nested, dict) else data
        return SessionState(
            draft=draft or None,
            video_infos=list(state.get("video_infos") or []),
            generated_media=list(state.get("generated_media") or []),
            bind_id=bind_id,
        )

    async def turn(
        self,
        session_id: str,
        text: str,
        *,
        on_reply: Callable[[str], None] | None = None,
        on_still_working: Callable[[float], None] | None = None,
    ) -> TurnResult:
        """Send one message to the agent; never re-sends unless the draft shows the edit did not land."""
        before = (await self.state(session_id)).draft
        replies: list[str] = []

        def shown(reply: str) -> None:
            replies.append(reply)
            if on_reply is not None:
                on_reply(reply)

        sends = 0
        recovery = _Recovery(self)
        while True:
            sends += 1
            try:
                transcript = await self._send_turn(session_id, text, shown, on_still_working, recovery)
            except _TurnInterrupted as interruption:
                log.info("turn interrupted (%s); checking whether the edit landed", interruption)
                after = await self._settled_draft(session_id, before)
                if after != before:
                    return TurnResult(tuple(replies), before, after, sends, interrupted=True)
                if sends >= self.settings.turn_sends:
                    raise ServerError(
                        f"the editing agent was interrupted {sends} times on one step and the edit never "
                        "landed; try again later"
                    ) from interruption
                await self._sleep(self.settings.retry.delay(sends))
                continue
            if transcript is None:  # refused before any stream and recovered: the turn never ran
                sends -= 1
                continue
            after = None if transcript.has_text else (await self.state(session_id)).draft
            return TurnResult(tuple(replies), before, after, sends)

    async def start_render(self, session_id: str, draft: dict[str, Any], quality: str = "high") -> str:
        """POST an export and return its render id; an ambiguous failure is looked up, not re-posted."""
        render_id = f"render_{int(time.time() * 1000)}_{secrets.token_hex(4)}"
        body = {
            "id": render_id,
            "sessionId": session_id,
            "draft": draft,
            "output": {"format": "mp4", "quality": quality},
        }
        for attempt in range(1, self.settings.retry.attempts + 1):
            try:
                await self._request(
                    "POST", api.RENDER_PATH, what="starting the export", repeat="never", body=lambda _: {"json": body}
                )
                return render_id
            except ServerError as failure:
                # The POST may have reached the service: look the id up before paying again.
                try:
                    await self.render_status(render_id)
                    log.info("render POST failed but the render exists; attaching to it")
                    return render_id
                except RenderNotFound:
                    if attempt == self.settings.retry.attempts:
                        raise failure from None
                await self._sleep(self.settings.retry.delay(attempt))
        raise ServerError("starting the export failed; try again later")  # pragma: no cover

    async def render_status(self, render_id: str) -> RenderStatus:
        """One poll of a render (raises RenderNotFound for an unknown id)."""
        path = api.RENDER_STATUS_PATH.format(render_id=render_id)
        answer = await self._request("GET", path, what=f"checking render {render_id}", repeat="always")
        data = answer.data
        status = str(data.get("status", ""))
        if status not in api.RENDER_STATES:
            raise ProtocolError(f"checking render {render_id}: unknown status {status[:40]}")
        return RenderStatus(
            render_id=render_id,
            status=status,
            progress=float(data.get("progress") or 0),
            url=as_text(api.dig(data, api.RENDER_URL_PATHS)),
            error=as_text(data.get("error")),
            retry_after=answer.retry_after,
        )

    async def wait_for_render(
        self, render_id: str, on_progress: Callable[[RenderStatus], None] | None = None
    ) -> str:
        """Poll until the render completes (its download URL) or fails (RenderError)."""
        deadline = time.monotonic() + self.settings.render_deadline_s
        while True:
            status = await self.render_status(render_id)
            if on_progress is not None:
                on_progress(status)
            if status.status == "completed":
                if not status.url:
                    raise ProtocolError(f"render {render_id} completed without a download link")
                return status.url
            if status.status == "failed":
                reason = redact(status.error or "no reason given")[:200]
                raise RenderError(f"the cloud export failed ({reason}); run the job again")
            if time.monotonic() > deadline:
                raise ServerError(
                    f"render {render_id} did not finish within {self.settings.render_deadline_s:g} s; "
                    "run again later to re-attach to it"
                )
            wait = status.retry_after if status.retry_after is not None else self.settings.poll_interval_s
            await self._sleep(min(wait, self.settings.max_wait_s))

    async def download(self, url: str, target: Path) -> int:
        """Stream the finished file at ``url`` into ``target`` without the token; returns its size."""
        return await self._downloader.fetch(url, target)

    # ---- plumbing --------------------------------------------------------------------------------

    async def _upload(
        self, session_id: str, body: Callable[[contextlib.ExitStack], dict[str, Any]], name: str
    ) -> Media:
        path = api.UPLOAD_PATH.format(session_id=session_id)
        answer = await self._request(
            "POST", path, what=f"uploading {name}", repeat="unsent", body=body, file_name=name
        )
        data = answer.data
        media_id = data.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise ProtocolError(f"uploading {name}: the service did not return a media id")
        return Media(media_id, str(data.get("name") or name), str(data.get("type") or ""), as_int(data.get("size")))

    def _headers(self, credentials: Credentials) -> dict[str, str]:
        remember_secret(credentials.token)
        return {
            **self.settings.attribution(),
            api.HEADER_AUTHORIZATION: f"Bearer {credentials.token}",
            api.HEADER_CLIENT_ID: credentials.client_id,
        }

    async def _fetch_anonymous(self) -> tuple[str, str, float]:
        """POST anonymous-token with a fresh client id per attempt (the service allows one per 7 days)."""
        waited = False
        for attempt in range(1, self.settings.retry.attempts + 1):
            client_id = new_client_id()
            headers = {**self.settings.attribution(), api.HEADER_CLIENT_ID: client_id}
            try:
                response = await self._http.post(api.ANONYMOUS_TOKEN_PATH, headers=headers)
            except httpx.TransportError as error:
                if attempt == self.settings.retry.attempts:
                    raise ServerError(f"cannot reach {self.settings.base_url} to get a token; check the network") from error
                await self._sleep(self.settings.retry.delay(attempt))
                continue
            answer = read_answer(response, "getting an anonymous token")
            if answer.code == api.CODE_OK:
                token = answer.data.get("token")
                if not isinstance(token, str) or not token:
                    raise ProtocolError("getting an anonymous token: the service returned none")
                remember_secret(token)
                expires_in = answer.data.get("expires_in")
                lifetime = float(expires_in) if isinstance(expires_in, (int, float)) else float(api.TOKEN_LIFETIME_S)
                return token, client_id, lifetime
            if answer.code == api.CODE_MISSING_CLIENT_ID:
                continue  # a fresh id comes with the next attempt
            if answer.code == api.CODE_RATE_LIMITED and not waited:
                waited = True
                await self._wait_rate_limit(answer.retry_after)
                continue
            if server_failure(answer.code) and attempt < self.settings.retry.attempts:
                await self._sleep(self.settings.retry.delay(attempt))
                continue
            raise error_for(answer.code, answer.message, what="getting an anonymous token")
        raise ServerError("getting an anonymous token kept failing; try again later")

    async def _wait_rate_limit(self, retry_after: float | None) -> None:
        wait = retry_after if retry_after is not None else self.settings.rate_limit_wait_s
        log.info("rate limited; waiting %.1f s", wait)
        await self._sleep(min(wait, self.settings.max_wait_s))

    async def _request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        repeat: Repeat,
        body: Callable[[contextlib.ExitStack], dict[str, Any]] | None = None,
        file_name: str | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> Answer:
        recovery = _Recovery(self)
        attempt = 0
        while True:
            credentials = await self._tokens.get()
            try:
                with contextlib.ExitStack() as stack:
                    extra = body(stack) if body is not None else {}
                    if timeout is not None:
                        extra["timeout"] = timeout
                    response = await self._http.request(method, path, headers=self._headers(credentials), **extra)
            except httpx.TransportError as error:
                attempt += 1
                may_repeat = repeat == "always" or (repeat == "unsent" and isinstance(error, _UNSENT_ERRORS))
                if may_repeat and attempt < self.settings.retry.attempts:
                    log.info("%s: network error (%s); retrying", what, type(error).__name__)
                    await self._sleep(self.settings.retry.delay(attempt))
                    continue
                raise ServerError(f"{what}: cannot reach {self.settings.base_url}; check the network") from error
            answer = read_answer(response, what)
            log.debug("%s %s -> HTTP %s code %s", method, path, response.status_code, answer.code)
            if answer.code == api.CODE_OK:
                return answer
            if await recovery.recover(answer.code, answer.retry_after, credentials):
                continue
            if server_failure(answer.code) and repeat != "never":
                attempt += 1
                if attempt < self.settings.retry.attempts:
                    log.info("%s: HTTP %s; backing off", what, answer.code)
                    await self._sleep(self.settings.retry.delay(attempt))
                    continue
            raise await self._error(answer, what, file_name)

    async def _error(self, answer: Answer, what: str, file_name: str | None) -> JoypixError:
        anonymous = self.credentials is None or self.credentials.anonymous
        if answer.code == api.CODE_NO_CREDITS and anonymous and self._bind_id is None and self._last_session:
            with contextlib.suppress(ApiError):
                await self.state(self._last_session)  # the reference: get the bind id from state if needed
        return error_for(
            answer.code, answer.message, what=what, anonymous=anonymous, bind_id=self._bind_id, file_name=file_name
        )

    async def _send_turn(
        self,
        session_id: str,
        text: str,
        on_reply: Callable[[str], None],
        on_still_working: Callable[[float], None] | None,
        recovery: _Recovery,
    ) -> Transcript | None:
        """One POST /run_sse; None when it was refused before any stream and a recovery was done."""
        credentials = await self._tokens.get()
        body = {
            "app_name": api.APP_NAME,
            "user_id": api.USER_ID,
            "session_id": session_id,
            "new_message": {"role": "user", "parts": [{"text": text}]},
            "streaming": True,
        }
        timeout = httpx.Timeout(
            self.settings.request_timeout_s,
            connect=self.settings.connect_timeout_s,
            read=self.settings.stream_read_timeout_s,
        )
        ticker = None
        if on_still_working is not None:
            ticker = asyncio.ensure_future(still_working_ticker(on_still_working, self.settings.still_working_every_s))
        try:
            async with (
                turn_deadline(self.settings.turn_deadline_s),
                aconnect_sse(
                    self._http, "POST", api.RUN_SSE_PATH, json=body, headers=self._headers(credentials), timeout=timeout
                ) as events,
            ):
                response = events.response
                content_type = response.headers.get("content-type", "").partition(";")[0].strip()
                if response.status_code != 200 or content_type != api.SSE_CONTENT_TYPE:
                    await response.aread()
                    return await self._turn_refused(response, recovery, credentials)
                transcript = Transcript()
                async for frame in read_frames(events.aiter_sse()):
                    for reply in transcript.feed(frame):
                        on_reply(reply)
                for reply in transcript.finish():
                    on_reply(reply)
        except TurnDeadlineExceeded as error:
            raise ServerError(
                f"the editing agent did not finish a step within {self.settings.turn_deadline_s:g} s; "
                "the step may still be running, so it was not sent again"
            ) from error
        except httpx.TransportError as error:
            raise _TurnInterrupted(f"stream broke: {type(error).__name__}") from error
        finally:
            if ticker is not None:
                ticker.cancel()
        if transcript.error:
            raise _TurnInterrupted(f"agent error: {redact(transcript.error)[:200]}")
        return transcript

    async def _turn_refused(
        self, response: httpx.Response, recovery: _Recovery, credentials: Credentials
    ) -> Transcript | None:
        try:
            answer = read_answer(response, "sending a step to the editing agent")
        except ProtocolError as error:
            raise _TurnInterrupted(f"HTTP {response.status_code} without an event stream") from error
        code = answer.code
        if code == api.CODE_OK:
            raise ProtocolError("sending a step to the editing agent: the reply was not an event stream")
        code = api.SSE_STATUS_CODES.get(response.status_code, code) if code == response.status_code else code
        if await recovery.recover(code, answer.retry_after, credentials):
            return None
        if server_failure(code):
            raise _TurnInterrupted(f"HTTP {code} before the stream")
        raise await self._error(Answer(code, answer.message, answer.data, None), "sending a step to the editing agent", None)

    async def _settled_draft(self, session_id: str, before: dict[str, Any] | None) -> dict[str, Any] | None:
        """The draft after an interruption; if unchanged, look once more after a poll interval."""
        after = (await self.state(session_id)).draft
        if after == before:
            await self._sleep(self.settings.poll_interval_s)
            after = (await self.state(session_id)).draft
        return after


def check_uploadable(name: str, display: str | None = None) -> None:
    """Raise UnsupportedFileError unless the file's suffix is one the service accepts."""
    suffix = Path(name).suffix.lower()
    if suffix not in api.ACCEPTED_SUFFIXES:
        raise unsupported_file_error(display or name)


__all__ = [
    "Credits",
    "Media",
    "NemoClient",
    "RenderNotFound",
    "RenderStatus",
    "Session",
    "SessionState",
    "TurnResult",
    "check_uploadable",
]
