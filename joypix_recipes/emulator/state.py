"""The emulator's memory: fault knobs, counters, the request log, tokens, sessions, media and renders.

Routes run on the server's event loop, renders on worker threads and tests read from their own
thread, so every read-modify-write goes through ``EmulatorState.lock``.
"""

from __future__ import annotations

import secrets
import threading
import time
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from joypix_recipes.emulator.variation import PLAIN, Variation, draw

if TYPE_CHECKING:
    from joypix_recipes.timeline.draft import Draft

TOKEN_LIFETIME_S = 7 * 24 * 3600
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
Origin = Literal["api", "download"]
RenderStatus = Literal["queued", "rendering", "completed", "failed"]


@dataclass
class Knobs:
    """Fault and timing knobs; tests may change any field between requests.

    ``*_next`` fields are budgets: each request (or turn, or render) they hit uses up one.
    """

    turn_latency: float = 0.0  # seconds a turn "thinks" (heartbeats meanwhile) before its events
    render_latency: float = 0.0  # seconds from queued to completed; progress grows in between
    heartbeat_interval: float = 1.0
    no_text_ratio: float = 0.3  # share of turns with only tool events; chosen from seed, turn and prompt
    seed: int = 0
    expire_token_after_calls: int | None = None  # every token answers 1001 once it has authorised N calls
    lose_session_after_turns: int | None = None  # one-shot: the first session past N turns is gone (1002)
    rate_limit_next: int = 0  # API requests answered 429 with Retry-After: retry_after
    retry_after: float = 30.0
    drop_stream_next: int = 0  # turns cut after their functionCall, without ending the body
    drop_stream_after_edit: bool = False  # whether a cut turn's edit was applied first
    turn_error_next: int = 0  # turns ending in a last ``data: {"error": ...}`` frame, edit not applied
    credits: int = 100  # the live available balance; a render needs render_cost or gets 2001
    render_cost: int = 5
    export_blocked: bool = False  # render POSTs answered 402
    server_errors_next: int = 0  # API requests answered 503
    state_shape: Literal["flat", "nested"] = "flat"  # data.draft or data.state.draft
    url_shape: Literal["flat", "nested", "relative", "result"] = "flat"
    """Where a finished render's link is: ``data.url``, ``data.output.url``, ``data.url`` as a path on the
    API origin (``/files/<id>.mp4``, served there too), or ``data.result.video_url``."""
    render_fail_next: int = 0  # renders that end "failed" (credits refunded)
    stub_render: bool = False  # a one-second solid MP4 of the draft's size instead of a real render
    poll_retry_after: float | None = None  # Retry-After on polls of unfinished renders
    hide_render_progress: bool = False  # render polls carry no progress figure
    affinity_cookie: str | None = None  # "name=value" set on session creation, as a load balancer's stickiness
    token_lifetime: float = TOKEN_LIFETIME_S
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    vary: int | None = None  # a seed: each session draws undocumented shapes of its own (emulator.variation)
    vary_silence: float = 0.3  # how long a varied session's turn stays silent (no heartbeat) before its events
    refuse_next: int = 0  # turns refused with an errorCode event (edit not applied)
    hold_upload_reply_s: float = 0.0
    """An upload is stored (and listed) and only then its reply held this long: a client killed meanwhile
    has paid for an upload it never heard of."""
    hold_download_s: float = 0.0
    """A download of a finished render waits this long before its body starts: a client can be killed in it."""
    hold_render_reply_s: float = 0.0
    """A render POST is taken (charged, recorded, rendering) and only then its reply held this long: a client
    killed meanwhile has paid for a render it never heard of."""
    expire_first_link: bool = False
    """Download links are signed and short-lived: every reply showing a completed render (a poll, a state
    read's ``generated_media``, a repeated POST) hands out a fresh one (``/files/<id>.mp4?sig=<n>``), and the
    first one handed out for each render answers 403, as an expired signed storage URL does; later ones work."""
    stall_turn_next: int = 0
    """The next N accepted turns stay silent but alive (heartbeats only) for ``stall_turn_s`` before their
    events. Like every turn, they finish on the server even if the client has gone."""
    stall_turn_s: float = 30.0
    draft_shape: Literal["object", "string"] = "object"
    """``string``: the state serves its draft as a JSON object encoded in a string (and render POSTs may send
    it back either way)."""
    render_words: Literal["plain", "odd", "numeric"] = "plain"
    """How render polls name their status: ours; ``odd`` words (``waiting``/``working``, ``ok``, ``aborted``);
    or ``numeric`` codes (0 queued, 1 rendering, 2 completed, 3 failed)."""
    progress_scale: Literal["percent", "fraction"] = "percent"
    """``fraction``: render progress goes from 0.0 to 1.0 instead of 0 to 100."""
    url_upload_field: Literal["url", "urls"] = "url"
    """Which field a URL upload's JSON body is read from: ``{"url": ...}`` or only ``{"urls": [...]}``."""
    ingest_delay_s: float = 0.0
    """An upload is listed in the state's media (``video_infos``) only this long after it was stored."""
    drop_upload_reply_next: int = 0
    """Uploads stored (and listed, after the ingest delay) whose reply is then a gateway's 502."""
    drop_token_reply_next: int = 0
    """Anonymous-token calls whose token is issued and then answered with a gateway's 502."""


