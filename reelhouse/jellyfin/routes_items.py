"""Browsing: views, the Items query (also under ``Users/{userId}/…``), one item,
latest, resume, next up, seasons, episodes, similar (empty), played and favourite
marks. Paths are lowercase here: the mount lowercases every request path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from reelhouse.core import Core
from reelhouse.jellyfin import browse, ids
from reelhouse.jellyfin.deps import ArgsDep, Caller, CallerDep, CoreDep, check_user_path
from reelhouse.jellyfin.filters import Narrowing
from reelhouse.jellyfin.latest import latest
from reelhouse.jellyfin.loader import VIEWS, Ctx, Loader, view_dto
from reelhouse.jellyfin.paging import Counts, page
from reelhouse.jellyfin.params import Args
from reelhouse.jellyfin.query import ItemQuery, parse_query

__all__ = ["STREAM_OVER", "router"]

router = APIRouter()

#: Pages larger than this (or unpaged queries) are written out as they are read.
STREAM_OVER = 500
_CHUNK = 200


def _granted(request: Request, caller: Caller) -> frozenset[int] | None:
    """The sources the caller may see (None: all), from their grants."""
    core: Core = request.app.state.core
    allowed = core.access.allowed(caller.user)
    return None if allowed is None else frozenset(allowed)


def _ctx(request: Request, caller: Caller, args: Args, sources: bool = False) -> Ctx:
    return Ctx(caller.user.id, request.app.state.server_id, args.lower_set("fields"),
               caller.token, sources, _granted(request, caller), request.app.state.image_key)


def _result(items: list[dict[str, Any]], total: int, start: int = 0) -> dict[str, Any]:
    return {"Items": items, "TotalRecordCount": total, "StartIndex": start}


# -- views ---------------------------------------------------------------------------------
def _views(request: Request, caller: Caller) -> dict[str, Any]:
    sid = request.app.state.server_id
    return _result([view_dto(v, sid) for v in VIEWS], len(VIEWS))


@router.get("/userviews")
def user_views(request: Request, caller: CallerDep, args: ArgsDep) -> dict[str, Any]:
    """The user's libraries: Films and Shows (CollectionFolders)."""
    return _views(request, caller)


