"""Where the bearer token comes from: NEMO_TOKEN, or an anonymous token cached under JOYPIX_HOME.

An anonymous token belongs to the X-Client-Id it was asked for, and the service gives one token per
client id per 7 days. So the home keeps one client id per service (``client_id.json``) and every token
call uses it, retries included: a call that failed in doubt (no answer, a 5xx) may have issued a token,
and asking again with a new id would open a second anonymous account. A fresh id is taken only when
the old one is certainly done with: its token expired or was refused (1001), or the service said the id
was missing (400). A 429 for our own id means the service already gave it a token: another process of
this home may have it (the cache is read again), else the call waits Retry-After and tries once more
with the same id, then fails saying so.
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
from joypix_recipes.errors import AuthError, ProtocolError, RateLimitedError
from joypix_recipes.redact import url_without_credentials

TOKEN_FILE = "auth.json"
CLIENT_ID_FILE = "client_id.json"
EXPIRY_MARGIN_S = 300.0
"""Treat a cached token as expired a little early, so it does not lapse in the middle of a job."""

TokenSource = Literal["environment", "anonymous"]
FetchAnonymous = Callable[[str], Awaitable[tuple[str, float]]]
"""One anonymous-token call for the given client id (repeating it on doubt with the same id): returns
(token, seconds to expiry); raises ClientIdRejected on a 400, ClientIdRateLimited on a 429."""
Wait = Callable[[float | None], Awaitable[None]]
"""Waits what a 429 asks (its Retry-After, else the documented 30 s)."""


class ClientIdRejected(Exception):
    """The token call was refused with 400: the service did not take our client id."""


class ClientIdRateLimited(Exception):
    """The token call was refused with 429: this client id already has a token (or is asking too often)."""

    def __init__(self, retry_after: float | None) -> None:
        super().__init__("rate limited")
        self.retry_after = retry_after


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
        credentials = self.load_any()
        return credentials if credentials is not None and credentials.usable() else None

    def load_any(self) -> Credentials | None:
        """The cached anonymous credentials for this base URL, expired or not, or None."""
        entry = read_json(self.path).get(self.base_url)
        if not isinstance(entry, dict):
            return None
        token, client_id, expires_at = entry.get("token"), entry.get("client_id"), entry.get("expires_at")
        if not (isinstance(token, str) and isinstance(client_id, str) and isinstance(expires_at, (int, float))):
            return None
        return Credentials(token, client_id, "anonymous", float(expires_at))

    def save(self, credentials: Credentials) -> None:
        """Store ``credentials`` for this base URL, keeping other URLs' entries."""
        entry = {"token": credentials.token, "client_id": credentials.client_id, "expires_at": credentials.expires_at}

        def store(data: dict[str, Any]) -> None:
            data[self.base_url] = entry

        update_private_json(self.path, store)


class ClientIds:
    """The home's client id for one service (base URL), in a 0600 JSON file shared by every process of the home."""

    def __init__(self, home: Path, base_url: str) -> None:
        self.path = home / CLIENT_ID_FILE
        self.base_url = url_without_credentials(base_url)

    def current(self) -> str:
        """The kept client id, made (and kept) now if there is none yet."""
        kept = read_json(self.path).get(self.base_url)
        if isinstance(kept, str) and kept:
            return kept
        return self._store(lambda existing: existing or new_client_id())

    def replace(self, done_with: str) -> str:
        """A fresh client id in place of ``done_with``; the id another process already put there is kept."""
        return self._store(lambda existing: new_client_id() if existing in (None, done_with) else existing)

    def _store(self, choose: Callable[[str | None], str]) -> str:
        chosen: list[str] = []

        def change(data: dict[str, Any]) -> None:
            existing = data.get(self.base_url)
            data[self.base_url] = choose(existing if isinstance(existing, str) and existing else None)
            chosen.append(data[self.base_url])

        update_private_json(self.path, change)
        return chosen[0]


def environment_credentials(client_id: str | None = None) -> Credentials | None:
    """Credentials from NEMO_TOKEN, if it is set and not blank."""
    token = os.environ.get(ENV_TOKEN, "").strip()
    if not token:
        return None
    return Credentials(token, client_id or new_client_id(), "environment", None)


class TokenProvider:
    """Hands out the current credentials and renews them at most once per refusal, however many ask."""

    def __init__(self, cache: TokenCache, ids: ClientIds, fetch_anonymous: FetchAnonymous, wait: Wait) -> None:
        self._cache = cache
        self._ids = ids
        self._fetch = fetch_anonymous
        self._wait = wait
        self._current: Credentials | None = environment_credentials()
        self._lock = asyncio.Lock()

    @property
    def current(self) -> Credentials | None:
        """The credentials in use now, without fetching any."""
        return self._current

    def load_cached(self) -> None:
        """Take usable cached credentials now, if there are any (blocking: a file read); never fetches."""
        if self._current is None or not self._current.usable():
            cached = self._cache.load_any()
            if cached is not None and cached.usable():
                self._current = cached

    async def get(self) -> Credentials:
        """The credentials to send: from the environment, the cache, or a fresh anonymous token."""
        if self._current is not None and self._current.usable():
            return self._current
        async with self._lock:
            if self._current is None or not self._current.usable():
                cached = self._cache.load_any()
                if cached is not None and cached.usable():
                    self._current = cached
                elif cached is not None:
                    # Its token has expired: that id is done with, certainly, so a new one is safe.
                    self._current = await self._obtain(self._ids.replace(cached.client_id))
                else:
                    self._current = await self._obtain(self._ids.current())
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
            # A refusal is certain (not a doubt): the id's token is dead, and a fresh id may ask again.
            self._current = await self._obtain(self._ids.replace(refused.client_id))
            return self._current

    async def new_client_id(self, rejected: Credentials) -> Credentials:
        """Credentials with a fresh client id after the service said it was missing (400)."""
        async with self._lock:
            if self._current is not None and self._current.client_id != rejected.client_id:
                return self._current
            if rejected.source == "anonymous":
                # An anonymous token belongs to its client id, so a new id needs a new token.
                self._current = await self._obtain(self._ids.replace(rejected.client_id))
            else:
                self._current = replace(rejected, client_id=new_client_id())
            return self._current

    async def _obtain(self, client_id: str) -> Credentials:
        """A token for ``client_id``: never another id for a doubt, one fresh id for a 400, one wait for a 429."""
        refused_id = waited = False
        while True:
            try:
                token, expires_in = await self._fetch(client_id)
                break
            except ClientIdRejected:
                if refused_id:
                    raise ProtocolError(
                        "getting an anonymous token: the service still reports a missing client id after a fresh one"
                    ) from None
                refused_id = True
                client_id = self._ids.replace(client_id)  # documented: a 400 here gets a fresh client id
            except ClientIdRateLimited as limited:
                cached = self._cache.load()
                if cached is not None and cached.client_id == client_id:
                    return cached  # another process of this home got the id's token first
                if waited:
                    raise RateLimitedError(
                        "getting an anonymous token: the service is rate limiting this client id (it may already "
                        "hold a token whose reply was lost); wait a minute and run again, or set NEMO_TOKEN"
                    ) from None
                waited = True
                await self._wait(limited.retry_after)
                cached = self._cache.load()
                if cached is not None and cached.client_id == client_id:
                    return cached
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
