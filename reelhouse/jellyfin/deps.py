"""Dependencies of the Jellyfin routes: the core, the caller (user + client), the
query arguments (case-insensitive) and the parsed ``{id}`` path parameters."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from reelhouse.core import Core
from reelhouse.db.models import User
from reelhouse.errors import InvalidInput, PermissionDenied
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.auth import ClientInfo, JellyfinAuth, token_of
from reelhouse.jellyfin.params import Args

__all__ = ["ArgsDep", "Caller", "CallerDep", "CoreDep", "authorize", "caller_of", "check_user_path", "read_body",
           "read_json"]


def get_core(request: HTTPConnection) -> Core:
    core: Core = request.app.state.core
    return core


CoreDep = Annotated[Core, Depends(get_core)]


def get_args(request: Request) -> Args:
    return Args(request.query_params.multi_items())


ArgsDep = Annotated[Args, Depends(get_args)]


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated request: the user, their access token and the client app."""

    user: User
    token: str
    client: ClientInfo
    grant: str  # the session ("s:<id>") or API key ("k:<id>") playback tokens die with

    @property
    def user_id(self) -> str:
        return ids.encode("user", self.user.id)


def caller_of(conn: HTTPConnection) -> Caller:
    """Resolve the token of a request or WebSocket handshake (blocking: a DB read);
    raises AuthenticationFailed."""
    auth: JellyfinAuth = conn.app.state.jellyfin_auth
    headers = {k.lower(): v for k, v in conn.headers.items()}
    query = {k.lower(): v for k, v in conn.query_params.items()}
    token, info = token_of(headers, query)
    identity = auth.resolve(token)
    assert token is not None
    return Caller(identity.user, token, info, identity.grant)


async def get_caller(request: Request) -> Caller:
    """The caller of a route; a ``userId`` query argument (Jellyfin's "as this user",
    sent by the apps on most calls) must name the caller, as :func:`check_user_path`
    rules: a user naming someone else is 403 on every route, as Jellyfin's
    RequestHelpers.GetUserId rules (it was 403 on some, the caller's own answer on others)."""
    caller = await run_in_threadpool(caller_of, request)
    named = Args(request.query_params.multi_items()).text("userid", 64)
    if named:
        check_user_path(caller, named)
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def check_user_path(caller: Caller, user_id: str) -> None:
    """``/Users/{userId}/…``: the id must be the caller's own (admins may name anyone;
    their own view is served either way). Raises InvalidInput/NotFound/PermissionDenied."""
    ref = ids.decode(user_id, "user")
    if ref.id != caller.user.id and not caller.user.is_admin:
        raise PermissionDenied("you may only read your own user's items")


async def read_body(request: Request) -> bytes:
    """The request body, at most ``Settings.json_body_limit`` bytes (the Jellyfin API is
    mounted outside the web app's guard, which limits bodies there): a declared or
    counted larger body is 413."""
    from starlette.exceptions import HTTPException

    core: Core = request.app.state.core
    limit = core.settings.json_body_limit
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body is over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, what: str, empty: Any = None) -> Any:
    """The request body (:func:`read_body`) parsed as JSON, ``empty`` for a blank body;
    raises InvalidInput ("the body must be JSON (``what``)") for anything that does not
    parse: bad syntax or encoding, or arrays/objects nested deeper than the parser's
    recursion allows (``[[[[…``, a RecursionError, not a ValueError)."""
    raw = await read_body(request)
    if not raw.strip():
        return empty
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidInput(f"the body must be JSON ({what})") from exc


async def authorize(request: Request, core: Core, file_id: int | None = None) -> Caller | None:
    """The caller (Jellyfin token in a header or ``api_key``) or, inside HLS playlists,
    a playback ``token`` bound to ``file_id``."""
    token = request.query_params.get("token")
    if token and file_id is not None:
        await run_in_threadpool(core.playback.check_token, token, file_id)
        return None
    return await run_in_threadpool(caller_of, request)
