"""What the client hands back: sessions, uploads, state, credits, render polls and turns, as frozen data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Session:
    """An editing session."""

    session_id: str
    task_id: str | None = None
    bind_id: str | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class Media:
    """An uploaded file as the service knows it; the reply's shape is open, so its id may be unknown."""

    media_id: str | None
    name: str
    type: str
    size: int


@dataclass(frozen=True)
class SessionState:
    """A session's current state: the draft (short-key JSON, or None when empty) and media lists."""

    draft: dict[str, Any] | None
    video_infos: list[Any] = field(default_factory=list)
    generated_media: list[Any] = field(default_factory=list)
    bind_id: str | None = None
    media_listed: bool = False
    """Whether the reply carried a media list at all (only then can it prove a file never arrived)."""
    wire_draft: Any = None
    """The draft exactly as the service sent it: the object, or the string holding it. This is what goes
    back to the service in a render, so a draft that came as a string goes back as the same string."""

    @property
    def draft_to_send(self) -> Any:
        """The draft to put in a render request: the service's own value, untouched (its type included)."""
        return self.wire_draft if self.wire_draft is not None else self.draft


@dataclass(frozen=True)
class Credits:
    """The account's balance."""

    available: int
    frozen: int
    total: int


@dataclass(frozen=True)
class RenderStatus:
    """One poll of a render."""

    render_id: str
    status: str
    phase: Literal["running", "done", "failed"] = "running"
    progress: float = 0.0
    url: str | None = None
    error: str | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class TurnResult:
    """One /run_sse turn: the replies shown, the draft before it and (when fetched) after it."""

    replies: tuple[str, ...]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    sends: int = 1
    interrupted: bool = False
    state_after: SessionState | None = None
    """The state read after the turn (a silent turn or a doubt), whose draft is ``after``; None when none was read."""