def set_knob(knobs: Knobs, assignment: str) -> None:
    """Apply ``NAME=VALUE`` (``joypix emulator --knob``) to ``knobs``; ValueError says what is wrong, in one line."""
    name, sep, text = assignment.partition("=")
    name = name.strip().replace("-", "_")
    known = {f.name for f in fields(Knobs)}
    if not sep or name not in known:
        raise ValueError(f"--knob {assignment!r}: expected NAME=VALUE with NAME one of {', '.join(sorted(known))}")
    kind = typing.get_type_hints(Knobs)[name]
    setattr(knobs, name, _knob_value(name, kind, text.strip()))


def _knob_value(name: str, kind: Any, text: str) -> Any:
    options = typing.get_args(kind) if isinstance(kind, types.UnionType) else (kind,)
    if type(None) in options and text.lower() in ("none", ""):
        return None
    for option in (o for o in options if o is not type(None)):
        if typing.get_origin(option) is Literal:
            if text in typing.get_args(option):
                return text
            raise ValueError(f"--knob {name}: expected one of {', '.join(map(str, typing.get_args(option)))}")
        if option is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"--knob {name}: expected true or false")
        try:
            return option(text)
        except (TypeError, ValueError):
            continue
    raise ValueError(f"--knob {name}: {text!r} is not a valid value")


@dataclass
class Counters:
    """What the emulator has done; ``edits_applied`` counts, per session, turns that changed its draft."""

    tokens_issued: int = 0
    sessions_created: int = 0
    uploads: int = 0
    turns: int = 0
    edits_applied: dict[str, int] = field(default_factory=dict)
    renders_started: int = 0
    renders_completed: int = 0
    renders_failed: int = 0
    polls: int = 0
    downloads: int = 0
    turns_posted: int = 0  # every POST /run_sse, accepted or not
    renders_posted: int = 0  # every POST of a render, duplicates included
    drafts_altered: int = 0  # render POSTs whose draft differs from the session's as last served
    drafts_retyped: int = 0  # render POSTs whose draft came back as another JSON type (string/object) than served
    refusals: int = 0
    turns_paid: dict[str, int] = field(default_factory=dict)
    """Per session id: turns accepted (their user message recorded, so credited), whatever became of them."""
    renders_paid: dict[str, int] = field(default_factory=dict)
    """Per session id: renders charged (a duplicate POST of a known id is not charged again)."""
    links_refused: int = 0  # downloads of an expired link (``expire_first_link``)
    token_client_ids: list[str] = field(default_factory=list)
    """The X-Client-Id of every anonymous-token call that carried one, in order."""


class Paid(dict[str, tuple[int, int]]):
    """What was paid per session id, as ``(turns, renders)``; ``turns`` and ``renders`` are the totals."""

    @property
    def turns(self) -> int:
        """Turns paid in all sessions."""
        return sum(turns for turns, _ in self.values())

    @property
    def renders(self) -> int:
        """Renders paid in all sessions."""
        return sum(renders for _, renders in self.values())


class HeaderMap(dict[str, str]):
    """Request headers with lower-case keys, looked up without regard to case."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__((name.lower(), value) for name, value in items)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:
        """The header's value, or ``default``."""
        return super().get(name.lower(), default)


@dataclass
class RecordedRequest:
    """One request as the emulator received it; ``status`` is filled in when the reply starts."""

    origin: Origin
    method: str
    path: str
    headers: HeaderMap
    body: Any = None
    status: int | None = None
    at: float = field(default_factory=time.time)
    """When the request arrived (wall clock, comparable with file times and other processes)."""


