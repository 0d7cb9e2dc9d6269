"""Dependencies shared by the routers: the Core, a DB session, the current user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from reelhouse.core import Core
from reelhouse.db.models import User
from reelhouse.errors import AuthenticationFailed, PermissionDenied

__all__ = [
    "SESSION_COOKIE",
    "AdminUser",
    "CoreDep",
    "CurrentUser",
    "DbSession",
    "RowId",
    "RowIdQuery",
    "user_from_request",
]

SESSION_COOKIE = "reelhouse_session"

#: Database ids are signed 64-bit integers (SQLite INTEGER, PostgreSQL bigint/integer);
#: a number outside that range is a 422, never an overflow deep in the driver.
_ID_RANGE = {"ge": -(2**63), "le": 2**63 - 1}
RowId = Annotated[int, Path(**_ID_RANGE)]
RowIdQuery = Annotated[int | None, Query(**_ID_RANGE)]


def get_core(request: Request) -> Core:
    core: Core = request.app.state.core
    return core


CoreDep = Annotated[Core, Depends(get_core)]


def get_db(core: CoreDep) -> Iterator[Session]:
    with core.sessions() as s:
        yield s


DbSession = Annotated[Session, Depends(get_db)]


def user_from_request(request: HTTPConnection, core: Core) -> User:
    """The user behind a bearer token or the session cookie of a request or WebSocket
    handshake; raises AuthenticationFailed."""
    token = None
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        token = auth[7:].strip()
    token = token or request.cookies.get(SESSION_COOKIE)
    if not token:
        raise AuthenticationFailed("log in first")
    user = core.users.get(core.signer.check_session(token))
    if user is None:
        raise AuthenticationFailed("the user of this token no longer exists")
    return user


def current_user(request: Request, core: CoreDep) -> User:
    return user_from_request(request, core)


CurrentUser = Annotated[User, Depends(current_user)]


def admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise PermissionDenied("only an admin may do this")
    return user


AdminUser = Annotated[User, Depends(admin_user)]
