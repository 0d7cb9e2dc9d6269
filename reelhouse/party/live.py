"""The live side of watch parties in one server process: the hub, the broadcast of
every change, the timers that end a wait on time, and membership per connection.

A member may hold several connections at once (two tabs, a phone and a laptop). The
stored party (:mod:`.service`) keeps one ``connected`` flag and one ``buffering`` mark
per member; :class:`Connections` keeps what each connection of this process reports,
and the runtime turns it into member events:

- the first connection of a member joins it (``connected``); closing a connection
  disconnects the member only when it was the member's last one here — a host with two
  tabs stays the host (and keeps control in host mode) when one tab closes;
- a member buffers while any of its connections buffers: ``buffering`` is applied when
  the first one starts, ``ready`` when the last one stops (or closes);
- a member holds the party (makes it wait) for at most the party's ``wait_timeout`` in
  total within ``HOLD_WINDOW`` seconds: a friend on a connection too slow for the film
  buffers again and again, each time for less than the timeout, and would stop the
  party for everyone for ever. Past that budget its ``buffering`` is applied as one that
  holds nobody (shown, not waited for: ``state.Buffering.holds``). The budget is kept
  by the process that holds the member's connection.

With several server processes (Redis hub), the connections of one member may sit in
different processes: when a broadcast shows a member disconnected while this process
still holds a connection of it, that connection joins again (``reconnect`` below), so
the stored flag settles on "connected" within one message round.

Messages are rendered once per change (:func:`render`) and fanned out by the hub
(:mod:`.hub`); the socket adapter (``reelhouse/api/party_socket.py``) only moves text
between the WebSocket and a :class:`LiveConnection`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread

from reelhouse.errors import ReelhouseError
from reelhouse.party import protocol
from reelhouse.party import state as st
from reelhouse.party.clock import server_now
from reelhouse.party.hub import MemoryHub, PartyQueue, RedisHub, make_hub
from reelhouse.party.service import PartyInfo, PartyService

__all__ = ["HOLD_WINDOW", "Connections", "LiveConnection", "PartyLive", "render"]

log = logging.getLogger(__name__)

_ENDED_PREFIX = '{"v":1,"type":"ended"'
#: Seconds over which the times a member held the party add up (see the module doc).
HOLD_WINDOW = 60.0


def render(before: st.Party, info: PartyInfo) -> str:
    """The message that tells every member about the change ``before`` → ``info``."""
    party = info.party
    kind = "ended" if party.state == "ended" else "state"
    changed, gone = protocol.members_changed(before, party)
    return protocol.dumps({"type": kind, "party": protocol.playback(info.code, info.media_file_id, party, info.version),
                           "members": changed, "gone": gone, "event": protocol.event_of(before, party)})


class Connections:
    """Which connections of this process each member of each party holds, and which of
    them buffer. Thread-safe (test clients run connections on several threads); no I/O.

    Every method answers what the member as a whole should do next, so the caller
    applies a member event only on a real change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._members: dict[tuple[str, int], dict[int, bool]] = {}  # → {connection: buffering}
        self._holding: dict[tuple[str, int], float] = {}  # → when its current hold began (s)
        self._held: dict[tuple[str, int], list[tuple[float, float]]] = {}  # → [(end, seconds held)]

    def open(self, code: str, user_id: int, conn_id: int) -> bool:
        """Register a connection; True if it is the member's first one here."""
        with self._lock:
            conns = self._members.setdefault((code, user_id), {})
            first = not conns
            conns[conn_id] = False
            return first

    def close(self, code: str, user_id: int, conn_id: int) -> tuple[bool, bool]:
        """Forget a connection: ``(last, stop_buffering)`` — it was the member's last
        connection here; or, with others left, it was the only one buffering."""
        with self._lock:
            conns = self._members.get((code, user_id), {})
            was_buffering = conns.pop(conn_id, False)
            if not conns:
                self._members.pop((code, user_id), None)
                return True, False
            return False, was_buffering and not any(conns.values())

    def buffering(self, code: str, user_id: int, conn_id: int, flag: bool) -> bool:
        """A connection starts (``flag``) or stops buffering: True if the member as a
        whole changes (the first connection starts, or the last one stops)."""
        with self._lock:
            conns = self._members.get((code, user_id))
            if conns is None or conn_id not in conns:
                return False
            before = any(conns.values())
            conns[conn_id] = flag
            return any(conns.values()) != before

    def may_hold(self, code: str, user_id: int, now: float, budget: float) -> bool:
        """Whether the member has held the party for less than ``budget`` seconds in
        total over the last HOLD_WINDOW seconds before ``now`` (server time, s)."""
        with self._lock:
            spans = [(end, held) for end, held in self._held.get((code, user_id), ()) if end > now - HOLD_WINDOW]
            if spans:
                self._held[(code, user_id)] = spans
            else:
                self._held.pop((code, user_id), None)
            return sum(held for _, held in spans) < budget

    def hold_started(self, code: str, user_id: int, now: float) -> None:
        """The member made the party wait at ``now`` (s)."""
        with self._lock:
            self._holding[(code, user_id)] = now

    def hold_ended(self, code: str, user_id: int, now: float, budget: float) -> None:
        """The member stopped buffering at ``now`` (s): its hold, if any, counts (at most
        ``budget`` s: the party plays on without it after its wait timeout)."""
        with self._lock:
            start = self._holding.pop((code, user_id), None)
            if start is not None:
                if len(self._held) > 10_000:  # members long gone
                    self._held.clear()
                self._held.setdefault((code, user_id), []).append((now, min(max(0.0, now - start), budget)))

    def holds(self, code: str, user_id: int) -> bool:
        """Whether this process holds a connection of the member."""
        with self._lock:
            return bool(self._members.get((code, user_id)))


