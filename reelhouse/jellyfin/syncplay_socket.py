"""SyncPlay on an app's ``/socket``: the session follows its group's watch party.

Each socket listens on its session's own hub channel (``jellyfin:<grant>``, through
the party hub: with Redis, a call made on another node reaches it). The SyncPlay
routes publish there what the session must do: ``follow`` (it is now in a group:
read which one from ``syncplay_members``), ``leave``, ``queue`` (the play queue
changed: send it if newer than the one told), ``current`` (send the play queue again
as SetCurrentItem: the app reported another item), ``resend`` (the command for where
the party is), ``send`` (a ready message).

While in a group whose party exists, the socket is a member connection of the party
(:meth:`reelhouse.party.live.PartyLive.connect`, as a browser's party socket: joined
and connected while open, disconnected when the last one closes, presence leases with
Redis) and :class:`~reelhouse.jellyfin.syncplay.Follower` turns each party message
into Jellyfin's. An app that loads the item (on joining) or seeks buffers until it
says Ready, under the party's wait rules (:func:`member_buffers`). A session whose
user loses the grant to the party's file's source (an admin's change) is taken out of
the group at the party's next message (``GroupLeft``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from reelhouse.api.party_socket import get_live
from reelhouse.core import Core
from reelhouse.errors import PermissionDenied, ReelhouseError
from reelhouse.jellyfin import ids, syncplay
from reelhouse.jellyfin.syncplay_groups import SyncPlayGroups, party_name
from reelhouse.party import protocol
from reelhouse.party import state as st
from reelhouse.party.clock import server_now
from reelhouse.party.live import PartyLive
from reelhouse.party.service import PartyInfo

__all__ = ["channel", "follow", "live_of", "member_buffers", "publish"]

log = logging.getLogger(__name__)

Send = Callable[[str], Awaitable[None]]


def channel(grant: str) -> str:
    """The hub channel of one app session."""
    return f"jellyfin:{grant}"


def live_of(conn: HTTPConnection) -> PartyLive:
    """The party runtime shared with the browser's party sockets (the main app's)."""
    owner = getattr(conn.app.state, "live_owner", None) or conn.app
    return get_live(owner)


async def publish(conn: HTTPConnection, grant: str, payload: dict[str, Any]) -> None:
    """Tell the session's sockets (on any node) ``payload`` (see the module docstring)."""
    await live_of(conn).hub.publish(channel(grant), json.dumps(payload))


async def member_buffers(live: PartyLive, code: str, user_id: int, flag: bool) -> PartyInfo:
    """The member starts (``flag``) or stops buffering; it holds the party only within
    its hold budget (party/live.py: ``party_wait_timeout`` s per minute). Raises what
    the party raises (PermissionDenied for a non-member, Conflict once ended)."""
    store, budget = live.holds, live.parties.wait_timeout
    if not flag:
        await store.ended(code, user_id, server_now(), budget)
        return await live.apply(code, lambda now: st.Ready(user_id, now))
    holds = await store.may_hold(code, user_id, server_now(), budget)
    info = await live.apply(code, lambda now: st.Buffering(user_id, now, holds))
    if holds and info.party.state == "waiting":
        await store.started(code, user_id, server_now())
    return info


async def follow(conn: HTTPConnection, core: Core, grant: str, user_id: int, name: str, send: Send,
                 listening: asyncio.Event | None = None) -> None:
    """Run the session's SyncPlay side until cancelled (the socket closed);
    ``listening`` is set once the session's channel is subscribed (with Redis, a call
    published before that would be lost)."""
    live = live_of(conn)
    groups = SyncPlayGroups(core)
    inbox: asyncio.Queue[str] = asyncio.Queue(maxsize=64)
    task: asyncio.Task[None] | None = None
    group_id = ids.encode("party", 0)

    async def stop() -> None:
        nonlocal task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            task = None

    async def start() -> None:
        nonlocal task, inbox, group_id
        await stop()
        current = await run_in_threadpool(groups.current, grant)
        if current is not None:
            party_id = current[0].party_id
            group_id = ids.encode("syncgroup", current[0].id) if party_id is None else ids.encode("party", party_id)
        if current is not None and current[1] is not None and current[0].party_id is not None:
            inbox = asyncio.Queue(maxsize=64)
            task = asyncio.create_task(_group(live, core, groups, grant, current[1], current[0].party_id,
                                              user_id, name, send, inbox))

    async with live.hub.subscribe(channel(grant)) as control:
        if listening is not None:
            listening.set()
        try:
            await start()
            while True:
                raw = await control.get()
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                do = msg.get("do")
                if do == "send":
                    await send(str(msg.get("text", "")))
                elif do == "follow":
                    await start()
                elif do == "leave":
                    await stop()
                    await send(syncplay.group_update(group_id, "GroupLeft", group_id))
                elif do in ("queue", "current", "resend") and task is not None:
                    with contextlib.suppress(asyncio.QueueFull):
                        inbox.put_nowait(do)
        finally:
            await stop()


