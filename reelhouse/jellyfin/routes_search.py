"""Search and filter menus: ``Search/Hints`` (the search box of the TV apps) and
``Items/Filters`` / ``Items/Filters2`` (what a library's filter menu offers).

Search hints are the Items query (:mod:`.query`) with ``SearchTerm``, over films,
series and episodes unless ``IncludeItemTypes`` says otherwise, each title written as
Jellyfin's ``SearchHint``. reelhouse has no people, studios, genres or artists as items,
so ``IncludePeople`` and the like add nothing. The filter menus offer the genres (by
name, as ``Genres=`` filters by) and years of the titles the user may see;
``Filters2`` offers the genres with their ids (``GenreIds=``, :mod:`.genres`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import ColumnElement, select
from starlette.concurrency import run_in_threadpool

from reelhouse.core import Core
from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show
from reelhouse.errors import InvalidInput
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.deps import ArgsDep, Caller, CallerDep, CoreDep
from reelhouse.jellyfin.loader import Ctx, Loader
from reelhouse.jellyfin.params import Args
from reelhouse.jellyfin.query import Counts, page, parse_query
from reelhouse.jellyfin.routes_genres import genres_for

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
    q = parse_query(args, caller.user.id)
    q.recursive, q.root = True, False
    if not args.values("includeitemtypes"):
        q.kinds = {"movie", "show", "episode"} - _excluded(args)
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


def _excluded(args: Args) -> set[str]:
    names = {"movie": "movie", "series": "show", "episode": "episode", "season": "season"}
    return {names[t] for t in args.lower_set("excludeitemtypes") if t in names}


@router.get("/search/hints")
async def search_hints(request: Request, caller: CallerDep, core: CoreDep, args: ArgsDep) -> dict[str, Any]:
    """Titles whose name (or series' name) holds ``searchTerm``: ``SearchHintResult``."""
    return await run_in_threadpool(_hints, core, request, caller, args)


def _genres_and_years(core: Core, caller: Caller, args: Args) -> tuple[list[str], list[int]]:
    """Genres and years of the films and series with a present file the user may see;
    of one library's only with ``ParentId`` (a view; a series: that series)."""
    parent = ids.decode(args.text("parentid", 64) or "", "view", "show") if args.has("parentid") else None
    allowed = core.access.allowed(caller.user)
    genres: set[str] = set()
    years: set[int] = set()
    tables: list[tuple[type[Movie] | type[Show], ColumnElement[bool]]] = [
        (Movie, MediaFile.movie_id == Movie.id),
        (Show, (MediaFile.episode_id == Episode.id) & (Episode.season_id == Season.id)
         & (Season.show_id == Show.id))]
    if parent is not None:
        tables = tables[:1] if parent.kind == "view" and parent.id == 1 else tables[1:]
    with core.sessions() as s:
        for table, link in tables:
            present = select(MediaFile.id).where(link, MediaFile.missing_since.is_(None))
            if parent is not None and parent.kind == "show":
                present = present.where(Show.id == parent.id)
            if allowed is not None:
                present = present.where(MediaFile.source_id.in_(sorted(allowed)))
            for row_genres, year in s.execute(select(table.genres, table.year).where(present.exists())):
                genres.update(g for g in (row_genres or []) if isinstance(g, str) and g)
                if year:
                    years.add(int(year))
    return sorted(genres, key=str.lower), sorted(years)


@router.get("/items/filters")
async def filters_legacy(caller: CallerDep, core: CoreDep, args: ArgsDep) -> dict[str, Any]:
    """``QueryFiltersLegacy``: genre names and years to filter a library by."""
    _, years = await run_in_threadpool(_genres_and_years, core, caller, args)
    genres = [g.name for g in await run_in_threadpool(genres_for, core, caller, args)]
    return {"Genres": genres, "Tags": [], "OfficialRatings": [], "Years": years}


@router.get("/items/filters2")
async def filters(caller: CallerDep, core: CoreDep, args: ArgsDep) -> dict[str, Any]:
    """``QueryFilters``: the genres of ``Genres`` (same arguments) as name and id; tags (none)."""
    found = await run_in_threadpool(genres_for, core, caller, args)
    return {"Genres": [{"Name": g.name, "Id": g.id} for g in found], "Tags": []}
