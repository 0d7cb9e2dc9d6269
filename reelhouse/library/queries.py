"""Read queries for the library: the grid (movies and shows), shows with seasons and
episodes, media files. Only files that are not missing count; items whose files are
all missing are not shown (they come back when a scan sees the files again)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show, SourceRow
from reelhouse.errors import InvalidInput, NotFound

__all__ = ["GridItem", "get_media_file", "get_movie", "get_show", "grid", "list_media_files"]


@dataclass
class GridItem:
    """One tile of the library grid. ``source_kinds`` e.g. ["ftp", "local"]."""

    type: str  # "movie" | "show"
    id: int
    title: str
    year: int | None
    source_kinds: list[str] = field(default_factory=list)
    source_ids: list[int] = field(default_factory=list)
    file_count: int = 0
    poster_image_id: int | None = None
    needs_review: bool = False


def _present() -> ColumnElement[bool]:
    return MediaFile.missing_since.is_(None)


def grid(
    s: Session,
    kind: str | None = None,
    q: str | None = None,
    source_id: int | None = None,
    source_kind: str | None = None,
) -> list[GridItem]:
    """Movies and shows with at least one present file, sorted by title.

    ``kind``: "movie" | "show" | None (both); ``q``: case-insensitive substring of the
    title; ``source_id``/``source_kind`` ("ftp" | "local"): only items with a file there.
    """
    if kind not in (None, "", "movie", "show"):
        raise InvalidInput("type must be 'movie' or 'show'")
    if source_kind not in (None, "", "ftp", "local"):
        raise InvalidInput("source kind must be 'ftp' or 'local'")
    items: dict[tuple[str, int], GridItem] = {}
    base = select(MediaFile.id, SourceRow.kind, SourceRow.id).join(SourceRow).where(_present())
    if source_id is not None:
        base = base.where(SourceRow.id == source_id)
    if source_kind:
        base = base.where(SourceRow.kind == source_kind)
    pattern = None
    if q and q.strip():
        literal = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{literal}%"
    if kind in (None, "", "movie"):
        stmt = base.add_columns(Movie.id, Movie.title, Movie.year, Movie.poster_image_id,
                                Movie.needs_review).join(
            Movie, Movie.id == MediaFile.movie_id
        ).where(MediaFile.kind != "extra")  # a film's trailer alone does not make it a tile
        if pattern:
            stmt = stmt.where(func.lower(Movie.title).like(pattern, escape="\\"))
        for _fid, skind, sid, mid, title, year, poster, review in s.execute(stmt):
            item = items.setdefault(("movie", mid), GridItem("movie", mid, title, year,
                                                             poster_image_id=poster, needs_review=review))
            _add(item, skind, sid)
    if kind in (None, "", "show"):
        stmt = (
            base.add_columns(Show.id, Show.title, Show.year, Show.poster_image_id, Show.needs_review)
            .join(Episode, Episode.id == MediaFile.episode_id)
            .join(Season, Season.id == Episode.season_id)
            .join(Show, Show.id == Season.show_id)
        )
        if pattern:
            stmt = stmt.where(func.lower(Show.title).like(pattern, escape="\\"))
        for _fid, skind, sid, shid, title, year, poster, review in s.execute(stmt):
            item = items.setdefault(("show", shid), GridItem("show", shid, title, year,
                                                             poster_image_id=poster, needs_review=review))
            _add(item, skind, sid)
    return sorted(items.values(), key=lambda i: (i.title.casefold(), i.year or 0, i.type))


def _add(item: GridItem, source_kind: str, source_id: int) -> None:
    item.file_count += 1
    if source_kind not in item.source_kinds:
        item.source_kinds.append(source_kind)
    if source_id not in item.source_ids:
        item.source_ids.append(source_id)


def get_movie(s: Session, movie_id: int) -> Movie:
    movie = s.scalar(
        select(Movie)
        .where(Movie.id == movie_id)
        .options(selectinload(Movie.files).selectinload(MediaFile.source))
    )
    if movie is None:
        raise NotFound(f"no movie with id {movie_id}")
    return movie


def get_show(s: Session, show_id: int) -> Show:
    show = s.scalar(
        select(Show)
        .where(Show.id == show_id)
        .options(
            selectinload(Show.seasons)
            .selectinload(Season.episodes)
            .selectinload(Episode.files)
            .selectinload(MediaFile.source),
            selectinload(Show.extras).selectinload(MediaFile.source),
        )
    )
    if show is None:
        raise NotFound(f"no show with id {show_id}")
    return show


def list_shows(s: Session) -> list[Show]:
    return list(
        s.scalars(
            select(Show)
            .order_by(Show.title)
            .options(
                selectinload(Show.seasons)
                .selectinload(Season.episodes)
                .selectinload(Episode.files)
                .selectinload(MediaFile.source),
                selectinload(Show.extras).selectinload(MediaFile.source),
            )
        )
    )


def list_movies(s: Session) -> list[Movie]:
    return list(
        s.scalars(
            select(Movie)
            .order_by(Movie.title, Movie.year)
            .options(selectinload(Movie.files).selectinload(MediaFile.source))
        )
    )


def list_media_files(
    s: Session, source_id: int | None, include_missing: bool, offset: int, limit: int
) -> tuple[list[MediaFile], int]:
    """A page of media files (by path) and the total count."""
    stmt = select(MediaFile)
    if source_id is not None:
        stmt = stmt.where(MediaFile.source_id == source_id)
    if not include_missing:
        stmt = stmt.where(_present())
    total = int(s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = s.scalars(
        stmt.options(selectinload(MediaFile.source))
        .order_by(MediaFile.source_id, MediaFile.path)
        .offset(offset)
        .limit(limit)
    )
    return list(rows), total


def get_media_file(s: Session, file_id: int) -> MediaFile:
    mf = s.scalar(
        select(MediaFile).where(MediaFile.id == file_id).options(selectinload(MediaFile.source))
    )
    if mf is None:
        raise NotFound(f"no media file with id {file_id}")
    return mf
