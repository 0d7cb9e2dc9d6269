"""The app's outer guard (an ASGI middleware): same-origin proof for cookie-auth state
changes and WebSocket handshakes, request body limits, uploads authenticated before
their body is read, and the security headers of every response.

CSRF (OWASP CSRF Prevention Cheat Sheet, "Verifying Origin with standard headers";
Fetch Metadata, W3C): an unsafe request (not GET/HEAD/OPTIONS) that carries the
session cookie and no ``Authorization`` header must come from one of the server's
own origins: its ``Origin`` (RFC 6454) must be a configured public URL
(``Settings.public_urls``) or the origin the request was sent to (scheme + Host);
without ``Origin``, ``Sec-Fetch-Site`` must be ``same-origin`` or ``none``; with
neither, the session's CSRF token must come along (``X-CSRF-Token`` or a form's
``csrf_token``: :meth:`~reelhouse.auth.tokens.TokenSigner.csrf_token`). Bearer-token
requests are not affected (a browser never adds that header by itself). Login and
setup forms are checked too when an ``Origin`` is present (login CSRF). A WebSocket
handshake whose ``Origin`` is not the server's own is refused (403) before the app
sees it.

NUL: a request whose URL has a NUL character, or whose JSON or form body does, is a 400
(:mod:`reelhouse.api.nul_guard`).

Bodies: every route takes at most ``Settings.json_body_limit`` bytes; the upload
routes (:data:`UPLOAD_ROUTES`) take ``Settings.upload_limit`` and only from an
authenticated admin — checked from the headers before a byte of the body is read.
A declared ``Content-Length`` over the limit is refused at once; a chunked body is
counted as it arrives and refused (413) when it passes the limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.requests import cookie_parser as parse_cookie
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelhouse.api.nul_guard import URL_MESSAGE, BodyScanner, NulInBody, url_has_nul
from reelhouse.api.session_cookie import SESSION_COOKIE
from reelhouse.config import Settings
from reelhouse.errors import AuthenticationFailed

__all__ = ["CSP", "SECURITY_HEADERS", "UPLOAD_ROUTES", "BodyTooLarge", "SecurityMiddleware",
           "allowed_origins", "same_origin"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: (method, path pattern) of the routes that take big bodies (admins only).
UPLOAD_ROUTES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("POST", re.compile(r"^/api/transfers/upload$")),
    ("PUT", re.compile(r"^/api/sources/[^/]+/files$")),
)

#: No inline script anywhere (templates load static files); inline style attributes
#: are used for computed colours and progress bars. hls.js needs blob: media and workers.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
       "worker-src 'self' blob:; font-src 'self' data:; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)

_FORM_LOGINS = ("/login", "/setup", "/api/auth/login", "/api/setup")


class BodyTooLarge(HTTPException):
    """413: the request body passed its route's limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body too large: this route takes at most {limit} bytes")


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    try:
        port = parts.port or default
    except ValueError:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + ("" if port == default else f":{port}")


def allowed_origins(settings: Settings, scope: Scope) -> set[str]:
    """The public URLs' origins plus the origin this request was addressed to."""
    out = {o for o in (_origin_of(u) for u in settings.public_urls) if o}
    host = Headers(scope=scope).get("host")
    if host:
        scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))
        own = _origin_of(f"{scheme}://{host}")
        if own:
            out.add(own)
    return out


def same_origin(settings: Settings, scope: Scope) -> bool:
    """Does the request prove it comes from one of the server's own pages?"""
    headers = Headers(scope=scope)
    origin = headers.get("origin")
    if origin is not None:
        parsed = _origin_of(origin)
        return parsed is not None and parsed in allowed_origins(settings, scope)
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    return False


def _has_cookie_auth(headers: Headers) -> bool:
    if headers.get("authorization", "")[:7].lower() == "bearer ":
        return False
    return f"{SESSION_COOKIE}=" in headers.get("cookie", "")


def _is_upload(method: str, path: str) -> bool:
    return any(method == m and p.match(path) for m, p in UPLOAD_ROUTES)


