"""The service's documented error codes as typed errors with messages a user can act on (docs/protocol.md).

Messages are built here from our own words plus, at most, the service's message with tokens redacted.
"""

from __future__ import annotations

from joypix_recipes.api import endpoints as api
from joypix_recipes.errors import (
    ApiError,
    AuthError,
    ExportBlockedError,
    FileTooLargeError,
    JoypixError,
    NoCreditsError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    SessionLostError,
    UnsupportedFileError,
)
from joypix_recipes.redact import redact

ACCEPTED_LIST = ", ".join(sorted(suffix.lstrip(".") for suffix in api.ACCEPTED_SUFFIXES))


class RenderNotFound(ApiError):
    """The render id is unknown to the service (it was never created, or it expired)."""


def no_credits_error(anonymous: bool, bind_id: str | None) -> NoCreditsError:
    """The 2001 message: a registration link for anonymous users, a top-up hint otherwise."""
    if anonymous:
        return NoCreditsError(
            "the JoyPix account has no credits left; register to get more at "
            f"{api.register_url(bind_id)} and then set NEMO_TOKEN to your account's token"
        )
    return NoCreditsError("the JoyPix account has no credits left; top up credits in your account and run again")


def unsupported_file_error(name: str) -> UnsupportedFileError:
    """The 4001 message, naming the file and the formats the service takes."""
    return UnsupportedFileError(f"{name}: the service does not accept this file type; use one of {ACCEPTED_LIST}")


def file_too_large_error(name: str) -> FileTooLargeError:
    """The 4002 message, naming the file and what to do about it."""
    limit = api.MAX_UPLOAD_BYTES // (1024 * 1024)
    return FileTooLargeError(f"{name}: the file is larger than the service's {limit} MB limit; compress or trim it")


def error_for(
    code: int,
    service_message: str,
    *,
    what: str,
    anonymous: bool = True,
    bind_id: str | None = None,
    file_name: str | None = None,
) -> JoypixError:
    """The typed error for a non-zero code; ``what`` names the request ("uploading photo.jpg")."""
    said = redact(service_message.strip())[:200]
    detail = f" (the service said: {said})" if said else ""
    if code == api.CODE_BAD_TOKEN:
        return AuthError(f"{what}: the service refused the token even after renewing it; try again later")
    if code == api.CODE_SESSION_LOST:
        return SessionLostError(f"{what}: the editing session no longer exists")
    if code == api.CODE_NO_CREDITS:
        return no_credits_error(anonymous, bind_id)
    if code == api.CODE_UNSUPPORTED_FILE:
        return unsupported_file_error(file_name or what)
    if code == api.CODE_FILE_TOO_LARGE:
        return file_too_large_error(file_name or what)
    if code == api.CODE_EXPORT_BLOCKED:
        return ExportBlockedError(
            f"{what}: export needs a registered or upgraded plan (this is not a credits problem); "
            f"register or upgrade at {api.register_url(bind_id if anonymous else None)}"
        )
    if code == api.CODE_RATE_LIMITED:
        return RateLimitedError(f"{what}: the service is rate limiting this client; wait a minute and run again")
    if code == api.CODE_NOT_FOUND:
        return RenderNotFound(f"{what}: the service does not know this id{detail}")
    if code == api.CODE_MISSING_CLIENT_ID:
        return ProtocolError(f"{what}: the service still reports a missing client id after a fresh one{detail}")
    if 500 <= code < 600:
        return ServerError(f"{what}: the service failed (HTTP {code}) and retrying did not help; try again later")
    return ProtocolError(f"{what}: the service answered with unexpected code {code}{detail}")
