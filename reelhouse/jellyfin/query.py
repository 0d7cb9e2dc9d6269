"""The ``Items`` query: which titles, in which order, one page at a time.

An :class:`ItemQuery` is read from Jellyfin's arguments (``ParentId``, ``Recursive``,
``IncludeItemTypes``, ``SortBy``, ``SortOrder``, ``StartIndex``, ``Limit``,
``SearchTerm``, ``Filters``, ``Years``, ``Genres`` (names, ``|``-separated as in
Jellyfin, or commas; ASCII letters in any case), ``GenreIds`` (:mod:`.genres`), ``Ids``, ``SeriesId``,
``SeasonId``, ``IsPlayed``, ``IsFavorite``, ``MinDateLastSaved``, ``MinDateLastSavedForUser``;
``PersonIds``, ``StudioIds``, ``Tags`` …
match nothing: none are stored). Each item type is one SQL "arm" (movies,
series, seasons, episodes) that returns only ``(sort key, id)`` rows, ordered and cut
in SQL with the indexes; arms are merged in order (:mod:`.paging`) and only the page's
rows are then loaded in full (:mod:`.loader`). So a page costs what its rows cost, not the library's
size (jellyfin/jellyfin#15063: 20-50 s on 20k items).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, literal_column, or_, select
from sqlalchemy.orm import Session

from reelhouse.db.models import Episode, Favorite, MediaFile, Movie, Season, Show, WatchProgress
from reelhouse.db.search_key import sort_key
from reelhouse.errors import InvalidInput, NotFound
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.filters import (
    Narrowing,
    changed_for_user,
    narrowing_conditions,
    played_condition,
    read_narrowing,
)
from reelhouse.jellyfin.genres import visible_genres
from reelhouse.jellyfin.ordering import file_keys, order_by
from reelhouse.jellyfin.params import Args
from reelhouse.jellyfin.sqlorder import OrderedJoin
from reelhouse.jellyfin.visible import granted_files, playable_file
from reelhouse.library.grid import genre_condition
from reelhouse.library.title_search import literal_like, title_condition

__all__ = ["ARM_KINDS", "MAX_LIMIT", "ItemQuery", "arms", "parse_query", "resolve_genre_ids"]

#: Jellyfin type names (lowercase) → our kinds.
_TYPES = {"movie": "movie", "series": "show", "season": "season", "episode": "episode"}
ARM_KINDS = ("movie", "show", "season", "episode")
_FOLDERS = frozenset({"show", "season"})  # IsFolder=true of their DTOs
MAX_LIMIT = 100_000
#: Filters on what reelhouse does not store (people, studios, tags, official and critic
#: ratings, music): no title has any.
_NONE_STORED = ("personids", "person", "studioids", "studios", "tags", "officialratings", "mincriticrating",
                "artists", "artistids", "albums", "albumids", "albumartistids", "contributingartistids")
#: Flags on what no reelhouse title has (trailers, theme media, extras, ratings, 3D,
#: locked metadata, TVDB ids, placeholders, missing episodes): ``true`` matches nothing.
_NEVER_TRUE = ("hastrailer", "hasthemesong", "hasthemevideo", "hasspecialfeature", "hasofficialrating",
               "hasparentalrating", "is3d", "islocked", "hastvdbid", "isplaceholder", "ismissing")
#: A literal 0, not a bound parameter: ``coalesce(year, ?)`` would not match the
#: expression index ``coalesce(year, 0)`` and SQLite would sort the whole table.
_ZERO: ColumnElement[int] = literal_column("0")


@dataclass
class ItemQuery:
    """What an Items request asks for (see the module doc); ``kinds`` are ours."""

    user_id: int
    kinds: set[str] = field(default_factory=set)
    parent: ids.Ref | None = None
    recursive: bool = False
    sort: str = "sortname"
    descending: bool = False
    then: list[tuple[str, bool]] = field(default_factory=list)  # further SortBy keys: (key, descending)
    start: int = 0
    limit: int | None = None
    search: str | None = None
    name_prefix: str = ""  # NameStartsWith, as a sort key (db.search_key.sort_key)
    name_before: str = ""  # NameLessThan, as a sort key
    name_from: str = ""  # NameStartsWithOrGreater, as a sort key
    years: list[int] = field(default_factory=list)
    genres: list[str] = field(default_factory=list)
    genre_ids: list[str] = field(default_factory=list)  # GenreIds, as ids.genre_id gives them
    genre_names: list[str] | None = None  # GenreIds read as the names (resolve_genre_ids)
    only: dict[str, set[int]] | None = None  # Ids=…: kind → row ids
    played: bool | None = None
    resumable: bool = False
    favorite: bool | None = None
    root: bool = False  # no parent, not recursive: the user's views
    since: datetime | None = None  # MinDateLastSaved: titles with a file added since
    #: MinDateLastSavedForUser: titles with a file added since, or played, made a
    #: favourite or unfavourited by the user since
    since_user: datetime | None = None
    narrowing: Narrowing = field(default_factory=Narrowing)  # filters.py
    sources: frozenset[int] | None = None  # the user's granted sources (None: all)


def parse_query(args: Args, user_id: int, parent: str | None = None,
                default_kinds: set[str] | None = None) -> ItemQuery:
    """Read an :class:`ItemQuery`; ``default_kinds``: the kinds without
    ``IncludeItemTypes`` (None: by the parent, as Jellyfin lists a folder); raises
    InvalidInput for unreadable values and NotFound for a ParentId that is not ours."""
    q = ItemQuery(user_id=user_id)
    pid = parent or args.text("parentid", 64) or args.text("seasonid", 64) or args.text("seriesid", 64)
    if pid:
        q.parent = ids.decode(pid, "view", "show", "season")
    q.recursive = bool(args.flag("recursive", False))
    wanted = {_TYPES[t] for t in args.lower_set("includeitemtypes") if t in _TYPES}
    if args.values("includeitemtypes") and not wanted:
        q.kinds = set()  # only types reelhouse does not have (BoxSet, Audio …)
    else:
        q.kinds = wanted or (set(default_kinds) if default_kinds is not None else _default_kinds(q))
    q.kinds -= {_TYPES[t] for t in args.lower_set("excludeitemtypes") if t in _TYPES}
    if any(args.values(name) for name in _NONE_STORED) or any(args.flag(name) for name in _NEVER_TRUE):
        q.kinds = set()  # titles with a person, studio, tag, trailer …: reelhouse stores none
    sorts, q.descending = order_by(args)
    if sorts:
        (q.sort, q.descending), q.then = sorts[0], sorts[1:]
    q.start = args.number("startindex", 0) or 0
    q.limit = args.number("limit", None, 0, MAX_LIMIT)
    q.search = args.text("searchterm", 200)
    # the alphabet bar: NameStartsWith=A, and NameLessThan=A for "#" (titles before A)
    q.name_prefix = sort_key(args.text("namestartswith", 200))
    q.name_before = sort_key(args.text("namelessthan", 200))
    q.name_from = sort_key(args.text("namestartswithorgreater", 200))
    q.years = [_year(y) for y in args.values("years")][:100]
    q.genres = [g.strip() for v in args.values("genres", 50) for g in v.split("|") if g.strip()][:50]
    for text in args.values("genreids", 50):
        try:  # malformed: 400; an id of something else: a genre no title has
            ids.decode(text, "genre")
        except NotFound:
            pass
        q.genre_ids.append(text.strip().replace("-", "").lower())
    filters = args.lower_set("filters")
    q.played = args.flag("isplayed")
    if "isplayed" in filters:
        q.played = True
    if "isunplayed" in filters:
        q.played = False
    q.resumable = "isresumable" in filters
    q.favorite = True if filters & {"isfavorite", "isfavoriteorlikes"} else args.flag("isfavorite")
    if filters & {"likes", "dislikes"}:
        q.kinds = set()  # reelhouse keeps no likes
    id_list = args.values("ids", 1000)
    if id_list:
        q.only = {}
        for text in id_list:
            ref = ids.decode(text)
            q.only.setdefault(ref.kind, set()).add(ref.id)
        q.kinds = (q.kinds | set(q.only)) & set(ARM_KINDS) if not wanted else q.kinds
    media = args.lower_set("mediatypes")
    if media:  # series and seasons have none (MediaType "Unknown"); films and episodes are Video
        q.kinds &= {"movie", "episode"} if "video" in media else set()
    folder = args.flag("isfolder")
    folder = True if "isfolder" in filters else False if "isnotfolder" in filters else folder
    if folder is not None:  # series and seasons are folders (IsFolder of their DTOs)
        q.kinds &= _FOLDERS if folder else set(ARM_KINDS) - _FOLDERS
    q.since = args.date("mindatelastsaved")
    q.since_user = args.date("mindatelastsavedforuser")
    q.narrowing = read_narrowing(args)
    q.root = q.parent is None and not q.recursive and not id_list and not wanted
    return q


def _default_kinds(q: ItemQuery) -> set[str]:
    p = q.parent
    if p is None:
        return {"movie", "show"}
    if p.kind == "view":
        if p.id == 1:
            return {"movie"}
        return {"show", "season", "episode"} if q.recursive else {"show"}
    if p.kind == "show":
        return {"season", "episode"} if q.recursive else {"season"}
    return {"episode"}


# -- arms -------------------------------------------------------------------------------
def _present() -> ColumnElement[bool]:
    return playable_file()  # the lists' rule: jellyfin/visible.py


def _visible(q: ItemQuery, link: ColumnElement[bool]) -> Select[Any]:
    """The ids of the present files joined by ``link`` that the user sees."""
    visible = select(MediaFile.id).where(link, _present())
    return visible if q.sources is None else visible.where(granted_files(q.sources))


def _file_filter(q: ItemQuery, link: ColumnElement[bool]) -> ColumnElement[bool]:
    """EXISTS a present file joined by ``link`` — with ``MinDateLastSaved`` and the
    resumable filter (played or not: :func:`.filters.played_condition`)."""
    stmt = _visible(q, link)
    if q.since is not None:
        stmt = stmt.where(MediaFile.first_seen >= q.since)
    if q.resumable:
        stmt = stmt.join(WatchProgress, and_(WatchProgress.media_file_id == MediaFile.id,
                                             WatchProgress.user_id == q.user_id)).where(
            WatchProgress.watched.is_(False), WatchProgress.position > 0)
    return exists(stmt)


def _favorite(q: ItemQuery, kind: str, col: Any) -> ColumnElement[bool]:
    cond = exists(select(Favorite.id).where(Favorite.user_id == q.user_id,
                                            Favorite.item_kind == kind, Favorite.item_id == col,
                                            Favorite.is_favorite.is_(True)))
    return cond if q.favorite else ~cond


def _title_filters(q: ItemQuery, table: type[Movie] | type[Show]) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if q.search:
        out.append(title_condition(table, q.search, phrase=True))
    out += _name_range(q, table)
    if q.years:
        out.append(table.year.in_(q.years))
    return out + _genre_filters(q, table)


def _genre_filters(q: ItemQuery, table: type[Movie] | type[Show]) -> list[ColumnElement[bool]]:
    """``Genres`` (any of the names) and ``GenreIds`` (any of the ids) on ``table``'s
    genres (a season's or an episode's are its series')."""
    out: list[ColumnElement[bool]] = []
    if q.genres:
        out.append(or_(*[genre_condition(table, g) for g in q.genres]))
    if q.genre_ids:
        names = q.genre_names or []
        out.append(or_(*[genre_condition(table, g) for g in names]) if names else false())
    return out


def resolve_genre_ids(s: Session, q: ItemQuery) -> None:
    """Read ``q.genre_ids`` as names: those of the genres the user can see
    (``q.sources``); an id no visible title has matches nothing."""
    if q.genre_ids and q.genre_names is None:
        wanted = set(q.genre_ids)
        q.genre_names = [g.name for g in visible_genres(s, q.sources) if g.id in wanted]


def _name_range(q: ItemQuery, table: type[Movie] | type[Show]) -> list[ColumnElement[bool]]:
    """NameStartsWith / NameLessThan on the title's sort key (only letters, digits and
    spaces: a LIKE prefix needs no escaping)."""
    out: list[ColumnElement[bool]] = []
    if q.name_prefix:
        out.append(table.sort_title.like(q.name_prefix + "%"))
    if q.name_before:
        out.append(table.sort_title < q.name_before)
    if q.name_from:
        out.append(table.sort_title >= q.name_from)
    return out


def _arm(q: ItemQuery, kind: str) -> tuple[Select[Any], list[Any]] | None:
    """The arm's statement (``id`` first, then sort columns) and its order columns."""
    p = q.parent
    show_order = [Show.sort_title, func.coalesce(Show.year, _ZERO), Show.id]  # db/indexes.py: ix_shows_sort
    if kind == "movie":
        if p is not None and not (p.kind == "view" and p.id == 1):
            return None
        stmt = select(Movie.id).where(_file_filter(q, MediaFile.movie_id == Movie.id),
                                      *_title_filters(q, Movie))
        keys: dict[str, list[Any]] = {"datecreated": [Movie.created_at],
                "productionyear": [Movie.year], "premieredate": [Movie.year],
                "communityrating": [Movie.rating]}
        return _finish(q, kind, stmt, Movie.id, keys, [Movie.sort_title, func.coalesce(Movie.year, _ZERO)],
                       MediaFile.movie_id == Movie.id)
    if kind == "show":
        if p is not None and not (p.kind == "view" and p.id == 2):
            return None
        link = and_(MediaFile.episode_id == Episode.id, Episode.season_id == Season.id,
                    Season.show_id == Show.id)
        stmt = select(Show.id).where(_file_filter(q, link), *_title_filters(q, Show))
        keys = {"datecreated": [Show.created_at],
                "productionyear": [Show.year], "premieredate": [Show.year],
                "communityrating": [Show.rating]}
        return _finish(q, kind, stmt, Show.id, keys, show_order[:2], link)
    if kind == "season":
        link = and_(MediaFile.episode_id == Episode.id, Episode.season_id == Season.id)
        stmt = select(Season.id).join(Show, Show.id == Season.show_id).where(_file_filter(q, link))
        if p is not None and p.kind == "show":
            stmt = stmt.where(Season.show_id == p.id)
        elif p is not None and not (p.kind == "view" and p.id == 2):
            return None
        if q.search:
            stmt = stmt.where(title_condition(Show, q.search, phrase=True))
        stmt = stmt.where(*_name_range(q, Show), *_genre_filters(q, Show))
        order = [*show_order, Season.number]
        keys = {"indexnumber": [Season.number], "seriessortname": [Show.sort_title]}
        return _finish(q, kind, stmt, Season.id, keys, order, link)
    link = MediaFile.episode_id == Episode.id
    if p is None or p.kind == "view":  # the whole library: series in title order, no sort
        tables = OrderedJoin(OrderedJoin(Show.__table__, Season.__table__, Season.show_id == Show.id),
                             Episode.__table__, Episode.season_id == Season.id)
        stmt = select(Episode.id).select_from(tables).where(_file_filter(q, link))
    else:
        stmt = (select(Episode.id).join(Season, Season.id == Episode.season_id)
                .join(Show, Show.id == Season.show_id).where(_file_filter(q, link)))
    if p is not None and p.kind == "show":
        stmt = stmt.where(Season.show_id == p.id)
    elif p is not None and p.kind == "season":
        stmt = stmt.where(Episode.season_id == p.id)
    elif p is not None and not (p.kind == "view" and p.id == 2):
        return None
    if q.search:
        stmt = stmt.where(or_(func.lower(Episode.title).like(literal_like(q.search), escape="\\"),
                              title_condition(Show, q.search, phrase=True)))
    stmt = stmt.where(*_name_range(q, Show))
    if q.years:
        stmt = stmt.where(Show.year.in_(q.years))
    stmt = stmt.where(*_genre_filters(q, Show))
    first_seen = (select(func.min(MediaFile.first_seen)).where(MediaFile.episode_id == Episode.id)
                  .scalar_subquery())
    order = [*show_order, Season.number, Episode.number]
    keys = {"datecreated": [first_seen], "productionyear": [Show.year],
            "premieredate": [Episode.air_date], "seriessortname": [Show.sort_title],
            "parentindexnumber": [Season.number], "indexnumber": [Season.number, Episode.number]}
    return _finish(q, kind, stmt, Episode.id, keys, order, link)


def _finish(q: ItemQuery, kind: str, stmt: Select[Any], id_col: Any, keys: dict[str, list[Any]],
            name_order: list[Any], link: ColumnElement[bool]) -> tuple[Select[Any], list[Any]]:
    if q.played is not None:
        stmt = stmt.where(played_condition(q.user_id, q.sources, kind, q.played))
    if q.since_user is not None:
        stmt = stmt.where(changed_for_user(q.user_id, q.sources, kind, id_col, link, q.since_user))
    if q.narrowing.asked:
        files = select(MediaFile.id).where(link, _present())
        if q.sources is not None:
            files = files.where(granted_files(q.sources))
        stmt = stmt.where(*narrowing_conditions(q.narrowing, kind, id_col, files))
    if q.only is not None:
        stmt = stmt.where(id_col.in_(sorted(q.only.get(kind, set()))))
    if q.favorite is not None:
        stmt = stmt.where(_favorite(q, kind, id_col))
    if q.sort == "random":
        return stmt.add_columns(func.random()), [(func.random(), False)]
    order: list[tuple[Any, bool]] = []
    keys = {**file_keys(q.user_id, link), **keys}
    for key, desc in [(q.sort, q.descending), *q.then, ("sortname", q.descending)]:
        for col in name_order if key in ("sortname", "name") else keys.get(key, []):
            if not any(col is have for have, _desc in order):
                order.append((col, desc))
    order.append((id_col, q.descending))
    return stmt.add_columns(*(col for col, _desc in order)), order


def arms(q: ItemQuery) -> list[tuple[str, Select[Any], list[Any]]]:
    """The query's arms, one per kind asked that its parent can hold, in
    :data:`ARM_KINDS` order: ``(kind, statement, order)``, the statement selecting
    ``id`` then the sort columns, ``order`` its ``(column, descending)`` pairs (what
    :mod:`.paging` orders, cuts and merges by)."""
    out = []
    for kind in ARM_KINDS:
        if kind in q.kinds:
            built = _arm(q, kind)
            if built is not None:
                out.append((kind, *built))
    return out


def _year(text: str) -> int:
    """One value of ``Years``: 1 to 4 ASCII digits (``str.isdigit`` also takes '¹' and
    other scripts' digits, which ``int`` refuses or the database cannot compare).

    Raises:
        InvalidInput: anything else (a 400, as Jellyfin answers a value it cannot parse).
    """
    if not (text.isascii() and text.isdigit() and len(text) <= 4):
        raise InvalidInput(f"Years must hold years, not {text[:20]!r}")
    return int(text)
