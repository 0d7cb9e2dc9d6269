"""The library's hot read paths as plain rows (issue 14: 100,000 files, 20 clients).

The API's show page, media-file pages and title lists read here: SQLAlchemy Core
selects of just the columns the ``…Public`` schemas show, joined in SQL (a show page
is three queries: the show, its present episode files with their seasons and episodes
in one join, its extras), handed back as dicts that the schemas of
:mod:`reelhouse.api.schemas.library` validate once (no ORM objects, no lazy loads).
Only files that are not missing count, as in :mod:`reelhouse.library.queries`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import Integer, Text

from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show, SourceRow
from reelhouse.db.models.base import UTCDateTime
from reelhouse.errors import NotFound
from reelhouse.library.queries import cached_count, decode_file_cursor, encode_file_cursor

__all__ = ["FILE_COLUMNS", "file_rows", "media_files_page", "show_detail", "title_page"]

#: The columns of a :class:`~reelhouse.api.schemas.MediaFilePublic` (the source's name
#: and kind come from a join with ``sources``), by the keys the schema reads.
FILE_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("id", MediaFile.id), ("source_id", MediaFile.source_id), ("source_name", SourceRow.name),
    ("source_kind", SourceRow.kind), ("path", MediaFile.path), ("size", MediaFile.size),
    ("mtime", MediaFile.mtime), ("kind", MediaFile.kind), ("container", MediaFile.container),
    ("duration", MediaFile.duration), ("video_codec", MediaFile.video_codec),
    ("audio_codec", MediaFile.audio_codec), ("width", MediaFile.width), ("height", MediaFile.height),
    ("bitrate", MediaFile.bitrate), ("probe_error", MediaFile.probe_error),
    ("missing_since", MediaFile.missing_since), ("movie_id", MediaFile.movie_id),
    ("episode_id", MediaFile.episode_id), ("show_id", MediaFile.show_id), ("extra_type", MediaFile.extra_type),
    ("version", MediaFile.version), ("part", MediaFile.part), ("first_seen", MediaFile.first_seen),
    ("last_seen", type_coerce(case(
        (and_(MediaFile.missing_since.is_(None), MediaFile.unlisted.is_(None),
              SourceRow.last_listed_at > MediaFile.last_seen), SourceRow.last_listed_at),
        else_=MediaFile.last_seen), UTCDateTime)),  # as MediaFile.seen
)
_FILE_COLS = tuple(c for _, c in FILE_COLUMNS)
_N_FILE = len(FILE_COLUMNS)

_TITLE_COLUMNS = ("id", "title", "year", "overview", "genres", "rating", "tmdb_id", "imdb_id",
                  "poster_image_id", "backdrop_image_id", "match_confidence", "needs_review", "locked")


def _file(v: Sequence[Any]) -> dict[str, Any]:
    """A row of :data:`FILE_COLUMNS` as the JSON object ``MediaFilePublic`` writes: its
    keys in the schema's order, ``name`` (the path's last part) and ``missing`` derived,
    ``mtime`` and ``duration`` as floats (api/library_json.py writes it as it is)."""
    mtime, duration, missing_since = v[6], v[9], v[16]
    return {
        "id": v[0], "source_id": v[1], "source_name": v[2], "source_kind": v[3], "path": v[4],
        "name": v[4].rpartition("/")[2], "size": v[5], "mtime": None if mtime is None else float(mtime),
        "kind": v[7], "container": v[8], "duration": None if duration is None else float(duration),
        "video_codec": v[10], "audio_codec": v[11], "width": v[12], "height": v[13], "bitrate": v[14],
        "probe_error": v[15], "missing": missing_since is not None, "movie_id": v[17], "episode_id": v[18],
        "show_id": v[19], "extra_type": v[20], "version": v[21], "part": v[22], "first_seen": v[23],
        "last_seen": v[24],
    }


def file_rows(s: Session, stmt: Select[Any], params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The files ``stmt`` (a select of :data:`FILE_COLUMNS`) finds, as dicts in the
    shape of ``MediaFilePublic`` (:func:`_file`). Run on the
    session's connection: plain rows, none of the ORM's result machinery."""
    return [_file(r) for r in s.connection().execute(stmt, params).all()]  # all(): one fetchall, not a fetch a row


