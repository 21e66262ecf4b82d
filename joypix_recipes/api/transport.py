"""Sending one request to the API origin: headers, the envelope, the documented recoveries, safe repeats.

Recoveries (docs/protocol.md, "Error codes"): 1001 renews the token once; 429 waits Retry-After (else
30 s) once; a 400 gets a fresh client id only when its message names X-Client-Id (elsewhere a 400 is
just an error, and no token is minted for it). A request is repeated after a network error only when
repeating cannot do a paid or visible thing twice (``Repeat``).
"""

from __future__ import annotations

import contextlib
import functools
import ssl
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from http.cookiejar import CookieJar
from typing import Any, Literal

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from joypix_recipes.api import endpoints as api
from joypix_recipes.api.auth import (
    ClientIdRateLimited,
    ClientIdRejected,
    ClientIds,
    Credentials,
    TokenCache,
    TokenProvider,
)
from joypix_recipes.api.codes import error_for
from joypix_recipes.api.envelope import Answer, read_answer, server_failure
from joypix_recipes.api.settings import ClientSettings
from joypix_recipes.errors import JoypixError, ProtocolError, ServerError
from joypix_recipes.redact import get_logger, redact, remember_secret

log = get_logger()

Repeat = Literal["always", "unsent", "never"]
"""When a failed request may be sent again: ``always`` (reads), ``unsent`` (only when the request
provably never left: a connect error), ``never`` (the caller looks at the server's state instead)."""

UNSENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors raised before any byte of the request reached the server."""

Body = Callable[[contextlib.ExitStack], dict[str, Any]]
BindIdLookup = Callable[[], Awaitable[str | None]]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every HTTP client of the process: building one costs about 0.1 s of CPU."""
    return httpx.create_ssl_context()


URLS_KEPT = 1024
"""Merged URLs a transport keeps (a few per job at once)."""
KEEPALIVE_S = 5.0
"""How long an idle connection is kept (httpx's own default)."""


class _AiohttpTransport(AiohttpTransport):
    """httpx's interface over aiohttp's connection pool and C-accelerated HTTP parser.

    Measured against the emulator, a request costs well under half the client CPU it does through
    httpcore, and a cloud job makes a dozen or more. The package maps aiohttp's errors coarsely (any
    lost connection reads as a connect timeout, which this client takes to mean "never sent"); they
    are mapped again by what each proves, so a request cut off after it left is never sent again as
    if it had not.
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with _errors_by_what_they_prove():
            response = await super().handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Body(response.stream)
        return response


class _Body(httpx.AsyncByteStream):
    """A response body whose errors say that the request was sent (a reply had begun)."""

    def __init__(self, stream: httpx.AsyncByteStream) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _errors_by_what_they_prove():
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        with _errors_by_what_they_prove():
            await self._stream.aclose()


@contextlib.contextmanager
def _errors_by_what_they_prove() -> Iterator[None]:
    """httpx's errors for aiohttp's: a connect error or connect timeout only when no connection was made."""
    try:
        yield
    except httpx.TransportError as error:
        cause = error.__cause__
        if isinstance(cause, aiohttp.ClientConnectorError):
            raise httpx.ConnectError(str(error)) from cause
        if isinstance(cause, aiohttp.ConnectionTimeoutError):
            raise httpx.ConnectTimeout(str(error)) from cause
        if isinstance(cause, aiohttp.ServerTimeoutError):
            raise httpx.ReadTimeout(str(error)) from cause
        if isinstance(cause, aiohttp.ClientError) and isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout)):
            # A connection that was made and then lost: the request may have reached the server.
            raise httpx.ReadError(str(error) or type(cause).__name__) from cause
        raise
    except aiohttp.ClientError as error:  # what the package leaves unmapped: a malformed reply, say
        raise httpx.RemoteProtocolError(str(error) or type(error).__name__) from error


def _aiohttp_session() -> aiohttp.ClientSession:
    # httpx keeps the cookies (one jar per client); aiohttp must not add a second jar's.
    connector = aiohttp.TCPConnector(ssl=tls_context(), limit=0, keepalive_timeout=KEEPALIVE_S)
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())


def http_client(**options: Any) -> httpx.AsyncClient:
    """An httpx client over aiohttp's transport (``options`` as httpx.AsyncClient takes them).

    aiohttp's pool hands out a free connection without scanning every idle one, so one pool serves
    any number of jobs at once. The session is made on first use, inside the event loop, as aiohttp asks.
    When the environment names a proxy, the client stays on httpx's own transport: httpx applies
    HTTP(S)_PROXY, ALL_PROXY and NO_PROXY only there.
    """
    if _environment_names_a_proxy():
        return httpx.AsyncClient(verify=tls_context(), **options)
    # The shared context: the package would otherwise build one per transport, at a few dozen ms of CPU each.
    return httpx.AsyncClient(transport=_AiohttpTransport(verify=tls_context(), client=_aiohttp_session), **options)


def _environment_names_a_proxy() -> bool:
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))


def upload_client(**options: Any) -> httpx.AsyncClient:
    """An httpx client on httpx's own transport, for requests that send a file.

    aiohttp has no write timeout: an upload to a server that stops reading would wait for ever. httpx's
    own transport gives up on a write that makes no progress for the request timeout. A job uploads
    once per image, so the extra CPU of this transport hardly counts.
    """
    return httpx.AsyncClient(verify=tls_context(), **options)


class RequestFailed(ServerError):
    """A 5xx answer or a broken connection: the request may or may not have been acted on."""

    def __init__(self, message: str, *, unsent: bool = False) -> None:
        super().__init__(message)
        self.unsent = unsent


def names_client_id(message: str) -> bool:
    """Whether a 400's message says the client id is the problem (the only 400 we recover from)."""
    return api.HEADER_CLIENT_ID.lower() in message.lower() or "client id" in message.lower()


