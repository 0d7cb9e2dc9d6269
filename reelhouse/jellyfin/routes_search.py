"""Search and filter menus: ``Search/Hints`` (the search box of the TV apps) and
``Items/Filters`` / ``Items/Filters2`` (what a library's filter menu offers).

Search hints are the Items query (:mod:`.query`) with ``SearchTerm``, over films,
series and episodes unless ``IncludeItemTypes`` says otherwise, each title written as
Jellyfin's ``SearchHint``. reelhouse has no people, studios, genres or artists as items,
so ``IncludePeople`` and the like add nothing. The filter menus offer the genres (by
name, as ``Genres=`` filters by) and years of the titles the user may see;
``Filters2`` offers the genres with their ids (``GenreIds=``, :mod:`.genres`).
``Items/Counts`` (Jellyfin's ``ItemCounts``) counts the films, series and episodes the
Items lists show the user (:mod:`.visible`); reelhouse has none of the other kinds.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from reelhouse.core import Core
from reelhouse.errors import InvalidInput
from reelhouse.jellyfin.deps import ArgsDep, Caller, CallerDep, CoreDep, check_user_path
from reelhouse.jellyfin.genres import visible_years
from reelhouse.jellyfin.loader import Ctx, Loader
from reelhouse.jellyfin.paging import Counts, page
from reelhouse.jellyfin.params import Args
from reelhouse.jellyfin.query import ItemQuery, parse_query
from reelhouse.jellyfin.routes_genres import genres_for, scope

__all__ = ["hint", "router"]

router = APIRouter()

_HINT_LIMIT = 100


def hint(dto: dict[str, Any], term: str) -> dict[str, Any]:
    """A ``SearchHint`` from a ``BaseItemDto`` (:mod:`.loader`)."""
    tags = dto.get("ImageTags") or {}
    backdrops = dto.get("BackdropImageTags") or []
    out: dict[str, Any] = {
        "ItemId": dto["Id"], "Id": dto["Id"], "Name": dto["Name"], "MatchedTerm": term,
        "Type": dto["Type"], "IsFolder": dto.get("IsFolder", False),
        "MediaType": dto.get("MediaType", "Unknown"), "RunTimeTicks": dto.get("RunTimeTicks"),
        "ProductionYear": dto.get("ProductionYear"), "IndexNumber": dto.get("IndexNumber"),
        "ParentIndexNumber": dto.get("ParentIndexNumber"), "Series": dto.get("SeriesName"),
        "Status": dto.get("Status"), "PrimaryImageTag": tags.get("Primary"),
        "PrimaryImageAspectRatio": dto.get("PrimaryImageAspectRatio"), "Artists": [],
    }
    if "Thumb" in tags:
        out.update({"ThumbImageTag": tags["Thumb"], "ThumbImageItemId": dto["Id"]})
    if backdrops:
        out.update({"BackdropImageTag": backdrops[0], "BackdropImageItemId": dto["Id"]})
    if dto["Type"] == "Series":
        out["EpisodeCount"] = dto.get("RecursiveItemCount")
    return {k: v for k, v in out.items() if v is not None}


def _ctx(request: Request, caller: Caller, core: Core) -> Ctx:
    allowed = core.access.allowed(caller.user)
    return Ctx(caller.user.id, request.app.state.server_id, set(), caller.token,
               granted=None if allowed is None else frozenset(allowed),
               image_key=request.app.state.image_key)


def _hints(core: Core, request: Request, caller: Caller, args: Args) -> dict[str, Any]:
    term = args.text("searchterm", 200)
    if not term or not term.strip():
        raise InvalidInput("searchTerm is required")
    q = parse_query(args, caller.user.id, default_kinds={"movie", "show", "episode"})
    q.recursive, q.root = True, False
    if args.flag("includemedia", True) is False:
        q.kinds = set()
    q.limit = min(q.limit if q.limit is not None else _HINT_LIMIT, _HINT_LIMIT)
    ctx = _ctx(request, caller, core)
    q.sources = ctx.granted
    counts: Counts = request.app.state.counts
    with core.sessions() as s:
        items = Loader(s, ctx).load(page(s, q))
        total = counts.get(s, q)
    return {"SearchHints": [hint(d, term) for d in items], "TotalRecordCount": total}


@router.get("/search/hints")
async def search_hints(request: Request, caller: CallerDep, core: CoreDep, args: ArgsDep) -> dict[str, Any]:
    """Titles whose name (or series' name) holds ``searchTerm``: ``SearchHintResult``."""
    return await run_in_threadpool(_hints, core, request, caller, args)


def _years(core: Core, caller: Caller, args: Args) -> list[int]:
    """Years of the films and series with a present file the user may see; of one
    library's only with ``ParentId`` (a view; a series or season: that series)."""
    kinds, show_id = scope(core, caller, args)
    allowed = core.access.allowed(caller.user)
    with core.sessions() as s:
        return visible_years(s, None if allowed is None else frozenset(allowed), kinds, show_id)


@router.get("/items/filters")
async def filters_legacy(caller: CallerDep, core: CoreDep, args: ArgsDep) -> dict[str, Any]:
    """``QueryFiltersLegacy``: genre names and years to filter a library by."""
    years = await run_in_threadpool(_years, core, caller, args)
    genres = [g.name for g in await run_in_threadpool(genres_for, core, caller, args)]
    return {"Genres": genres, "Tags": [], "OfficialRatings": [], "Years": years}


@router.get("/items/filters2")
async def filters(caller: CallerDep, core: CoreDep, args: ArgsDep) -> dict[str, Any]:
    """``QueryFilters``: the genres of ``Genres`` (same arguments) as name and id; tags (none)."""
    found = await run_in_threadpool(genres_for, core, caller, args)
    return {"Genres": [{"Name": g.name, "Id": g.id} for g in found], "Tags": []}


#: ``ItemCounts`` fields of kinds reelhouse does not have (music, books, live TV …).
_NO_SUCH_KINDS = ("ArtistCount", "ProgramCount", "TrailerCount", "SongCount", "AlbumCount", "MusicVideoCount",
                  "BoxSetCount", "BookCount")


def _item_counts(core: Core, request: Request, caller: Caller, args: Args) -> dict[str, int]:
    if args.has("userid"):
        check_user_path(caller, args.text("userid", 64) or "")
    ctx = _ctx(request, caller, core)
    counts: Counts = request.app.state.counts
    found: dict[str, int] = {}
    with core.sessions() as s:
        for kind, name in (("movie", "MovieCount"), ("show", "SeriesCount"), ("episode", "EpisodeCount")):
            q = ItemQuery(user_id=caller.user.id, kinds={kind}, recursive=True, sources=ctx.granted)
            if args.flag("isfavorite") is True:
                q.favorite = True
            found[name] = counts.get(s, q)
    return {**found, **dict.fromkeys(_NO_SUCH_KINDS, 0), "ItemCount": sum(found.values())}


@router.get("/items/counts")
async def item_counts(request: Request, caller: CallerDep, core: CoreDep, args: ArgsDep) -> dict[str, int]:
    """``ItemCounts``: how many films, series and episodes the user's Items lists hold
    (``IsFavorite=true``: of their favourites only); ``ItemCount`` is their sum."""
    return await run_in_threadpool(_item_counts, core, request, caller, args)
