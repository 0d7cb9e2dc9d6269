"""``HEAD`` for every ``GET`` route (RFC 9110 §9.1: "All general-purpose servers MUST
support the methods GET and HEAD"; §9.3.2: HEAD is GET without the content).

FastAPI gives a route only the methods it names: ``HEAD /api/health``, ``HEAD /`` or
``HEAD …/master.m3u8`` were 405, and an uptime monitor that asks with HEAD (the default
of some) reported the server down. :class:`HeadAsGet` answers a HEAD whose path has a
GET route but no HEAD route of its own as that GET, with the same status and headers
(``Content-Length`` included) and no body. A route with its own HEAD (the streams) keeps
it; a mounted app (``/jellyfin``) keeps its rules.
"""

from __future__ import annotations

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HeadAsGet"]


class HeadAsGet:
    """ASGI middleware: see the module docstring. Costs one comparison for other methods."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or not _get_only(scope):
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


def _get_only(scope: Scope) -> bool:
    """Whether no route takes this HEAD but one takes it as a GET."""
    routes = scope["app"].router.routes
    for route in routes:
        if route.matches(scope)[0] == Match.FULL:
            return False  # a HEAD route of its own (or a mount)
    as_get = {**scope, "method": "GET"}
    return any(route.matches(as_get)[0] == Match.FULL for route in routes)
