"""Item side routes the apps call around browsing and playing: the user's data of one
item (``UserItems/{id}/UserData``, read and updated: Kodi's add-on syncs with it),
an item's ``Ancestors`` (how Kodi's add-on finds an item's library), the list of an
item's images (``Items/{id}/Images``), and the parts
reelhouse has none of but the apps ask for on every detail page or playback —
``ThemeMedia``, ``MediaSegments`` (jellyfin-web 10.10's "skip intro"),
``Videos/{id}/AdditionalParts``, ``Movies/Recommendations`` (jellyfin-web's
"Suggestions" tab), ``Items/Suggestions``, ``Items/{id}/ThemeSongs`` and
``ThemeVideos`` (the Android TV app's theme music), ``Items/{id}/CriticReviews``,
``Shows/Upcoming`` and ``Trailers`` (jellyfin-web's tabs), ``Channels``,
``LiveTv/Info`` (switched off), ``web/ConfigurationPages`` (no plugins) — answered
empty in Jellyfin's shapes instead of 404; and ``UserViews/GroupingOptions`` (the
libraries, for jellyfin-web's home settings page).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from reelhouse.core import Core
from reelhouse.db.models import Episode, Season
from reelhouse.errors import InvalidInput
from reelhouse.jellyfin import browse, ids
from reelhouse.jellyfin.deps import Caller, CallerDep, CoreDep, check_user_path, read_json
from reelhouse.jellyfin.loader import VIEWS, Ctx, Loader
from reelhouse.jellyfin.params import body_args

__all__ = ["router"]

router = APIRouter()

_TICKS = 10_000_000


def _ctx(request: Request, caller: Caller, core: Core) -> Ctx:
    allowed = core.access.allowed(caller.user)
    return Ctx(caller.user.id, request.app.state.server_id, set(), caller.token,
               granted=None if allowed is None else frozenset(allowed),
               image_key=request.app.state.image_key)


def _user_data(core: Core, ctx: Ctx, item_id: str) -> dict[str, Any]:
    ref = ids.decode(item_id, "view", "movie", "show", "season", "episode")
    with core.sessions() as s:
        data: dict[str, Any] = browse.item(s, ctx, ref)["UserData"]
        return data


def _update(core: Core, ctx: Ctx, item_id: str, body: Any) -> dict[str, Any]:
    """Apply an ``UpdateUserItemDataDto``: ``Played``, ``IsFavorite``,
    ``PlaybackPositionTicks`` (of a film or an episode: its first file)."""
    ref = ids.decode(item_id, "movie", "show", "season", "episode")
    args = body_args(body)
    position = args.number("playbackpositionticks", None, 0, 2**62)
    if position is not None:
        if ref.kind not in ("movie", "episode"):
            raise InvalidInput("PlaybackPositionTicks is for a film or an episode")
        with core.sessions() as s:
            browse.item(s, ctx, ref)  # NotFound first (grants too)
            files = browse.files_of(s, ref, ctx.granted)
        if files:
            core.progress.save(ctx.user_id, files[0], position / _TICKS)
    played = args.flag("played")
    if played is not None:
        browse.mark_played(core, ctx, ref, played)
    favorite = args.flag("isfavorite")
    if favorite is not None:
        browse.mark_favorite(core, ctx, ref, favorite)
    return _user_data(core, ctx, item_id)


@router.get("/useritems/{item_id}/userdata")
@router.get("/users/{user_id}/items/{item_id}/userdata")
def user_data(item_id: str, request: Request, caller: CallerDep, core: CoreDep) -> dict[str, Any]:
    """The caller's ``UserItemDataDto`` of an item."""
    _path_user(request, caller)
    return _user_data(core, _ctx(request, caller, core), item_id)


@router.post("/useritems/{item_id}/userdata")
@router.post("/users/{user_id}/items/{item_id}/userdata")
async def update_user_data(item_id: str, request: Request, caller: CallerDep, core: CoreDep) -> dict[str, Any]:
    """Update played / favourite / resume position; the resulting ``UserItemDataDto``."""
    _path_user(request, caller)
    body = await read_json(request, "UpdateUserItemDataDto", empty={})
    request.app.state.counts.clear()
    return await run_in_threadpool(_update, core, _ctx(request, caller, core), item_id, body)


def _path_user(request: Request, caller: Caller) -> None:
    """The user named by the path (``/Users/{userId}/…``) or by ``userId`` in the query
    (``UserItems/{id}/UserData?userId=``, Jellyfin 10.9+) must be the caller, unless an
    admin (:func:`check_user_path`): another user's id was answered with the caller's
    own data (found by an outside-in hunt); Jellyfin answers 403."""
    user_id = request.path_params.get("user_id")
    if user_id is not None:
        check_user_path(caller, str(user_id))
    for key, value in request.query_params.multi_items():
        if key.lower() == "userid" and value:
            check_user_path(caller, value)