class PartyLive:
    """The live runtime of one server process (one per app): applies member events
    through the :class:`PartyService` on a worker thread, broadcasts the result through
    the hub and ends waits on time.

    ``hub_url``: a Redis URL for several processes, None for a MemoryHub."""

    def __init__(self, parties: PartyService, hub_url: str | None) -> None:
        self.parties = parties
        self.hub_url = hub_url
        self.connections = Connections()
        self._hub: MemoryHub | RedisHub | None = None
        self._hub_loop: asyncio.AbstractEventLoop | None = None
        self._ids = itertools.count(1)
        self._timers: set[asyncio.Task[None]] = set()  # the ticks that end waits on time

    @property
    def hub(self) -> MemoryHub | RedisHub:
        """The hub, made on first use (a RedisHub in the running event loop: its
        connections belong to that loop)."""
        loop = asyncio.get_running_loop()
        if self._hub is None or (isinstance(self._hub, RedisHub) and self._hub_loop is not loop):
            self._hub = make_hub(self.hub_url)
            self._hub_loop = loop
        return self._hub

    async def close(self) -> None:
        """Close the hub and stop the wait timers (at shutdown)."""
        for timer in list(self._timers):
            timer.cancel()
        hub, self._hub = self._hub, None
        if hub is not None:
            await hub.close()

    async def broadcast(self, before: st.Party, info: PartyInfo) -> None:
        """Publish a change to every member, in every process (no-op if nothing changed)."""
        if before == info.party and before.last == info.party.last:
            return
        await self.hub.publish(info.code, render(before, info))

    async def apply(self, code: str, make_event: Callable[[float], st.Event]) -> PartyInfo:
        """Apply ``make_event(now)`` to the party, broadcast the change, and schedule
        the tick that ends a wait at its deadline. Raises what
        :meth:`PartyService.apply` raises."""
        before, info = await to_thread.run_sync(self.parties.apply, code, make_event)
        await self.broadcast(before, info)
        deadline = info.party.wait_deadline() if info.party.state == "waiting" else None
        if deadline is not None:
            # the process's, not the connection's that made the party wait: a wait must
            # end on time after that connection has closed too
            timer = asyncio.create_task(self._tick_at(code, deadline))
            self._timers.add(timer)
            timer.add_done_callback(self._timers.discard)
        return info

    async def _tick_at(self, code: str, deadline: float) -> None:
        await asyncio.sleep(max(0.0, deadline - server_now()) + 0.01)
        with contextlib.suppress(ReelhouseError):
            await self.apply(code, lambda now: st.Tick(now))

    @asynccontextmanager
    async def connect(self, code: str, user_id: int, name: str) -> AsyncIterator[LiveConnection]:
        """A member's connection to the party ``code`` while the block runs: joined
        (connected) on entry, subscribed to the party's messages; on exit, if it was
        the member's last connection here, the member is marked
        disconnected (shielded: a cancelled handler still does it). Raises what the
        join raises (NotFound, Conflict for an ended party)."""
        conn = LiveConnection(self, code, user_id, name, next(self._ids))
        async with self.hub.subscribe(code) as queue:
            conn.queue = queue
            self.connections.open(code, user_id, conn.id)
            try:
                conn.info = await self.apply(code, lambda now: st.Join(user_id, name, now))
                yield conn
            finally:
                last, stop_buffering = self.connections.close(code, user_id, conn.id)
                event: Callable[[float], st.Event] | None = None
                if last and not conn.left:
                    event = lambda now: st.Disconnect(user_id, now)  # noqa: E731
                elif stop_buffering:
                    event = lambda now: st.Ready(user_id, now)  # noqa: E731
                if last or stop_buffering:
                    self.connections.hold_ended(code, user_id, server_now(), self.parties.wait_timeout)
                if event is not None and conn.info is not None:
                    done = asyncio.ensure_future(self.apply(code, event))
                    done.add_done_callback(_quiet)
                    with contextlib.suppress(ReelhouseError, asyncio.CancelledError):
                        await asyncio.shield(done)


_VERSION = re.compile(r'"version":(\d+)')


