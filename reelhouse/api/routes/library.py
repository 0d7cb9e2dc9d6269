"""The library (``/api/library``): the grid, movies, shows, media files with their streams.

The big-library routes (the grid, title lists, a show, media-file pages) read plain
rows (:mod:`reelhouse.library.views`, :mod:`reelhouse.library.grid`) in a session of
their own and answer through :func:`reelhouse.api.render.json_response`, in the app's
bounded :mod:`~reelhouse.api.read_lane` of threads, not the shared pool (issue 14)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import Response

from reelhouse.api.deps import CoreDep, CurrentUser, DbSession, RowId, RowIdQuery, VisibleFile
from reelhouse.api.library_json import grid_item, orjson_response, show_public
from reelhouse.api.read_lane import ReadLaneDep
from reelhouse.api.render import json_response
from reelhouse.api.schemas import (
    GridItemPublic,
    MediaFileDetail,
    MediaFilePublic,
    MoviePublic,
    Page,
    ShowPublic,
)
from reelhouse.api.visibility import visible_movie, visible_show
from reelhouse.core import Core
from reelhouse.db.models import User
from reelhouse.errors import InvalidInput, NotFound
from reelhouse.library import queries, views
from reelhouse.library.grid import GridFilter, grid_page

__all__ = ["Reads", "items_answer", "items_body", "media_files_answer", "media_files_body", "movies_answer",
           "movies_body", "router", "show_answer", "show_body", "shows_answer", "shows_body"]

#: Sessions that read the library (``Core.read_sessions``, or a read process's own).
Reads = sessionmaker[Session]

router = APIRouter(prefix="/api/library", tags=["library"])

PageNo = Annotated[int, Query(ge=1, le=1_000_000)]
PerPage = Annotated[int, Query(ge=1, le=500)]


@router.get("/items", response_model=Page[GridItemPublic])
async def library_items(
    core: CoreDep,
    user: CurrentUser,
    lane: ReadLaneDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    type: Literal["movie", "show"] | None = None,
    source_id: RowIdQuery = None,
    source_kind: Literal["ftp", "local"] | None = None,
    genre: Annotated[str | None, Query(max_length=100)] = None,
    year: Annotated[int | None, Query(ge=1800, le=3000)] = None,
    resolution: Literal["2160p", "1080p", "720p", "sd"] | None = None,
    unwatched: bool = False,
    letter: Annotated[str | None, Query(pattern=r"^([A-Za-z]|#)$")] = None,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    page: PageNo = 1,
    per_page: PerPage = 60,
) -> Response:
    """The grid: movies and shows in title order, searchable by title, filterable by
    type, source, genre, year, resolution, "unwatched" (by you) and first letter (A-Z
    jump; ``#`` for the rest). Pages by ``cursor`` (``next_cursor`` of the previous page:
    deep pages stay fast) or by ``page`` number."""
    return await lane.run(items_answer, core, user, q, type, source_id, source_kind, genre, year, resolution, unwatched,
                          letter, cursor, page, per_page)


def items_answer(core: Core, user: User, q: str | None, type: str | None, source_id: int | None,
           source_kind: str | None, genre: str | None, year: int | None, resolution: str | None, unwatched: bool,
           letter: str | None, cursor: str | None, page: int, per_page: int) -> Response:
    """The grid's answer for ``user`` (see :func:`library_items`)."""
    return items_body(core.read_sessions, core.access.allowed(user), user.id, q, type, source_id, source_kind, genre,
                      year, resolution, unwatched, letter, cursor, page, per_page)


def items_body(reads: Reads, allowed: set[int] | None, user_id: int, q: str | None, type: str | None,
               source_id: int | None, source_kind: str | None, genre: str | None, year: int | None,
               resolution: str | None, unwatched: bool, letter: str | None, cursor: str | None, page: int,
               per_page: int) -> Response:
    """The grid's answer, read through ``reads`` (sessions) for user ``user_id`` who
    sees the sources ``allowed`` (None: all): plain arguments, so that another process
    can compute it (api/read_processes.py)."""
    offset = 0 if cursor else (page - 1) * per_page
    if offset > 10_000:
        raise InvalidInput("page is too deep for page numbers: follow next_cursor instead")
    f = GridFilter(type, q, source_id, source_kind, genre, year, resolution, user_id if unwatched else None, letter,
                   None if allowed is None else frozenset(allowed))
    with reads() as db:
        result = grid_page(db, f, per_page, cursor, offset)
        # a title with a good file on the page's sources (the user's grants among them)
        # is playable (grid._fill_sources): the others only are asked about
        unsure = [i for i in result.items if not i.good_files]
        unplayable = queries.unplayable_reasons(db, unsure, f.source_ids) if unsure else {}
    items = [grid_item(i, unplayable.get((i.type, i.id))) for i in result.items]
    return orjson_response({"items": items, "total": result.total,
                            "page": page, "per_page": per_page, "next_cursor": result.next_cursor})


@router.get("/movies", response_model=Page[MoviePublic])
async def movies(core: CoreDep, user: CurrentUser, lane: ReadLaneDep, page: PageNo = 1,
                 per_page: PerPage = 50) -> Response:
    """Movies with a file on their source, by title and year, with their files (the
    page is cut in SQL)."""
    return await lane.run(movies_answer, core, user, page, per_page)


def movies_answer(core: Core, user: User, page: int, per_page: int) -> Response:
    return movies_body(core.read_sessions, core.access.allowed(user), user.id, page, per_page)