def _files_select() -> Select[Any]:
    return select(*_FILE_COLS).join(SourceRow, SourceRow.id == MediaFile.source_id)


_STATEMENTS: dict[tuple[object, ...], Any] = {}


def _statement(key: tuple[object, ...], build: Callable[[], Any]) -> Any:
    """A statement built once per key, its values bound parameters (statements are
    immutable: threads share them; SQLAlchemy then skips building them and their cache
    keys, about a third of a small request's SQL cost)."""
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = build()
    return stmt


def _title_row(s: Session, model: Any, ident: int) -> dict[str, Any] | None:
    stmt = _statement(("title", model), lambda: select(*(getattr(model, c) for c in _TITLE_COLUMNS))
                      .where(model.id == bindparam("ident", type_=Integer)))
    row = s.connection().execute(stmt, {"ident": ident}).first()
    return dict(zip(_TITLE_COLUMNS, row, strict=True)) if row is not None else None


def _show_files() -> Any:
    """A show's present files, episode files and extras in one statement, read by their
    own ``show_id`` (db/episode_show.py; ``ix_media_files_show_present``), each episode
    file with its season and episode (NULL for an extra); seasons and episodes by
    number, files by id (extras first on SQLite, last on PostgreSQL: NULLs sort so)."""
    return (
        select(Season.id, Season.number, Season.poster_image_id, Episode.id, Episode.number, Episode.title,
               Episode.last_number, Episode.air_date, Episode.overview, Episode.still_image_id, *_FILE_COLS)
        .select_from(MediaFile)
        .join(SourceRow, SourceRow.id == MediaFile.source_id)
        .outerjoin(Episode, Episode.id == MediaFile.episode_id)
        .outerjoin(Season, Season.id == Episode.season_id)
        .where(MediaFile.show_id == bindparam("show_id", type_=Integer), MediaFile.missing_since.is_(None),
               or_(MediaFile.episode_id.is_not(None), MediaFile.kind == "extra"))
        .order_by(Season.number, Episode.number, MediaFile.id)
    )


def show_detail(s: Session, show_id: int) -> dict[str, Any]:
    """A show with its seasons, episodes and their present files (seasons and episodes
    by number, files by id) and its present extras (by path), in the shape of
    ``ShowPublic``. Two statements: the show's row and its files (:func:`_show_files`).
    Raises NotFound."""
    show = _title_row(s, Show, show_id)
    if show is None:
        raise NotFound(f"no show with id {show_id}")
    seasons: list[dict[str, Any]] = []
    extras: list[dict[str, Any]] = []
    episode: dict[str, Any] | None = None
    rows = s.connection().execute(_statement(("show_files",), _show_files), {"show_id": show_id}).all()
    for r in rows:
        if r[0] is None:  # an extra (or an episode file whose episode went meanwhile)
            if r[10 + 7] == "extra":  # FILE_COLUMNS' "kind"
                extras.append(_file(r[10 : 10 + _N_FILE]))
            continue
        if not seasons or seasons[-1]["id"] != r[0]:
            seasons.append({"id": r[0], "number": r[1], "poster_image_id": r[2], "episodes": []})
            episode = None
        if episode is None or episode["id"] != r[3]:
            episode = {"id": r[3], "number": r[4], "title": r[5], "last_number": r[6], "air_date": r[7],
                       "overview": r[8], "still_image_id": r[9], "files": []}
            seasons[-1]["episodes"].append(episode)
        episode["files"].append(_file(r[10 : 10 + _N_FILE]))
    show["seasons"] = seasons
    show["extras"] = sorted(extras, key=lambda f: f["path"])
    return show