async def _group(live: PartyLive, core: Core, groups: SyncPlayGroups, grant: str, code: str, party_id: int,
                 user_id: int, name: str, send: Send, inbox: asyncio.Queue[str]) -> None:
    """Follow one party: welcome, then each of its messages, until it ends."""
    try:
        async with live.connect(code, user_id, name) as conn:
            info = conn.info
            assert info is not None
            queue, version = await run_in_threadpool(groups.queue, info)
            follower = syncplay.Follower(ids.encode("party", party_id), party_name(code), user_id, queue, version)
            for text in follower.welcome(conn.welcome(), server_now()):
                await send(text)
            with contextlib.suppress(ReelhouseError):  # it loads the item: the party waits for its Ready
                await member_buffers(live, code, user_id, True)
            file_id = info.media_file_id
            pump = asyncio.create_task(_pump(conn.messages(), inbox))
            try:
                while True:
                    item_or_cmd = await inbox.get()
                    if item_or_cmd == "\x00end":
                        break
                    if item_or_cmd == protocol.QUEUE_CHANGED:
                        continue  # for browsers; an app hears of it on its own channel ("queue")
                    if item_or_cmd in ("queue", "current", "resend"):
                        now_info = await _info(core, code)
                        if now_info is None:
                            continue
                        party = protocol.playback(now_info.code, now_info.media_file_id, now_info.party,
                                                  now_info.version)
                        if item_or_cmd == "resend":
                            out = follower.resend(party, server_now())
                        else:
                            queue, version = await run_in_threadpool(groups.queue, now_info)
                            out = follower.set_queue(queue, version, party, server_now(),
                                                     "SetCurrentItem" if item_or_cmd == "current" else None)
                        for text in out:
                            await send(text)
                        continue
                    msg = json.loads(item_or_cmd)
                    party = msg.get("party") or {}
                    file_id = int(party.get("media_file_id") or file_id)
                    if not await run_in_threadpool(core.auth.may_play, user_id, file_id):
                        raise PermissionDenied("the group's item is on a source no longer granted")
                    out = []
                    event = msg.get("event") or {}
                    if isinstance(event, dict) and event.get("kind") == "load":
                        # another item: its play queue first (the app loads it), then the state
                        now_info = await _info(core, code)
                        if now_info is not None:
                            queue, version = await run_in_threadpool(groups.queue, now_info)
                            out += follower.set_queue(queue, version, party, server_now())
                    more, loads = follower.on_message(msg, server_now())
                    out += more
                    ended = msg.get("type") == "ended"
                    if ended and not await run_in_threadpool(groups.leave_party, grant, party_id):
                        out = out[:-1]  # the session is in another group now: no GroupLeft
                    for text in out:
                        await send(text)
                    if loads:
                        with contextlib.suppress(ReelhouseError):
                            await member_buffers(live, code, user_id, True)
                    if ended:
                        break
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pump
    except ReelhouseError as exc:  # the party ended or is gone, or its file was hidden: out of the group
        log.info("syncplay: %s no longer follows party %s: %s", grant, code, exc.message)
        if await run_in_threadpool(groups.leave_party, grant, party_id):
            group_id = ids.encode("party", party_id)
            await send(syncplay.group_update(group_id, "GroupLeft", group_id))


async def _pump(messages: Any, inbox: asyncio.Queue[str]) -> None:
    async for text in messages:
        await inbox.put(text)
    await inbox.put("\x00end")


async def _info(core: Core, code: str) -> PartyInfo | None:
    try:
        return await run_in_threadpool(core.parties.get, code)
    except ReelhouseError:
        return None
