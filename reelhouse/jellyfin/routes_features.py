"""Jellyfin features reelhouse does not offer, answered the way a Jellyfin server
with them off answers, so the official apps hide them instead of failing:

- **Quick Connect** (log in on a TV by a code): ``QuickConnect/Enabled`` is false;
  ``Initiate``, ``Connect`` and ``Users/AuthenticateWithQuickConnect`` are 401 "Quick
  connect is disabled" (Jellyfin 10.10's QuickConnectController); ``Authorize``, which
  a signed-in user calls, is 403 instead: apps read a 401 as "your token is bad" and
  would sign the user out.
- **Playlists**: none are kept (the Items query has no ``Playlist`` items);
  ``Playlists/{id}…`` is 404 for any id and creating one is 403.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from reelhouse.errors import AuthenticationFailed, InvalidInput, NotFound, PermissionDenied
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.deps import ArgsDep, CallerDep, read_json
from reelhouse.jellyfin.params import body_args

__all__ = ["router"]

router = APIRouter()

_QC_OFF = "Quick connect is disabled"


# -- Quick Connect ---------------------------------------------------------------------------
@router.get("/quickconnect/enabled")
def quick_connect() -> bool:
    """Quick Connect is not offered."""
    return False


@router.api_route("/quickconnect/initiate", methods=["GET", "POST"])
def quick_connect_initiate() -> None:
    raise AuthenticationFailed(_QC_OFF)


@router.get("/quickconnect/connect")
def quick_connect_state(args: ArgsDep) -> None:
    if not args.has("secret"):
        raise InvalidInput("secret is required")
    raise AuthenticationFailed(_QC_OFF)


@router.post("/quickconnect/authorize")
def quick_connect_authorize(caller: CallerDep, args: ArgsDep) -> None:
    if not args.has("code"):
        raise InvalidInput("code is required")
    raise PermissionDenied(_QC_OFF)


@router.post("/users/authenticatewithquickconnect")
async def quick_connect_login(request: Request) -> None:
    body = body_args(await read_json(request, "QuickConnectDto", empty={}))
    if not body.has("secret"):
        raise InvalidInput("Secret is required")
    raise AuthenticationFailed(_QC_OFF)


# -- Playlists -------------------------------------------------------------------------------
@router.post("/playlists")
def playlist_create(caller: CallerDep) -> None:
    raise PermissionDenied("reelhouse keeps no playlists")


@router.api_route("/playlists/{playlist_id}", methods=["GET", "POST"])
@router.api_route("/playlists/{playlist_id}/items", methods=["GET", "POST", "DELETE"])
@router.get("/playlists/{playlist_id}/users")
@router.api_route("/playlists/{playlist_id}/users/{user_id}", methods=["GET", "POST", "DELETE"])
@router.post("/playlists/{playlist_id}/items/{item_id}/move/{new_index}")
@router.get("/playlists/{playlist_id}/instantmix")
def playlist(playlist_id: str, caller: CallerDep) -> None:
    """Any playlist: 404 (a malformed id: 400)."""
    ids.decode(playlist_id)  # ours or not, no playlist has it
    raise NotFound("no such playlist")
