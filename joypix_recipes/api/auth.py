"""Where the bearer token comes from: NEMO_TOKEN, or an anonymous token cached under JOYPIX_HOME.

An anonymous token is obtained with a random X-Client-Id that is kept with it; it is reused until it
expires (7 days) and renewed, with a fresh client id, when the service refuses it (1001).
The HTTP call itself is injected (``fetch_anonymous``) so this module knows nothing of httpx.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from joypix_recipes.api.endpoints import ENV_TOKEN, TOKEN_LIFETIME_S
from joypix_recipes.api.home import read_json, update_private_json
from joypix_recipes.errors import AuthError
from joypix_recipes.redact import url_without_credentials

TOKEN_FILE = "auth.json"
EXPIRY_MARGIN_S = 300.0
"""Treat a cached token as expired a little early, so it does not lapse in the middle of a job."""

TokenSource = Literal["environment", "anonymous"]
FetchAnonymous = Callable[[], Awaitable[tuple[str, str, float]]]
"""Obtains an anonymous token with a fresh client id: returns (token, client id, seconds to expiry)."""


def new_client_id() -> str:
    """A random client identifier: a UUID (documented)."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Credentials:
    """A token, the client id it was issued to, where it came from, and when it expires (epoch s)."""

    token: str
    client_id: str
    source: TokenSource
    expires_at: float | None = None

    def __repr__(self) -> str:
        # Never let a token reach a log or traceback through repr().
        return f"Credentials(source={self.source!r}, client_id={self.client_id!r}, token=<redacted>)"

    @property
    def anonymous(self) -> bool:
        """True for a token obtained anonymously (registration link applies)."""
        return self.source == "anonymous"

    def usable(self, now: float | None = None) -> bool:
        """Whether the token is still worth sending."""
        if self.expires_at is None:
            return True
        return (now if now is not None else time.time()) < self.expires_at - EXPIRY_MARGIN_S


class TokenCache:
    """The anonymous token of each base URL, in one 0600 JSON file under the home folder."""

    def __init__(self, home: Path, base_url: str) -> None:
        self.path = home / TOKEN_FILE
        self.base_url = url_without_credentials(base_url)  # the file must not keep a URL's password

    def load(self) -> Credentials | None:
        """The cached, unexpired anonymous credentials for this base URL, or None."""
        entry = read_json(self.path).get(self.base_url)
        if not isinstance(entry, dict):
            return None
        token, client_id, expires_at = entry.get("token"), entry.get("client_id"), entry.get("expires_at")
        if not (isinstance(token, str) and isinstance(client_id, str) and isinstance(expires_at, (int, float))):
            return None
        credentials = Credentials(token, client_id, "anonymous", float(expires_at))
        return credentials if credentials.usable() else None

    def save(self, credentials: Credentials) -> None:
        """Store ``credentials`` for this base URL, keeping other URLs' entries."""
        entry = {"token": credentials.token, "client_id": credentials.client_id, "expires_at": credentials.expires_at}

        def store(data: dict[str, Any]) -> None:
            data[self.base_url] = entry

        update_private_json(self.path, store)


def environment_credentials(client_id: str | None = None) -> Credentials | None:
    """Credentials from NEMO_TOKEN, if it is set and not blank."""
    token = os.environ.get(ENV_TOKEN, "").strip()
    if not token:
        return None
    return Credentials(token, client_id or new_client_id(), "environment", None)


class TokenProvider:
    """Hands out the current credentials and renews them at most once per refusal, however many ask."""

    def __init__(self, cache: TokenCache, fetch_anonymous: FetchAnonymous) -> None:
        self._cache = cache
        self._fetch = fetch_anonymous
        self._current: Credentials | None = environment_credentials()
        self._lock = asyncio.Lock()

    @property
    def current(self) -> Credentials | None:
        """The credentials in use now, without fetching any."""
        return self._current

    async def get(self) -> Credentials:
        """The credentials to send: from the environment, the cache, or a fresh anonymous token."""
        if self._current is not None and self._current.usable():
            return self._current
        async with self._lock:
            if self._current is None or not self._current.usable():
                self._current = self._cache.load() or await self._obtain()
            return self._current

    async def renew(self, refused: Credentials) -> Credentials:
        """New credentials after ``refused`` was rejected (1001); shared if another task renewed first."""
        async with self._lock:
            if self._current is not None and self._current.token != refused.token:
                return self._current
            if refused.source == "environment":
                raise AuthError(
                    "the service refused the token in NEMO_TOKEN (expired or invalid); "
                    "set a fresh token, or unset NEMO_TOKEN to use an anonymous one"
                )
            self._current = await self._obtain()
            return self._current

    async def new_client_id(self, rejected: Credentials) -> Credentials:
        """Credentials with a fresh client id after the service said it was missing (400)."""
        async with self._lock:
            if self._current is not None and self._current.client_id != rejected.client_id:
                return self._current
            if rejected.source == "anonymous":
                # An anonymous token belongs to its client id, so a new id needs a new token.
                self._current = await self._obtain()
            else:
                self._current = replace(rejected, client_id=new_client_id())
            return self._current

    async def _obtain(self) -> Credentials:
        token, client_id, expires_in = await self._fetch()
        credentials = Credentials(token, client_id, "anonymous", time.time() + (expires_in or TOKEN_LIFETIME_S))
        self._cache.save(credentials)
        return credentials


def describe_token(home: Path, base_url: str) -> str:
    """Where the token comes from and when it expires, never its value (for ``joypix doctor``)."""
    if environment_credentials() is not None:
        return "NEMO_TOKEN from the environment (expiry not known locally)"
    cached = TokenCache(home, base_url).load()
    if cached is None or cached.expires_at is None:
        return f"none cached; an anonymous token will be fetched on first use (cache: {home / TOKEN_FILE})"
    when = datetime.fromtimestamp(cached.expires_at, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"anonymous token cached in {home / TOKEN_FILE}, expires {when}"
