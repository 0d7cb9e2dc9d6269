"""Read queries for the library: the grid (movies and shows), shows with seasons and
episodes, media files. Only files that are not missing count; items whose files are
all missing are not shown (they come back when a scan sees the files again)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session, selectinload

from reelhouse.db.limits import INT_MAX, INT_MIN, storable_text
from reelhouse.db.models import Episode, Job, MediaFile, Movie, Season, Show, SourceRow
from reelhouse.db.search_key import sort_key
from reelhouse.errors import InvalidInput, NotFound
from reelhouse.library.title_search import title_condition

__all__ = ["GridItem", "cached_count", "decode_file_cursor", "encode_file_cursor", "get_media_file", "get_movie",
           "get_show", "grid", "library_version", "list_media_files", "movies_by_ids", "remember_count",
           "shows_by_ids", "unplayable_reasons", "unplayable_titles"]


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
    #: of the ``file_count`` files, those without a probe error (playable, or not probed
    #: yet): a title with one needs no :func:`unplayable_reasons` query
    good_files: int = 0


def _present() -> ColumnElement[bool]:
    return MediaFile.missing_since.is_(None)


def unplayable_titles(s: Session, items: Sequence[GridItem],
                      sources: Collection[int] | None = None) -> set[tuple[str, int]]:
    """``(type, id)`` of the ``items`` (a grid page) whose present files all failed their
    probe: the keys of :func:`unplayable_reasons`."""
    return set(unplayable_reasons(s, items, sources))


def unplayable_reasons(s: Session, items: Sequence[GridItem],
                       sources: Collection[int] | None = None) -> dict[tuple[str, int], str]:
    """``(type, id) -> reason`` for the ``items`` (a grid page) whose present files all
    failed their probe (``probe_error``: FFmpeg could not read them — garbled, cut short,
    not a video at all — or they are empty): what FFmpeg cannot read, no player can, so
    the library flags such a title as a problem rather than showing it as a playable
    film (the scan counts and names the files: ``unreadable``). The reason is the
    ``probe_error`` of its first such file (by id). A file not probed yet is playable
    until its probe says otherwise. ``sources``: the source ids the user may see (their
    grants; None: all): only the files on them count, as on the title's own page — a
    title whose one good file is on a source the user may not see cannot be played by
    that user. At most four queries, over the page's ids only."""
    found: dict[tuple[str, int], str] = {}
    movies = [i.id for i in items if i.type == "movie"]
    shows = [i.id for i in items if i.type == "show"]
    present: ColumnElement[bool] = MediaFile.missing_since.is_(None)
    if sources is not None:
        present = and_(present, (MediaFile.source_id + 0).in_(sorted(sources)))  # see grid._file_filter
    good = and_(present, MediaFile.probe_error.is_(None))
    if movies:
        ok = set(s.scalars(select(MediaFile.movie_id).where(MediaFile.movie_id.in_(movies),
                                                             MediaFile.kind != "extra", good).distinct()))
        bad = [i for i in movies if i not in ok]
        if bad:
            for movie_id, reason in s.execute(
                    select(MediaFile.movie_id, MediaFile.probe_error).where(
                        MediaFile.movie_id.in_(bad), MediaFile.kind != "extra", present).order_by(MediaFile.id)):
                found.setdefault(("movie", movie_id or 0), reason or "")
    if shows:
        episode = MediaFile.episode_id.is_not(None)  # an episode file names its show (db/episode_show.py)
        ok = set(s.scalars(select(MediaFile.show_id).where(MediaFile.show_id.in_(shows), episode, good)
                           .distinct()))
        bad = [i for i in shows if i not in ok]
        if bad:
            for show_id, reason in s.execute(
                    select(MediaFile.show_id, MediaFile.probe_error).where(
                        MediaFile.show_id.in_(bad), episode, present).order_by(MediaFile.id)):
                found.setdefault(("show", show_id or 0), reason or "")
    return found


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
    query = q.strip() if q else ""
    if kind in (None, "", "movie"):
        stmt = base.add_columns(Movie.id, Movie.title, Movie.year, Movie.poster_image_id,
                                Movie.needs_review).join(
            Movie, Movie.id == MediaFile.movie_id
        ).where(MediaFile.kind != "extra")  # a film's trailer alone does not make it a tile
        if query:
            stmt = stmt.where(title_condition(Movie, query))
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
        if query:
            stmt = stmt.where(title_condition(Show, query))
        for _fid, skind, sid, shid, title, year, poster, review in s.execute(stmt):
            item = items.setdefault(("show", shid), GridItem("show", shid, title, year,
                                                             poster_image_id=poster, needs_review=review))
            _add(item, skind, sid)
    return sorted(items.values(), key=lambda i: (sort_key(i.title), i.year or 0, i.type))


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


