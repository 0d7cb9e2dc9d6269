"""SyncPlay (Jellyfin's SyncPlayController, 10.10) over reelhouse's watch parties, and
``GetUtcTime`` (TimeSyncController) for the apps' clock estimate.

Groups: ``SyncPlay/List``, ``SyncPlay/{id}``, ``New`` ``{GroupName}``, ``Join``
``{GroupId}``, ``Leave`` (:mod:`.syncplay_groups`). Playback: ``Unpause`` (the
party's play; after a Stop the item starts over), ``Pause``, ``Stop`` (Jellyfin's:
the group goes Idle, the apps unload the item, the party is back at 0), ``Seek``
``{PositionTicks}``, ``Buffering`` / ``Ready`` (the member buffers, under the party's
wait rules: at most ``party_wait_timeout`` s, and that much per minute; a report for
another ``PlaylistItemId`` than the playing one is answered with the play queue, and
the member goes on buffering, as Jellyfin does), ``SetIgnoreWait`` ``{IgnoreWait}``
(true: the member holds nobody), ``Ping``. The play queue (``SetNewQueue``,
``Queue``, ``NextItem`` …) is :mod:`.routes_syncplay_queue`.

What happens reaches the apps over ``/socket`` (:mod:`.syncplay_socket`). As in
Jellyfin, every SyncPlay call is 403 for a user whose ``SyncPlayAccess`` is ``None``
(setting ``jellyfin_syncplay``), commands are 403 outside a group, and an unknown or
hidden group is 404 (Jellyfin answers 204 and a ``GroupDoesNotExist`` message, which
the session's socket gets too). A session that ends (``Sessions/Logout``, a revoked
token while its socket is open: :func:`leave_group`) leaves its group, as Jellyfin's
SessionEnded does; one revoked with its socket closed is swept out (:func:`sweep`) when
another app pings or reads the group.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from reelhouse.core import Core
from reelhouse.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from reelhouse.jellyfin import syncplay
from reelhouse.jellyfin.deps import Caller, CallerDep, CoreDep, read_json
from reelhouse.jellyfin.params import Args, body_args
from reelhouse.jellyfin.syncplay_groups import Group, SyncPlayGroups
from reelhouse.jellyfin.syncplay_socket import live_of, member_buffers, publish
from reelhouse.jellyfin.users import syncplay_access
from reelhouse.party import state as st
from reelhouse.party.clock import server_now

__all__ = ["SyncCaller", "groups_of", "in_group", "leave_group", "raw_body", "router"]

router = APIRouter()


def _access(caller: CallerDep, core: CoreDep) -> Caller:
    if syncplay_access(core.settings.jellyfin_syncplay, caller.user) == "None":
        raise PermissionDenied("SyncPlay is not enabled for this user")
    return caller


SyncCaller = Annotated[Caller, Depends(_access)]


def groups_of(conn: HTTPConnection) -> SyncPlayGroups:
    """The app's :class:`SyncPlayGroups`, made on first use."""
    groups: SyncPlayGroups | None = getattr(conn.app.state, "syncplay_groups", None)
    if groups is None:
        groups = conn.app.state.syncplay_groups = SyncPlayGroups(conn.app.state.core)
    return groups


def _dto(group: Group, now: float, maker: str = "") -> dict[str, Any]:
    """GroupInfoDto; a group without an item has its ``maker`` alone in it."""
    party = group.party
    names = sorted({p.name for p in party.party.participants}) if party is not None else [maker]
    return syncplay.group_info(group.group_id, group.name, party.party.state if party else "idle", names, now)


async def _body(request: Request) -> Args:
    body = await read_json(request, "an object", empty={})
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    return body_args(body)


async def raw_body(request: Request) -> dict[str, Any]:
    """The JSON object body with its keys in lower case (values as sent)."""
    body = await read_json(request, "an object", empty={})
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    return {str(k).lower(): v for k, v in body.items()}


@router.get("/getutctime")
def utc_time() -> dict[str, str]:
    """``UtcTimeResponse``: when the request came and the answer left (UTC)."""
    received = server_now()
    return {"RequestReceptionTime": syncplay.utc(received), "ResponseTransmissionTime": syncplay.utc(server_now())}


@router.get("/syncplay/list")
async def groups_list(request: Request, caller: SyncCaller) -> list[dict[str, Any]]:
    """GroupInfoDto of every group the caller may join."""
    groups = await run_in_threadpool(groups_of(request).visible, caller.user)
    now = server_now()
    return [_dto(g, now, caller.user.name) for g in groups]


