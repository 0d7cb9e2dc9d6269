"""The party WebSocket (``/api/parties/{code}/ws``): the adapter between one socket and
the live runtime (:mod:`reelhouse.party.live`), which owns membership, broadcasts and
timers.

The handshake is authenticated like any request (session cookie or bearer token); a
stranger is refused before the socket opens (close code 4401 → HTTP 403 on the
handshake), an unknown party with 4404, an ended one with 4410. Once open the member is
joined (connected), gets ``welcome`` with the snapshot, and every change of the party,
made here or in another process, reaches it as a ``state`` message through the hub. A
refused command is answered with an ``error`` message (its HTTP status: 403 for a
non-host command) and the socket stays open.

Limits: a cross-origin handshake is refused by :mod:`reelhouse.api.security`; a
message over ``ws_message_limit`` bytes is refused by the server's protocol layer
(uvicorn ``ws_max_size``, close 1009); more than ``ws_messages_per_second`` (bursts of
twice that) from one user's sockets together closes the one that went over with 1008,
and so does a socket past the user's ``ws_connections_per_user`` (with Redis, counted
over every node: :mod:`reelhouse.leased_slots`), and one of a user reconnecting in a
loop (:meth:`~reelhouse.api.ws_limits.UserLimits.admit`); a binary frame
closes with 1003. A party on a source the
user was not granted is unknown to them (4404). A socket whose session ends (logout,
user disabled or deleted, key revoked) closes with 4401 at its next message, and within
``RECHECK_SECONDS`` if it is quiet; one whose user loses the grant to the party's
file's source (an admin's change) closes the same way with 4403. A party that ended
or went where no broadcast reached this process (``reelhouse source remove`` in another
process without a Redis hub: the removal ends its film's parties in the database)
closes its sockets with 4410 within ``RECHECK_SECONDS`` too
(:meth:`~reelhouse.party.live.PartyLive.ended`).

A socket that takes nothing (a locked phone with the tab open, a client keeping its
TCP window shut) is not waited for: its messages are skipped while it lags
(:mod:`reelhouse.party.hub`), and once one message cannot be handed to it for
``SEND_TIMEOUT`` seconds its connection ends and the member shows disconnected.
uvicorn's own keepalive cannot do this: its close waits for the unsent bytes, for ever
when the peer never reads. The server's buffer for it stays bounded (the transport's
high-water mark, 64 KiB, plus the hub's queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from reelhouse.api.deps import client_address, request_token, user_from_request
from reelhouse.api.errors import status_for
from reelhouse.api.party_lookup import find_party
from reelhouse.api.ws_limits import CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_UNSUPPORTED, MessageRate, UserLimits
from reelhouse.config import Settings
from reelhouse.core import Core
from reelhouse.errors import AuthenticationFailed, NotFound, ReelhouseError, TooManyRequests
from reelhouse.leased_slots import LeasedSlots
from reelhouse.party.live import LiveConnection, PartyLive
from reelhouse.party.protocol import dumps

__all__ = ["close_live", "get_live", "serve_socket", "start_live"]

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_BAD_REQUEST = 4400
CLOSE_NOT_FOUND = 4404
CLOSE_ENDED = 4410
CLOSE_TRY_AGAIN = 1013  # RFC 6455 §7.4.1 registry: "Try Again Later"
#: Seconds between two checks that a quiet socket's session is still alive.
RECHECK_SECONDS = 10.0
#: Seconds one message may wait for a socket that takes nothing before it is dropped
#: (uvicorn's keepalive gives a silent peer 20 s as well: ``ws_ping_timeout``).
SEND_TIMEOUT = 20.0
_SIGNED_OUT = "your session has ended; log in again"
_UNGRANTED = "you may no longer watch this party's file (its source is no longer granted to you)"


def get_live(app: FastAPI) -> PartyLive:
    """The app's party runtime, made on first use."""
    live: PartyLive | None = getattr(app.state, "party_live", None)
    if live is None:
        core: Core = app.state.core
        settings = core.settings
        node = f"{settings.node_name}:{os.getpid()}" if settings.node_name else None
        live = PartyLive(core.parties, settings.party_redis_url or settings.redis_url, node=node,
                         presence_ttl=settings.party_presence_ttl)
        app.state.party_live = live
    return live


def start_live(app: FastAPI) -> None:
    """Start the party runtime's presence keeper (at startup; with Redis only)."""
    get_live(app).start()


async def close_live(app: FastAPI) -> None:
    """Close the app's party runtime (its hub), if it was made."""
    live: PartyLive | None = getattr(app.state, "party_live", None)
    if live is not None:
        await live.close()
    slots: LeasedSlots | None = getattr(app.state, "ws_slots", None)
    if slots is not None:
        await run_in_threadpool(slots.close)