def movies_body(reads: Reads, allowed: set[int] | None, user_id: int, page: int, per_page: int) -> Response:
    """A page of movies (plain arguments: see :func:`items_body`)."""
    with reads() as db:
        ids, total = views.title_page(db, "movie", allowed, (page - 1) * per_page, per_page)
        items = [m for m in (visible_movie(MoviePublic.model_validate(m), allowed)
                             for m in queries.movies_by_ids(db, ids)) if m is not None and m.files]
    return json_response(Page[MoviePublic], {"items": items, "total": total, "page": page, "per_page": per_page})


@router.get("/movies/{movie_id}", response_model=MoviePublic)
def movie(movie_id: RowId, db: DbSession, core: CoreDep, user: CurrentUser) -> MoviePublic:
    found = visible_movie(MoviePublic.model_validate(queries.get_movie(db, movie_id)),
                          core.access.allowed(user))
    if found is None:
        raise NotFound(f"no movie with id {movie_id}")
    return found


@router.get("/shows", response_model=Page[ShowPublic])
async def shows(core: CoreDep, user: CurrentUser, lane: ReadLaneDep, page: PageNo = 1,
                per_page: PerPage = 50) -> Response:
    """Shows with an episode file on their source, by title, with their seasons and
    episodes (the page is cut in SQL)."""
    return await lane.run(shows_answer, core, user, page, per_page)


def shows_answer(core: Core, user: User, page: int, per_page: int) -> Response:
    return shows_body(core.read_sessions, core.access.allowed(user), user.id, page, per_page)


def shows_body(reads: Reads, allowed: set[int] | None, user_id: int, page: int, per_page: int) -> Response:
    """A page of shows (plain arguments: see :func:`items_body`)."""
    with reads() as db:
        ids, total = views.title_page(db, "show", allowed, (page - 1) * per_page, per_page)
        items = [s for s in (visible_show(ShowPublic.model_validate(s), allowed)
                             for s in queries.shows_by_ids(db, ids)) if s is not None and s.seasons]
    return json_response(Page[ShowPublic], {"items": items, "total": total, "page": page, "per_page": per_page})


@router.get("/shows/{show_id}", response_model=ShowPublic)
async def show(show_id: RowId, core: CoreDep, user: CurrentUser, lane: ReadLaneDep) -> Response:
    """A show with its seasons, episodes and their files, and its extras."""
    return await lane.run(show_answer, show_id, core, user)


def show_answer(show_id: int, core: Core, user: User) -> Response:
    return show_body(core.read_sessions, core.access.allowed(user), user.id, show_id)


def show_body(reads: Reads, allowed: set[int] | None, user_id: int, show_id: int) -> Response:
    """A show's page (plain arguments: see :func:`items_body`); NotFound when
    ``allowed`` shows none of its episodes."""
    with reads() as db:
        detail = views.show_detail(db, show_id)
    if allowed is None:
        return orjson_response(show_public(detail))
    found = visible_show(ShowPublic.model_validate(detail), allowed)
    if found is None:
        raise NotFound(f"no show with id {show_id}")
    return json_response(ShowPublic, found)


@router.get("/media-files", response_model=Page[MediaFilePublic])
async def media_files(
    core: CoreDep,
    user: CurrentUser,
    lane: ReadLaneDep,
    source_id: RowIdQuery = None,
    include_missing: bool = False,
    cursor: Annotated[str | None, Query(max_length=5000)] = None,
    page: PageNo = 1,
    per_page: PerPage = 100,
) -> Response:
    """Media files by source and path (a user with source grants: one granted source
    at a time). Pages by ``cursor`` (``next_cursor`` of the previous page; keyset on
    (source, path): deep pages cost what the first does) or by ``page`` number."""
    return await lane.run(media_files_answer, core, user, source_id, include_missing, cursor, page, per_page)


def media_files_answer(core: Core, user: User, source_id: int | None, include_missing: bool, cursor: str | None,
                 page: int, per_page: int) -> Response:
    return media_files_body(core.read_sessions, core.access.allowed(user), user.id, source_id, include_missing,
                            cursor, page, per_page)


def media_files_body(reads: Reads, allowed: set[int] | None, user_id: int, source_id: int | None,
                     include_missing: bool, cursor: str | None, page: int, per_page: int) -> Response:
    """A page of media files (plain arguments: see :func:`items_body`)."""
    if allowed is not None:
        if source_id is None and len(allowed) == 1:
            source_id = next(iter(allowed))
        if source_id is None or source_id not in allowed:
            return orjson_response({"items": [], "total": 0, "page": page, "per_page": per_page,
                                    "next_cursor": None})
    offset = 0 if cursor else (page - 1) * per_page
    if offset > 10_000:
        raise InvalidInput("page is too deep for page numbers: follow next_cursor instead")
    with reads() as db:
        rows, total, next_cursor = views.media_files_page(db, source_id, include_missing, per_page, cursor,
                                                          offset)
    return orjson_response({"items": rows, "total": total, "page": page, "per_page": per_page,
                            "next_cursor": next_cursor})


@router.get("/media-files/{file_id}", response_model=MediaFileDetail)
def media_file(file_id: RowId, db: DbSession, _: VisibleFile) -> MediaFileDetail:
    """One file with its technical metadata: container, duration, bitrate and a row
    per stream (video, audio, subtitle …)."""
    return MediaFileDetail.model_validate(queries.get_media_file(db, file_id))
