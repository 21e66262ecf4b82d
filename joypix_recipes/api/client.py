"""``NemoClient``: the JoyPix/NemoVideo API over async httpx, strict on what is documented, liberal elsewhere.

What costs money (a turn, a render, an upload) is sent once; after any doubt the client looks at the
session's state and sends again only when that proves the first request never arrived. Fields whose
shape is not documented are looked for in several places (``endpoints``) and may be absent.
docs/protocol.md lists every request, every assumption, and how the client degrades when one is wrong.
The bearer token only ever goes to the API origin; downloads use a second client without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path, PurePosixPath
from typing import Any, Self

from joypix_recipes.api import endpoints as api
from joypix_recipes.api.auth import Credentials
from joypix_recipes.api.codes import RenderNotFound, file_too_large_error, unsupported_file_error
from joypix_recipes.api.download import Downloader
from joypix_recipes.api.envelope import as_draft, as_int, as_text
from joypix_recipes.api.home import HomeError, record_session
from joypix_recipes.api.models import Credits, Media, RenderStatus, Session, SessionState, TurnResult
from joypix_recipes.api.pace import RenderPace, RenderTimes
from joypix_recipes.api.render_reading import read_render
from joypix_recipes.api.settings import ClientSettings
from joypix_recipes.api.transport import Body, RequestFailed, Transport
from joypix_recipes.api.turns import UNREAD, TurnLanding, TurnRequest, read_landing, run_turn
from joypix_recipes.errors import (
    JoypixError,
    ProtocolError,
    RenderError,
    ServerError,
    StepInDoubtError,
    UnsupportedFileError,
)
from joypix_recipes.redact import get_logger, redact

log = get_logger()

RECORD_EVERY_S = 1.0
"""The longest the last-session record lags behind the newest session while the client is open."""


class NemoClient:
    """Async client for one API origin; share one across jobs, close it with ``aclose``."""

    def __init__(self, settings: ClientSettings, *, sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        self.settings = settings
        self._sleep = sleep or asyncio.sleep
        self._transport = Transport(settings, self._sleep)
        self._transport.bind_id_lookup = self._lookup_bind_id
        # Downloads may be on a CDN: a separate client that has never heard of the token.
        self._downloader = Downloader(settings, self._sleep)
        self._bind_id: str | None = None
        self._last_session: str | None = None
        self._unrecorded: Session | None = None
        self._recording: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._user_ids: dict[str, str] = {}
        self._said: dict[tuple[str, str], int] = {}
        self._render_times = RenderTimes()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Finish recording the last session (at once), then close both HTTP clients."""
        self._closing.set()
        if self._recording is not None:
            await self._recording
        await self._transport.aclose()
        await self._downloader.aclose()

    def _remember(self, session: Session) -> None:
        """Record ``session`` as the last one, for ``joypix status`` without an id.

        The record is a private file written with fsync, off the event loop; sessions opened while one is
        being written, or within ``RECORD_EVERY_S`` after it, wait and only the newest is written then, so
        a batch of jobs opening sessions one after another costs a write a second, not one each.
        """
        self._unrecorded = session
        if self._recording is None or self._recording.done():
            self._recording = asyncio.get_running_loop().create_task(self._record_sessions())

    async def _record_sessions(self) -> None:
        while self._unrecorded is not None:
            session, self._unrecorded = self._unrecorded, None
            # A convenience for ``joypix status``: a state folder that cannot be written must not fail the job.
            with contextlib.suppress(OSError, HomeError):
                await asyncio.to_thread(
                    record_session,
                    self.settings.state_folder,
                    self.settings.base_url,
                    session.session_id,
                    session.bind_id,
                )
            if not self._closing.is_set():
                # Let the sessions of the next moments gather (closing the client writes the newest at once).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), RECORD_EVERY_S)

    async def prepare(self) -> None:
        """Read the cached credentials ahead of the first request (off the event loop); nothing is sent."""
        await asyncio.to_thread(self._transport.tokens.load_cached)

    @property
    def credentials(self) -> Credentials | None:
        """The credentials in use (for messages about their source, never their value)."""
        return self._transport.tokens.current

    # ---- endpoints -------------------------------------------------------------------------------

    async def credits(self) -> Credits:
        """The account's balance."""
        answer = await self._transport.request("GET", api.CREDITS_PATH, what="checking credits", repeat="always")
        data = answer.data
        return Credits(as_int(data.get("available")), as_int(data.get("frozen")), as_int(data.get("total")))

    async def create_session(self, language: str | None = None) -> Session:
        """A new editing session (an empty one is harmless and free, so this may be repeated)."""
        body = {"task_name": api.TASK_NAME, "language": language or self.settings.language}
        answer = await self._transport.request(
            "POST", api.CREATE_SESSION_PATH, what="creating a session", repeat="always", body=lambda _: {"json": body}
        )
        session_id = api.dig_text(answer.data, api.SESSION_ID_PATHS)
        if session_id is None:
            raise ProtocolError("creating a session: the service did not return a session id")
        session = Session(
            session_id,
            as_text(answer.data.get("task_id")),
            api.dig_text(answer.data, api.BIND_ID_PATHS),
            api.dig_text(answer.data, api.USER_ID_PATHS),
        )
        if session.user_id is not None:
            self._user_ids[session_id] = session.user_id
        self._bind_id = session.bind_id or self._bind_id
        self._last_session = session_id
        self._remember(session)
        return session

    async def upload_file(self, session_id: str, path: Path) -> Media:
        """Upload a local file (streamed multipart) after checking its type and size; sent once."""
        check_uploadable(path.name, display=str(path))
        try:
            # Read in a worker thread: file work on the event loop would stall every other job's requests.
            size, data = await asyncio.to_thread(_size_and_bytes, path)
        except OSError as error:
            raise UnsupportedFileError(f"{path}: cannot read the file to upload it") from error
        if size > api.MAX_UPLOAD_BYTES:
            raise file_too_large_error(str(path))
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"

        def body(stack: contextlib.ExitStack) -> dict[str, Any]:
            if data is not None:
                return {"files": {"file": (path.name, data, mime)}}
            handle = stack.enter_context(path.open("rb"))  # a large file is streamed from disk
            return {"files": {"file": (path.name, handle, mime)}}

        return await self._upload(session_id, body, path.name, str(path))

    async def upload_url(self, session_id: str, url: str) -> Media:
        """Ask the service to fetch a file from ``url`` itself; sent once."""
        name = PurePosixPath(url.split("?")[0].rstrip("/")).name
        if "." in name:
            check_uploadable(name, display=url)
        # The JSON shape is not documented: both spellings in one body, for a server that reads either.
        return await self._upload(session_id, lambda _: {"json": {"url": url, "urls": [url]}}, name, url)

    async def state(self, session_id: str) -> SessionState:
        """The session's current state; every part of it may be missing (an empty session)."""
        path = api.STATE_PATH.format(session_id=session_id)
        answer = await self._transport.request("GET", path, what="reading the session state", repeat="always")
        data = answer.data
        wire_draft = api.dig(data, api.DRAFT_PATHS)
        draft = as_draft(wire_draft, "reading the session state")
        bind_id = api.dig_text(data, api.BIND_ID_PATHS)
        self._bind_id = bind_id or self._bind_id
        nested = data.get("state")
        state: dict[str, Any] = nested if isinstance(nested, dict) else data
        media = api.dig(data, api.MEDIA_LIST_PATHS)
        generated = state.get("generated_media")
        return SessionState(
            draft=draft or None,
            video_infos=list(media) if isinstance(media, list) else [],
            generated_media=list(generated) if isinstance(generated, list) else [],
            bind_id=bind_id,
            media_listed=isinstance(media, list),
            wire_draft=wire_draft if draft else None,
        )

    async def turn(
        self,
        session_id: str,
        text: str,
        *,
        on_reply: Callable[[str], None] | None = None,
        on_still_working: Callable[[float], None] | None = None,
        before: SessionState | None = None,
    ) -> TurnResult:
        """Send one message to the agent, in effect exactly once (see ``api.turns``).

        ``before`` is the session's state when the caller knows nothing has changed it since it was read
        (the state read after the previous turn): then it is not read again before this turn.
        """
        replies: list[str] = []

        def shown(reply: str) -> None:
            replies.append(reply)
            if on_reply is not None:
                on_reply(reply)

        said = (session_id, text)
        request = TurnRequest(
            session_id=session_id,
            user_id=self._user_ids.get(session_id, api.USER_ID),
            text=text,
            on_reply=shown,
            on_still_working=on_still_working,
            earlier_sends=self._said.get(said, 0),
        )

        last_read: list[SessionState] = []

        async def read_draft(session: str) -> Any:
            state = await self.state(session)
            last_read[:] = [state]
            return state.draft

        known = before.draft if before is not None else UNREAD
        drafts, after, interrupted, sends = await run_turn(self._transport, request, read_draft, known)
        self._said[said] = self._said.get(said, 0) + 1
        # Whenever there is an after, it came from the last read.
        state_after = last_read[-1] if after is not None and last_read else None
        return TurnResult(tuple(replies), drafts, after, sends, interrupted, state_after)

    async def start_render(
        self, session_id: str, draft: Any, output: dict[str, Any] | None = None, *, render_id: str | None = None
    ) -> str:
        """POST an export of ``draft`` (sent as given) under ``render_id`` (new when None); a render is posted once.

        A caller that must keep the id before the POST leaves (the ledger) chooses it with ``new_render_id``.
        """
        render_id = render_id or new_render_id()
        body = {
            "id": render_id,
            "sessionId": session_id,
            "draft": draft,
            "output": {"format": "mp4", "quality": "high", **(output or {})},
        }
        what = "starting the export"
        for sends in (1, 2):
            try:
                await self._transport.request(
                    "POST", api.RENDER_PATH, what=what, repeat="unsent", body=lambda _: {"json": body}
                )
                return render_id
            except RequestFailed as failure:
                if failure.unsent:
                    raise  # it never left, and the transport already tried again
                if await self.render_known(render_id, session_id):
                    log.info("the export POST failed but the export exists; attaching to it")
                    return render_id
                if sends == 2:
                    raise
                log.info("the service has no export %s; posting it again", render_id)
        raise ServerError(f"{what} failed; try again later")  # pragma: no cover

    async def render_status(self, render_id: str) -> RenderStatus:
        """One poll of a render (RenderNotFound for an unknown id), read liberally (``api.render_reading``)."""
        path = api.RENDER_STATUS_PATH.format(render_id=render_id)
        answer = await self._transport.request("GET", path, what=f"checking render {render_id}", repeat="always")
        reading = read_render(answer.data, self.settings.base_url)
        return RenderStatus(
            render_id=render_id,
            status=reading.status,
            phase=reading.phase,
            progress=reading.progress,
            url=reading.url,
            error=reading.error,
            retry_after=answer.retry_after,
        )

    async def wait_for_render(
        self, render_id: str, on_progress: Callable[[RenderStatus], None] | None = None, *, just_posted: bool = False
    ) -> str:
        """Poll, never faster than the poll interval, until the render is done (its URL) or failed (RenderError).

        ``just_posted``: the render was posted a moment ago, so the first poll waits (a poll right after the
        POST can only say "queued"): one interval, or most of what this client's recent renders took
        (``api.pace``); how long this one takes is remembered for the next.
        """
        began = time.monotonic()
        deadline = began + self.settings.render_deadline_s
        pace = RenderPace(self.settings.poll_interval_s)
        if just_posted:
            pace.posted_at, pace.times = began, self._render_times
            await self._sleep(pace.first_wait())
        while True:
            status = await self.render_status(render_id)
            if on_progress is not None:
                on_progress(status)
            if status.phase == "done" and status.url:
                if pace.posted_at is not None:
                    self._render_times.add(time.monotonic() - pace.posted_at)
                return status.url
            if status.phase == "failed":
                reason = redact(status.error or status.status or "no reason given")[:200]
                raise RenderError(f"the cloud export failed ({reason}); run the job again")
            if time.monotonic() > deadline:
                missing = " without a download link" if status.phase == "done" else ""
                raise ServerError(
                    f"render {render_id} did not finish{missing} within {self.settings.render_deadline_s:g} s; "
                    "run again later to re-attach to it"
                )
            # A Retry-After may lengthen the wait, never shorten it below the pace.
            wait = max(
                pace.next_wait(status.progress, time.monotonic()),
                min(status.retry_after or 0.0, self.settings.max_wait_s),
            )
            await self._sleep(wait)

    async def download(self, url: str, target: Path) -> int:
        """Stream the finished file at ``url`` into ``target`` without the token; returns its size."""
        return await self._downloader.fetch(url, target)

    # ---- doubt -----------------------------------------------------------------------------------

    async def _upload(self, session_id: str, body: Body, name: str, display: str) -> Media:
        path = api.UPLOAD_PATH.format(session_id=session_id)
        what = f"uploading {display}"
        for sends in (1, 2):
            try:
                answer = await self._transport.request(
                    "POST", path, what=what, repeat="unsent", body=body, file_name=display
                )
                return media_from(answer.data, name)
            except RequestFailed as failure:
                if failure.unsent:
                    raise  # it never left, and the transport already tried again
                # A file that did arrive may still be ingesting: look a few times before calling it missing.
                for look in range(1 + api.UPLOAD_GRACE_LOOKS):
                    if look:
                        await self._sleep(self.settings.poll_interval_s)
                    state = await self.state(session_id)
                    landed = find_media(state.video_infos, name)
                    if landed is not None:
                        log.info("%s failed but the session lists the file; using it", what)
                        return landed
                    if not state.media_listed:
                        raise StepInDoubtError(
                            f"{what}: {failure} and the session state does not list its files, so it was not sent "
                            "again (an upload is counted once); run the job again"
                        ) from failure
                if sends == 2:
                    raise
                log.info("the session still does not list %s; uploading it again", name)
        raise ServerError(f"{what} failed; try again later")  # pragma: no cover

    async def render_known(self, render_id: str, session_id: str) -> bool:
        """After a doubtful render POST: does the service know the id? StepInDoubtError when it cannot say.

        False is the proof that the POST never arrived: unknown after a poll interval, and absent from the
        session's generated media. It is the one rule for re-posting a render, in a run or after one.
        """
        await self._sleep(self.settings.poll_interval_s)  # a POST still in flight may land meanwhile
        try:
            await self.render_status(render_id)
            return True
        except RenderNotFound:
            pass
        except JoypixError as error:
            raise StepInDoubtError(
                f"starting the export failed and its status cannot be checked ({error}); it was not posted "
                "again so it is not paid twice; run the job again later"
            ) from error
        with contextlib.suppress(JoypixError):
            if render_id in repr((await self.state(session_id)).generated_media):
                return True
        return False

    async def turn_landing(self, session_id: str, text: str, times: int) -> TurnLanding:
        """Whether the agent server's session record holds ``text`` from the user at least ``times`` times.

        ``arrived`` is None when the record cannot be read (nothing is proven either way); ``finished``
        says whether the agent answered after the last such message.
        """
        return await read_landing(self._transport, self._user_ids.get(session_id, api.USER_ID), session_id, text, times)

    async def find_upload(self, session_id: str, name: str, state: SessionState | None = None) -> Media | None:
        """The session's upload named ``name``; None only when its media list proves it never arrived.

        A file still being ingested may show up late, so an absent one is looked for again after a poll
        interval. StepInDoubtError when the state lists no files at all (nothing is proven).
        """
        for look in (1, 2):
            state = state if state is not None and look == 1 else await self.state(session_id)
            landed = find_media(state.video_infos, name)
            if landed is not None:
                return landed
            if not state.media_listed:
                raise StepInDoubtError(
                    f"uploading {name} may or may not have reached the service, and the session state does not "
                    "list its files; it was not sent again (an upload is counted once); run the job again later"
                )
            if look == 1:
                await self._sleep(self.settings.poll_interval_s)
        return None

    async def _lookup_bind_id(self) -> str | None:
        """The bind id for a no-credits message: known already, or read from the last session's state."""
        if self._bind_id is None and self._last_session is not None:
            await self.state(self._last_session)
        return self._bind_id