def _ancestors(core: Core, ctx: Ctx, item_id: str) -> list[dict[str, Any]]:
    """Parents, nearest first, up to the library (view): a season's series; an
    episode's season and series."""
    ref = ids.decode(item_id, "view", "movie", "show", "season", "episode")
    with core.sessions() as s:
        browse.item(s, ctx, ref)
        chain: list[ids.Ref] = []
        if ref.kind == "episode":
            row = s.execute(select(Season.id, Season.show_id).join(Episode, Episode.season_id == Season.id)
                            .where(Episode.id == ref.id)).one()
            chain = [ids.Ref("season", row[0]), ids.Ref("show", row[1])]
        elif ref.kind == "season":
            chain = [ids.Ref("show", s.scalars(select(Season.show_id).where(Season.id == ref.id)).one())]
        if ref.kind != "view":
            chain.append(ids.Ref("view", 1 if ref.kind == "movie" else 2))
        return Loader(s, ctx).load(chain)


def _images(core: Core, ctx: Ctx, item_id: str) -> list[dict[str, Any]]:
    ref = ids.decode(item_id, "view", "movie", "show", "season", "episode")
    with core.sessions() as s:
        dto = browse.item(s, ctx, ref)  # NotFound first (grants too)
    out = [{"ImageType": kind, "ImageTag": tag} for kind, tag in (dto.get("ImageTags") or {}).items()]
    out += [{"ImageType": "Backdrop", "ImageIndex": n, "ImageTag": tag}
            for n, tag in enumerate(dto.get("BackdropImageTags") or [])]
    return out


@router.get("/items/{item_id}/images")
def images(item_id: str, request: Request, caller: CallerDep, core: CoreDep) -> list[dict[str, Any]]:
    """``ImageInfo`` rows of the item's own pictures, as its ``ImageTags`` and
    ``BackdropImageTags`` name them (jellyfin-apiclient-python's ``get_images``; was a
    404): type, index of a backdrop, tag. 404 for an item the caller may not see."""
    return _images(core, _ctx(request, caller, core), item_id)


@router.get("/items/{item_id}/ancestors")
def ancestors(item_id: str, request: Request, caller: CallerDep, core: CoreDep) -> list[dict[str, Any]]:
    return _ancestors(core, _ctx(request, caller, core), item_id)


def _empty(owner: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"Items": [], "TotalRecordCount": 0, "StartIndex": 0}
    if owner is not None:
        out["OwnerId"] = owner
    return out


@router.get("/items/{item_id}/thememedia")
def theme_media(item_id: str, caller: CallerDep) -> dict[str, Any]:
    """``AllThemeMediaResult``: no theme songs or videos."""
    ref = ids.decode(item_id)
    owner = ids.encode(ref.kind, ref.id)
    return {"ThemeVideosResult": _empty(owner), "ThemeSongsResult": _empty(owner),
            "SoundtrackSongsResult": _empty(owner)}


@router.get("/mediasegments/{item_id}")
@router.get("/videos/{item_id}/additionalparts")
@router.get("/items/{item_id}/criticreviews")
def none_of_them(item_id: str, caller: CallerDep) -> dict[str, Any]:
    """Media segments (intro, outro …), additional parts, critic reviews: none."""
    ids.decode(item_id)
    return _empty()


@router.get("/items/suggestions")
@router.get("/users/{user_id}/suggestions")
def suggestions(caller: CallerDep, user_id: str | None = None) -> dict[str, Any]:
    """Suggested items (Jellyfin picks them from what is unwatched): none."""
    if user_id is not None:
        check_user_path(caller, user_id)
    return _empty()


@router.get("/movies/recommendations")
def recommendations(caller: CallerDep) -> list[dict[str, Any]]:
    """``RecommendationDto`` rows ("because you watched …"): none — reelhouse keeps no
    similarity between titles (``Items/{id}/Similar`` is empty too)."""
    return []


@router.get("/items/{item_id}/themesongs")
@router.get("/items/{item_id}/themevideos")
def theme_list(item_id: str, caller: CallerDep) -> dict[str, Any]:
    """``ThemeMediaResult``: no theme songs or videos."""
    ref = ids.decode(item_id)
    return _empty(ids.encode(ref.kind, ref.id))


@router.get("/shows/upcoming")
@router.get("/trailers")
@router.get("/channels")
def no_items(caller: CallerDep) -> dict[str, Any]:
    """Upcoming episodes (every episode reelhouse lists has a file), trailers, channels:
    an empty ``BaseItemDtoQueryResult``."""
    return _empty()


@router.get("/livetv/info")
def live_tv_info(caller: CallerDep) -> dict[str, Any]:
    """``LiveTvInfo``: no tuner, switched off (the apps hide Live TV)."""
    return {"Services": [], "IsEnabled": False, "EnabledUsers": []}


@router.get("/web/configurationpages")
def configuration_pages(caller: CallerDep) -> list[Any]:
    """Plugin pages for the web client's menu: reelhouse has no plugins."""
    return []


@router.get("/userviews/groupingoptions")
@router.get("/users/{user_id}/groupingoptions")
def grouping_options(caller: CallerDep, user_id: str | None = None) -> list[dict[str, str]]:
    """``SpecialViewOptionDto`` of each library (jellyfin-web's home settings list them)."""
    if user_id is not None:
        check_user_path(caller, user_id)
    return [{"Name": name, "Id": ids.encode("view", view_id)} for view_id, (name, _kind) in VIEWS.items()]