@dataclass
class RequestLog:
    """Every request received, per origin, in arrival order."""

    api: list[RecordedRequest] = field(default_factory=list)
    download: list[RecordedRequest] = field(default_factory=list)

    def __getitem__(self, origin: Origin) -> list[RecordedRequest]:
        return self.api if origin == "api" else self.download

    def all(self) -> list[RecordedRequest]:
        """Both origins' requests (API first)."""
        return [*self.api, *self.download]


@dataclass
class TokenRecord:
    """An issued bearer token; ``uses`` counts the calls it authorised."""

    token: str
    client_id: str
    bind_id: str
    issued_at: float
    uses: int = 0


@dataclass(frozen=True)
class StoredMedia:
    """An uploaded file kept on disk; ``media_id`` is what drafts use as a clip's source."""

    media_id: str
    name: str
    type: Literal["image", "video", "audio"]
    size: int
    path: Path
    session_id: str
    listed_at: float = 0.0
    """When (state clock) the file shows in its session's media list (``ingest_delay_s`` after the upload)."""

    def info(self) -> dict[str, Any]:
        """The upload reply's ``data``."""
        return {"media_id": self.media_id, "name": self.name, "type": self.type, "size": self.size}


@dataclass
class SessionRecord:
    """An editing session: its draft, its uploads and how many turns it has had."""

    session_id: str
    task_id: str
    bind_id: str
    language: str
    draft: Draft
    media: list[StoredMedia] = field(default_factory=list)
    turns: int = 0
    variation: Variation = PLAIN
    user_id: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    """The agent server's record of the session: each user message as an ADK event."""


@dataclass
class RenderRecord:
    """An export job; progress is derived from the clock while it renders."""

    render_id: str
    session_id: str
    draft: Draft
    quality: str
    created_at: float
    cost: int
    status: RenderStatus = "queued"
    started_at: float | None = None
    error: str | None = None
    path: Path | None = None
    links: int = 0
    """Signed download links handed out so far (``expire_first_link``)."""