@router.post("/syncplay/new")
async def group_new(request: Request, caller: SyncCaller) -> dict[str, Any]:
    """A group without an item, the caller's session in it (out of its old group)."""
    args = await _body(request)
    name = (args.text("groupname", 120) or "").strip() or f"{caller.user.name}'s group"
    await _leave(request, caller)
    group = await run_in_threadpool(groups_of(request).new, caller.user, caller.grant, name)
    now = server_now()
    dto = _dto(group, now, caller.user.name)
    await publish(request, caller.grant, {"do": "send", "text": syncplay.group_update(
        group.group_id, "GroupJoined", dto)})
    return dto


@router.post("/syncplay/join", status_code=204)
async def group_join(request: Request, caller: SyncCaller) -> Response:
    args = await _body(request)
    group_id = args.text("groupid", 64)
    if not group_id:
        raise InvalidInput("GroupId is required")
    groups = groups_of(request)
    try:
        group = await run_in_threadpool(groups.find, caller.user, group_id)
    except NotFound:
        await publish(request, caller.grant, {"do": "send", "text": syncplay.group_update(
            "00000000000000000000000000000000", "GroupDoesNotExist", "")})
        raise
    current = await run_in_threadpool(groups.current, caller.grant)
    if group.party is None:  # a group without an item is its maker's alone
        return Response(status_code=204)
    if current is not None and current[0].party_id == group.party.id:
        await publish(request, caller.grant, {"do": "follow"})
        return Response(status_code=204)
    await _leave(request, caller)
    code = group.party.code
    user = caller.user
    await live_of(request).apply(code, lambda now: st.Join(user.id, user.name, now, connected=False))
    await run_in_threadpool(groups.enter, caller.user, caller.grant, group.party.id)
    await publish(request, caller.grant, {"do": "follow"})
    return Response(status_code=204)


@router.post("/syncplay/leave", status_code=204)
async def group_leave(request: Request, caller: SyncCaller) -> Response:
    if not await leave_group(request, caller.grant, caller.user.id):
        raise PermissionDenied("this session is not in a SyncPlay group")
    return Response(status_code=204)


async def _leave(request: Request, caller: Caller) -> bool:
    return await leave_group(request, caller.grant, caller.user.id)


async def leave_group(conn: HTTPConnection, grant: str, user_id: int) -> bool:
    """Take the session ``grant`` out of its group, if it is in one (its socket says
    GroupLeft, the others see UserLeft); the user leaves the party unless another of
    its app sessions is still in it. Whether it was in a group."""
    groups = groups_of(conn)
    current = await run_in_threadpool(groups.current, grant)
    if current is None:
        return False
    _, code = current
    await publish(conn, grant, {"do": "leave"})
    _, stays = await run_in_threadpool(groups.leave, grant)
    if code is not None and not stays:
        await _depart(conn, code, {user_id})
    return True


async def sweep(conn: HTTPConnection, party_id: int | None) -> None:
    """Take the app sessions of the party's group that ended unseen (revoked while
    their socket was closed) out of it: the others get UserLeft. Run when someone
    looks at or pings the group, so a dead session does not stay in it for ever."""
    if party_id is None:
        return
    for grant, user_id in await run_in_threadpool(groups_of(conn).ended_sessions, party_id):
        await leave_group(conn, grant, user_id)


async def _depart(conn: HTTPConnection, code: str, user_ids: set[int]) -> None:
    """``user_ids`` leave the party ``code``; when nobody else is in it, it ends (as
    Jellyfin drops an empty group): it would count against its maker's
    ``party_max_open`` for ever."""
    core: Core = conn.app.state.core
    live = live_of(conn)
    with contextlib.suppress(NotFound):
        party = (await run_in_threadpool(core.parties.get, code)).party
        others = [p for p in party.participants if p.user_id not in user_ids]
        if not others and party.host_id in user_ids and party.state != "ended":
            host = party.host_id
            with contextlib.suppress(PermissionDenied, Conflict):
                await live.apply(code, lambda now: st.End(host, now))
            return
    for uid in sorted(user_ids):
        with contextlib.suppress(PermissionDenied, Conflict):  # out already (left in the browser), or ended
            await live.apply(code, functools.partial(_leave_event, uid))


@router.get("/syncplay/{group_id}")
async def group_get(group_id: str, request: Request, caller: SyncCaller) -> dict[str, Any]:
    """One group (404 if unknown, or its file is hidden from the caller)."""
    group = await run_in_threadpool(groups_of(request).find, caller.user, group_id)
    if group.party is not None:
        await sweep(request, group.party.id)
        group = await run_in_threadpool(groups_of(request).find, caller.user, group_id)
    return _dto(group, server_now(), caller.user.name)


async def in_group(request: Request, caller: Caller) -> tuple[str | None, int | None]:
    """The code and id of the caller's group's party (None, None: a group without an
    item yet); PermissionDenied outside a group."""
    current = await run_in_threadpool(groups_of(request).current, caller.grant)
    if current is None:
        raise PermissionDenied("this session is not in a SyncPlay group")
    return current[1], current[0].party_id