def shows_by_ids(s: Session, ids: list[int]) -> list[Show]:
    """The shows of ``ids`` (in that order) with seasons, episodes, files and extras."""
    rows = {
        show.id: show for show in s.scalars(
            select(Show)
            .where(Show.id.in_(ids))
            .options(
                selectinload(Show.seasons)
                .selectinload(Season.episodes)
                .selectinload(Episode.files)
                .selectinload(MediaFile.source),
                selectinload(Show.extras).selectinload(MediaFile.source),
            )
        )
    }
    return [rows[i] for i in ids if i in rows]


def movies_by_ids(s: Session, ids: list[int]) -> list[Movie]:
    """The movies of ``ids`` (in that order) with their files."""
    rows = {
        movie.id: movie for movie in s.scalars(
            select(Movie)
            .where(Movie.id.in_(ids))
            .options(selectinload(Movie.files).selectinload(MediaFile.source))
        )
    }
    return [rows[i] for i in ids if i in rows]


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


def encode_file_cursor(source_id: int, path: str) -> str:
    """The opaque cursor of a media-file page that ends at (``source_id``, ``path``)."""
    raw = json.dumps([source_id, path], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_file_cursor(cursor: str) -> tuple[int, str]:
    """(source id, path) of a cursor; raises InvalidInput for anything else (also values
    the database could not compare: :mod:`reelhouse.db.limits`)."""
    try:
        source_id, path = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if (not isinstance(source_id, int) or isinstance(source_id, bool) or not INT_MIN <= source_id <= INT_MAX
                or not isinstance(path, str) or not storable_text(path)):
            raise ValueError(cursor)
    except (ValueError, TypeError, RecursionError) as exc:  # RecursionError: "[[[[…" nested too deep
        raise InvalidInput("cursor is not valid (use next_cursor of the previous page)") from exc
    return source_id, path


_COUNTS: dict[tuple[object, ...], tuple[float, tuple[object, ...], int]] = {}
_COUNTS_LOCK = threading.Lock()
_VERSION_QUERY: Any = None


def library_version(s: Session) -> tuple[object, ...]:
    """A cheap token that changes when files are added, sources removed or a scan runs
    (three index lookups): counts cached under one version stay right. Read once per
    transaction of ``s`` (a request's grid page needs it for two counts)."""
    memo = s.info.get("library_version")
    if memo is not None and memo[0] is s.get_transaction():
        return memo[1]  # type: ignore[no-any-return]
    global _VERSION_QUERY
    if _VERSION_QUERY is None:  # built once: its cache key costs more than the query
        _VERSION_QUERY = select(
            select(func.max(MediaFile.id)).scalar_subquery(),
            select(func.count(SourceRow.id)).scalar_subquery(),
            select(func.max(Job.id)).scalar_subquery(),
        )
    row = s.connection().execute(_VERSION_QUERY).one()
    version = tuple(row)
    s.info["library_version"] = (s.get_transaction(), version)
    return version


def cached_count(s: Session, stmt: Select[Any] | Callable[[], Select[Any]], key: tuple[object, ...],
                 ttl: float = 30.0) -> int:
    """``count(*)`` of ``stmt`` (a count reads every row it counts), reused while the
    :func:`library_version` is the same, for at most ``ttl`` seconds (watch progress,
    for "unwatched" counts, does not change the version). ``stmt`` may be a function
    that builds it, called only on a miss. The cache is per process."""
    now = time.monotonic()
    version = library_version(s)
    with _COUNTS_LOCK:
        hit = _COUNTS.get(key)
    if hit is not None and now - hit[0] < ttl and hit[1] == version:
        return hit[2]
    query = stmt if isinstance(stmt, Select) else stmt()
    total = int(s.connection().scalar(select(func.count()).select_from(query.subquery())) or 0)
    with _COUNTS_LOCK:
        if len(_COUNTS) > 1000:
            _COUNTS.clear()
        _COUNTS[key] = (now, version, total)
    return total


def remember_count(key: tuple[object, ...], s: Session, total: int) -> int:
    """Keep ``total`` as the :func:`cached_count` of ``key`` (a query that read every
    row anyway knows it); returns it."""
    version = library_version(s)
    with _COUNTS_LOCK:
        if len(_COUNTS) > 1000:
            _COUNTS.clear()
        _COUNTS[key] = (time.monotonic(), version, total)
    return total


def get_media_file(s: Session, file_id: int) -> MediaFile:
    mf = s.scalar(
        select(MediaFile).where(MediaFile.id == file_id).options(selectinload(MediaFile.source))
    )
    if mf is None:
        raise NotFound(f"no media file with id {file_id}")
    return mf
