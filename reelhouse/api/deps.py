"""Dependencies shared by the routers: the Core, a DB session, the current user and
identity (user + the session or API key it came with)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from reelhouse.api.session_cookie import SESSION_COOKIE
from reelhouse.auth.identity import Identity
from reelhouse.core import Core
from reelhouse.db.limits import INT_MAX, INT_MIN
from reelhouse.db.models import User
from reelhouse.errors import AuthenticationFailed, PermissionDenied

__all__ = [
    "SESSION_COOKIE",
    "AdminUser",
    "CoreDep",
    "CurrentIdentity",
    "CurrentUser",
    "DbSession",
    "RowId",
    "RowIdQuery",
    "VisibleFile",
    "check_playback_token",
    "client_address",
    "identity_from_request",
    "playback_token_for",
    "request_token",
    "user_from_request",
]


#: Database ids are ``Integer`` columns, 32-bit on PostgreSQL (:mod:`reelhouse.db.limits`);
#: a number outside that range is a 422, never "integer out of range" deep in the driver.
_ID_RANGE = {"ge": INT_MIN, "le": INT_MAX}
RowId = Annotated[int, Path(**_ID_RANGE)]
RowIdQuery = Annotated[int | None, Query(**_ID_RANGE)]


async def get_core(request: Request) -> Core:
    """The app's Core (async: no I/O, so no thread-pool hop per request)."""
    core: Core = request.app.state.core
    return core


CoreDep = Annotated[Core, Depends(get_core)]


def get_db(core: CoreDep) -> Iterator[Session]:
    with core.sessions() as s:
        yield s


DbSession = Annotated[Session, Depends(get_db)]


def request_token(request: HTTPConnection) -> tuple[str | None, str]:
    """The token of a request and how it came: ``(token, "bearer" | "cookie")``;
    a bearer header wins over the cookie."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None, "bearer"
    return request.cookies.get(SESSION_COOKIE) or None, "cookie"


def client_address(request: HTTPConnection) -> str:
    """The client's IP address as uvicorn reports it: the peer's, or behind a proxy of
    ``trusted_proxies`` (reelhouse/server.py) the address its ``X-Forwarded-For`` gives."""
    return request.client.host if request.client else ""


def identity_from_request(request: HTTPConnection, core: Core) -> Identity:
    """The identity behind a bearer token (session or API key) or the session cookie of
    a request or WebSocket handshake; raises AuthenticationFailed. Kept on
    ``request.state.identity`` for the rest of the request."""
    cached: Identity | None = getattr(request.state, "identity", None)
    if cached is not None:
        return cached
    token, _ = request_token(request)
    if not token:
        raise AuthenticationFailed("log in first")
    identity = core.auth.identify(token)
    request.state.identity = identity
    return identity


def user_from_request(request: HTTPConnection, core: Core) -> User:
    """The user of :func:`identity_from_request`."""
    return identity_from_request(request, core).user


async def current_identity(request: Request) -> Identity:
    """The request's identity: on the event loop when the token was resolved within
    the cache window (:meth:`~reelhouse.auth.identity.Authenticator.identify_cached`),
    else read in the thread pool (one hop fewer for most requests: issue 14)."""
    cached: Identity | None = getattr(request.state, "identity", None)
    if cached is not None:
        return cached
    core: Core = request.app.state.core
    token, _ = request_token(request)
    if not token:
        raise AuthenticationFailed("log in first")
    identity = core.auth.identify_cached(token)
    if identity is None:
        return await run_in_threadpool(identity_from_request, request, core)
    request.state.identity = identity
    return identity


CurrentIdentity = Annotated[Identity, Depends(current_identity)]


async def current_user(identity: CurrentIdentity) -> User:
    return identity.user


CurrentUser = Annotated[User, Depends(current_user)]


async def admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise PermissionDenied("only an admin may do this")
    return user


AdminUser = Annotated[User, Depends(admin_user)]


async def check_playback_token(core: Core, token: str, media_file_id: int) -> int:
    """The user id of a valid playback token whose session or API key still lives;
    raises AuthenticationFailed. No thread hop when the session was seen live within
    the last half second (the hot seek path)."""
    claim = core.auth.playback_claim(token, media_file_id)
    if not core.auth.grant_cached(claim, media_file_id):
        await run_in_threadpool(core.auth.check_grant, claim, media_file_id)
    return claim.user_id


def playback_token_for(request: HTTPConnection, core: Core, media_file_id: int) -> str:
    """A playback token for the identity of this (authenticated) request."""
    return core.auth.playback_token(identity_from_request(request, core), media_file_id)


def visible_file(file_id: RowId, core: CoreDep, user: CurrentUser) -> int:
    """The path's ``file_id`` if the user may see that media file (per-user source
    grants), else 404."""
    core.access.check_file(user, file_id)
    return file_id


#: Add as a parameter to a ``/media-files/{file_id}/…`` route to apply source grants.
VisibleFile = Annotated[int, Depends(visible_file)]