async def serve_socket(websocket: WebSocket, code: str) -> None:
    """Run one member's connection until it closes (see the module docstring)."""
    app: FastAPI = websocket.app
    core: Core = app.state.core
    try:
        user = await run_in_threadpool(user_from_request, websocket, core)
    except AuthenticationFailed as exc:
        await websocket.close(CLOSE_UNAUTHENTICATED, exc.message)
        return
    try:
        info = await run_in_threadpool(find_party, core, code, user, client_address(websocket))
    except NotFound as exc:
        await websocket.close(CLOSE_NOT_FOUND, exc.message)
        return
    except TooManyRequests as exc:
        await websocket.close(CLOSE_POLICY, exc.message)
        return
    if info.party.state == "ended":
        await websocket.close(CLOSE_ENDED, "this party has ended")
        return
    await websocket.accept()
    limits = _user_limits(app)
    if not limits.admit(user.id):
        await websocket.close(CLOSE_POLICY, "reconnecting too often; wait a moment")
        return
    rate = limits.open(user.id)
    if rate is None:
        await websocket.close(CLOSE_POLICY, "too many connections of this user; close some")
        return
    slots, slot = _shared_slots(app), None
    try:
        if slots is not None:  # the cap for the whole cluster, not per node
            try:
                slot = await run_in_threadpool(slots.take, f"ws:{user.id}", core.settings.ws_connections_per_user)
            except Exception:  # redis.exceptions.RedisError, OSError
                log.warning("party socket: the shared connection count is unreachable", exc_info=True)
                await websocket.close(CLOSE_TRY_AGAIN, "the server is busy; try again shortly")
                return
            if slot is None:
                await websocket.close(CLOSE_POLICY, "too many connections of this user; close some")
                return
        await _serve(websocket, core, info.code, info.media_file_id, user.id, user.name, rate)
    finally:
        limits.close(user.id)
        if slots is not None and slot is not None:
            with contextlib.suppress(Exception):
                await run_in_threadpool(slots.give_back, slot)


def _shared_slots(app: FastAPI) -> LeasedSlots | None:
    """With Redis: the cluster's count of each user's party sockets (made on first use)."""
    settings: Settings = app.state.core.settings
    url = settings.party_redis_url or settings.redis_url
    if not url:
        return None
    slots: LeasedSlots | None = getattr(app.state, "ws_slots", None)
    if slots is None:
        slots = app.state.ws_slots = LeasedSlots(url, settings.party_presence_ttl)
    return slots


def _user_limits(app: FastAPI) -> UserLimits:
    """The app's per-user WebSocket limits, made on first use."""
    limits: UserLimits | None = getattr(app.state, "ws_user_limits", None)
    if limits is None:
        settings: Settings = app.state.core.settings
        limits = UserLimits(settings.ws_messages_per_second, settings.ws_connections_per_user)
        app.state.ws_user_limits = limits
    return limits


async def _signed_in(core: Core, token: str | None) -> bool:
    """Whether the handshake's token still names a live session or key of an enabled
    user (the identity cache: revocations in any process are seen at once)."""
    if not token:
        return False
    if core.auth.identify_cached(token) is not None:
        return True
    try:
        await run_in_threadpool(core.auth.identify, token)
    except AuthenticationFailed:
        return False
    return True


async def _refusal(core: Core, token: str | None, user_id: int, file_id: int) -> tuple[int, str] | None:
    """Why the socket must close now (close code, reason), or None: its session ended
    (4401), or its user may no longer see the party's file (4403: source grants)."""
    if not await _signed_in(core, token):
        return CLOSE_UNAUTHENTICATED, _SIGNED_OUT
    if not await run_in_threadpool(core.auth.may_play, user_id, file_id):
        return CLOSE_FORBIDDEN, _UNGRANTED
    return None


class _Sender:
    """One socket's writes (sends and closes), one at a time, noting since when the
    socket has taken nothing: uvicorn's send waits, writing nothing, while the
    transport's buffer is over its high-water mark. No timer per message or per
    socket (they cost the fan-out of a 1,000-member party its p99): one sweep per
    event loop (:func:`_sweep`) cancels the ``tasks`` of a socket stuck for
    SEND_TIMEOUT seconds, which ends its connection."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.lock = asyncio.Lock()
        self.pending = 0  # writes begun and not done
        self.progress = 0.0  # loop time of the last write done, or begun with none pending
        self.tasks: list[asyncio.Task[None]] = []

    async def write(self, do: Callable[[], Awaitable[None]]) -> None:
        loop = asyncio.get_running_loop()
        if not self.pending:
            self.progress = loop.time()
        self.pending += 1
        try:
            async with self.lock:
                await do()
            self.progress = loop.time()
        finally:
            self.pending -= 1

    async def send(self, message: dict[str, Any] | str) -> None:
        text = message if isinstance(message, str) else dumps(message)
        await self.write(lambda: self.websocket.send_text(text))


_SENDERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, set[_Sender]] = weakref.WeakKeyDictionary()


def _guard(sender: _Sender) -> None:
    """Put ``sender`` under its event loop's sweep (started with the first one)."""
    loop = asyncio.get_running_loop()
    senders = _SENDERS.get(loop)
    if senders is None:
        senders = _SENDERS[loop] = set()
        task = loop.create_task(_sweep(senders))
        _SWEEPS.add(task)
        task.add_done_callback(_SWEEPS.discard)
    senders.add(sender)


