"""Every assumption about the JoyPix/NemoVideo API in one place: URLs, paths, headers, shapes, codes.

docs/protocol.md says which of these the service documents and which are our assumptions, and how
the client degrades when an assumption is wrong. Where a shape is open, every place we look is here.
"""

from __future__ import annotations

from typing import Any, Final

PRODUCTION_BASE_URL: Final = "https://mega-api-prod.nemovideo.ai"
# Assumed: the registration page's address (only its ?bind=<id> query is documented).
REGISTER_URL: Final = "https://nemovideo.ai/register"

APP_NAME: Final = "nemo_agent"
# ADK keys sessions by (app, user, session). The REST paths say "me" and resolve the user from the
# token, so the turn body does the same unless the create-session reply names the user.
USER_ID: Final = "me"
TASK_NAME: Final = "project"

ANONYMOUS_TOKEN_PATH: Final = "/api/auth/anonymous-token"
CREATE_SESSION_PATH: Final = f"/api/tasks/me/with-session/{APP_NAME}"
UPLOAD_PATH: Final = f"/api/upload-video/{APP_NAME}/me/{{session_id}}"
CREDITS_PATH: Final = "/api/credits/balance/simple"
STATE_PATH: Final = f"/api/state/{APP_NAME}/me/{{session_id}}/latest"
RUN_SSE_PATH: Final = "/run_sse"
RENDER_PATH: Final = "/api/render/proxy/lambda"
RENDER_STATUS_PATH: Final = "/api/render/proxy/lambda/{render_id}"  # assumed: the poll path is not documented
ADK_SESSION_PATH: Final = f"/apps/{APP_NAME}/users/{{user_id}}/sessions/{{session_id}}"
"""Assumed: the agent server's own session read (events included), used only to prove a turn never arrived."""

HEADER_AUTHORIZATION: Final = "Authorization"
HEADER_CLIENT_ID: Final = "X-Client-Id"
HEADER_SKILL_SOURCE: Final = "X-Skill-Source"
HEADER_SKILL_VERSION: Final = "X-Skill-Version"
HEADER_SKILL_PLATFORM: Final = "X-Skill-Platform"
HEADER_RETRY_AFTER: Final = "Retry-After"
SKILL_SOURCE: Final = "image-to-video-joypix"
PLATFORMS: Final = ("clawhub", "cursor")
UNKNOWN_PLATFORM: Final = "unknown"

ENVELOPE_CODE: Final = "code"
ENVELOPE_MESSAGE: Final = "message"
ENVELOPE_DATA: Final = "data"

# Shapes the documentation does not pin: each is a list of key paths tried in order inside `data`
# (an integer picks an item of a list). A value found nowhere is absent, never an error by itself.
KeyPath = tuple[str | int, ...]
DRAFT_PATHS: Final[tuple[KeyPath, ...]] = (("draft",), ("state", "draft"))
RENDER_URL_PATHS: Final[tuple[KeyPath, ...]] = (
    ("url",), ("output", "url"), ("download_url",), ("downloadUrl",), ("video_url",), ("videoUrl",),
    ("output",), ("output", "video_url"), ("output", "download_url"),
    ("result", "url"), ("result", "video_url"), ("result", "videoUrl"), ("result", "download_url"),
    ("result", "downloadUrl"), ("result",), ("file", "url"), ("files", 0, "url"), ("outputs", 0, "url"),
)  # fmt: skip
"""Where a finished render's link may be; a relative link is resolved against the API base URL."""
BIND_ID_PATHS: Final[tuple[KeyPath, ...]] = (("bind_id",), ("state", "bind_id"), ("bindId",))
SESSION_ID_PATHS: Final[tuple[KeyPath, ...]] = (("session_id",), ("sessionId",), ("session", "session_id"), ("session", "id"))
USER_ID_PATHS: Final[tuple[KeyPath, ...]] = (("user_id",), ("userId",), ("user", "id"))
MEDIA_ID_PATHS: Final[tuple[KeyPath, ...]] = (
    ("media_id",), ("mediaId",), ("id",), ("file_id",), ("fileId",),
    ("file", "media_id"), ("file", "id"), ("media", "media_id"), ("media", "id"),
    ("files", 0, "media_id"), ("files", 0, "id"), ("items", 0, "media_id"), ("items", 0, "id"),
)  # fmt: skip
MEDIA_NAME_PATHS: Final[tuple[KeyPath, ...]] = (
    ("name",), ("file", "name"), ("media", "name"), ("files", 0, "name"), ("items", 0, "name"),
)  # fmt: skip
MEDIA_LIST_PATHS: Final[tuple[KeyPath, ...]] = (("video_infos",), ("state", "video_infos"))
RENDER_ERROR_PATHS: Final[tuple[KeyPath, ...]] = (
    ("error", "message"), ("error",), ("errorMessage",), ("error_message",), ("reason",), ("failReason",),
    ("fail_reason",), ("message",),
)  # fmt: skip
"""Where a render's failure reason may be, for the message shown."""
RENDER_ERROR_EVIDENCE_PATHS: Final = RENDER_ERROR_PATHS[:-1]
"""The same without ``message``: a plain message ("rendering your video") is no proof of failure."""
RENDER_STATUS_PATHS: Final[tuple[KeyPath, ...]] = (("status",), ("state",), ("phase",), ("result", "status"))
RENDER_PROGRESS_PATHS: Final[tuple[KeyPath, ...]] = (("progress",), ("percent",), ("percentage",), ("result", "progress"))
# Status words (lower case, "-" and " " read as "_"). A word in neither list, or a number, is judged by the
# rest of the reply (render_reading): a download link means done, an error message means failed.
RENDER_DONE_WORDS: Final = frozenset({
    "completed", "complete", "succeeded", "succeed", "success", "successful", "done", "finished", "finish",
    "ready", "ok", "rendered", "exported", "available", "published", "uploaded",
})  # fmt: skip
RENDER_FAILED_WORDS: Final = frozenset({
    "failed", "failure", "fail", "error", "errored", "cancelled", "canceled", "cancel", "aborted", "abort",
    "rejected", "timeout", "timed_out", "expired", "killed", "terminated",
})  # fmt: skip
RENDER_RUNNING_WORDS: Final = frozenset({
    "queued", "queue", "queueing", "pending", "waiting", "submitted", "created", "accepted", "scheduled",
    "starting", "started", "running", "rendering", "processing", "in_progress", "working", "encoding",
    "uploading", "compositing",
})  # fmt: skip
"""Words known to mean "still going": with a link and a progress figure under 100 the link is not trusted yet."""