def media_files_page(
    s: Session, source_id: int | None, include_missing: bool, limit: int,
    cursor: str | None = None, offset: int = 0,
) -> tuple[list[dict[str, Any]], int, str | None]:
    """A page of media files (dicts of :data:`FILE_COLUMNS`) by (source, path) after
    ``cursor`` (keyset: the unique (source_id, path) index is read from the cursor on)
    or ``offset``; with the total (reused while the library does not change, see
    :func:`~reelhouse.library.queries.cached_count`) and the next page's cursor (None
    at the end). Raises InvalidInput for a cursor this module did not make."""
    conds: list[ColumnElement[bool]] = []
    if source_id is not None:
        conds.append(MediaFile.source_id == source_id)
    if not include_missing:
        conds.append(MediaFile.missing_since.is_(None))
    total = cached_count(s, lambda: select(MediaFile.id).where(*conds),
                         ("media_files", source_id, include_missing))
    params: dict[str, Any] = {"source_id": source_id, "lim": limit + 1, "off": 0 if cursor else offset}
    if cursor:
        params["after_source"], params["after_path"] = decode_file_cursor(cursor)
    stmt = _statement(("media_files", source_id is None, include_missing, bool(cursor)),
                      lambda: _files_page(source_id is None, include_missing, bool(cursor)))
    rows = file_rows(s, stmt, params)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_file_cursor(rows[-1]["source_id"], rows[-1]["path"]) if more and rows else None
    return rows, total, next_cursor


def _files_page(all_sources: bool, include_missing: bool, after: bool) -> Select[Any]:
    """A page of files by (source, path); bound: ``source_id`` (unless
    ``all_sources``), ``after_source`` and ``after_path`` (with ``after``), ``off``,
    ``lim``."""
    conds: list[ColumnElement[bool]] = []
    if not all_sources:
        conds.append(MediaFile.source_id == bindparam("source_id", type_=Integer))
    if not include_missing:
        conds.append(MediaFile.missing_since.is_(None))
    if after:
        conds.append(tuple_(MediaFile.source_id, MediaFile.path)
                     > tuple_(bindparam("after_source", type_=Integer), bindparam("after_path", type_=Text)))
    return (_files_select().where(*conds).order_by(MediaFile.source_id, MediaFile.path)
            .offset(bindparam("off", type_=Integer)).limit(bindparam("lim", type_=Integer)))


def _shown_condition(kind: str, allowed: Iterable[int] | None) -> ColumnElement[bool]:
    """A movie with an own present file / a show with an episode's present file (on
    the ``allowed`` sources only, when given)."""
    conds: list[ColumnElement[bool]] = [MediaFile.missing_since.is_(None)]
    if allowed is not None:  # "+ 0": off the source_id index (see grid._file_filter)
        conds.append((MediaFile.source_id + 0).in_(sorted(allowed)))
    if kind == "movie":
        return exists().where(MediaFile.movie_id == Movie.id, MediaFile.kind != "extra", *conds)
    # an episode file names its show (db/episode_show.py)
    return exists().where(MediaFile.show_id == Show.id, MediaFile.episode_id.is_not(None), *conds)


def title_page(s: Session, kind: str, allowed: set[int] | None, offset: int, limit: int) -> tuple[list[int], int]:
    """Ids of one page of the movies or shows that have a present file (on ``allowed``
    sources, None: all), in the grid's order (``sort_title, coalesce(year, 0), id``,
    read from ``ix_movies_sort`` / ``ix_shows_sort``), and how many there are: the page
    in SQL, not the whole library in memory."""
    model: Any = Movie if kind == "movie" else Show
    shown = _shown_condition(kind, allowed)
    order = (model.sort_title, func.coalesce(model.year, literal_column("0")), model.id)  # see grid.py
    ids = list(s.scalars(select(model.id).where(shown).order_by(*order).offset(offset).limit(limit)))
    key = ("titles", kind, None if allowed is None else frozenset(allowed))
    total = cached_count(s, select(model.id).where(shown), key)
    return ids, total

