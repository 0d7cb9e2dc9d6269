"""The library grid for big libraries: movies and shows with a present file, in title
order, a page at a time in SQL (issue 14: 100,000 files).

The order is ``sort_title, coalesce(year, 0), type (movie first), id`` (``sort_title``:
"The Matrix" as "matrix", "Élite" as "elite": :func:`reelhouse.db.search_key.sort_key`), read in order
from the ``ix_movies_sort`` / ``ix_shows_sort`` indexes (:mod:`reelhouse.db.indexes`).
Pages go by keyset (an opaque ``cursor`` after the last item; deep pages cost what the
first does) or by page number (OFFSET, for the first pages of a classic pager). The
A-Z jump (``letter``) starts the walk at a letter. Filters: type, title substring,
source, source kind, genre, year, resolution (by video height) and "unwatched" for a
user. A combined page of movies and shows merges one index walk of each table.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    any_,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Integer, Text

from reelhouse.db.limits import INT_MAX, INT_MIN, storable_text
from reelhouse.db.models import MediaFile, Movie, Show, SourceRow, WatchProgress
from reelhouse.errors import InvalidInput
from reelhouse.library.queries import GridItem, cached_count, remember_count
from reelhouse.library.title_search import (
    FOLDED,
    TRIGRAM,
    planned_with,
    search_order,
    search_parameter,
    title_condition,
    trigram_ids,
)

__all__ = ["RESOLUTIONS", "GridFilter", "GridPage", "genre_condition", "grid_page", "title_rows"]

#: Resolution filter → the video heights (pixels) it takes, [low, high).
RESOLUTIONS: dict[str, tuple[int, int]] = {
    "2160p": (1800, 100_000), "1080p": (900, 1800), "720p": (600, 900), "sd": (1, 600),
}
_RANK = {"movie": 0, "show": 1}
#: Matches a title search's first page reads at once (see grid_page).
SEARCH_WINDOW = 300
#: The statement key's ``q`` of a search by the ids the trigram index gave (SQLite).
_IDS = "ids"
#: Positions of the sort key and the year-or-0 in a row of _table_query.
_SORT, _YEAR0 = 5, 6


@dataclass(frozen=True)
class GridFilter:
    """What the grid shows. ``unwatched_by``: a user id (items with a file that user has
    not watched); ``letter``: "a"…"z" or "#" (titles not starting with a letter)."""

    kind: str | None = None
    q: str | None = None
    source_id: int | None = None
    source_kind: str | None = None
    genre: str | None = None
    year: int | None = None
    resolution: str | None = None
    unwatched_by: int | None = None
    letter: str | None = None
    source_ids: frozenset[int] | None = None  # per-user source grants: only these sources

    def check(self) -> None:
        if self.kind not in (None, "", "movie", "show"):
            raise InvalidInput("type must be 'movie' or 'show'")
        if self.source_kind not in (None, "", "ftp", "local"):
            raise InvalidInput("source kind must be 'ftp' or 'local'")
        if self.resolution not in (None, "", *RESOLUTIONS):
            raise InvalidInput(f"resolution must be one of {', '.join(RESOLUTIONS)}")
        if self.letter not in (None, "", "#") and not (len(self.letter) == 1 and self.letter.isalpha()):
            raise InvalidInput("letter must be one letter or '#'")


@dataclass
class GridPage:
    items: list[GridItem]
    total: int
    next_cursor: str | None


def encode_cursor(key: tuple[str, int, str, int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, ensure_ascii=False).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int, str, int]:
    """Raises InvalidInput for anything that is not a cursor this module made (also
    one whose values the database could not compare: :mod:`reelhouse.db.limits`)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        sort, year, kind, ident = raw
        if not (isinstance(sort, str) and storable_text(sort) and isinstance(kind, str) and kind in _RANK
                and _fits(year) and _fits(ident)):
            raise ValueError(raw)
    except (ValueError, TypeError, RecursionError) as exc:  # RecursionError: "[[[[…" nested too deep
        raise InvalidInput("cursor is not valid (use next_cursor of the previous page)") from exc
    return sort, year, kind, ident