def _version(text: str) -> int | None:
    """The party version of a rendered message (compact JSON, :func:`render`)."""
    found = _VERSION.search(text)
    return int(found.group(1)) if found else None


def _quiet(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and isinstance(task.exception(), Exception) and \
            not isinstance(task.exception(), ReelhouseError):
        log.warning("party: marking a member disconnected failed", exc_info=task.exception())


class LiveConnection:
    """One connection of a member: :meth:`welcome` to send first, :meth:`handle` for
    each client message, :meth:`messages` for the broadcasts to forward."""

    def __init__(self, live: PartyLive, code: str, user_id: int, name: str, conn_id: int) -> None:
        self.live, self.code, self.user_id, self.name, self.id = live, code, user_id, name, conn_id
        self.info: PartyInfo | None = None
        self.queue: PartyQueue | None = None
        self.left = False
        #: the party version this connection has sent (the welcome's, then each message's)
        self.version = -1

    def welcome(self) -> dict[str, Any]:
        """The ``welcome`` message: who you are, the server time, the whole party."""
        assert self.info is not None
        info = self.info
        self.version = max(self.version, info.version)
        return {"type": "welcome", "you": {"id": self.user_id, "name": self.name}, "server": server_now(),
                "party": protocol.playback(info.code, info.media_file_id, info.party, info.version),
                "members": [protocol.member(p) for p in info.party.participants]}

    async def handle(self, raw: str) -> dict[str, Any] | None:
        """Handle one client message: the direct answer (``pong``) or None. Raises
        InvalidInput (bad message), PermissionDenied (a non-host command in host mode),
        Conflict (the party ended)."""
        received = server_now()
        msg = protocol.parse(raw)
        if msg.type == "ping":
            return {"type": "pong", "t0": msg.t0, "server": received}
        if msg.type in ("buffering", "ready"):
            await self._buffering(msg.type == "buffering")
            return None
        await self.live.apply(self.code, protocol.to_event(msg, self.user_id))
        if msg.type == "leave":
            self.left = True
        return None

    async def _buffering(self, flag: bool) -> None:
        """This connection starts (``flag``) or stops buffering; the member's hold budget
        decides whether the party waits for it (see the module docstring)."""
        conns, code, user_id = self.live.connections, self.code, self.user_id
        if not conns.buffering(code, user_id, self.id, flag):
            return  # another connection of this member already says so
        budget = self.live.parties.wait_timeout
        if not flag:
            conns.hold_ended(code, user_id, server_now(), budget)
            await self.live.apply(code, lambda now: st.Ready(user_id, now))
            return
        holds = conns.may_hold(code, user_id, server_now(), budget)
        info = await self.live.apply(code, lambda now: st.Buffering(user_id, now, holds))
        if holds and info.party.state == "waiting":
            conns.hold_started(code, user_id, server_now())

    async def messages(self) -> AsyncIterator[str]:
        """The party's broadcasts for this connection, until the party ends (the
        ``ended`` message is the last one), each newer than the one before: a message
        at or below the version this connection has sent (the welcome's included) is
        old news and skipped: one published late by another process, or one published
        between this connection's subscription and its join. A gap in the versions (a
        message still on its way, or dropped) sends the party read afresh instead."""
        assert self.queue is not None
        while True:
            text = await self.queue.get()
            version = _version(text)
            if self.queue.lost_members or (version is not None and version > self.version + 1):
                text = await self._whole(text)
                version = _version(text)
            if version is not None:
                if version <= self.version:
                    continue
                self.version = version
            yield text
            if text.startswith(_ENDED_PREFIX):
                return
            if '"connected":false' in text and self._shows_me_gone(text):
                await self._reconnect()

    async def _whole(self, text: str) -> str:
        """A message with every member (``"full": true``) in place of ``text`` and of
        what waits behind it: a message with member changes was dropped for this slow
        connection (hub.PartyQueue), so its member list must be sent whole. The
        party is read afresh, so it is at least as new as the messages it replaces;
        the ones queued after it only repeat changes it already holds."""
        assert self.queue is not None
        self.queue.lost_members = False
        while not self.queue.empty():
            text = self.queue.get_nowait()
        try:
            info = await to_thread.run_sync(self.live.parties.get, self.code)
        except ReelhouseError:
            return text
        try:
            event = json.loads(text).get("event")
        except ValueError:
            event = None
        return protocol.dumps(protocol.whole(info.code, info.media_file_id, info.party, event, info.version))

    def _shows_me_gone(self, text: str) -> bool:
        try:
            members = json.loads(text).get("members") or []
        except ValueError:
            return False
        return any(m.get("id") == self.user_id and m.get("connected") is False for m in members) \
            and not self.left and self.live.connections.holds(self.code, self.user_id)

    async def _reconnect(self) -> None:
        """Another process marked this member disconnected (its last connection there
        closed) while this one is still open: join again."""
        with contextlib.suppress(ReelhouseError):
            await self.live.apply(self.code, lambda now: st.Join(self.user_id, self.name, now))
