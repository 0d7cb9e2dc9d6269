"""One connection of a watch-party member (:class:`LiveConnection`), made by
:meth:`.live.PartyLive.connect`: the ``welcome`` to send first, each client message
handled, and the party's broadcasts forwarded in version order (a message older than
what the connection has sent is skipped, a gap sends the whole party afresh), with the
member's buffering turned into member events by the process's
:class:`~.live.Connections` and hold budgets (see :mod:`.live`)."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from anyio import to_thread

from reelhouse.errors import NotFound, ReelhouseError
from reelhouse.party import protocol
from reelhouse.party import state as st
from reelhouse.party.clock import server_now
from reelhouse.party.hub import PartyQueue
from reelhouse.party.service import PartyInfo

if TYPE_CHECKING:
    from reelhouse.party.live import PartyLive

__all__ = ["LiveConnection"]

_ENDED_PREFIX = '{"v":1,"type":"ended"'
_VERSION = re.compile(r'"version":(\d+)')


def _version(text: str) -> int | None:
    """The party version of a rendered message (compact JSON, :func:`.live.render`)."""
    found = _VERSION.search(text)
    return int(found.group(1)) if found else None


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

    async def exists(self) -> bool:
        """Whether the party is still stored (it goes with its film's source)."""
        try:
            await to_thread.run_sync(self.live.parties.get, self.code)
        except NotFound:
            return False
        return True

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
        store = self.live.holds
        if not flag:  # the others wait on until the party starts, ``lead`` s after the ready
            await store.ended(code, user_id, server_now() + self.live.parties.lead, budget)
            await self.live.apply(code, lambda now: st.Ready(user_id, now))
            return
        holds = await store.may_hold(code, user_id, server_now(), budget)
        info = await self.live.apply(code, lambda now: st.Buffering(user_id, now, holds))
        if holds and info.party.state == "waiting":
            await store.started(code, user_id, server_now())

    async def messages(self) -> AsyncIterator[str]:
        """The party's broadcasts for this connection, until the party ends (the
        ``ended`` message is the last one), each newer than the one before: a message
        at or below the version this connection has sent (the welcome's included) is
        old news and skipped: one published late by another process, or one published
        between this connection's subscription and its join. A gap in the versions (a
        message still on its way, or dropped) sends the party read afresh instead.
        A ``queue`` message (no version) is always forwarded, and one that the queue
        dropped or that :meth:`_whole` skipped is sent once afterwards."""
        assert self.queue is not None
        while True:
            if self.queue.lost_queue:  # a queue message was dropped or drained: tell it now
                self.queue.lost_queue = False
                yield protocol.QUEUE_CHANGED
            text = await self.queue.get()
            if text == protocol.QUEUE_CHANGED:  # no version: not playback news, always sent
                yield text
                continue
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
            waiting = self.queue.get_nowait()
            if waiting == protocol.QUEUE_CHANGED:
                self.queue.lost_queue = True  # sent after the whole state (messages())
            else:
                text = waiting
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