def _fits(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and INT_MIN <= value <= INT_MAX


def _file_filter(f: GridFilter) -> list[ColumnElement[bool]]:
    """Conditions on a MediaFile for it to count (present, source, resolution, unwatched)."""
    conds: list[ColumnElement[bool]] = [MediaFile.missing_since.is_(None)]
    # "source_id + 0": no index on source_id may serve these terms. Inside the EXISTS
    # per title SQLite otherwise walks every file of the source for each title
    # (24 s for a grid page of 20,000 films as a user with grants; 0.02 s this way;
    # sqlite.org/optoverview.html, "Disqualifying WHERE clause terms")
    if f.source_id is not None:
        conds.append(MediaFile.source_id + 0 == f.source_id)
    if f.source_ids is not None:
        conds.append((MediaFile.source_id + 0).in_(sorted(f.source_ids)))
    if f.source_kind:
        conds.append(MediaFile.source_id.in_(select(SourceRow.id).where(SourceRow.kind == f.source_kind)))
    if f.resolution:
        low, high = RESOLUTIONS[f.resolution]
        conds.append(and_(MediaFile.height >= low, MediaFile.height < high))
    if f.unwatched_by is not None:
        conds.append(~exists().where(WatchProgress.media_file_id == MediaFile.id,
                                     WatchProgress.user_id == f.unwatched_by,
                                     WatchProgress.watched.is_(True)))
    return conds


def _table_query(kind: str, f: GridFilter, bound_q: bool = False,
                 ) -> tuple[Select[Any], ColumnElement[Any], ColumnElement[Any], Any]:
    """SELECT id, title, year, poster, needs_review, sort, year0 of movies or shows that
    pass ``f``; with the sort expressions and the table's id column. ``bound_q``: the
    title search's LIKE pattern is the bound parameter ``q_like``
    (:func:`~reelhouse.library.title_search.search_parameter`), so one statement serves
    every search."""
    model: Any = Movie if kind == "movie" else Show
    sort = model.sort_title  # db.search_key.sort_key: folded, no leading article
    # ``0`` written into the SQL, not bound: SQLite matches an expression index only
    # against the same expression (a bound ``coalesce(year, ?)`` walked the whole index
    # and sorted the rest in a temporary B-tree; deep pages read every row before them)
    year0 = func.coalesce(model.year, literal_column("0"))
    files = _file_filter(f)
    if kind == "movie":
        # a film's own files: its trailer alone does not make it a tile (extras: naming)
        has_file = exists().where(MediaFile.movie_id == Movie.id, MediaFile.kind != "extra", *files)
    else:  # an episode file names its show (db/episode_show.py): no seasons and episodes
        has_file = exists().where(MediaFile.show_id == Show.id, MediaFile.episode_id.is_not(None), *files)
    stmt = select(model.id, model.title, model.year, model.poster_image_id, model.needs_review,
                  sort.label("sort"), year0.label("year0")).where(has_file)
    if f.q == _IDS and bound_q:  # the ids the trigram index gave (grid_page, SQLite): ``q_ids``, a
        # JSON array read by json_each (one bound string: no expanding IN of up to 300
        # parameters, whose rendering cost SQLAlchemy ~0.3 ms a search)
        ids: Select[Any] = select(literal_column("value")).select_from(func.json_each(bindparam("q_ids", type_=Text)))
        stmt = stmt.where(model.id.in_(ids.scalar_subquery()))
    elif f.q and f.q.strip():  # bound: the key's q is the search's mode (see _statement_key)
        stmt = stmt.where(title_condition(model, f.q, bound=bound_q, mode=f.q if bound_q else None))
    if f.genre:
        stmt = stmt.where(genre_condition(model, f.genre))
    if f.year is not None:
        stmt = stmt.where(model.year == f.year)
    if f.letter:
        if f.letter == "#":  # digits, signs, and letters outside a-z
            stmt = stmt.where(or_(sort < "a", sort >= "{"))
        else:
            low = f.letter.lower()
            stmt = stmt.where(sort >= low, sort < chr(ord(low) + 1))
    return stmt, sort, year0, model.id


def title_rows(kind: str, f: GridFilter) -> Select[Any]:
    """The rows of ``kind`` ("movie", "show") that pass ``f``, as the grid reads them
    (columns id, title, year, poster_image_id, needs_review, sort, year0)."""
    return _table_query(kind, f)[0]


def genre_condition(model: Any, genre: str) -> ColumnElement[bool]:
    """One of the item's genres is ``genre``, whole and in any ASCII case ("drama" finds
    "Drama" on SQLite and PostgreSQL alike). The genres column is JSON text
    (``["Drama", "Science Fiction"]``, non-ASCII as ``\\u`` escapes): the quoted genre is
    looked for in it, with LIKE's own ``%``, ``_`` and ``\\`` escaped so that a genre
    "%" is a genre named "%", not every title."""
    quoted = json.dumps(genre).lower()
    pattern = quoted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(cast(model.genres, Text)).like(f"%{pattern}%", escape="\\")


def _statement_key(f: GridFilter) -> GridFilter:
    """``f`` as the statement caches key it: a search's words are a bound parameter,
    and ``q`` says how they compare (title_search.search_parameter's mode: the trigram
    index, the folded key alone, or as typed)."""
    if not (f.q and f.q.strip()):
        return replace(f, q=None)
    return replace(f, q=search_parameter(f.q)[0])


def _relation(kind: str, cursor: tuple[str, int, str, int] | None) -> str:
    """How rows of ``kind`` follow the cursor: "" (no cursor), "gt3" (same type: after
    (sort, year0, id)), "ge2" (this type ranks after the cursor's: same title and year
    come after), "gt2" (it ranks before)."""
    if cursor is None:
        return ""
    if cursor[2] == kind:
        return "gt3"
    return "ge2" if _RANK[kind] > _RANK[cursor[2]] else "gt2"


def _page_statement(kind: str, f: GridFilter, relation: str, bounded: bool = False) -> Select[Any]:
    """The page query of ``kind`` for ``f``, with the cursor (``c_sort``, ``c_year``,
    ``c_id``) and the row limit (``lim``) as bound parameters: one statement object
    serves every page of a filter (SQLAlchemy then skips building it and its cache key).
    ``bounded``: rows up to the sort key ``c_hi`` only."""
    stmt, sort, year0, ident = _table_query(kind, f, bound_q=True)
    if bounded:
        stmt = stmt.where(sort <= bindparam("c_hi", type_=Text))
    c_sort, c_year = bindparam("c_sort", type_=Text), bindparam("c_year", type_=Integer)
    if relation == "gt3":
        stmt = stmt.where(tuple_(sort, year0, ident) > tuple_(c_sort, c_year, bindparam("c_id", type_=Integer)))
    elif relation == "ge2":
        stmt = stmt.where(tuple_(sort, year0) >= tuple_(c_sort, c_year))
    elif relation == "gt2":
        stmt = stmt.where(tuple_(sort, year0) > tuple_(c_sort, c_year))
    if relation:  # implied by the row comparison, but a range SQLite walks the index from
        stmt = stmt.where(sort >= c_sort)  # (it does not range-scan an expression index by a row value)
    order = search_order(sort, TRIGRAM if f.q == _IDS else f.q)  # a search by ids sorts its few rows
    limit: Any = bindparam("lim", type_=Integer)
    if f.q == TRIGRAM:  # PostgreSQL plans a trigram search with its pattern and limit (title_search)
        limit = planned_with(limit)
    return stmt.order_by(order, year0, ident).limit(limit)


_STATEMENTS: dict[tuple[object, ...], Any] = {}


def _statement(key: tuple[object, ...], build: Any) -> Any:
    """A statement built once per key (statements are immutable: threads share them)."""
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        if len(_STATEMENTS) > 512:
            _STATEMENTS.clear()
        stmt = _STATEMENTS[key] = build()
    return stmt


def grid_page(s: Session, f: GridFilter, limit: int, cursor: str | None = None,
              offset: int = 0) -> GridPage:
    """One page of the grid: ``limit`` items after ``cursor`` (or after ``offset``
    items), the total for ``f`` and the cursor of the next page (None at the end)."""
    f.check()
    after = decode_cursor(cursor) if cursor else None
    kinds = [k for k in ("movie", "show") if f.kind in (None, "", k)]
    rows: list[tuple[tuple[str, int, int, int], Any, str]] = []
    fetch = limit + offset + 1
    if after is None and f.q and f.q.strip():
        # a title search scans the index anyway: read up to SEARCH_WINDOW matches at
        # once, so that a narrow search needs no count query (a scan of its own)
        fetch = max(fetch, SEARCH_WINDOW)
    params: dict[str, Any] = {"lim": fetch}
    if f.q and f.q.strip():
        params["q_like"] = search_parameter(f.q)[1]
    key_f = _statement_key(f)
    if after is not None:
        params.update(c_sort=after[0], c_year=after[1], c_id=after[3])
    counts: dict[str, int] = {}
    # a cursor page needs no row of the second type past the first type's last row
    # (sort keys above it rank after a full page): ``c_hi`` bounds its index walk
    upper: str | None = None
    for kind in kinds:
        relation = _relation(kind, after)
        kind_f, kind_params = key_f, {k: v for k, v in params.items() if k != "c_id" or relation == "gt3"}
        if upper is not None:
            kind_params["c_hi"] = upper
        if key_f.q == TRIGRAM:
            ids = trigram_ids(s.connection(), kind, params["q_like"], SEARCH_WINDOW)
            if ids is not None:  # SQLite, a narrow search: the page of those films
                kind_f, kind_params["q_ids"] = replace(key_f, q=_IDS), json.dumps(ids)
                del kind_params["q_like"]
            elif s.connection().dialect.name == "sqlite":  # common words: the sort index's walk meets them soon
                kind_f = replace(key_f, q=FOLDED)
        bounded = upper is not None
        stmt = _statement(("page", kind, kind_f, relation, bounded),
                          lambda kind=kind, relation=relation, kind_f=kind_f, bounded=bounded:
                          _page_statement(kind, kind_f, relation, bounded))
        found = [] if kind_params.get("q_ids") == "[]" else s.connection().execute(stmt, kind_params).all()
        if after is None and len(found) < fetch:  # the whole of this type: its own count
            counts[kind] = remember_count(("grid", kind, f), s, len(found))
        if after is not None and key_f.q is None and len(found) == fetch:
            upper = found[-1][_SORT]
        rank = _RANK[kind]  # rows by position (_table_query's columns): a Row's attribute costs more
        rows += [((r[_SORT], r[_YEAR0], rank, r[0]), r, kind) for r in found]
    rows.sort(key=lambda x: x[0])
    window = rows[offset : offset + limit + 1]
    more = len(window) > limit
    window = window[:limit]
    items = [GridItem(kind, r[0], r[1], r[2], poster_image_id=r[3], needs_review=bool(r[4]))
             for _, r, kind in window]
    _fill_sources(s, items, f)
    next_cursor = None
    if more and window:
        key, _, kind = window[-1]
        next_cursor = encode_cursor((key[0], key[1], kind, key[3]))
    return GridPage(items, _total(s, f, kinds, counts), next_cursor)


def _total(s: Session, f: GridFilter, kinds: list[str], known: dict[str, int]) -> int:
    total = 0
    for kind in kinds:
        if kind in known:
            total += known[kind]
            continue
        total += cached_count(s, lambda kind=kind: _table_query(kind, f)[0],  # type: ignore[misc]
                              ("grid", kind, f))
    return total


def _sources_statement(kind: str, f: GridFilter, sqlite: bool, param: str = "ids") -> Any:
    """Source kind, source id, file count and count of the files without a probe error
    per owner (movie or show) of the ids in the parameter ``ids``, for ``f``: on SQLite a JSON array of the ids (read by
    ``json_each``), on PostgreSQL a list (an ``int[]`` compared with ``= ANY``). One
    bound value either way: an expanding ``IN`` of up to 60 parameters was rendered
    again by SQLAlchemy for each page, and each length was a statement of its own for
    the database to prepare (issue 14: the sources of a deep page of a 100,000-file
    SQLite library took 0.89 ms of CPU that way, 0.42-0.58 ms this way; see
    benchmarks/README.md, "What makes the closed-loop tail"). ``param``: the parameter's
    name. Columns: owner, source kind, source id, files, good files; ordered by source id."""
    files = _file_filter(f)

    def owner_in(column: Any) -> Any:
        if sqlite:
            return column.in_(select(literal_column("value")).select_from(
                func.json_each(bindparam(param, type_=Text))).scalar_subquery())
        return column == any_(bindparam(param, type_=ARRAY(Integer)))

    # per owner and source id over the files alone, then the source's kind for each of
    # those few groups: grouped by the columns of ix_media_files_show_present (show_id,
    # missing_since, source_id, episode_id, probe_error), a page's shows are counted from
    # the index alone and in its order, no sort for the grouping, no join a file
    # (20 shows of 80 files, SQLite: 0.88 ms through seasons and episodes, 0.17 ms so)
    owner: Any
    if kind == "movie":
        owner, own = MediaFile.movie_id, MediaFile.kind != "extra"  # a trailer alone is not a copy
    else:  # the episode files by their own show_id (db/episode_show.py)
        owner, own = MediaFile.show_id, MediaFile.episode_id.is_not(None)
    groups = (select(owner.label("owner"), MediaFile.source_id.label("sid"), func.count().label("files"),
                     (func.count() - func.count(MediaFile.probe_error)).label("good"))
              .where(owner_in(owner), own, *files)
              .group_by(owner, MediaFile.source_id)).subquery("g")
    return (select(groups.c.owner, SourceRow.kind.label("skind"), groups.c.sid, groups.c.files, groups.c.good)
            .join(SourceRow, SourceRow.id == groups.c.sid).order_by(groups.c.sid))


def _both_sources_statement(f: GridFilter, sqlite: bool) -> Any:
    """:func:`_sources_statement` of films (``movie_ids``) and of shows (``show_ids``)
    in one statement (``UNION ALL``, a sixth column: 0 a film's row, 1 a show's),
    ordered by source id: a page of both types asks once (a statement's own cost in
    SQLAlchemy and, on PostgreSQL, a round trip; issue 14)."""
    movies = _sources_statement("movie", f, sqlite, "movie_ids").order_by(None).add_columns(
        literal_column("0").label("rank"))
    shows = _sources_statement("show", f, sqlite, "show_ids").order_by(None).add_columns(
        literal_column("1").label("rank"))
    return union_all(movies, shows).order_by(literal_column("sid"))


def _fill_sources(s: Session, items: list[GridItem], f: GridFilter) -> None:
    """Source kinds, source ids, file counts and good-file counts of the page's items
    (one query a type). The good files (present, on a source of ``f``, no
    ``probe_error``) are a subset of what :func:`~reelhouse.library.queries.unplayable_reasons`
    looks for with ``f``'s sources, so a title with one is playable and needs no query of
    its own there (issue 14: two statements a page, half a grid page's CPU)."""
    by_key = {(i.type, i.id): i for i in items}
    key_f = replace(f, q=None)  # the files' conditions only
    movies = [i.id for i in items if i.type == "movie"]
    shows = [i.id for i in items if i.type == "show"]
    if not (movies or shows):
        return
    conn = s.connection()
    sqlite = conn.dialect.name == "sqlite"
    rows: Any
    if movies and shows:
        stmt = _statement(("sources", "both", key_f, sqlite), lambda: _both_sources_statement(key_f, sqlite))
        rows = conn.execute(stmt, {"movie_ids": json.dumps(movies) if sqlite else movies,
                                   "show_ids": json.dumps(shows) if sqlite else shows})
    else:
        kind, ids = ("movie", movies) if movies else ("show", shows)
        stmt = _statement(("sources", kind, key_f, sqlite), lambda: _sources_statement(kind, key_f, sqlite))
        rank = _RANK[kind]
        rows = ((*r, rank) for r in conn.execute(stmt, {"ids": json.dumps(ids) if sqlite else ids}))
    for owner, skind, sid, count, good, rank in rows:
        item = by_key[("movie" if rank == 0 else "show", owner)]
        item.file_count += int(count)
        item.good_files += int(good or 0)
        if skind not in item.source_kinds:
            item.source_kinds.append(skind)
        if sid not in item.source_ids:
            item.source_ids.append(sid)
