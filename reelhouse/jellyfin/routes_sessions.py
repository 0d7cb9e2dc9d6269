"""Playback reports: ``Sessions/Playing``, ``Sessions/Playing/Progress``,
``Sessions/Playing/Stopped`` (``PositionTicks`` → the progress service: one user, one
position, whichever client; ``AudioStreamIndex``/``SubtitleStreamIndex`` remembered
for the next PlaybackInfo of the file), ``Sessions/Capabilities(/Full)``, ``Sessions``,
``Videos/ActiveEncodings`` (stop a transcode)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from reelhouse.core import Core
from reelhouse.errors import InvalidInput, NotFound
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.auth import ClientInfo, stored_client
from reelhouse.jellyfin.deps import Caller, CallerDep, CoreDep, read_json
from reelhouse.jellyfin.params import Args
from reelhouse.jellyfin.streams import check_visible, file_for
from reelhouse.jellyfin.users import NEVER, now_iso

__all__ = ["router"]

router = APIRouter()

_TICKS = 10_000_000


async def _body(request: Request) -> Args:
    """Body (JSON object, any key case) and query arguments together; the body wins."""
    body: Any = await read_json(request, "an object")
    if body is not None and not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    pairs = [(k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in (body or {}).items()
             if isinstance(v, str | int | float | bool)]
    return Args([*request.query_params.multi_items(), *pairs])


def _report(core: Core, caller: Caller, args: Args, stopped: bool) -> None:
    item_id = args.text("itemid", 64)
    if not item_id:
        raise InvalidInput("ItemId is required")
    file_id = file_for(core, item_id, args.text("mediasourceid", 64))
    check_visible(core, caller.user, file_id, item_id)  # a hidden item is as unknown as a missing one
    audio = args.number("audiostreamindex", None, -1, 9999)
    core.progress.remember_tracks(caller.user.id, file_id, None if audio is None or audio < 0 else audio,
                                  args.number("subtitlestreamindex", None, -1, 9999))
    position = args.number("positionticks", None, 0, 2**62)
    if position is None:
        return  # a "playing" report without a position: nothing to record yet
    core.progress.save(caller.user.id, file_id, position / _TICKS)


@router.post("/sessions/playing", status_code=204)
async def playing(request: Request, caller: CallerDep, core: CoreDep) -> Response:
    """Playback started (records the start position when given)."""
    args = await _body(request)
    await run_in_threadpool(_report, core, caller, args, False)
    return Response(status_code=204)


@router.post("/sessions/playing/progress", status_code=204)
async def progress(request: Request, caller: CallerDep, core: CoreDep) -> Response:
    """The position every few seconds: saved with reelhouse's resume rule (< 5 %:
    start over, > 90 %: watched)."""
    args = await _body(request)
    await run_in_threadpool(_report, core, caller, args, False)
    return Response(status_code=204)


@router.post("/sessions/playing/stopped", status_code=204)
async def stopped(request: Request, caller: CallerDep, core: CoreDep) -> Response:
    args = await _body(request)
    await run_in_threadpool(_report, core, caller, args, True)
    return Response(status_code=204)


@router.post("/sessions/playing/ping", status_code=204)
@router.post("/sessions/capabilities", status_code=204)
@router.post("/sessions/capabilities/full", status_code=204)
def capabilities(caller: CallerDep) -> Response:
    """Accepted and ignored (reelhouse offers no remote control)."""
    return Response(status_code=204)


@router.delete("/videos/activeencodings", status_code=204)
def stop_encodings(caller: CallerDep) -> Response:
    """A client's "stop my transcode" when its playback ends (jellyfin-web, Kodi's
    JellyCon): accepted. reelhouse's HLS encoders are shared by everyone watching a
    file and stop by themselves once nobody asks for their segments."""
    return Response(status_code=204)


def _client_of(core: Core, caller: Caller) -> ClientInfo:
    """The app as this request names it, the blanks filled from what the session was
    made with (its login's authorization header: apps send only a token later)."""
    info = caller.client
    kind, _, num = caller.grant.partition(":")
    if kind != "s" or (info.client and info.device and info.device_id and info.version):
        return info
    try:
        row = core.auth_sessions.get(int(num))
    except NotFound:
        return info
    made = stored_client(row.device, row.client)
    return ClientInfo(client=info.client or made.client, device=info.device or made.device,
                      device_id=info.device_id or made.device_id, version=info.version or made.version)


@router.get("/sessions")
def sessions(request: Request, caller: CallerDep, core: CoreDep) -> list[dict[str, Any]]:
    """The caller's own session; ``Client``, ``DeviceName``, ``DeviceId`` and
    ``ApplicationVersion`` from this request's authorization header, else from the
    login's."""
    info = _client_of(core, caller)
    return [{"Id": ids.encode("user", caller.user.id), "UserId": caller.user_id,
             "UserName": caller.user.name, "Client": info.client or "", "DeviceName": info.device or "",
             "DeviceId": info.device_id or "", "ApplicationVersion": info.version or "",
             "ServerId": request.app.state.server_id, "IsActive": True,
             "LastActivityDate": now_iso(), "LastPlaybackCheckIn": NEVER,
             "SupportsMediaControl": False, "SupportsRemoteControl": False,
             "PlayableMediaTypes": ["Video"], "SupportedCommands": [], "AdditionalUsers": [],
             "NowPlayingQueue": [], "HasCustomDeviceName": False}]