def _leave_event(user_id: int, now: float) -> st.Event:
    return st.Leave(user_id, now)


async def _command(request: Request, caller: Caller, event: Any) -> Response:
    """Apply a member's playback event to its group's party (403 outside a group)."""
    code, _ = await in_group(request, caller)
    if code is None:
        return Response(status_code=204)  # no item yet: nothing plays (Jellyfin's Idle state)
    await live_of(request).apply(code, event)
    return Response(status_code=204)


@router.post("/syncplay/unpause", status_code=204)
async def unpause(request: Request, caller: SyncCaller) -> Response:
    """Play; with nothing left to play (the queue was emptied of its playing item, the
    group is Idle) nothing happens: no app has an item to start."""
    uid = caller.user.id
    code, _ = await in_group(request, caller)
    if code is not None:
        core: Core = request.app.state.core
        info = await run_in_threadpool(core.parties.get, code)
        queue, _ = await run_in_threadpool(groups_of(request).queue, info)
        if queue.playing is None:
            return Response(status_code=204)
    return await _command(request, caller, lambda now: st.Play(uid, now))


@router.post("/syncplay/pause", status_code=204)
async def pause(request: Request, caller: SyncCaller) -> Response:
    uid = caller.user.id
    return await _command(request, caller, lambda now: st.Pause(uid, now))


@router.post("/syncplay/stop", status_code=204)
async def stop(request: Request, caller: SyncCaller) -> Response:
    """Jellyfin's Stop: the group goes Idle (the apps get a Stop command and unload the
    item; browsers pause at 0); the next Unpause starts the item over."""
    uid = caller.user.id
    return await _command(request, caller, lambda now: st.Stop(uid, now))


@router.post("/syncplay/seek", status_code=204)
async def seek(request: Request, caller: SyncCaller) -> Response:
    await in_group(request, caller)
    args = await _body(request)
    ticks = args.number("positionticks", None, 0, 2**62)
    if ticks is None:
        raise InvalidInput("PositionTicks is required")
    uid, position = caller.user.id, ticks / syncplay.TICKS
    return await _command(request, caller, lambda now: st.Seek(uid, now, position))


async def _buffering(request: Request, caller: Caller, flag: bool) -> Response:
    body = await raw_body(request)
    code, _ = await in_group(request, caller)
    if code is None:
        return Response(status_code=204)
    reported = body.get("playlistitemid")
    if reported is not None:
        core: Core = request.app.state.core
        info = await run_in_threadpool(core.parties.get, code)
        queue, _ = await run_in_threadpool(groups_of(request).queue, info)
        if queue.playing is not None and playlist_item_id(reported) != queue.playing:
            # another item than the group's (a late report, or a missed update): it is
            # told the playing item and goes on buffering (WaitingGroupState.cs)
            await publish(request, caller.grant, {"do": "current"})
            await member_buffers(live_of(request), code, caller.user.id, True)
            return Response(status_code=204)
    info = await member_buffers(live_of(request), code, caller.user.id, flag)
    if not flag and info is not None and info.party.state == "playing":
        await publish(request, caller.grant, {"do": "resend"})  # its start may have passed meanwhile
    return Response(status_code=204)


def playlist_item_id(value: object) -> str:
    """A PlaylistItemId as sent (a GUID, with or without dashes, any case) → ours
    (32 lower-case hex digits); InvalidInput if it is no such text."""
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidInput("PlaylistItemId must be a playlist item id")
    return value.strip().replace("-", "").lower()


@router.post("/syncplay/buffering", status_code=204)
async def buffering(request: Request, caller: SyncCaller) -> Response:
    return await _buffering(request, caller, True)


@router.post("/syncplay/ready", status_code=204)
async def ready(request: Request, caller: SyncCaller) -> Response:
    return await _buffering(request, caller, False)


@router.post("/syncplay/setignorewait", status_code=204)
async def ignore_wait(request: Request, caller: SyncCaller) -> Response:
    args = await _body(request)
    if args.flag("ignorewait", False):
        code, _ = await in_group(request, caller)
        if code is not None:
            info = await member_buffers(live_of(request), code, caller.user.id, False)
            if info.party.state == "playing":
                await publish(request, caller.grant, {"do": "resend"})
        return Response(status_code=204)
    await in_group(request, caller)
    return Response(status_code=204)


@router.post("/syncplay/ping", status_code=204)
async def ping(request: Request, caller: SyncCaller) -> Response:
    """The app's round trip (ms): the party schedules starts ``lead`` s ahead anyway.
    The apps ping every few seconds: the group's ended sessions are swept then."""
    await _body(request)
    with contextlib.suppress(PermissionDenied):
        _, party_id = await in_group(request, caller)
        await sweep(request, party_id)
    return Response(status_code=204)
