"""``create_jellyfin_app(core)``: the Jellyfin server API as an ASGI app (mounted under
``/jellyfin`` by :class:`~reelhouse.jellyfin.asgi.JellyfinMount`).

Errors use Jellyfin's shape, ASP.NET's ProblemDetails (RFC 7807):
``{"type", "title", "status", "detail"}``; 401 for a missing or bad token, 400 for
malformed input (ids, numbers), 404 for unknown items. Unknown query arguments are
ignored. CORS is open (tokens travel in headers, not cookies), so browser clients
hosted elsewhere work.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect

from reelhouse import errors as e
from reelhouse.api.errors import CLIENT_GONE, error_headers, public_message, reason_for, status_for
from reelhouse.core import Core
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.auth import JellyfinAuth
from reelhouse.jellyfin.paging import Counts

__all__ = ["create_jellyfin_app", "problem"]

log = logging.getLogger(__name__)

_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 409: "Conflict", 416: "Range Not Satisfiable",
           422: "Unprocessable Entity", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout", 507: "Insufficient Storage"}


def problem(status: int, detail: str, headers: dict[str, str] | None = None,
            reason: str | None = None) -> JSONResponse:
    """A ProblemDetails error response (RFC 7807, as ASP.NET writes it); ``reason``
    (:func:`reelhouse.api.errors.reason_for`) as an extension member (RFC 7807 §3.2)."""
    body: dict[str, object] = {"type": f"https://httpstatuses.io/{status}", "title": _TITLES.get(status, "Error"),
                               "status": status, "detail": detail}
    if reason is not None:
        body["reason"] = reason
    return JSONResponse(body, status_code=status, headers=headers,
                        media_type="application/problem+json")


def create_jellyfin_app(core: Core) -> FastAPI:
    """The Jellyfin API over ``core``'s services (no docs pages: Jellyfin publishes its own)."""
    from reelhouse.jellyfin import (
        routes_extras,
        routes_features,
        routes_genres,
        routes_images,
        routes_items,
        routes_playback,
        routes_reference,
        routes_search,
        routes_sessions,
        routes_subtitles,
        routes_syncplay,
        routes_syncplay_queue,
        routes_system,
        socket,
    )

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, redirect_slashes=False)
    app.state.core = core
    app.state.jellyfin_auth = JellyfinAuth(core)
    app.state.server_id = ids.server_id(core.settings.secret("jellyfin"))
    app.state.image_key = ids.image_key(core.settings.secret("jellyfin"))
    app.state.counts = Counts()

    @app.exception_handler(e.ReelhouseError)
    async def _domain(request: Request, exc: e.ReelhouseError) -> JSONResponse:
        code = status_for(exc)
        headers = error_headers(exc)
        if code == 401:
            headers["www-authenticate"] = 'MediaBrowser realm="Jellyfin"'
        return problem(code, core.redactor(public_message(request, exc)), headers, reason_for(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        msgs = [f"{'.'.join(str(p) for p in err.get('loc', ())[1:])}: {err.get('msg')}"
                for err in exc.errors()]
        return problem(400, "; ".join(msgs) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
        log.debug("Jellyfin %s %s: %s", request.method, request.url.path, CLIENT_GONE)
        return problem(400, CLIENT_GONE)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on Jellyfin %s %s", request.method, request.url.path)
        return problem(500, "internal error")

    # routes_search and routes_extras first: their Items/Filters and Items/Suggestions
    # must win over routes_items' Items/{id}
    for module in (routes_system, routes_search, routes_extras, routes_items, routes_genres,
                   routes_syncplay, routes_syncplay_queue, routes_features, routes_playback, routes_subtitles,
                   routes_sessions, routes_images, routes_reference):
        app.include_router(module.router)
    app.add_api_websocket_route("/socket", socket.endpoint)
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"],
                       allow_headers=["*"], expose_headers=["*"], max_age=86400)
    return app
