"""The studio's door, as a notebook server keeps one: a page can render (and spend credits), so only this user's
browser, on this address, may use it.

- a random token, in the address printed at start, then in a cookie: other users of the machine have no way in;
- the Host header must name the address served (127.0.0.1:PORT or localhost:PORT): a site whose name is
  made to resolve to 127.0.0.1 (DNS rebinding) sends its own name and is refused;
- a POST must carry the Origin of the page itself: a form or fetch from another tab starts nothing;
- every answer forbids other origins (Content-Security-Policy), framing and sniffing, and keeps the token
  out of Referer headers.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_PARAMETER = "token"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
REPORT_POLICY = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
"""report.html carries its style inline (it is also opened from disk); it still loads nothing from elsewhere."""
_SAFE_METHODS = frozenset({"GET", "HEAD"})
LOOPBACK_NAMES = ("127.0.0.1", "localhost")


def new_token() -> str:
    """A token nobody can guess."""
    return secrets.token_urlsafe(24)


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """The Host headers of the address served: the loopback names for a loopback address, else ``host`` itself."""
    names: Iterable[str] = LOOPBACK_NAMES if host in (*LOOPBACK_NAMES, "::1") else (host,)
    if host == "::1":
        names = (*names, "[::1]")
    return frozenset(f"{name}:{port}" for name in names)


class Guard:
    """ASGI middleware: refuses (403) a request with the wrong Host, token or Origin before it reaches a route."""

    def __init__(self, app: ASGIApp, *, token: str, hosts: frozenset[str], cookie: str) -> None:
        self._app = app
        self._token = token
        self._hosts = hosts
        self._origins = frozenset(f"http://{host}" for host in hosts)
        self._cookie = cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # The studio speaks no websocket: one is refused rather than left to a route to judge.
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _secured(PlainTextResponse(refusal, status_code=403), scope)(scope, receive, send)
            return
        if _query_token(scope) is not None and scope["method"] in _SAFE_METHODS and scope["path"] == "/":
            # The token leaves the address bar (and history) for a cookie.
            redirect = RedirectResponse(scope["path"], status_code=303)
            redirect.set_cookie(self._cookie, self._token, httponly=True, samesite="strict", path="/")
            await _secured(redirect, scope)(scope, receive, send)
            return

        async def secured_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                _add_security_headers(headers, scope)
            await send(message)

        await self._app(scope, receive, secured_send)

    def _refusal(self, scope: Scope) -> str | None:
        headers = Headers(scope=scope)
        if headers.get("host", "") not in self._hosts:
            return "this studio answers only at the address it printed"
        if not secrets.compare_digest(self._given_token(scope, headers).encode(), self._token.encode()):
            return "open the address `joypix studio` printed (it carries the token)"
        if scope["method"] not in _SAFE_METHODS and headers.get("origin", "") not in self._origins:
            return "only the studio's own page can ask for this"
        return None

    def _given_token(self, scope: Scope, headers: Headers) -> str:
        token = _query_token(scope)
        if token is not None:
            return token
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # noqa: BLE001 -- a malformed cookie header is no token
            return ""
        morsel = cookie.get(self._cookie)
        return morsel.value if morsel is not None else ""


def _query_token(scope: Scope) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(TOKEN_PARAMETER)
    return values[0] if values else None


def _secured(response: Response, scope: Scope) -> Response:
    _add_security_headers(response.headers, scope)
    return response


def _add_security_headers(headers: MutableHeaders, scope: Scope) -> None:
    report = str(scope.get("path", "")).endswith("/report.html")
    headers["Content-Security-Policy"] = REPORT_POLICY if report else CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Cache-Control"] = headers.get("Cache-Control", "no-store")