_SWEEPS: set[asyncio.Task[None]] = set()


async def _sweep(senders: set[_Sender]) -> None:
    """Every SEND_TIMEOUT / 4 s, end the sockets stuck for SEND_TIMEOUT s; stops when
    its loop has no party socket left."""
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(SEND_TIMEOUT / 4)
        if not senders:
            _SENDERS.pop(loop, None)
            return
        now = loop.time()
        for sender in list(senders):
            if sender.pending and now - sender.progress > SEND_TIMEOUT:
                senders.discard(sender)
                for task in sender.tasks:
                    task.cancel()


async def _watch(websocket: WebSocket, check: Callable[[], Awaitable[tuple[int, str] | None]],
                 sender: _Sender) -> None:
    """Close the socket once its session ends, its grant goes or its party ended
    unbeknown to this process (checked every RECHECK_SECONDS): a member who only
    listens stops getting the party's changes too."""
    while True:
        await asyncio.sleep(RECHECK_SECONDS)
        refused = await check()
        if refused is not None:
            await sender.write(functools.partial(websocket.close, *refused))
            return


async def _serve(websocket: WebSocket, core: Core, code: str, file_id: int, user_id: int, name: str,
                 rate: MessageRate) -> None:
    app: FastAPI = websocket.app
    sender = _Sender(websocket)
    send = sender.send
    token, _ = request_token(websocket)

    async def check() -> tuple[int, str] | None:
        return await _refusal(core, token, user_id, file_id)

    async def watch() -> tuple[int, str] | None:
        refused = await check()
        if refused is None and await get_live(app).ended(code):
            return CLOSE_ENDED, "this party has ended"
        return refused

    try:
        async with get_live(app).connect(code, user_id, name) as conn:
            tasks = [asyncio.create_task(_forward(websocket, conn, send)),  # the welcome, then every change
                     asyncio.create_task(_watch(websocket, watch, sender))]
            read = asyncio.create_task(_read(websocket, conn, send, core.settings, rate, check))
            sender.tasks = [read, *tasks]
            _guard(sender)  # the socket takes nothing: its tasks are cancelled
            try:  # until the client goes, the party ends, the session ends, or the socket takes nothing
                await asyncio.wait((read, *tasks), return_when=asyncio.FIRST_COMPLETED)
            finally:
                _SENDERS.get(asyncio.get_running_loop(), set()).discard(sender)
                read.cancel()
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                    await read
                for task in tasks:  # the forwarder may be sending while the reader closes
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
    except ReelhouseError as exc:  # the join was refused
        status = status_for(exc)
        await send({"type": "error", "status": status, "message": exc.message})
        await websocket.close(CLOSE_ENDED if status == 409 else CLOSE_BAD_REQUEST, exc.message)


async def _forward(websocket: WebSocket, conn: LiveConnection, send: Any) -> None:
    await send(conn.welcome())
    async for text in conn.messages():
        await send(text)
    await websocket.close(CLOSE_ENDED, "this party has ended")


async def _read(websocket: WebSocket, conn: LiveConnection, send: Any, settings: Settings,
                rate: MessageRate, check: Callable[[], Awaitable[tuple[int, str] | None]]) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        raw = message.get("text")
        if raw is None:  # a binary frame: the protocol is JSON text
            await websocket.close(CLOSE_UNSUPPORTED, "binary frames are not accepted")
            return
        if len(raw.encode()) > settings.ws_message_limit:  # servers without ws_max_size
            await websocket.close(CLOSE_TOO_BIG, "message too big")
            return
        if not rate.allow():
            await websocket.close(CLOSE_POLICY, "too many messages; slow down")
            return
        refused = await check()  # logged out, disabled, deleted or ungranted since the handshake
        if refused is not None:
            await websocket.close(*refused)
            return
        try:
            answer = await conn.handle(raw)
            if answer is not None:
                await send(answer)
            if conn.left:
                await websocket.close(1000, "left the party")
                return
        except ReelhouseError as exc:
            await send({"type": "error", "status": status_for(exc), "message": exc.message})
            if status_for(exc) == 409:  # the party ended meanwhile
                await websocket.close(CLOSE_ENDED, exc.message)
                return
            if status_for(exc) == 404 and not await conn.exists():  # removed with its film's source
                await websocket.close(CLOSE_NOT_FOUND, "this party is gone: its film was removed")
                return