class Recovery:
    """The once-only recoveries of one logical request: re-auth, new client id, rate-limit wait."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self.reauthed = self.new_id = self.waited = False

    async def recover(self, answer: Answer, credentials: Credentials | None) -> bool:
        """Perform the recovery ``answer`` calls for, if not done yet; True means send again."""
        provider = self._transport.tokens
        code = answer.code
        if code == api.CODE_BAD_TOKEN and credentials is not None and not self.reauthed:
            self.reauthed = True
            log.info("token refused; renewing it")
            await provider.renew(credentials)
            return True
        if code == api.CODE_MISSING_CLIENT_ID and names_client_id(answer.message) and credentials is not None:
            if not self.new_id:
                self.new_id = True
                log.info("service reported a missing client id; using a fresh one")
                await provider.new_client_id(credentials)
                return True
        if code == api.CODE_RATE_LIMITED and not self.waited:
            self.waited = True
            await self._transport.wait_rate_limit(answer.retry_after)
            return True
        return False


class Transport:
    """The API origin's HTTP client with the token, attribution headers and recovery rules."""

    def __init__(self, settings: ClientSettings, sleep: Callable[[float], Awaitable[None]]) -> None:
        self.settings = settings
        self.sleep = sleep
        self.tokens = TokenProvider(
            TokenCache(settings.home, settings.base_url),
            ClientIds(settings.home, settings.base_url),
            self._fetch_anonymous,
            self.wait_rate_limit,
        )
        timeout = httpx.Timeout(settings.request_timeout_s, connect=settings.connect_timeout_s)
        # One cookie jar for every pool: a cookie the service sets (a load balancer's, say) goes back
        # with every later request, whichever pool carries it.
        cookies = CookieJar()

        self.http = http_client(base_url=settings.base_url, timeout=timeout, follow_redirects=False, cookies=cookies)
        """The client for short requests."""
        # Turns hold a connection for their whole stream, in a pool of their own.
        self.streams = http_client(base_url=settings.base_url, timeout=timeout, follow_redirects=False, cookies=cookies)
        """The client for event streams."""
        self.uploads = upload_client(
            base_url=settings.base_url, timeout=timeout, follow_redirects=False, cookies=cookies
        )
        """The client for requests that send a file."""
        self.bind_id_lookup: BindIdLookup | None = None
        self._urls: dict[str, httpx.URL] = {}

    def url(self, path: str) -> httpx.URL:
        """``path`` on the API origin, merged with the base URL once while it is in use.

        httpx parses a relative path and merges it into its base URL on every request; a job asks for the
        same few paths (its session's state, its render's status, the turns) again and again.
        """
        found = self._urls.get(path)
        if found is None:
            if len(self._urls) >= URLS_KEPT:
                self._urls.clear()  # paths of sessions long done; the live ones are merged again once
            found = self._urls[path] = self.http.build_request("GET", path).url
        return found

    async def aclose(self) -> None:
        """Close every connection pool."""
        await self.http.aclose()
        await self.streams.aclose()
        await self.uploads.aclose()

    def headers(self, credentials: Credentials) -> dict[str, str]:
        """Attribution headers, the bearer token and the client id."""
        remember_secret(credentials.token)
        return {
            **self.settings.attribution(),
            api.HEADER_AUTHORIZATION: f"Bearer {credentials.token}",
            api.HEADER_CLIENT_ID: credentials.client_id,
        }

    async def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        repeat: Repeat,
        body: Body | None = None,
        file_name: str | None = None,
        bind_id: str | None = None,
    ) -> Answer:
        """Send once (plus the documented recoveries and safe repeats); the answer when its code is 0."""
        recovery = Recovery(self)
        attempt = 0
        while True:
            credentials = await self.tokens.get()
            try:
                with contextlib.ExitStack() as stack:
                    extra = body(stack) if body is not None else {}
                    client = self.uploads if "files" in extra else self.http
                    response = await client.request(method, self.url(path), headers=self.headers(credentials), **extra)
            except httpx.TransportError as error:
                attempt += 1
                unsent = isinstance(error, UNSENT_ERRORS)
                if (repeat == "always" or (repeat == "unsent" and unsent)) and self._may_retry(error, attempt):
                    log.info("%s: network error (%s); retrying", what, type(error).__name__)
                    await self.sleep(self.settings.retry.delay(attempt))
                    continue
                raise RequestFailed(
                    f"{what}: cannot reach {redact(self.settings.base_url)}{_why(error)}; check the network",
                    unsent=unsent,
                ) from error
            answer = read_answer(response, what)
            log.debug("%s %s -> HTTP %s code %s", method, path, response.status_code, answer.code)
            if answer.code == api.CODE_OK:
                return answer
            if await recovery.recover(answer, credentials):
                continue
            if server_failure(answer.code):
                attempt += 1
                if repeat == "always" and attempt < self.settings.retry.attempts:
                    log.info("%s: HTTP %s; backing off", what, answer.code)
                    await self.sleep(self.settings.retry.delay(attempt))
                    continue
                raise RequestFailed(f"{what}: the service failed (HTTP {answer.code}); try again later")
            raise await self.error(answer, what, file_name)

    def _may_retry(self, error: httpx.TransportError, attempt: int) -> bool:
        """Whether a network error on try number ``attempt`` is worth another try."""
        if isinstance(error, httpx.ConnectError) and not self.settings.retry_unreachable:
            return False
        return attempt < self.settings.retry.attempts

    async def error(self, answer: Answer, what: str, file_name: str | None = None) -> JoypixError:
        """The typed error for a refused request; a 2001 looks the bind id up first when it is unknown."""
        credentials = self.tokens.current
        anonymous = credentials is None or credentials.anonymous
        bind_id = None
        if answer.code == api.CODE_NO_CREDITS and anonymous and self.bind_id_lookup is not None:
            with contextlib.suppress(JoypixError):
                bind_id = await self.bind_id_lookup()
        return error_for(
            answer.code, answer.message, what=what, anonymous=anonymous, bind_id=bind_id, file_name=file_name
        )

    async def wait_rate_limit(self, retry_after: float | None) -> None:
        """Wait what a 429 asks (Retry-After, else the documented 30 s), capped."""
        wait = retry_after if retry_after is not None else self.settings.rate_limit_wait_s
        log.info("rate limited; waiting %.1f s", wait)
        await self.sleep(min(wait, self.settings.max_wait_s))

    async def _fetch_anonymous(self, client_id: str) -> tuple[str, float]:
        """POST anonymous-token for ``client_id``; a doubt (no answer, a 5xx) is asked again with the same id.

        The service gives one token per client id per 7 days, so a doubtful call may already have issued
        ours: a new id would open a second anonymous account. A 400 or 429 goes to the caller (TokenProvider).
        """
        headers = {**self.settings.attribution(), api.HEADER_CLIENT_ID: client_id}
        what = "getting an anonymous token"
        for attempt in range(1, self.settings.retry.attempts + 1):
            try:
                response = await self.http.post(api.ANONYMOUS_TOKEN_PATH, headers=headers)
            except httpx.TransportError as error:
                if not self._may_retry(error, attempt):
                    raise ServerError(
                        f"cannot reach {redact(self.settings.base_url)}{_why(error)} to get a token; check the network"
                    ) from error
                log.info("%s: network error (%s); asking again with the same client id", what, type(error).__name__)
                await self.sleep(self.settings.retry.delay(attempt))
                continue
            answer = read_answer(response, what)
            if answer.code == api.CODE_OK:
                token = answer.data.get("token")
                if not isinstance(token, str) or not token:
                    raise ProtocolError(f"{what}: the service returned none")
                remember_secret(token)
                expires_in = answer.data.get("expires_in")
                lifetime = float(expires_in) if isinstance(expires_in, (int, float)) else float(api.TOKEN_LIFETIME_S)
                return token, lifetime
            if answer.code == api.CODE_MISSING_CLIENT_ID:
                raise ClientIdRejected()
            if answer.code == api.CODE_RATE_LIMITED:
                raise ClientIdRateLimited(answer.retry_after)
            if server_failure(answer.code) and attempt < self.settings.retry.attempts:
                log.info("%s: HTTP %s; asking again with the same client id", what, answer.code)
                await self.sleep(self.settings.retry.delay(attempt))
                continue
            raise error_for(answer.code, answer.message, what=what)
        raise ServerError(f"{what} kept failing; try again later")


def _why(error: httpx.TransportError) -> str:
    """`` (connection refused)`` when the host said no at once: the service is not running there."""
    seen: BaseException | None = error
    for _ in range(10):  # httpx wraps httpcore's error, which wraps the socket's
        if seen is None:
            break
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return " (connection refused)"
        seen = seen.__cause__ or seen.__context__
    return ""
