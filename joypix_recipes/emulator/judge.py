"""The emulator's own reading of what the protocol documents, used to judge every request it receives.

Written from the protocol's facts alone (docs/protocol.md), never from the client's code: the three
attribution headers and their values, the bearer token, each endpoint's content type and required
body fields, and the event-stream Accept header of a turn. Anything the protocol does not document
(extra fields, the multipart field name of a file) is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SKILL_SOURCE = "image-to-video-joypix"
SKILL_PLATFORMS = frozenset({"clawhub", "cursor", "unknown"})
JSON_TYPE = "application/json"
MULTIPART_TYPE = "multipart/form-data"
EVENT_STREAM = "text/event-stream"

SESSION_FIELDS = ("task_name", "language")
TURN_FIELDS = ("app_name", "user_id", "session_id", "new_message")
"""The protocol names app_name, session_id and new_message; the agent server (ADK) also requires user_id."""
RENDER_FIELDS = ("id", "sessionId", "draft", "output")


def attribution_problem(headers: Mapping[str, str]) -> str | None:
    """What is wrong with the three attribution headers every request must carry, or None."""
    source = headers.get("x-skill-source", "")
    if source != SKILL_SOURCE:
        return f"X-Skill-Source must be {SKILL_SOURCE}" if source else "the X-Skill-Source header is missing"
    if not headers.get("x-skill-version", "").strip():
        return "the X-Skill-Version header is missing"
    platform = headers.get("x-skill-platform", "")
    if platform not in SKILL_PLATFORMS:
        return "X-Skill-Platform must be clawhub, cursor or unknown" if platform else "the X-Skill-Platform header is missing"
    return None


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme == "Bearer" else None


def media_type(headers: Mapping[str, str]) -> str:
    """The Content-Type without its parameters, lower case."""
    return headers.get("content-type", "").partition(";")[0].strip().lower()


def missing_fields(body: Any, fields: tuple[str, ...]) -> list[str]:
    """The required fields a JSON body lacks (all of them when it is not an object)."""
    if not isinstance(body, dict):
        return list(fields)
    return [name for name in fields if body.get(name) in (None, "")]


def message_text(message: Any) -> str | None:
    """The text of an ADK message ``{"role": "user", "parts": [{"text": ...}]}`` (parts joined), or None."""
    if not isinstance(message, dict) or message.get("role", "user") != "user":
        return None
    parts = message.get("parts")
    if not isinstance(parts, list):
        return None
    texts = [part["text"] for part in parts if isinstance(part, dict) and isinstance(part.get("text"), str)]
    return "\n".join(texts) if texts else None


def accepts_event_stream(headers: Mapping[str, str]) -> bool:
    """Whether a turn asked for an event stream (``Accept: text/event-stream``)."""
    accept = headers.get("accept", "").lower()
    return EVENT_STREAM in accept
