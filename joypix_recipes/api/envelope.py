"""Reading a reply's JSON envelope ``{"code", "message", "data"}`` and its Retry-After header.

A non-zero code is an error whatever the HTTP status; a non-2xx status without an envelope becomes
the code itself (so 402, 429 and 5xx read the same with or without a body).
"""

from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from joypix_recipes.api import endpoints as api
from joypix_recipes.errors import ProtocolError


@dataclass(frozen=True)
class Answer:
    """A reply reduced to what the client acts on."""

    code: int
    message: str
    data: dict[str, Any]
    retry_after: float | None


def read_answer(response: httpx.Response, what: str) -> Answer:
    """The envelope of a (fully read) reply; ProtocolError when a 2xx reply has none."""
    retry_after = parse_retry_after(response.headers.get(api.HEADER_RETRY_AFTER))
    try:
        envelope = response.json()
    except (ValueError, UnicodeDecodeError):
        envelope = None
    if not isinstance(envelope, dict) or api.ENVELOPE_CODE not in envelope:
        if response.status_code >= 400:
            return Answer(response.status_code, "", {}, retry_after)
        raise ProtocolError(f"{what}: the service replied without the documented JSON envelope")
    try:
        code = int(envelope[api.ENVELOPE_CODE])
    except (TypeError, ValueError) as error:
        raise ProtocolError(f"{what}: the service replied with a malformed code") from error
    if code == api.CODE_OK and response.status_code >= 400:
        code = response.status_code
    data = envelope.get(api.ENVELOPE_DATA)
    message = str(envelope.get(api.ENVELOPE_MESSAGE) or "")
    return Answer(code, message, data if isinstance(data, dict) else {}, retry_after)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def server_failure(code: int) -> bool:
    """An HTTP 5xx (business codes such as 1001 or 4001 are numerically larger but are not)."""
    return 500 <= code < 600


def as_int(value: Any) -> int:
    """An integer field, 0 when missing or malformed."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def as_text(value: Any) -> str | None:
    """A text field, None when missing or empty."""
    return str(value) if value not in (None, "") else None


def as_draft(value: Any, what: str) -> dict[str, Any] | None:
    """A draft as an object: an object as it is, a string holding a JSON object parsed; None when absent.

    Some servers send the draft as JSON text inside the JSON reply; that is read, not refused. Anything
    else (a string that is not a JSON object, a list, a number) is a ProtocolError.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if not isinstance(value, dict):
        raise ProtocolError(f"{what}: the draft is not a JSON object")
    return value
