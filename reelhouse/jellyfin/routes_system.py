"""System, branding, users and login: ``System/Info/Public`` (no auth),
``System/Info``, ``System/Configuration`` (read only), ``System/Ping``, ``System/Endpoint``, ``Playback/BitrateTest``,
``Branding/Configuration``,
``Users/AuthenticateByName``, ``Users/Public`` (empty: no user list before login),
``Users/Me``, ``Users/{id}``, ``Sessions/Logout``, ``DisplayPreferences/{id}`` (read and
saved per user and client: :mod:`.prefs`)."""

from __future__ import annotations

import ipaddress
import platform
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from reelhouse import __version__
from reelhouse.api.deps import client_address
from reelhouse.core import Core
from reelhouse.db.models import User
from reelhouse.errors import InvalidInput, NotFound
from reelhouse.jellyfin import ids, prefs
from reelhouse.jellyfin.auth import JellyfinAuth, token_of
from reelhouse.jellyfin.deps import ArgsDep, Caller, CallerDep, CoreDep, check_user_path, read_json
from reelhouse.jellyfin.params import Args, body_args
from reelhouse.jellyfin.routes_syncplay import leave_group
from reelhouse.jellyfin.users import NEVER, now_iso, syncplay_access, user_dto
from reelhouse.library.progress import MAX_RESUME, MIN_RESUME

__all__ = ["JELLYFIN_VERSION", "router"]

router = APIRouter()

#: The Jellyfin server version we answer as: ≥ 10.10, so current clients use the
#: newer routes (``UserViews``, ``UserItems/Resume``); the older ``Users/{id}/…`` forms
#: are served as well.
JELLYFIN_VERSION = "10.10.7"


def _server_name() -> str:
    return f"reelhouse on {platform.node() or 'localhost'}"[:64]


def _public_info(request: Request) -> dict[str, Any]:
    return {
        "LocalAddress": str(request.base_url).rstrip("/"),
        "ServerName": _server_name(),
        "Version": JELLYFIN_VERSION,
        "ProductName": "Jellyfin Server",
        "OperatingSystem": platform.system() or "Linux",
        "Id": request.app.state.server_id,
        "StartupWizardCompleted": True,
    }


@router.get("/system/info/public")
def info_public(request: Request) -> dict[str, Any]:
    """Who this server is; clients call it first (no token needed). ``ProductName`` is
    exactly "Jellyfin Server" (clients check it)."""
    return _public_info(request)


@router.get("/system/info")
def info(request: Request, caller: CallerDep) -> dict[str, Any]:
    out = _public_info(request)
    out.update({
        "OperatingSystemDisplayName": platform.platform(terse=True),
        "PackageName": f"reelhouse {__version__}",
        "HasPendingRestart": False,
        "IsShuttingDown": False,
        "SupportsLibraryMonitor": False,
        "WebSocketPortNumber": request.url.port or 80,
        "CompletedInstallations": [],
        "CanSelfRestart": False,
        "CanLaunchWebBrowser": False,
        "HasUpdateAvailable": False,
        "EncoderLocation": "System",
        "SystemArchitecture": "X64" if platform.machine() in ("x86_64", "AMD64") else "Arm64",
    })
    return out


@router.get("/system/configuration")
def configuration(caller: CallerDep) -> dict[str, Any]:
    """A read-only ``ServerConfiguration`` of what is true of reelhouse — no paths,
    ports or secrets. jellyfin-apiclient-python's ``get_system_info`` reads this route
    (not ``System/Info``), and apps built on it check their connection with it (it was a
    404). The resume percentages are reelhouse's rule (library/progress.py)."""
    return {
        "ServerName": _server_name(),
        "IsStartupWizardCompleted": True,
        "UICulture": "en-US",
        "PreferredMetadataLanguage": "en",
        "MetadataCountryCode": "US",
        "MinResumePct": round(MIN_RESUME * 100),
        "MaxResumePct": round(MAX_RESUME * 100),
        "EnableFolderView": False,
        "EnableGroupingIntoCollections": False,
        "QuickConnectAvailable": False,
        "EnableMetrics": False,
        "EnableCaseSensitiveItemIds": True,
        "ContentTypes": [],
        "CodecsUsed": [],
        "PluginRepositories": [],
    }


@router.get("/system/endpoint")
def endpoint(request: Request, caller: CallerDep) -> dict[str, bool]:
    """``EndPointInfo``: whether the caller is this machine or on a private network
    (jellyfin-web then plays at full bitrate rather than measuring the link)."""
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return {"IsLocal": False, "IsInNetwork": False}
    return {"IsLocal": address.is_loopback, "IsInNetwork": address.is_private or address.is_loopback}


@router.get("/playback/bitratetest")
def bitrate_test(caller: CallerDep, args: ArgsDep) -> Response:
    """``size`` bytes (1 … 100,000,000; 102,400 by default) for the apps to time the
    link, as Jellyfin's MediaInfoController does."""
    size = args.number("size", 102_400, 1, 100_000_000) or 102_400
    return Response(bytes(size), media_type="application/octet-stream")


@router.api_route("/system/ping", methods=["GET", "POST"])
def ping() -> Response:
    return Response('"Jellyfin Server"', media_type="application/json")


