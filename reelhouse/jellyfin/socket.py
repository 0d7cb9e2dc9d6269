"""The ``/socket`` WebSocket: clients keep it open for server messages.

On connect the server sends ``{"MessageType": "ForceKeepAlive", "Data": 60}`` (seconds,
a number: clients parse it as one) and answers every ``KeepAlive`` with a
``KeepAlive``; other messages (``SessionsStart``, …) are read and ignored. The
session's SyncPlay group speaks here too (``SyncPlayCommand``, ``SyncPlayGroupUpdate``:
:mod:`.syncplay_socket`), for a user with SyncPlay access. A binary frame closes with
1003, a message over 64 KiB with 1009, more than ``ws_messages_per_second`` (bursts of
twice that) from one user's sockets together with 1008, and so does a socket past the
user's ``ws_connections_per_user`` in this process (counted apart from the party
sockets: each holds a file descriptor and ~70 KiB, and one user opening thousands
locked everybody out once the server ran out of descriptors). A missing or bad token
(``api_key`` in the query, or a header) is refused: the handshake is closed with 1008
(policy violation) before it is accepted. A session that ends while its socket is
open (``Sessions/Logout``, a revoked session or key, a disabled user) is seen within
``RECHECK_SECONDS``: it leaves its SyncPlay group (the others get ``UserLeft``, as
Jellyfin's SessionEnded does) and the socket closes with 1008.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketDisconnect

from reelhouse.api.ws_limits import CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_UNSUPPORTED, MessageRate, UserLimits
from reelhouse.core import Core
from reelhouse.errors import AuthenticationFailed, ReelhouseError
from reelhouse.jellyfin.deps import Caller, caller_of
from reelhouse.jellyfin.routes_syncplay import leave_group
from reelhouse.jellyfin.syncplay_socket import follow
from reelhouse.jellyfin.users import syncplay_access

__all__ = ["KEEPALIVE_SECONDS", "RECHECK_SECONDS", "endpoint"]

KEEPALIVE_SECONDS = 60
#: Seconds between two checks that an open socket's session still lives.
RECHECK_SECONDS = 10.0
_MAX_MESSAGE = 64 * 1024


def _message(kind: str, data: object = None) -> str:
    out: dict[str, object] = {"MessageId": secrets.token_hex(16), "MessageType": kind}
    if data is not None:
        out["Data"] = data
    return json.dumps(out)


async def endpoint(ws: WebSocket) -> None:
    try:
        caller = await run_in_threadpool(caller_of, ws)
    except ReelhouseError:
        await ws.close(code=1008, reason="invalid or missing access token")
        return
    await ws.accept()
    limits = _user_limits(ws)
    if not limits.admit(caller.user.id):
        await ws.close(code=CLOSE_POLICY, reason="reconnecting too often; wait a moment")
        return
    rate = limits.open(caller.user.id)
    if rate is None:
        await ws.close(code=CLOSE_POLICY, reason="too many connections of this user; close some")
        return
    try:
        await _serve(ws, caller, rate)
    finally:
        limits.close(caller.user.id)


def _user_limits(ws: WebSocket) -> UserLimits:
    """The Jellyfin app's per-user socket limits, made on first use."""
    limits: UserLimits | None = getattr(ws.app.state, "socket_user_limits", None)
    if limits is None:
        settings = ws.app.state.core.settings
        limits = UserLimits(settings.ws_messages_per_second, settings.ws_connections_per_user)
        ws.app.state.socket_user_limits = limits
    return limits


async def _serve(ws: WebSocket, caller: Caller, rate: MessageRate) -> None:
    lock = asyncio.Lock()

    async def send(text: str) -> None:
        async with lock:
            await ws.send_text(text)

    core: Core = ws.app.state.core
    syncing: asyncio.Task[None] | None = None
    if syncplay_access(core.settings.jellyfin_syncplay, caller.user) != "None":
        listening = asyncio.Event()
        syncing = asyncio.create_task(follow(ws, core, caller.grant, caller.user.id, caller.user.name, send,
                                             listening))
        # the first message once the session's SyncPlay channel listens: an app that
        # waits for it before its SyncPlay calls loses none of their messages
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(listening.wait(), 5)
    await send(_message("ForceKeepAlive", KEEPALIVE_SECONDS))
    watching = asyncio.create_task(_watch(ws, caller.grant, caller.user.id))
    try:
        await _read(ws, rate, send)
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await watching
        if syncing is not None:
            syncing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await syncing


async def _watch(ws: WebSocket, grant: str, user_id: int) -> None:
    """Every RECHECK_SECONDS: if the session has ended, it leaves its SyncPlay group and
    the socket closes (1008)."""
    while True:
        await asyncio.sleep(RECHECK_SECONDS)
        try:
            await run_in_threadpool(caller_of, ws)
        except AuthenticationFailed:
            with contextlib.suppress(ReelhouseError):
                await leave_group(ws, grant, user_id)
            with contextlib.suppress(Exception):
                await ws.close(code=CLOSE_POLICY, reason="the session has ended")
            return
        except ReelhouseError:  # the database is busy: next round
            continue


async def _read(ws: WebSocket, rate: MessageRate, send: Callable[[str], Awaitable[None]]) -> None:
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:  # a binary frame: the protocol is JSON text
                await ws.close(code=CLOSE_UNSUPPORTED, reason="binary frames are not accepted")
                return
            if len(text) > _MAX_MESSAGE:
                await ws.close(code=CLOSE_TOO_BIG, reason="message too big")
                return
            if not rate.allow():
                await ws.close(code=CLOSE_POLICY, reason="too many messages; slow down")
                return
            try:
                msg = json.loads(text)
            except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested too deep
                continue
            if isinstance(msg, dict) and str(msg.get("MessageType", "")).lower() == "keepalive":
                await send(_message("KeepAlive"))
    except WebSocketDisconnect:
        return