@router.get("/users/{user_id}/views")
def user_views_old(user_id: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    check_user_path(caller, user_id)
    return _views(request, caller)


@router.get("/library/mediafolders")
def media_folders(request: Request, caller: CallerDep) -> dict[str, Any]:
    return _views(request, caller)


# -- items -----------------------------------------------------------------------------------
def _items(core: Core, request: Request, caller: Caller, args: Args, q: ItemQuery) -> Response:
    ctx = _ctx(request, caller, args)
    q.sources = ctx.granted
    counts: Counts = request.app.state.counts
    with_total = args.flag("enabletotalrecordcount", True)
    if q.root:
        return JSONResponse(_views(request, caller))
    if q.limit is not None and q.limit <= STREAM_OVER:
        def build() -> dict[str, Any]:
            with core.sessions() as s:
                items = Loader(s, ctx).load(page(s, q))
                total = counts.get(s, q) if with_total else len(items) + q.start
                return _result(items, total, q.start)
        return JSONResponse(build())
    return StreamingResponse(_stream(core, ctx, q, counts if with_total else None),
                             media_type="application/json")


def _stream(core: Core, ctx: Ctx, q: ItemQuery, counts: Counts | None) -> Iterator[bytes]:
    """``{"Items": [...], "TotalRecordCount": n, "StartIndex": s}`` written in chunks of
    200 items: memory stays flat however many items match (jellyfin/jellyfin#953)."""
    with core.sessions() as s, core.sessions() as rows_session:
        yield b'{"Items":['
        loader = Loader(s, ctx)
        n = 0
        chunk: list[ids.Ref] = []
        for ref in page(rows_session, q):
            chunk.append(ref)
            if len(chunk) >= _CHUNK:
                for dto in loader.load(chunk):
                    yield (b"," if n else b"") + json.dumps(dto, separators=(",", ":")).encode()
                    n += 1
                chunk = []
        for dto in loader.load(chunk):
            yield (b"," if n else b"") + json.dumps(dto, separators=(",", ":")).encode()
            n += 1
        total = counts.get(s, q) if counts is not None else n + q.start
        yield f'],"TotalRecordCount":{total},"StartIndex":{q.start}}}'.encode()


@router.get("/items")
async def items(request: Request, caller: CallerDep, core: CoreDep, args: ArgsDep) -> Response:
    """The Items query (see jellyfin/query.py for the arguments)."""
    q = parse_query(args, caller.user.id)
    return await run_in_threadpool(_items, core, request, caller, args, q)


@router.get("/users/{user_id}/items")
async def user_items(user_id: str, request: Request, caller: CallerDep, core: CoreDep,
                     args: ArgsDep) -> Response:
    check_user_path(caller, user_id)
    q = parse_query(args, caller.user.id)
    return await run_in_threadpool(_items, core, request, caller, args, q)


def _latest(core: Core, request: Request, caller: Caller, args: Args) -> list[dict[str, Any]]:
    parent = ids.decode(args.text("parentid", 64) or "", "view", "show", "season") \
        if args.has("parentid") else None
    limit = args.number("limit", 20, 0, 500) or 20
    # IncludeItemTypes; new episodes are grouped by series unless GroupItems=false
    types = args.lower_set("includeitemtypes")
    wanted = {k for t, k in (("movie", "movie"), ("series", "show"), ("episode", "episode")) if t in types} \
        if types else None
    # IsPlayed; without it, unplayed titles only: the user's HidePlayedInLatest, which
    # Jellyfin defaults to (and users.py reports) true
    played = args.flag("isplayed", False)
    with core.sessions() as s:
        return latest(s, _ctx(request, caller, args), parent, limit, wanted, played,
                      group=args.flag("groupitems", True) is not False)


@router.get("/items/latest")
def items_latest(request: Request, caller: CallerDep, core: CoreDep, args: ArgsDep) -> list[dict[str, Any]]:
    """Newest titles (an array, not a query result, as Jellyfin answers)."""
    return _latest(core, request, caller, args)


@router.get("/users/{user_id}/items/latest")
def user_items_latest(user_id: str, request: Request, caller: CallerDep, core: CoreDep,
                      args: ArgsDep) -> list[dict[str, Any]]:
    check_user_path(caller, user_id)
    return _latest(core, request, caller, args)


def _resume(core: Core, request: Request, caller: Caller, args: Args) -> dict[str, Any]:
    wanted = args.lower_set("includeitemtypes")
    kinds = {k for t, k in (("movie", "movie"), ("episode", "episode")) if not wanted or t in wanted}
    kinds -= {k for t, k in (("movie", "movie"), ("episode", "episode")) if t in args.lower_set("excludeitemtypes")}
    if "video" not in args.lower_set("mediatypes") and args.has("mediatypes"):
        kinds = set()
    limit = args.number("limit", 100, 0, 1000) or 0
    start = args.number("startindex", 0) or 0
    # ParentId: a library view (the apps' per-library "Continue watching" row), a show or a season
    parent = ids.decode(args.text("parentid", 64) or "", "view", "show", "season") \
        if args.has("parentid") else None
    if parent is not None:
        kinds &= ({"movie"} if parent.id == 1 else {"episode"}) if parent.kind == "view" else {"episode"}
    within = parent if parent is not None and parent.kind != "view" else None
    with core.sessions() as s:
        items, total = browse.resume(s, _ctx(request, caller, args), kinds, limit, start, within,
                                     args.text("searchterm", 200))
    return _result(items, total, start)


@router.get("/useritems/resume")
def resume(request: Request, caller: CallerDep, core: CoreDep, args: ArgsDep) -> dict[str, Any]:
    """Continue watching: the same list the reelhouse web UI shows."""
    return _resume(core, request, caller, args)


@router.get("/users/{user_id}/items/resume")
def user_resume(user_id: str, request: Request, caller: CallerDep, core: CoreDep,
                args: ArgsDep) -> dict[str, Any]:
    check_user_path(caller, user_id)
    return _resume(core, request, caller, args)


def _one(core: Core, request: Request, caller: Caller, args: Args, item_id: str) -> dict[str, Any]:
    ref = ids.decode(item_id, "view", "movie", "show", "season", "episode")
    ctx = _ctx(request, caller, args, sources=True)
    ctx.sidecars = lambda file_id: browse.sidecars(core, file_id)  # as PlaybackInfo lists them
    with core.sessions() as s:
        return browse.item(s, ctx, ref)


@router.get("/items/{item_id}")
def item(item_id: str, request: Request, caller: CallerDep, core: CoreDep, args: ArgsDep) -> dict[str, Any]:
    """One item with its MediaSources (and the subtitle files beside each)."""
    return _one(core, request, caller, args, item_id)


@router.get("/users/{user_id}/items/{item_id}")
def user_item(user_id: str, item_id: str, request: Request, caller: CallerDep, core: CoreDep,
              args: ArgsDep) -> dict[str, Any]:
    check_user_path(caller, user_id)
    return _one(core, request, caller, args, item_id)


@router.get("/items/{item_id}/intros")
@router.get("/users/{user_id}/items/{item_id}/intros")
@router.get("/items/{item_id}/similar")
@router.get("/shows/{item_id}/similar")
@router.get("/movies/{item_id}/similar")
def empty_result(item_id: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    """Intros and similar titles: none (the id is still checked: 400 when malformed)."""
    _path_user(request, caller)
    ids.decode(item_id)
    return _result([], 0)


@router.get("/items/{item_id}/localtrailers")
@router.get("/users/{user_id}/items/{item_id}/localtrailers")
@router.get("/items/{item_id}/specialfeatures")
@router.get("/users/{user_id}/items/{item_id}/specialfeatures")
def empty_list(item_id: str, request: Request, caller: CallerDep) -> list[Any]:
    _path_user(request, caller)
    ids.decode(item_id)
    return []


# -- shows -----------------------------------------------------------------------------------
@router.get("/shows/nextup")
def next_up(request: Request, caller: CallerDep, core: CoreDep, args: ArgsDep) -> dict[str, Any]:
    """Next up (browse.next_up): ``SeriesId``, ``ParentId`` (a library, series or
    season), ``StartIndex``, ``Limit`` (absent or 0: all, as Jellyfin's GetResult),
    ``NextUpDateCutoff``, ``EnableResumable``."""
    series = ids.decode(args.text("seriesid", 64) or "", "show") if args.has("seriesid") else None
    parent = ids.decode(args.text("parentid", 64) or "", "view", "show", "season") \
        if args.has("parentid") else None
    start = args.number("startindex", 0) or 0
    limit = args.number("limit", None, 0, 100_000) or None
    cutoff = args.date("nextupdatecutoff")
    resumable = bool(args.flag("enableresumable", True))
    with core.sessions() as s:
        items, total = browse.next_up(s, _ctx(request, caller, args), series, start, limit, cutoff, resumable,
                                      parent)
    return _result(items, total if args.flag("enabletotalrecordcount", True) else len(items) + start, start)


@router.get("/shows/{series_id}/seasons")
async def seasons(series_id: str, request: Request, caller: CallerDep, core: CoreDep,
                  args: ArgsDep) -> Response:
    ref = ids.decode(series_id, "show")
    await run_in_threadpool(_exists, core, request, caller, args, ref)
    q = ItemQuery(user_id=caller.user.id, kinds={"season"}, parent=ref, sort="indexnumber",
                  narrowing=Narrowing(special_season=args.flag("isspecialseason")))
    return await run_in_threadpool(_items, core, request, caller, args, q)


@router.get("/shows/{series_id}/episodes")
async def episodes(series_id: str, request: Request, caller: CallerDep, core: CoreDep,
                   args: ArgsDep) -> Response:
    ref = ids.decode(series_id, "show")
    await run_in_threadpool(_exists, core, request, caller, args, ref)
    season = args.text("seasonid", 64)
    parent = ids.decode(season, "season") if season else ref
    number = None if season else args.number("season", None, 0, 2**31 - 1)  # a SeasonId wins
    if number is not None:
        numbered = await run_in_threadpool(_season, core, ref, number)
        if numbered is None:  # no such season: an empty list, as Jellyfin answers
            return JSONResponse(_result([], 0))
        parent = numbered
    q = ItemQuery(user_id=caller.user.id, kinds={"episode"}, parent=parent, recursive=True,
                  start=args.number("startindex", 0) or 0, limit=args.number("limit", None, 0, 100_000))
    first, near = args.text("startitemid", 64), args.text("adjacentto", 64)
    if first or near:
        return await run_in_threadpool(_episodes_from, core, request, caller, args, q,
                                       ids.decode(first) if first else None,
                                       ids.decode(near) if near else None)
    return await run_in_threadpool(_items, core, request, caller, args, q)


def _episodes_from(core: Core, request: Request, caller: Caller, args: Args, q: ItemQuery,
                   first: ids.Ref | None, near: ids.Ref | None) -> Response:
    """``Episodes?StartItemId=``: the list from that episode on (none when it is not in
    the list); ``AdjacentTo=``: of that, the episode with the ones before and after it
    (the whole list when it is not in it); then StartIndex/Limit, TotalRecordCount
    counting what is left — in the order of Jellyfin's TvShowsController.GetEpisodes
    (``SkipWhile``, ``FilterForAdjacency``, paging). A show's episode ids are read
    whole: hundreds of rows at most, ids only."""
    ctx = _ctx(request, caller, args)
    q.sources = ctx.granted
    start, limit = q.start, q.limit
    q.start, q.limit = 0, None
    with core.sessions() as s:
        refs = list(page(s, q))
        if first is not None:
            refs = refs[refs.index(first):] if first in refs else []
        if near is not None and near in refs:
            at = refs.index(near)
            refs = refs[max(0, at - 1):at + 2]
        chosen = refs[start:] if limit is None else refs[start:start + limit]
        return JSONResponse(_result(Loader(s, ctx).load(chosen), len(refs), start))


def _season(core: Core, show: ids.Ref, number: int) -> ids.Ref | None:
    with core.sessions() as s:
        return browse.season_numbered(s, show.id, number)


def _exists(core: Core, request: Request, caller: Caller, args: Args, ref: ids.Ref) -> None:
    with core.sessions() as s:
        browse.item(s, _ctx(request, caller, args), ref)


# -- marks -----------------------------------------------------------------------------------
def _mark(core: Core, request: Request, caller: Caller, item_id: str, what: str, on: bool) -> dict[str, Any]:
    ref = ids.decode(item_id, "movie", "show", "season", "episode")
    ctx = Ctx(caller.user.id, request.app.state.server_id, set(), caller.token,
              granted=_granted(request, caller), image_key=request.app.state.image_key)
    request.app.state.counts.clear()
    if what == "played":
        return browse.mark_played(core, ctx, ref, on)
    return browse.mark_favorite(core, ctx, ref, on)


@router.post("/userplayeditems/{item_id}")
@router.post("/users/{user_id}/playeditems/{item_id}")
def played(item_id: str, request: Request, caller: CallerDep, core: CoreDep) -> dict[str, Any]:
    """Mark played: the item's files count as watched (the web player shows it too)."""
    _path_user(request, caller)
    return _mark(core, request, caller, item_id, "played", True)


@router.delete("/userplayeditems/{item_id}")
@router.delete("/users/{user_id}/playeditems/{item_id}")
def unplayed(item_id: str, request: Request, caller: CallerDep, core: CoreDep) -> dict[str, Any]:
    _path_user(request, caller)
    return _mark(core, request, caller, item_id, "played", False)


@router.post("/userfavoriteitems/{item_id}")
@router.post("/users/{user_id}/favoriteitems/{item_id}")
def favorite(item_id: str, request: Request, caller: CallerDep, core: CoreDep) -> dict[str, Any]:
    _path_user(request, caller)
    return _mark(core, request, caller, item_id, "favorite", True)


@router.delete("/userfavoriteitems/{item_id}")
@router.delete("/users/{user_id}/favoriteitems/{item_id}")
def unfavorite(item_id: str, request: Request, caller: CallerDep, core: CoreDep) -> dict[str, Any]:
    _path_user(request, caller)
    return _mark(core, request, caller, item_id, "favorite", False)


def _path_user(request: Request, caller: Caller) -> None:
    user_id = request.path_params.get("user_id")
    if user_id is not None:
        check_user_path(caller, str(user_id))