@router.get("/branding/configuration")
def branding() -> dict[str, Any]:
    return {"LoginDisclaimer": "", "CustomCss": "", "SplashscreenEnabled": False}


@router.get("/branding/css")
@router.get("/branding/css.css")
def branding_css() -> Response:
    return Response("", media_type="text/css")


@router.get("/users/public")
def users_public() -> list[dict[str, Any]]:
    """No user list before login (names are not advertised)."""
    return []


@router.post("/users/authenticatebyname")
async def authenticate(request: Request, core: CoreDep) -> dict[str, Any]:
    """Log in with ``Username`` and ``Pw`` (or ``Password``); any key case. Returns the
    user, a session and the ``AccessToken``; 401 for a wrong name or password."""
    body = await read_json(request, "with Username and Pw", empty={})
    args = body_args(body)
    name = args.text("username", 64)
    password = args.text("pw", 1024) or args.text("password", 1024) or ""
    if not name:
        raise InvalidInput("Username is required")
    auth: JellyfinAuth = request.app.state.jellyfin_auth
    _, client = token_of({k.lower(): v for k, v in request.headers.items()}, {})
    user, token = await run_in_threadpool(auth.login, name, password, client, client_address(request))
    server_id = request.app.state.server_id
    dto = user_dto(user, server_id, syncplay_access(core.settings.jellyfin_syncplay, user))
    session = {
        "Id": ids.encode("user", user.id),
        "UserId": dto["Id"],
        "UserName": user.name,
        "Client": client.client or "",
        "DeviceName": client.device or "",
        "DeviceId": client.device_id or "",
        "ApplicationVersion": client.version or "",
        "ServerId": server_id,
        "IsActive": True,
        "LastActivityDate": now_iso(),
        "LastPlaybackCheckIn": NEVER,
        "SupportsMediaControl": False,
        "SupportsRemoteControl": False,
        "PlayableMediaTypes": [],
        "SupportedCommands": [],
        "AdditionalUsers": [],
        "NowPlayingQueue": [],
        "HasCustomDeviceName": False,
    }
    return {"User": dto, "SessionInfo": session, "AccessToken": token, "ServerId": server_id}


def _syncplay(request: Request, user: User) -> str:
    core: Core = request.app.state.core
    return syncplay_access(core.settings.jellyfin_syncplay, user)


@router.get("/users/me")
def users_me(request: Request, caller: CallerDep) -> dict[str, Any]:
    return user_dto(caller.user, request.app.state.server_id, _syncplay(request, caller.user))


@router.get("/users")
def users_list(request: Request, caller: CallerDep) -> list[dict[str, Any]]:
    """The caller only (reelhouse has no user browsing through this API)."""
    return [user_dto(caller.user, request.app.state.server_id, _syncplay(request, caller.user))]


@router.get("/users/{user_id}")
def users_one(user_id: str, request: Request, caller: CallerDep, core: CoreDep) -> dict[str, Any]:
    check_user_path(caller, user_id)
    user = core.users.get(ids.decode(user_id, "user").id)
    if user is None:
        raise NotFound("no such user")
    return user_dto(user, request.app.state.server_id, syncplay_access(core.settings.jellyfin_syncplay, user))


@router.post("/sessions/logout", status_code=204)
async def logout(request: Request, caller: CallerDep) -> Response:
    """The session ends; it leaves its SyncPlay group first (Jellyfin's SyncPlayManager
    does on SessionEnded: the others get UserLeft)."""
    await leave_group(request, caller.grant, caller.user.id)
    auth: JellyfinAuth = request.app.state.jellyfin_auth
    await run_in_threadpool(auth.logout, caller.token)
    return Response(status_code=204)


def _prefs_key(caller: Caller, args: Args, pref_id: str) -> tuple[str, str]:
    """(client, preferences id): ``client`` defaults to ``emby`` (jellyfin-web's name);
    ``userId``, when given, must be the caller's (admins: their own view either way)."""
    if args.has("userid"):
        check_user_path(caller, args.text("userid", 64) or "")
    if not pref_id.strip() or len(pref_id) > 64:
        raise InvalidInput("the display preferences id must be 1 to 64 characters")
    return args.text("client", 64) or "emby", pref_id


@router.get("/displaypreferences/{pref_id}")
def display_preferences(pref_id: str, caller: CallerDep, core: CoreDep, args: ArgsDep) -> dict[str, Any]:
    """The ``DisplayPreferencesDto`` this user's ``client`` saved under ``pref_id``
    (Jellyfin's defaults for what it never saved)."""
    client, key = _prefs_key(caller, args, pref_id)
    return prefs.load(core, caller.user.id, client, key)


@router.post("/displaypreferences/{pref_id}", status_code=204)
async def display_preferences_save(pref_id: str, request: Request, caller: CallerDep, core: CoreDep,
                                   args: ArgsDep) -> Response:
    """Save a ``DisplayPreferencesDto`` (sort order, view type, custom prefs) for this
    user, ``client`` and ``pref_id``."""
    client, key = _prefs_key(caller, args, pref_id)
    body = await read_json(request, "DisplayPreferencesDto", empty={})
    await run_in_threadpool(prefs.save, core, caller.user.id, client, key, body)
    return Response(status_code=204)