async def _json(send: Send, status: int, detail: str, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *SECURITY_HEADERS, *headers]})
    await send({"type": "http.response.body", "body": body})


class SecurityMiddleware:
    """See the module docstring; the app's ``state.core`` gives settings and auth."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            ws_settings: Settings = scope["app"].state.core.settings
            if url_has_nul(scope):
                await send({"type": "websocket.close", "code": 1008, "reason": URL_MESSAGE})
                return
            if Headers(scope=scope).get("origin") is not None and not same_origin(ws_settings, scope):
                await send({"type": "websocket.close", "code": 1008,
                            "reason": "cross-origin WebSocket refused"})
                return
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        core = scope["app"].state.core
        settings: Settings = core.settings
        method, path = scope["method"], scope["path"]
        headers = Headers(scope=scope)
        if url_has_nul(scope):
            await _json(send, 400, URL_MESSAGE)
            return
        replay: list[Message] = []
        if method not in SAFE_METHODS:
            if _has_cookie_auth(headers) and not same_origin(settings, scope):
                proof = await self._csrf_proof(scope, receive, headers, core, replay)
                if not proof:
                    await _json(send, 403, "cross-site request refused: it does not come from "
                                "this server's pages (Origin / Sec-Fetch-Site / CSRF token)")
                    return
            if path in _FORM_LOGINS and headers.get("origin") is not None \
                    and not same_origin(settings, scope):
                await _json(send, 403, "cross-site login refused")
                return
        upload = _is_upload(method, path)
        limit = settings.upload_limit if upload else settings.json_body_limit
        declared = headers.get("content-length")
        if upload:
            refusal = await self._refuse_upload(scope)
            if refusal is not None:
                status, detail = refusal
                extra = [(b"www-authenticate", b"Bearer")] if status == 401 else []
                await _json(send, status, detail, extra)
                return
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _json(send, 413, f"request body too large: this route takes at most {limit} bytes")
            return
        seen = 0
        scanner = BodyScanner(headers)

        async def limited_receive() -> Message:
            nonlocal seen
            message = replay.pop(0) if replay else await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
                scanner.feed(message.get("body", b""))
            return message

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except (BodyTooLarge, NulInBody) as exc:  # raised outside a route (a route's handler answers itself)
            await _json(send, exc.status_code, str(exc.detail))

    @staticmethod
    async def _csrf_proof(scope: Scope, receive: Receive, headers: Headers, core: Any,
                          replay: list[Message]) -> bool:
        """Without Origin and Sec-Fetch-Site (an old browser, a privacy proxy that
        strips them), the session's CSRF token proves the request: the ``X-CSRF-Token``
        header, or the ``csrf_token`` field of a small urlencoded form (read here and
        replayed to the app). A foreign Origin or Sec-Fetch-Site is never enough."""
        if headers.get("origin") is not None or headers.get("sec-fetch-site") is not None:
            return False
        session = parse_cookie(headers.get("cookie", "")).get(SESSION_COOKIE, "")
        if not session:
            return False
        header = headers.get("x-csrf-token")
        if header is not None:
            return bool(core.signer.check_csrf(session, header))
        if headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return False
        body, more = b"", True
        limit = core.settings.json_body_limit
        while more and len(body) <= limit:
            message = await receive()
            replay.append(message)
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if len(body) > limit:
            return False
        token = parse_qs(body.decode("latin-1")).get("csrf_token", [""])[0]
        return bool(core.signer.check_csrf(session, token))

    @staticmethod
    async def _refuse_upload(scope: Scope) -> tuple[int, str] | None:
        """(status, message) unless the request's headers name an admin."""
        from reelhouse.api.deps import identity_from_request

        core = scope["app"].state.core
        conn = HTTPConnection(scope)
        try:
            identity = await run_in_threadpool(identity_from_request, conn, core)
        except AuthenticationFailed as exc:
            return 401, exc.message
        if not identity.user.is_admin:
            return 403, "only an admin may upload"
        return None
