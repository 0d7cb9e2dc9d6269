"""The library (``/api/library``): the grid, movies, shows, media files with their streams."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from reelhouse.api.deps import CurrentUser, DbSession, RowId, RowIdQuery
from reelhouse.api.schemas import (
    GridItemPublic,
    MediaFileDetail,
    MediaFilePublic,
    MoviePublic,
    Page,
    ShowPublic,
)
from reelhouse.errors import InvalidInput
from reelhouse.library import queries
from reelhouse.library.grid import GridFilter, grid_page

__all__ = ["router"]

router = APIRouter(prefix="/api/library", tags=["library"])

PageNo = Annotated[int, Query(ge=1, le=1_000_000)]
PerPage = Annotated[int, Query(ge=1, le=500)]


def _page(items: list[object], page: int, per_page: int) -> dict[str, object]:
    start = (page - 1) * per_page
    return {"items": items[start : start + per_page], "total": len(items), "page": page,
            "per_page": per_page}


@router.get("/items", response_model=Page[GridItemPublic])
def library_items(
    db: DbSession,
    user: CurrentUser,
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
) -> dict[str, object]:
    """The grid: movies and shows in title order, searchable by title, filterable by
    type, source, genre, year, resolution, "unwatched" (by you) and first letter (A-Z
    jump; ``#`` for the rest). Pages by ``cursor`` (``next_cursor`` of the previous page:
    deep pages stay fast) or by ``page`` number."""
    f = GridFilter(type, q, source_id, source_kind, genre, year, resolution,
                   user.id if unwatched else None, letter)
    offset = 0 if cursor else (page - 1) * per_page
    if offset > 10_000:
        raise InvalidInput("page is too deep for page numbers: follow next_cursor instead")
    result = grid_page(db, f, per_page, cursor, offset)
    return {"items": [GridItemPublic.model_validate(i) for i in result.items], "total": result.total,
            "page": page, "per_page": per_page, "next_cursor": result.next_cursor}


@router.get("/movies", response_model=Page[MoviePublic])
def movies(db: DbSession, _: CurrentUser, page: PageNo = 1, per_page: PerPage = 50) -> dict[str, object]:
    items = [m for m in (MoviePublic.model_validate(m) for m in queries.list_movies(db)) if m.files]
    return _page(list(items), page, per_page)


@router.get("/movies/{movie_id}", response_model=MoviePublic)
def movie(movie_id: RowId, db: DbSession, _: CurrentUser) -> MoviePublic:
    return MoviePublic.model_validate(queries.get_movie(db, movie_id))


@router.get("/shows", response_model=Page[ShowPublic])
def shows(db: DbSession, _: CurrentUser, page: PageNo = 1, per_page: PerPage = 50) -> dict[str, object]:
    """Shows with their seasons and episodes."""
    items = [s for s in (ShowPublic.model_validate(s) for s in queries.list_shows(db)) if s.seasons]
    return _page(list(items), page, per_page)


@router.get("/shows/{show_id}", response_model=ShowPublic)
def show(show_id: RowId, db: DbSession, _: CurrentUser) -> ShowPublic:
    return ShowPublic.model_validate(queries.get_show(db, show_id))


@router.get("/media-files", response_model=Page[MediaFilePublic])
def media_files(
    db: DbSession,
    _: CurrentUser,
    source_id: RowIdQuery = None,
    include_missing: bool = False,
    cursor: Annotated[str | None, Query(max_length=5000)] = None,
    page: PageNo = 1,
    per_page: PerPage = 100,
) -> dict[str, object]:
    """Media files by source and path. Pages by ``cursor`` (``next_cursor`` of the
    previous page; keyset on (source, path): deep pages cost what the first does) or by
    ``page`` number."""
    offset = 0 if cursor else (page - 1) * per_page
    if offset > 10_000:
        raise InvalidInput("page is too deep for page numbers: follow next_cursor instead")
    rows, total, next_cursor = queries.media_files_page(db, source_id, include_missing, per_page,
                                                        cursor, offset)
    return {"items": [MediaFilePublic.model_validate(r) for r in rows], "total": total, "page": page,
            "per_page": per_page, "next_cursor": next_cursor}


@router.get("/media-files/{file_id}", response_model=MediaFileDetail)
def media_file(file_id: RowId, db: DbSession, _: CurrentUser) -> MediaFileDetail:
    """One file with its technical metadata: container, duration, bitrate and a row
    per stream (video, audio, subtitle …)."""
    return MediaFileDetail.model_validate(queries.get_media_file(db, file_id))
