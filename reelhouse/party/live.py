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
  holds nobody (shown, not waited for: ``state.Buffering.holds``). With Redis the
  budget is one per member for every process (:mod:`.cluster`). A hold counts until
  the party plays again, the start's ``lead`` after the ready: a guest on a 1 Mbit/s
  line stalling every 2-3 s for under a second cost the others half as much again as
  its budget said (12 s of a film's first 31 s against a budget of 8).

With several server processes (Redis hub), the connections of one member may sit in
different processes: when a broadcast shows a member disconnected while this process
still holds a connection of it, that connection joins again (``reconnect`` below), so
the stored flag settles on "connected" within one message round. Each process holds a
presence lease in Redis on the members connected to it; when a process dies, another
one tells the party its members left once their leases run out (:mod:`.cluster`).

Messages are rendered once per change (:func:`render`) and fanned out by the hub
(:mod:`.hub`); the socket adapter (``reelhouse/api/party_socket.py``) only moves text
between the WebSocket and a :class:`~.connection.LiveConnection` (one connection's
side: its messages in order, its buffering).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import os
import secrets
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread

from reelhouse.errors import NotFound, ReelhouseError
from reelhouse.party import protocol
from reelhouse.party import state as st
from reelhouse.party.clock import server_now
from reelhouse.party.cluster import HOLD_WINDOW, PRESENCE_TTL, Holds, MemoryHolds, Presence, RedisHolds
from reelhouse.party.connection import LiveConnection
from reelhouse.party.hub import MemoryHub, RedisHub, make_hub
from reelhouse.party.service import PartyInfo, PartyService

__all__ = ["ENDED_CHECK_SECONDS", "HOLD_WINDOW", "Connections", "LiveConnection", "PartyLive", "render"]

log = logging.getLogger(__name__)

#: Seconds a process keeps what it read of a party's end (:meth:`PartyLive.ended`).
ENDED_CHECK_SECONDS = 5.0


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

    def members(self) -> list[tuple[str, int]]:
        """``(party code, user id)`` of every member with a connection here."""
        with self._lock:
            return [key for key, conns in self._members.items() if conns]

    def holds(self, code: str, user_id: int) -> bool:
        """Whether this process holds a connection of the member."""
        with self._lock:
            return bool(self._members.get((code, user_id)))


class PartyLive:
    """The live runtime of one server process (one per app): applies member events
    through the :class:`PartyService` on a worker thread, broadcasts the result through
    the hub and ends waits on time.

    ``hub_url``: a Redis URL for several processes (the hub, presence leases and hold
    budgets live there: :mod:`.cluster`), None for one process, in memory. ``node``:
    this process's name in presence leases (unique per process); ``presence_ttl``:
    seconds a lease of a dead process lasts."""

    def __init__(self, parties: PartyService, hub_url: str | None, node: str | None = None,
                 presence_ttl: float = PRESENCE_TTL) -> None:
        self.parties = parties
        self.hub_url = hub_url
        self.node = node or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.presence_ttl = presence_ttl
        self.connections = Connections()
        self._hub: MemoryHub | RedisHub | None = None
        self._presence: Presence | None = None
        self._holds: Holds = MemoryHolds()
        self._hub_loop: asyncio.AbstractEventLoop | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._timers: set[asyncio.Task[None]] = set()  # the ticks that end waits on time
        self._ended_seen: dict[str, tuple[float, bool]] = {}  # code → (monotonic time read, ended)

    def _shared(self) -> None:
        """Make the hub (and, with Redis, the presence and hold stores) in the running
        event loop: their Redis connections belong to that loop."""
        loop = asyncio.get_running_loop()
        if self._hub is None or (self.hub_url and self._hub_loop is not loop):
            self._hub = make_hub(self.hub_url)
            self._hub_loop = loop
            if self.hub_url:
                self._presence = Presence(self.hub_url, self.node, self.presence_ttl)
                self._holds = RedisHolds(self.hub_url)
                self._keeper = None

    @property
    def hub(self) -> MemoryHub | RedisHub:
        """The hub, made on first use."""
        self._shared()
        assert self._hub is not None
        return self._hub

    @property
    def holds(self) -> Holds:
        """The members' hold budgets (in Redis with a hub URL: one per member for every node)."""
        self._shared()
        return self._holds

    def start(self) -> None:
        """Start renewing this process's presence leases and sweeping the run-out ones
        (with Redis; at startup, and again on each connection: idempotent)."""
        self._shared()
        if self._presence is not None and (self._keeper is None or self._keeper.done()):
            self._keeper = asyncio.create_task(self._keep(self._presence), name="party-presence")

    async def _keep(self, presence: Presence) -> None:
        while True:
            try:
                await self.keep_once(presence)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis or the database unreachable: try again next round
                log.warning("party presence: renewing or sweeping leases failed", exc_info=True)
            await asyncio.sleep(self.presence_ttl / 3)

    async def keep_once(self, presence: Presence) -> None:
        """Renew the leases of the members connected here; tell each party about its
        members whose leases ran out (their node died): disconnected, holds ended."""
        here = self.connections.members()
        await presence.renew(here)
        for code, user_id in await presence.sweep():
            if (code, user_id) in here:
                continue
            await self.holds.ended(code, user_id, server_now(), self.parties.wait_timeout)
            with contextlib.suppress(ReelhouseError):
                await self.apply(code, functools.partial(_disconnect, user_id))
            log.info("party %s: member %d's node stopped renewing its presence", code, user_id)

    async def close(self) -> None:
        """Close the hub and stores and stop the timers (at shutdown)."""
        for timer in list(self._timers):
            timer.cancel()
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await keeper
        hub, self._hub = self._hub, None
        if hub is not None:
            await hub.close()
        presence, self._presence = self._presence, None
        if presence is not None:
            with contextlib.suppress(Exception):
                await presence.drop_all(self.connections.members())
                await presence.close()
        holds, self._holds = self._holds, MemoryHolds()
        if isinstance(holds, RedisHolds):
            with contextlib.suppress(Exception):
                await holds.close()

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
        return await self._changed(code, before, info)

    async def end_source(self, source_id: int) -> list[str]:
        """End every open party that plays a file of source ``source_id`` (it is about to
        be removed), told to every member in every process as :meth:`apply` tells a
        change (their sockets close with 4410); returns their codes. A party that ended
        or went meanwhile is skipped; with Redis unreachable the parties still end in
        the database, and the sockets learn it from :meth:`ended`."""
        codes = await to_thread.run_sync(self.parties.open_codes_of_source, source_id)
        for code in codes:
            with contextlib.suppress(ReelhouseError):
                await self.apply(code, st.Close)
        return codes

    async def ended(self, code: str, max_age: float = ENDED_CHECK_SECONDS) -> bool:
        """Whether the party ended or is gone (its film's source removed), as stored:
        what a socket checks now and then (``reelhouse/api/party_socket.py``), for the
        changes no broadcast told this process — a ``reelhouse source remove`` run in
        another process without a Redis hub. One database read per party per
        ``max_age`` seconds in this process, however many members it has here; False
        when the database cannot be read now."""
        now = asyncio.get_running_loop().time()
        seen = self._ended_seen.get(code)
        if seen is not None and now - seen[0] < max_age:
            return seen[1]
        try:
            info = await to_thread.run_sync(self.parties.get, code)
            ended = info.party.state == "ended"
        except NotFound:
            ended = True
        except Exception:  # the database unreachable for a moment: no reason to end a party
            log.warning("party %s: could not read whether it ended", code, exc_info=True)
            return False
        if len(self._ended_seen) > 4096:
            self._ended_seen.clear()
        self._ended_seen[code] = (now, ended)
        return ended

    async def load(self, code: str, user_id: int, media_file_id: int, position: float) -> PartyInfo:
        """The party plays another file (:meth:`PartyService.load`), told to everyone as
        :meth:`apply` tells a change (its ``media_file_id`` is the new one)."""
        before, info = await to_thread.run_sync(self.parties.load, code, user_id, media_file_id, position)
        return await self._changed(code, before, info)

    async def queue_changed(self, code: str) -> None:
        """Tell every member of the party, in every process, that its play queue
        changed (the ``queue`` message of :mod:`.protocol`): their pages read it again.
        Raises SourceUnavailable when the Redis hub cannot be reached."""
        await self.hub.publish(code, protocol.QUEUE_CHANGED)

    async def _changed(self, code: str, before: st.Party, info: PartyInfo) -> PartyInfo:
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
        self.start()
        async with self.hub.subscribe(code) as queue:
            conn.queue = queue
            if self.connections.open(code, user_id, conn.id) and self._presence is not None:
                await self._presence.renew([(code, user_id)])  # before the join: a lease to sweep
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
                done = asyncio.ensure_future(self._closed(code, user_id, last, stop_buffering,
                                                         event if conn.info is not None else None))
                done.add_done_callback(_quiet)
                with contextlib.suppress(ReelhouseError, asyncio.CancelledError):
                    await asyncio.shield(done)  # a cancelled handler still does it

    async def _closed(self, code: str, user_id: int, last: bool, stop_buffering: bool,
                      event: Callable[[float], st.Event] | None) -> None:
        """A connection closed: drop the presence lease (its member's last one here),
        end the member's hold, apply ``event`` (Disconnect or Ready)."""
        if last and self._presence is not None:
            with contextlib.suppress(Exception):
                await self._presence.drop(code, user_id)
        if last or stop_buffering:
            with contextlib.suppress(Exception):
                await self.holds.ended(code, user_id, server_now(), self.parties.wait_timeout)
        if event is not None:
            await self.apply(code, event)


def _disconnect(user_id: int, now: float) -> st.Event:
    return st.Disconnect(user_id, now)


def _quiet(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and isinstance(task.exception(), Exception) and \
            not isinstance(task.exception(), ReelhouseError):
        log.warning("party: marking a member disconnected failed", exc_info=task.exception())
