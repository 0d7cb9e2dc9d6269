"""Genres, people and studios: ``Genres``, ``Genres/{name}``, ``Persons``,
``Persons/{name}``, ``Studios``, ``Studios/{name}``.

Genres are those of the titles the user may see (:mod:`.genres`), filtered by
``ParentId`` (a library, a series or a season: its series), ``IncludeItemTypes``
(``Movie``; ``Series`` or ``Episode``: a series' genres), ``SearchTerm`` (a part of
the name, any case), ``NameStartsWith``, ``NameStartsWithOrGreater``, ``NameLessThan``, ``UserId`` (the caller's own;
an admin may name anyone), paged by ``StartIndex``/``Limit``, ``SortOrder``;
``Fields=ItemCounts`` adds the counts. reelhouse stores no cast, crew or studios, so
``Persons`` and ``Studios`` answer empty results and their ``{name}`` 404, as Jellyfin
does for a name it does not know.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from reelhouse.core import Core
from reelhouse.errors import NotFound
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.deps import ArgsDep, Caller, CallerDep, CoreDep, check_user_path
from reelhouse.jellyfin.genres import Genre, genre_dto, visible_genres
from reelhouse.jellyfin.params import Args
from reelhouse.jellyfin.query import MAX_LIMIT

__all__ = ["genres_for", "router", "scope"]

router = APIRouter()

_TYPES = {"movie": "movie", "series": "show", "episode": "show"}


def _granted(core: Core, caller: Caller) -> frozenset[int] | None:
    allowed = core.access.allowed(caller.user)
    return None if allowed is None else frozenset(allowed)


def scope(core: Core, caller: Caller, args: Args) -> tuple[set[str], int | None]:
    """Which titles' genres (and years) the arguments ask for: kinds (``movie``,
    ``show``) and one series' id or None (see the module doc)."""
    if args.has("userid"):
        check_user_path(caller, args.text("userid", 64) or "")
    kinds = {"movie", "show"}
    show_id = None
    if args.has("parentid"):
        parent = ids.decode(args.text("parentid", 64) or "", "view", "show", "season")
        if parent.kind == "view":
            kinds = {"movie"} if parent.id == 1 else {"show"}
        elif parent.kind == "show":
            kinds, show_id = {"show"}, parent.id
        else:
            kinds, show_id = {"show"}, _show_of_season(core, parent.id)
    if args.values("includeitemtypes"):
        kinds &= {_TYPES[t] for t in args.lower_set("includeitemtypes") if t in _TYPES}
    kinds -= {_TYPES[t] for t in args.lower_set("excludeitemtypes") if t == "movie" or t == "series"}
    return kinds, show_id


def genres_for(core: Core, caller: Caller, args: Args) -> list[Genre]:
    """The genres the arguments select (see the module doc), before paging."""
    kinds, show_id = scope(core, caller, args)
    if not kinds:
        return []
    with core.sessions() as s:
        found = visible_genres(s, _granted(core, caller), kinds, show_id)
    term = (args.text("searchterm", 200) or "").strip().lower()
    prefix = (args.text("namestartswith", 200) or "").lower()
    before = (args.text("namelessthan", 200) or "").lower()
    from_name = (args.text("namestartswithorgreater", 200) or "").lower()
    return [g for g in found if term in g.name.lower() and g.name.lower().startswith(prefix)
            and (not before or g.name.lower() < before) and g.name.lower() >= from_name]


def _show_of_season(core: Core, season_id: int) -> int:
    from reelhouse.db.models import Season

    with core.sessions() as s:
        season = s.get(Season, season_id)
        if season is None:
            raise NotFound(f"no item with id {ids.encode('season', season_id)}")
        return season.show_id


def _genres(core: Core, request: Request, caller: Caller, args: Args) -> dict[str, Any]:
    found = genres_for(core, caller, args)
    if (args.values("sortorder") or ["Ascending"])[0].lower() == "descending":
        found.reverse()
    start = args.number("startindex", 0) or 0
    limit = args.number("limit", None, 0, MAX_LIMIT)
    chosen = found[start:] if limit is None else found[start:start + limit]
    counts = "itemcounts" in args.lower_set("fields")
    sid = request.app.state.server_id
    return {"Items": [genre_dto(g, sid, counts) for g in chosen], "TotalRecordCount": len(found),
            "StartIndex": start}


@router.get("/genres")
async def genres(request: Request, caller: CallerDep, core: CoreDep, args: ArgsDep) -> dict[str, Any]:
    """The visible titles' genres: ``BaseItemDtoQueryResult`` of ``Genre`` items."""
    return await run_in_threadpool(_genres, core, request, caller, args)


def _one(core: Core, request: Request, caller: Caller, name: str) -> dict[str, Any]:
    key = name.strip().lower()
    with core.sessions() as s:
        found = visible_genres(s, _granted(core, caller))
    genre = next((g for g in found if g.name.lower() == key or g.id == key.replace("-", "")), None)
    if genre is None:
        raise NotFound(f"no genre {name[:100]!r}")
    return genre_dto(genre, request.app.state.server_id, counts=True)


@router.get("/genres/{name}")
async def genre(name: str, request: Request, caller: CallerDep, core: CoreDep, args: ArgsDep) -> dict[str, Any]:
    """One genre by name (any case) or id, with its counts; 404 when no visible title has it."""
    if args.has("userid"):
        check_user_path(caller, args.text("userid", 64) or "")
    return await run_in_threadpool(_one, core, request, caller, name[:256])


@router.get("/persons")
@router.get("/studios")
def none_stored(caller: CallerDep, args: ArgsDep) -> dict[str, Any]:
    """People and studios: reelhouse stores none (an empty ``BaseItemDtoQueryResult``)."""
    if args.has("userid"):
        check_user_path(caller, args.text("userid", 64) or "")
    if args.has("parentid"):
        ids.decode(args.text("parentid", 64) or "", "view", "show", "season")
    args.number("limit", None, 0, MAX_LIMIT)
    return {"Items": [], "TotalRecordCount": 0, "StartIndex": args.number("startindex", 0) or 0}


@router.get("/persons/{name}")
@router.get("/studios/{name}")
def no_such_name(name: str, caller: CallerDep) -> dict[str, Any]:
    raise NotFound(f"no person or studio {name[:100]!r}")