class EmulatorState:
    """Everything the emulator knows, shared by its routes, its render workers and the tests."""

    def __init__(self, knobs: Knobs, workdir: Path, clock: Callable[[], float] = time.time) -> None:
        self.knobs = knobs
        self.counters = Counters()
        self.requests = RequestLog()
        self.workdir = workdir
        self.clock = clock
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.download_base_url = ""
        self.frozen_credits = 0
        self.tokens: dict[str, TokenRecord] = {}
        self.client_ids: dict[str, float] = {}
        self.sessions: dict[str, SessionRecord] = {}
        self.media: dict[str, StoredMedia] = {}
        self.renders: dict[str, RenderRecord] = {}
        self.poll_times: dict[str, list[float]] = {}
        """Monotonic time of every poll, per render id (to check a client's pace)."""
        self.violations: list[str] = []
        """Every request that broke a documented rule, as one line each."""

    def violation(self, problem: str) -> None:
        """Record a request that broke a documented rule."""
        with self.lock:
            self.violations.append(problem)

    def next_variation(self) -> Variation:
        """The shapes of the next session: drawn from the ``vary`` seed, else the plain ones."""
        with self.lock:
            if self.knobs.vary is None:
                return PLAIN
            return draw(self.knobs.vary, self.counters.sessions_created)

    @property
    def uploads_dir(self) -> Path:
        """Where uploaded files are kept."""
        return self.workdir / "uploads"

    @property
    def renders_dir(self) -> Path:
        """Where finished renders are written (served by the download origin)."""
        return self.workdir / "renders"

    def take(self, knob: str) -> bool:
        """Use up one unit of a ``*_next`` knob; False when its budget is spent."""
        with self.lock:
            left = int(getattr(self.knobs, knob))
            if left <= 0:
                return False
            setattr(self.knobs, knob, left - 1)
            return True

    def issue_token(self, client_id: str | None = None) -> TokenRecord:
        """A new bearer token (also how a test gets one for ``NEMO_TOKEN``)."""
        client = client_id or secrets.token_hex(16)
        record = TokenRecord(
            token="nemo_" + secrets.token_urlsafe(24),
            client_id=client,
            bind_id="bind_" + secrets.token_hex(6),
            issued_at=self.clock(),
        )
        with self.lock:
            self.tokens[record.token] = record
            self.client_ids[client] = record.issued_at
            self.counters.tokens_issued += 1
        return record

    def client_recently_issued(self, client_id: str) -> bool:
        """Whether this client id already got a token within the token lifetime."""
        with self.lock:
            issued = self.client_ids.get(client_id)
            return issued is not None and self.clock() - issued < self.knobs.token_lifetime

    def authorise(self, authorization: str | None) -> TokenRecord | None:
        """The token behind an ``Authorization`` header, counting the use; None if missing or expired."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        with self.lock:
            record = self.tokens.get(authorization.removeprefix("Bearer ").strip())
            if record is None or self.clock() - record.issued_at >= self.knobs.token_lifetime:
                return None
            limit = self.knobs.expire_token_after_calls
            if limit is not None and record.uses >= limit:
                return None
            record.uses += 1
            return record

    def add_session(self, session: SessionRecord) -> None:
        """Register a new session."""
        with self.lock:
            self.sessions[session.session_id] = session
            self.counters.sessions_created += 1

    def find_session(self, session_id: str) -> SessionRecord | None:
        """The live session with this id; applies ``lose_session_after_turns`` (once) on the way."""
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None:
                return None
            limit = self.knobs.lose_session_after_turns
            if limit is not None and session.turns >= limit:
                # One-shot: the replacement session a client creates must survive its replay.
                del self.sessions[session_id]
                self.knobs.lose_session_after_turns = None
                return None
            return session

    def add_media(self, media: StoredMedia) -> None:
        """Register an uploaded file."""
        with self.lock:
            self.media[media.media_id] = media
            self.counters.uploads += 1

    def count_paid_turn(self, session_id: str) -> None:
        """Record an accepted turn: its user message is in the session, so the agent runs and it is paid."""
        with self.lock:
            self.counters.turns += 1
            paid = self.counters.turns_paid
            paid[session_id] = paid.get(session_id, 0) + 1

    def paid(self) -> Paid:
        """What was paid, per session id: ``(turns accepted, renders charged)``; ``.turns``/``.renders`` sum them."""
        with self.lock:
            counters = self.counters
            sessions = set(counters.turns_paid) | set(counters.renders_paid)
            return Paid(
                {sid: (counters.turns_paid.get(sid, 0), counters.renders_paid.get(sid, 0)) for sid in sorted(sessions)}
            )

    def paid_by_upload(self) -> dict[str, tuple[int, int]]:
        """Per uploaded file name: ``(turns, renders)`` paid in the sessions that file was uploaded to.

        A session counts once per name however often the file went into it; a file uploaded to several
        sessions (a lost session's replacement, a rerun) sums what they all paid.
        """
        paid = self.paid()
        with self.lock:
            sessions_of: dict[str, set[str]] = {}
            for media in self.media.values():
                sessions_of.setdefault(media.name, set()).add(media.session_id)
        totals: dict[str, tuple[int, int]] = {}
        for name, sessions in sorted(sessions_of.items()):
            turns = sum(paid.get(sid, (0, 0))[0] for sid in sessions)
            renders = sum(paid.get(sid, (0, 0))[1] for sid in sessions)
            totals[name] = (turns, renders)
        return totals

    def count_edit(self, session_id: str) -> None:
        """Record that a turn changed this session's draft."""
        with self.lock:
            edits = self.counters.edits_applied
            edits[session_id] = edits.get(session_id, 0) + 1

    def charge_render(self, session_id: str) -> int | None:
        """Freeze one render's cost, count it as paid by the session, and return it; None when it cannot pay."""
        with self.lock:
            cost = self.knobs.render_cost
            if self.knobs.credits <= 0 or self.knobs.credits < cost:
                return None
            self.knobs.credits -= cost
            self.frozen_credits += cost
            paid = self.counters.renders_paid
            paid[session_id] = paid.get(session_id, 0) + 1
            return cost

    def settle_render(self, cost: int, refund: bool) -> None:
        """Release a render's frozen cost: spent on success, refunded on failure."""
        with self.lock:
            self.frozen_credits -= cost
            if refund:
                self.knobs.credits += cost

    def balance(self) -> dict[str, int]:
        """The credits reply's ``data``."""
        with self.lock:
            available, frozen = self.knobs.credits, self.frozen_credits
        return {"available": available, "frozen": frozen, "total": available + frozen}
