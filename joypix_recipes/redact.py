"""Keeping tokens out of text: a redaction function and a logging filter that applies it to every record.

The client never logs a token on purpose; this is the belt to those braces, for text that comes back
from the service or from a library.
"""

from __future__ import annotations

import logging
import re

LOGGER_NAME = "joypix_recipes.api"
REDACTED = "<redacted>"

_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
# The user-info part of a URL (``http://user:password@host``): a password the user put in --base-url.
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s@]+@")
# A query parameter (``?password=...``, ``&X-Amz-Signature=...``) whose name says it carries a secret.
_QUERY_PARAMETER = re.compile(r"([?&;])([A-Za-z0-9_.~%+-]+)=([^&;#\s'\"<>]*)")
_SECRET_WORDS = frozenset(
    {"password", "passwd", "pwd", "pass", "pw", "token", "key", "apikey", "secret", "signature", "sig", "auth",
     "authorization", "credential", "credentials", "jwt", "bearer"}
)
_SECRET_PARTS = ("password", "passwd", "token", "secret", "signature", "credential", "apikey", "accesskey")
_SECRETS: set[str] = set()


def remember_secret(secret: str) -> None:
    """Redact this exact value from now on, wherever it appears."""
    if len(secret) >= 8:
        _SECRETS.add(secret)


def secret_parameter(name: str) -> bool:
    """Whether a URL query parameter of this name carries a secret (``password``, ``api_key``, ``X-Amz-Signature``)."""
    lowered = name.lower()
    words = re.split(r"[-_.~+%]", lowered)
    return any(word in _SECRET_WORDS for word in words) or any(part in lowered for part in _SECRET_PARTS)


def _redact_parameter(match: re.Match[str]) -> str:
    if not match.group(3) or not secret_parameter(match.group(2)):
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}={REDACTED}"


def redact(text: str) -> str:
    """``text`` with bearer credentials, URL passwords, secret query parameters and every remembered secret
    replaced by ``<redacted>``."""
    text = _BEARER.sub(lambda match: match.group(1) + REDACTED, text)
    text = _URL_CREDENTIALS.sub(lambda match: match.group(1) + REDACTED + "@", text)
    text = _QUERY_PARAMETER.sub(_redact_parameter, text)
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def url_without_credentials(url: str) -> str:
    """``url`` with any user-info removed: the form to use as a key in files (token cache, sessions)."""
    return _URL_CREDENTIALS.sub(lambda match: match.group(1), url)


class TokenRedactingFilter(logging.Filter):
    """Rewrites a record's message with tokens redacted; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the formatted message in place."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed log call must not break the program
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


_FILTER = TokenRedactingFilter()
# Logger filters only see records logged on that very logger, so each one we, httpx or aiohttp use gets it.
_LOGGERS = (
    LOGGER_NAME,
    "joypix_recipes.backends.nemo",
    "httpx",
    "httpcore",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.connection",
    "httpcore.proxy",
    "aiohttp.client",
    "aiohttp.internal",
)


def install_redaction() -> None:
    """Attach the redacting filter to the client's loggers and its HTTP libraries' (idempotent)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def get_logger() -> logging.Logger:
    """The client's logger, with redaction installed."""
    install_redaction()
    return logging.getLogger(LOGGER_NAME)