IN_MEMORY_UPLOAD_BYTES = 16 * 1024**2
"""Files up to this size are read whole in a worker thread before an upload; larger ones are streamed."""


def _size_and_bytes(path: Path) -> tuple[int, bytes | None]:
    """The file's size, and its bytes when it is small enough to hold (and within the upload limit)."""
    size = path.stat().st_size
    if size > min(IN_MEMORY_UPLOAD_BYTES, api.MAX_UPLOAD_BYTES):
        return size, None
    return size, path.read_bytes()


def new_render_id() -> str:
    """A fresh render id, unique enough that two exports never share one."""
    return f"render_{int(time.time() * 1000)}_{secrets.token_hex(4)}"


def media_from(data: dict[str, Any], name: str) -> Media:
    """The upload reply as a Media; the id may be anywhere, or nowhere (then the file is known by name)."""
    media_id = api.dig_text(data, api.MEDIA_ID_PATHS)
    return Media(
        media_id,
        api.dig_text(data, api.MEDIA_NAME_PATHS) or name,
        str(data.get("type") or ""),
        as_int(data.get("size")),
    )


def find_media(listed: list[Any], name: str) -> Media | None:
    """The entry of a session's media list that is the file ``name``, if there is one."""
    for entry in listed:
        if isinstance(entry, dict) and api.dig_text(entry, api.MEDIA_NAME_PATHS) == name:
            return media_from(entry, name)
    return None


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
    "TurnLanding",
    "check_uploadable",
    "new_render_id",
]
