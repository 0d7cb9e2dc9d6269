"""One party WebSocket connection (``/api/parties/{code}/ws``) and the broadcast helper.

The handshake is authenticated like any request (session cookie or bearer token); a
stranger is refused before the socket opens (close code 4401 → HTTP 403 on the
handshake), an unknown party with 4404, an ended one with 4410. Once open the member is
joined (connected), gets ``welcome`` with the snapshot, and every change of the party,
made here or in another process, reaches it as a ``state`` message through the hub.
Commands are applied through :class:`~reelhouse.party.service.PartyService`; a refused
one is answered with an ``error`` message (status 403 for a non-host command) and the
socket stays open.

Limits: a cross-origin handshake is refused by :mod:`reelhouse.api.security`; a
message over ``ws_message_limit`` bytes is refused by the server's protocol layer
(uvicorn ``ws_max_size``, close 1009); more than ``ws_messages_per_second`` (bursts of
twice that) closes with 1008; a binary frame closes with 1003.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from reelhouse.api.deps import user_from_request
from reelhouse.api.errors import status_for
from reelhouse.api.ws_limits import CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_UNSUPPORTED, MessageRate
from reelhouse.core import Core
from reelhouse.errors import AuthenticationFailed, NotFound, ReelhouseError
from reelhouse.party import protocol
from reelhouse.party import state as st
from reelhouse.party.clock import server_now
from reelhouse.party.hub import MemoryHub, RedisHub
from reelhouse.party.service import PartyInfo

__all__ = ["broadcast", "close_hub", "get_hub", "serve_socket"]

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_ENDED = 4410


def get_hub(app: FastAPI) -> MemoryHub | RedisHub:
    """The app's hub, made on first use (a RedisHub in the running event loop: its
    connections belong to that loop)."""
    loop = asyncio.get_running_loop()
    hub: MemoryHub | RedisHub | None = getattr(app.state, "party_hub", None)
    if hub is None or (isinstance(hub, RedisHub) and getattr(app.state, "party_hub_loop", None) is not loop):
        from reelhouse.party.hub import make_hub

        core: Core = app.state.core
        hub = make_hub(core.settings.party_redis_url or core.settings.redis_url)
        app.state.party_hub = hub
        app.state.party_hub_loop = loop
    return hub


async def close_hub(app: FastAPI) -> None:
    hub = getattr(app.state, "party_hub", None)
    if hub is not None:
        app.state.party_hub = None
        await hub.close()


def render(before: st.Party, info: PartyInfo) -> str:
    """The message that tells every member about the change ``before`` → ``info``."""
    party = info.party
    kind = "ended" if party.state == "ended" else "state"
    changed, gone = protocol.members_changed(before, party)
    return protocol.dumps({"type": kind, "party": protocol.playback(info.code, info.media_file_id, party),
                           "members": changed, "gone": gone, "event": protocol.event_of(before, party)})


async def broadcast(app: FastAPI, before: st.Party, info: PartyInfo) -> None:
    """Publish a change to every member, in every process (no-op if nothing changed)."""
    if before == info.party and before.last == info.party.last:
        return
    await get_hub(app).publish(info.code, render(before, info))


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
        info = await run_in_threadpool(core.parties.get, code)
        await run_in_threadpool(core.access.check_file, user, info.media_file_id)
    except NotFound as exc:
        await websocket.close(CLOSE_NOT_FOUND, exc.message)
        return
    if info.party.state == "ended":
        await websocket.close(CLOSE_ENDED, "this party has ended")
        return
    await websocket.accept()
    await _Connection(app, core, websocket, user.id, user.name, info.code).run()


def _quiet(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and isinstance(task.exception(), Exception) and \
            not isinstance(task.exception(), ReelhouseError):
        log.warning("party: marking a member disconnected failed", exc_info=task.exception())


class _Connection:
    def __init__(self, app: FastAPI, core: Core, ws: WebSocket, user_id: int, name: str, code: str) -> None:
        self.app, self.core, self.ws = app, core, ws
        self.user_id, self.name, self.code = user_id, name, code
        self.send_lock = asyncio.Lock()
        self.timers: set[asyncio.Task[None]] = set()
        self.left = False

    async def send(self, message: dict[str, Any] | str) -> None:
        text = message if isinstance(message, str) else protocol.dumps(message)
        async with self.send_lock:
            await self.ws.send_text(text)

    async def apply(self, make_event: Callable[[float], st.Event]) -> PartyInfo:
        before, info = await run_in_threadpool(self.core.parties.apply, self.code, make_event)
        await broadcast(self.app, before, info)
        deadline = info.party.wait_deadline() if info.party.state == "waiting" else None
        if deadline is not None:  # whoever made the party wait ends the wait on time
            timer = asyncio.create_task(self._tick_at(deadline))
            self.timers.add(timer)
            timer.add_done_callback(self.timers.discard)
        return info

    async def _tick_at(self, deadline: float) -> None:
        await asyncio.sleep(max(0.0, deadline - server_now()) + 0.01)
        with contextlib.suppress(ReelhouseError):
            await self.apply(lambda now: st.Tick(now))

    async def run(self) -> None:
        hub = get_hub(self.app)
        async with hub.subscribe(self.code) as queue:
            try:
                info = await self.apply(lambda now: st.Join(self.user_id, self.name, now))
            except ReelhouseError as exc:
                await self.send({"type": "error", "status": status_for(exc), "message": exc.message})
                await self.ws.close(CLOSE_ENDED if status_for(exc) == 409 else 4400, exc.message)
                return
            await self.send({"type": "welcome", "you": {"id": self.user_id, "name": self.name},
                             "server": server_now(),
                             "party": protocol.playback(info.code, info.media_file_id, info.party),
                             "members": [protocol.member(p) for p in info.party.participants]})
            forward = asyncio.create_task(self._forward(queue))
            try:
                await self._read()
            except WebSocketDisconnect:
                pass
            finally:
                forward.cancel()
                for timer in list(self.timers):
                    timer.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await forward
                if not self.left:  # shielded: a cancelled handler still marks its member gone
                    gone = asyncio.ensure_future(self.apply(lambda now: st.Disconnect(self.user_id, now)))
                    gone.add_done_callback(_quiet)
                    with contextlib.suppress(ReelhouseError, asyncio.CancelledError):
                        await asyncio.shield(gone)

    async def _forward(self, queue: asyncio.Queue[str]) -> None:
        while True:
            text = await queue.get()
            await self.send(text)
            if text.startswith('{"v":1,"type":"ended"'):
                await self.ws.close(CLOSE_ENDED, "this party has ended")
                return

    async def _read(self) -> None:
        settings = self.core.settings
        rate = MessageRate(settings.ws_messages_per_second)
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            raw = message.get("text")
            if raw is None:  # a binary frame: the protocol is JSON text
                await self.ws.close(CLOSE_UNSUPPORTED, "binary frames are not accepted")
                return
            if len(raw.encode()) > settings.ws_message_limit:  # servers without ws_max_size
                await self.ws.close(CLOSE_TOO_BIG, "message too big")
                return
            if not rate.allow():
                await self.ws.close(CLOSE_POLICY, "too many messages; slow down")
                return
            received = server_now()
            try:
                msg = protocol.parse(raw)
                if msg.type == "ping":
                    await self.send({"type": "pong", "t0": msg.t0, "server": received})
                    continue
                await self.apply(protocol.to_event(msg, self.user_id))
                if msg.type == "leave":
                    self.left = True
                    await self.ws.close(1000, "left the party")
                    return
            except ReelhouseError as exc:
                await self.send({"type": "error", "status": status_for(exc), "message": exc.message})
                if status_for(exc) == 409:  # the party ended meanwhile
                    await self.ws.close(CLOSE_ENDED, exc.message)
                    return