SSE_CONTENT_TYPE: Final = "text/event-stream"

DEFAULT_POLL_INTERVAL_S: Final = 30.0
RATE_LIMIT_WAIT_S: Final = 30.0
TOKEN_LIFETIME_S: Final = 7 * 24 * 3600
TURN_SILENCE_S: Final = 15 * 60.0
"""Documented: a turn may take 15 minutes. We read it as the longest wait without any byte; heartbeats reset it."""
TURN_DEADLINE_S: Final = 60 * 60.0
"""Assumed: a turn that keeps sending heartbeats for an hour is stuck; we stop waiting (never re-send)."""
STILL_WORKING_EVERY_S: Final = 120.0
MAX_UPLOAD_BYTES: Final = 200 * 1024 * 1024
UPLOAD_GRACE_LOOKS: Final = 2
"""After a doubtful upload whose file the state does not list, look again this many times, a poll interval
apart, before sending it again: a file that arrived may still be ingesting (assumed)."""

ACCEPTED_SUFFIXES: Final = frozenset(
    {
        ".mp4", ".mov", ".avi", ".webm", ".mkv",
        ".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif",
        ".mp3", ".wav", ".m4a", ".aac",
    }
)
"""The documented list, plus the spellings it implies (jpeg) and HEIC, which the service advertises."""

ENV_TOKEN: Final = "NEMO_TOKEN"
ENV_BASE_URL: Final = "JOYPIX_BASE_URL"
ENV_POLL_INTERVAL: Final = "JOYPIX_POLL_INTERVAL"
ENV_HOME: Final = "JOYPIX_HOME"

CODE_OK: Final = 0
CODE_BAD_TOKEN: Final = 1001
CODE_SESSION_LOST: Final = 1002
CODE_NO_CREDITS: Final = 2001
CODE_UNSUPPORTED_FILE: Final = 4001
CODE_FILE_TOO_LARGE: Final = 4002
CODE_MISSING_CLIENT_ID: Final = 400
CODE_EXPORT_BLOCKED: Final = 402
CODE_NOT_FOUND: Final = 404
CODE_RATE_LIMITED: Final = 429

ERROR_CODES: Final[dict[int, str]] = {
    CODE_BAD_TOKEN: "bad or expired token: re-authenticate once and retry",
    CODE_SESSION_LOST: "session not found: new session, re-upload, replay the steps done",
    CODE_NO_CREDITS: "no credits: stop the run; anonymous users get the registration link",
    CODE_UNSUPPORTED_FILE: "unsupported file: fail the job, list the formats",
    CODE_FILE_TOO_LARGE: "file too large: fail the job, suggest compressing or trimming",
    CODE_MISSING_CLIENT_ID: "missing X-Client-Id: new client id, retry",
    CODE_EXPORT_BLOCKED: "the plan does not allow export (not a credits problem)",
    CODE_RATE_LIMITED: "rate limited: wait Retry-After (else 30 s), retry once",
}
"""What each documented code means and what the client does about it (docs/protocol.md)."""

# /run_sse reports these two as HTTP statuses before any stream (ADK's own server behaviour).
SSE_STATUS_CODES: Final = {401: CODE_BAD_TOKEN, 404: CODE_SESSION_LOST}


def register_url(bind_id: str | None) -> str:
    """The registration page, bound to the anonymous account when its bind id is known."""
    return f"{REGISTER_URL}?bind={bind_id}" if bind_id else REGISTER_URL


def dig(data: Any, paths: tuple[KeyPath, ...]) -> Any:
    """The first value found at one of ``paths`` inside nested mappings and lists, or None."""
    for path in paths:
        node = data
        for key in path:
            if isinstance(key, int):
                node = node[key] if isinstance(node, list) and -len(node) <= key < len(node) else None
            else:
                node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            return node
    return None


def dig_text(data: Any, paths: tuple[KeyPath, ...]) -> str | None:
    """The first non-empty text (or number, as text) found at one of ``paths``, or None."""
    for path in paths:
        value = dig(data, (path,))
        if isinstance(value, bool):
            continue
        if isinstance(value, (str, int, float)) and str(value).strip():
            return str(value)
    return None
