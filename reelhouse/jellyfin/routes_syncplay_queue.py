"""The SyncPlay play queue (Jellyfin 10.10's SyncPlayController): ``SetNewQueue``
``{PlayingQueue, PlayingItemPosition, StartPositionTicks}``, ``Queue`` ``{ItemIds,
Mode: Queue | QueueNext}``, ``RemoveFromPlaylist`` ``{PlaylistItemIds, ClearPlaylist,
ClearPlayingItem}``, ``MovePlaylistItem`` ``{PlaylistItemId, NewIndex}``,
``NextItem`` / ``PreviousItem`` ``{PlaylistItemId}``, ``SetPlaylistItem``
``{PlaylistItemId}``, ``SetRepeatMode`` ``{Mode}``, ``SetShuffleMode`` ``{Mode}``.

The queue is the group's (:mod:`.syncplay_queue` for the rules, stored by
:class:`~.syncplay_groups.SyncPlayGroups`); the party's file is the playing entry's.
When the playing entry changes, the party loads its file (:meth:`PartyLive.load`:
browsers in the party reload onto it, every member buffers until ready) and each app
gets the ``PlayQueue`` update with the change's reason; other changes send only the
update. A queue emptied of its playing entry stops the group (Idle), as Jellyfin.
Every change is also told to the party's browser members (the party socket's
``queue`` message, :meth:`PartyLive.queue_changed`), whose queue panel reads it again.

Refusals (4xx, never a change): an item the caller may not see or that does not
exist is 404 (as anywhere in the API); an item someone else in the group may not see
is 403 (Jellyfin refuses such a queue: AllUsersHaveAccessToQueue), and so is any
change from a guest of a host-mode party made in the browser; bad bodies, modes
and more than ``MAX_ITEMS`` entries are 400; an unknown ``PlaylistItemId`` in
``SetPlaylistItem`` / ``MovePlaylistItem`` is 404. ``NextItem`` / ``PreviousItem``
naming another entry than the playing one change nothing (204: several apps send it
when an item ends; the first one moves the group on, as in Jellyfin). Before
``SetNewQueue`` names the items, the other queue commands change nothing.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from reelhouse.core import Core
from reelhouse.errors import InvalidInput, NotFound, PermissionDenied
from reelhouse.jellyfin import syncplay
from reelhouse.jellyfin.routes_syncplay import SyncCaller, groups_of, in_group, playlist_item_id, raw_body
from reelhouse.jellyfin.syncplay_queue import MAX_ITEMS, QUEUE_MODES, REPEAT_MODES, SHUFFLE_MODES, PlayQueue
from reelhouse.jellyfin.syncplay_socket import live_of, publish
from reelhouse.party import state as st
from reelhouse.party.clock import server_now
from reelhouse.party.service import PartyInfo

__all__ = ["change_queue", "check_control", "new_playlist_item_id", "router"]

router = APIRouter()


def new_playlist_item_id() -> str:
    """A PlaylistItemId: a random GUID as Jellyfin writes one (32 hex digits)."""
    return secrets.token_hex(16)


def _int(value: object, name: str, default: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not -(2**62) <= value < 2**62 \
            or value != int(value):
        raise InvalidInput(f"{name} must be a whole number")
    return int(value)


async def _party(request: Request, caller: Any) -> PartyInfo | None:
    """The caller's group's party; None for a group without an item yet (403 outside a group)."""
    code, _ = await in_group(request, caller)
    if code is None:
        return None
    core: Core = request.app.state.core
    info = await run_in_threadpool(core.parties.get, code)
    check_control(info, caller.user.id)
    return info


def check_control(info: PartyInfo, user_id: int) -> None:
    """PermissionDenied unless the user controls the party's playback (a queue change
    may load another file): checked before the queue is written, so a refused change
    changes nothing. Parties made for SyncPlay are collaborative; one made in the
    browser in host mode is the host's (or the acting host's) to steer."""
    party = info.party
    if party.member(user_id) is None:
        raise PermissionDenied("join the party first")
    if party.mode != "collaborative" and user_id not in (party.host_id, st.acting_host(party)):
        raise PermissionDenied("only the host controls playback in this party")


async def _change(request: Request, caller: Any, info: PartyInfo,
                  change: Callable[[PlayQueue], PlayQueue | None], position: float = 0.0) -> PlayQueue | None:
    return await change_queue(request, caller.user.id, info, change, position)


async def change_queue(request: Request, user_id: int, info: PartyInfo,
                       change: Callable[[PlayQueue], PlayQueue | None], position: float = 0.0) -> PlayQueue | None:
    """Store the queue change; if the playing entry changed (or ``change`` named it
    afresh: a new queue, the same entry again in RepeatOne), the party loads its file
    from ``position`` (s) — or stops, with nothing left to play; otherwise every app
    of the group is sent the update. Returns the new queue (None: no change)."""
    groups = groups_of(request)
    before, after, _ = await run_in_threadpool(groups.change_queue, info, change)
    if after is None:
        return None
    live, uid = live_of(request), user_id
    current = after.current()
    if after.reason in ("NewPlaylist", "NextItem", "PreviousItem", "SetCurrentItem") or \
            before.playing != after.playing:
        if current is not None:
            await live.load(info.code, uid, current.file_id, position)
        else:
            await live.apply(info.code, lambda now: st.Stop(uid, now))
    await live.queue_changed(info.code)  # the browsers in the party (party_queue.js) read it again
    for grant in await run_in_threadpool(groups.members, info.id):
        await publish(request, grant, {"do": "queue"})
    return after


@router.post("/syncplay/setnewqueue", status_code=204)
async def set_new_queue(request: Request, caller: SyncCaller) -> Response:
    """A new queue playing the entry at ``PlayingItemPosition`` from
    ``StartPositionTicks``: a group without an item becomes a party on it."""
    body = await raw_body(request)
    code, _ = await in_group(request, caller)
    index = _int(body.get("playingitemposition"), "PlayingItemPosition")
    start = body.get("startpositionticks") or 0
    if isinstance(start, bool) or not isinstance(start, int | float) or not 0 <= start < 2**62:
        raise InvalidInput("StartPositionTicks must be a number of ticks ≥ 0")
    groups = groups_of(request)
    items = await run_in_threadpool(groups.files_of, caller.user, body.get("playingqueue"))
    if not 0 <= index < len(items):
        raise InvalidInput("PlayingQueue must name the item at PlayingItemPosition")
    new = PlayQueue.new(items, index, server_now(), new_playlist_item_id)
    position = float(start) / syncplay.TICKS
    core: Core = request.app.state.core
    user = caller.user
    if code is None:
        current = new.current()
        assert current is not None
        info = await run_in_threadpool(core.parties.create, user, current.file_id, "collaborative")
        await run_in_threadpool(groups.change_queue, info, lambda _: new)
        await run_in_threadpool(groups.enter, user, caller.grant, info.id)
        live = live_of(request)
        await live.apply(info.code, lambda now: st.Seek(user.id, now, position))
        await live.apply(info.code, lambda now: st.Play(user.id, now))
        await publish(request, caller.grant, {"do": "follow"})
        return Response(status_code=204)
    info = await run_in_threadpool(core.parties.get, code)
    check_control(info, user.id)
    await run_in_threadpool(groups.check_members, info, [f for _, f in items])
    await _change(request, caller, info, lambda _: new, position)
    return Response(status_code=204)


@router.post("/syncplay/queue", status_code=204)
async def queue(request: Request, caller: SyncCaller) -> Response:
    """Add items at the end (``Mode`` Queue, the default) or after the playing one (QueueNext)."""
    info = await _party(request, caller)
    body = await raw_body(request)
    mode = body.get("mode") or "Queue"
    if mode not in QUEUE_MODES:
        raise InvalidInput(f"Mode must be one of {', '.join(QUEUE_MODES)}")
    items = await run_in_threadpool(groups_of(request).files_of, caller.user, body.get("itemids"))
    if info is None or not items:
        return Response(status_code=204)
    await run_in_threadpool(groups_of(request).check_members, info, [f for _, f in items])

    def add(q: PlayQueue) -> PlayQueue:
        if len(q.items) + len(items) > MAX_ITEMS:
            raise InvalidInput(f"a SyncPlay queue holds at most {MAX_ITEMS} items")
        return q.add(items, str(mode), server_now(), new_playlist_item_id)

    await _change(request, caller, info, add)
    return Response(status_code=204)


def _ids(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise InvalidInput("PlaylistItemIds must be a list of playlist item ids")
    return [playlist_item_id(v) for v in value]


@router.post("/syncplay/removefromplaylist", status_code=204)
async def remove(request: Request, caller: SyncCaller) -> Response:
    """Remove entries (``PlaylistItemIds``), or every entry (``ClearPlaylist``; the
    playing one too with ``ClearPlayingItem``)."""
    info = await _party(request, caller)
    body = await raw_body(request)
    gone = _ids(body.get("playlistitemids"))
    clear, clear_playing = body.get("clearplaylist") is True, body.get("clearplayingitem") is True
    if info is None:
        return Response(status_code=204)

    def change(q: PlayQueue) -> PlayQueue | None:
        if clear:
            return q.clear(not clear_playing, server_now())
        if not any(q.find(p) for p in gone):
            return None
        return q.remove(gone, server_now())[0]

    await _change(request, caller, info, change)
    return Response(status_code=204)


def _entry(body: dict[str, Any]) -> str:
    value = body.get("playlistitemid")
    if value is None:
        raise InvalidInput("PlaylistItemId is required")
    return playlist_item_id(value)


@router.post("/syncplay/moveplaylistitem", status_code=204)
async def move(request: Request, caller: SyncCaller) -> Response:
    info = await _party(request, caller)
    body = await raw_body(request)
    entry, index = _entry(body), _int(body.get("newindex"), "NewIndex")
    if info is None:
        return Response(status_code=204)

    def change(q: PlayQueue) -> PlayQueue:
        moved = q.move(entry, index, server_now())
        if moved is None:
            raise NotFound("no such PlaylistItemId in the group's queue")
        return moved

    await _change(request, caller, info, change)
    return Response(status_code=204)


async def _step(request: Request, caller: Any, forward: bool) -> Response:
    info = await _party(request, caller)
    body = await raw_body(request)
    entry = _entry(body)
    if info is None:
        return Response(status_code=204)

    def change(q: PlayQueue) -> PlayQueue | None:
        if q.playing != entry:
            return None  # another app moved the group on already
        return q.next(server_now()) if forward else q.previous(server_now())

    await _change(request, caller, info, change)
    return Response(status_code=204)


@router.post("/syncplay/nextitem", status_code=204)
async def next_item(request: Request, caller: SyncCaller) -> Response:
    """The entry after ``PlaylistItemId`` (which must be the playing one) plays, from 0."""
    return await _step(request, caller, True)


@router.post("/syncplay/previousitem", status_code=204)
async def previous_item(request: Request, caller: SyncCaller) -> Response:
    return await _step(request, caller, False)


@router.post("/syncplay/setplaylistitem", status_code=204)
async def set_playlist_item(request: Request, caller: SyncCaller) -> Response:
    info = await _party(request, caller)
    body = await raw_body(request)
    entry = _entry(body)
    if info is None:
        return Response(status_code=204)

    def change(q: PlayQueue) -> PlayQueue:
        chosen = q.set_playing(entry, server_now())
        if chosen is None:
            raise NotFound("no such PlaylistItemId in the group's queue")
        return chosen

    await _change(request, caller, info, change)
    return Response(status_code=204)


def _mode(body: dict[str, Any], allowed: tuple[str, ...]) -> str:
    mode = body.get("mode")
    if mode not in allowed:
        raise InvalidInput(f"Mode must be one of {', '.join(allowed)}")
    return str(mode)


@router.post("/syncplay/setrepeatmode", status_code=204)
async def set_repeat_mode(request: Request, caller: SyncCaller) -> Response:
    info = await _party(request, caller)
    mode = _mode(await raw_body(request), REPEAT_MODES)
    if info is not None:
        await _change(request, caller, info, lambda q: q.set_repeat(mode, server_now()))
    return Response(status_code=204)


@router.post("/syncplay/setshufflemode", status_code=204)
async def set_shuffle_mode(request: Request, caller: SyncCaller) -> Response:
    info = await _party(request, caller)
    mode = _mode(await raw_body(request), SHUFFLE_MODES)
    if info is not None:
        rng = random.Random()
        await _change(request, caller, info, lambda q: q.set_shuffle(mode, server_now(), rng))
    return Response(status_code=204)


@router.post("/syncplay/{command}", status_code=204)
async def unknown(command: str, caller: SyncCaller) -> Response:
    raise NotFound(f"no SyncPlay command {command[:32]!r}")
