"""The ASGI wrapper that mounts the Jellyfin API under ``/jellyfin`` of the main app.

Jellyfin's server routes are case-insensitive (ASP.NET) and clients rely on it:
jellyfin-apiclient-python asks for ``system/info/public``, the web client for
``System/Info/Public``. So for any request whose path starts with ``/jellyfin`` (any
letter case) the wrapper lowercases the path and the query argument *names* (values
are left alone), drops an ``/emby`` prefix (older clients send ``/emby/…``) and a
trailing slash, and hands the request to the Jellyfin app directly — never a redirect
(a client takes a redirected URL as the server's address). A NUL in the URL or in a JSON
body is a 400 (:mod:`reelhouse.api.nul_guard`). Everything else goes to the main app
unchanged.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelhouse.api.nul_guard import URL_MESSAGE, BodyScanner, NulInBody, url_has_nul
from reelhouse.jellyfin.app import problem

__all__ = ["JellyfinMount", "normal_path"]

PREFIX = "/jellyfin"


def normal_path(path: str) -> str | None:
    """The Jellyfin app's path for a request path, or None when it is not under
    ``/jellyfin``: ``/Jellyfin/Emby/Items/`` → ``/items``."""
    low = path.lower()
    if not (low == PREFIX or low.startswith(PREFIX + "/")):
        return None
    rest = low[len(PREFIX):]
    if rest == "/emby" or rest.startswith("/emby/"):
        rest = rest[len("/emby"):]
    while "//" in rest:
        rest = rest.replace("//", "/")
    return rest.rstrip("/") or "/"


def _lower_names(query: bytes) -> bytes:
    if not query:
        return query
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k.lower(), v) for k, v in pairs]).encode("latin-1")


class JellyfinMount:
    """ASGI middleware: ``/jellyfin/…`` to ``jellyfin``, the rest to ``app``."""

    def __init__(self, app: ASGIApp, jellyfin: ASGIApp) -> None:
        self.app = app
        self.jellyfin = jellyfin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            path = normal_path(scope["path"])
            if path is not None and url_has_nul(scope):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008, "reason": URL_MESSAGE})
                else:
                    await problem(400, URL_MESSAGE)(scope, receive, send)
                return
            if path is not None:
                inner = dict(scope)
                inner["path"] = path
                inner["raw_path"] = path.encode()
                inner["root_path"] = scope.get("root_path", "") + scope["path"][:len(PREFIX)]
                inner["query_string"] = _lower_names(scope.get("query_string", b""))
                scanner = BodyScanner(Headers(scope=scope))

                async def scanned_receive() -> Message:
                    message = await receive()
                    if message["type"] == "http.request":
                        scanner.feed(message.get("body", b""))
                    return message

                try:
                    await self.jellyfin(inner, scanned_receive, send)
                except NulInBody as exc:  # read outside a route (a route's handler answers itself)
                    await problem(exc.status_code, str(exc.detail))(scope, receive, send)
                return
        await self.app(scope, receive, send)
