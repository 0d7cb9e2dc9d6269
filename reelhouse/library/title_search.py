"""Title search conditions shared by the library grid, the title lists and the Jellyfin
API: the folded key of the words (:mod:`reelhouse.db.search_key`) anywhere in the
title's stored key; a query without any letter or digit ("!!!"), or with a sign glued
to a word ("C++", "C#"), is compared with the lower-case title as typed.

A key of three characters or more is looked up in the trigram index
(:mod:`reelhouse.db.title_index`): on SQLite the grid asks the FTS5 table for the ids
holding the key as one phrase (:func:`trigram_ids`: the key's trigrams at consecutive
positions, an exact substring test, so the result is the same as the LIKE on the key;
the Jellyfin API's search asks the same phrase inside its statement, ``phrase=True``;
other statements use the FTS5 table's LIKE), on PostgreSQL the GIN index serves the
same LIKE. Shorter keys have no trigram: they test the keys of the sort index, as
before."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import Boolean, Text

from reelhouse.db.search_key import search_pattern
from reelhouse.db.title_index import MIN_KEY, SQLITE_TRIGRAM

__all__ = [
    "FOLDED",
    "LITERAL",
    "TRIGRAM",
    "literal_like",
    "match_query",
    "planned_with",
    "search_order",
    "search_parameter",
    "title_condition",
    "trigram_ids",
]

#: How a search compares: the key through the trigram index, the key by LIKE alone (1–2
#: characters), the lower-case words as typed (no letter or digit).
TRIGRAM, FOLDED, LITERAL = "trigram", "folded", "literal"


class _KeyLike(ColumnElement[bool]):
    """``key LIKE pattern`` of a title table; on SQLite through the table's FTS5 trigram
    index: ``id IN (SELECT rowid FROM <table>_fts WHERE search_key LIKE pattern)``."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition as it stands (no "= 1" on SQLite)
    _traverse_internals = [("keycol", InternalTraversal.dp_clauseelement),
                           ("ident", InternalTraversal.dp_clauseelement),
                           ("pattern", InternalTraversal.dp_clauseelement)]

    def __init__(self, key: Any, ident: Any, pattern: Any) -> None:
        self.keycol, self.ident, self.pattern = key, ident, pattern


@compiles(_KeyLike)
def _key_like(element: _KeyLike, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.keycol, **kw)} LIKE {compiler.process(element.pattern, **kw)}"


@compiles(_KeyLike, "postgresql")
def _key_postgresql(element: _KeyLike, compiler: Any, **kw: Any) -> str:
    """PostgreSQL: ``key LIKE 'pattern'``, the pattern written into the statement when
    it runs (SQLAlchemy's ``literal_execute``, quoted by its PostgreSQL dialect), so that
    every plan of the statement is made with it. Only a plan that knows the pattern asks
    the trigram index (``ix_movies_search_trgm``); a generic plan of ``LIKE $n`` — what
    PostgreSQL runs for a statement prepared by psycopg after 5 runs on a connection
    (``plan_cache_mode`` auto), and for every statement of the read engine
    (db/engine.py, ``force_generic_plan``) — walked the whole sort index testing each
    title: 6.7 ms of the backend's CPU a search of 20,000 films, 1.2 ms so (issue 14,
    benchmarks/README.md "Plans of the hot reads on PostgreSQL")."""
    pattern = compiler.process(element.pattern, literal_execute=True, **kw)
    return f"{compiler.process(element.keycol, **kw)} LIKE {pattern}"


class _KeyPhrase(_KeyLike):
    """``key LIKE pattern`` of a title table; on SQLite through the table's FTS5 trigram
    index as one phrase (:func:`match_query`, what :func:`trigram_ids` asks):
    ``id IN (SELECT rowid FROM <table>_fts WHERE <table>_fts MATCH phrase)``."""

    inherit_cache = True
    _traverse_internals = [*_KeyLike._traverse_internals, ("phrase", InternalTraversal.dp_clauseelement)]

    def __init__(self, key: Any, ident: Any, pattern: Any, phrase: Any) -> None:
        super().__init__(key, ident, pattern)
        self.phrase = phrase


@compiles(_KeyLike, "sqlite")
@compiles(_KeyPhrase, "sqlite")
def _key_sqlite(element: _KeyLike, compiler: Any, **kw: Any) -> str:
    """SQLite: ``id IN (SELECT rowid FROM <table>_fts WHERE …)``, the FTS5 table asked
    for the key as one phrase (``MATCH``, a :class:`_KeyPhrase`) or by ``LIKE``; the
    plain ``LIKE`` on the key where SQLite has no trigram tokenizer."""
    if not SQLITE_TRIGRAM:
        return _key_like(element, compiler, **kw)
    fts = f"{element.keycol.table.name}_fts"  # the model's own table (db/title_index.py)
    if isinstance(element, _KeyPhrase):
        test = f"{fts} MATCH {compiler.process(element.phrase, **kw)}"
    else:
        test = f"{fts}.search_key LIKE {compiler.process(element.pattern, **kw)}"
    return f"{compiler.process(element.ident, **kw)} IN (SELECT rowid FROM {fts} WHERE {test})"  # noqa: S608 - a model's table


class _PlannedWith(ColumnElement[Any]):
    """A bound value; on PostgreSQL written into the statement (see :func:`planned_with`)."""

    inherit_cache = True
    _traverse_internals = [("value", InternalTraversal.dp_clauseelement)]

    def __init__(self, value: Any) -> None:
        self.value = value
        self.type = value.type


@compiles(_PlannedWith)
def _planned_with(element: _PlannedWith, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.value, **kw))


@compiles(_PlannedWith, "postgresql")
def _planned_with_postgresql(element: _PlannedWith, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.value, literal_execute=True, **kw))


def planned_with(value: Any) -> Any:
    """The bound parameter ``value`` (a ``bindparam``); on PostgreSQL written into the
    statement when it runs (SQLAlchemy's ``literal_execute``), as a trigram search's
    pattern is (:func:`_key_postgresql`): a title search's ``LIMIT``. With the pattern
    alone written in, a plan made without the limit's value (a generic plan: the read
    engine's, db/engine.py) still walked the sort index for searches with more than a
    few matches: 4.3 ms of the backend's CPU a search of 20,000 films, 1.3–1.5 ms with
    both (benchmarks/README.md, "Plans of the hot reads on PostgreSQL")."""
    return _PlannedWith(value)


class _Unindexed(ColumnElement[Any]):
    """``expr``; on SQLite ``+expr``, which no index serves (https://sqlite.org/optoverview.html,
    "Disqualifying WHERE clause terms"): an ORDER BY of a search then does not walk the
    sort index but reads the ids the trigram index gave and sorts those."""

    inherit_cache = True
    _traverse_internals = [("expr", InternalTraversal.dp_clauseelement)]

    def __init__(self, expr: Any) -> None:
        self.expr = expr
        self.type = expr.type


@compiles(_Unindexed)
def _unindexed(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.expr, **kw))


@compiles(_Unindexed, "sqlite")
def _unindexed_sqlite(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.expr, **kw)}"


def search_order(expr: Any, mode: str | None) -> Any:
    """The ORDER BY term ``expr`` of a statement searching in ``mode``: on SQLite, a
    trigram search sorts its matches instead of walking the sort index past every title."""
    return _Unindexed(expr) if mode == TRIGRAM and SQLITE_TRIGRAM else expr


def trigram_ids(conn: Connection, kind: str, pattern: str, limit: int) -> list[int] | None:
    """SQLite: the ids of the titles of ``kind`` ("movie", "show") holding the trigram
    search ``pattern`` (``%key%``, a key of :data:`MIN_KEY` characters or more), read
    from the FTS5 table, if there are at most ``limit`` (reading stops at ``limit + 1``);
    None when there are more (a page of common words is read faster by walking the sort
    index) or the database is not SQLite (PostgreSQL's planner weighs the GIN index
    against the sort index itself).

    The key is looked up as one phrase (:func:`match_query`), not with ``LIKE``: FTS5
    answers ``LIKE`` by reading each candidate's key from the title table again to test
    the pattern, a phrase from the positions the index holds (the trigrams of the key at
    consecutive positions: the key as a substring). Same ids, half the time: 0.40–0.45
    against 0.80 ms a search of two of the benchmark's words on 20,000 films
    (benchmarks/README.md, "Computed pages, CPU per request")."""
    if conn.dialect.name != "sqlite" or not SQLITE_TRIGRAM:
        return None
    sql = _MATCH_MOVIES if kind == "movie" else _MATCH_SHOWS
    ids = [r[0] for r in conn.exec_driver_sql(sql, (match_query(pattern), limit + 1)).fetchall()]
    return ids if len(ids) <= limit else None


_MATCH_MOVIES = "SELECT rowid FROM movies_fts WHERE movies_fts MATCH ? LIMIT ?"
_MATCH_SHOWS = "SELECT rowid FROM shows_fts WHERE shows_fts MATCH ? LIMIT ?"


def match_query(pattern: str) -> str:
    """The FTS5 query (https://sqlite.org/fts5.html#full_text_query_syntax) of the
    trigram search ``pattern`` (``%key%``): the key as one quoted phrase, ``"`` doubled.
    With the ``trigram`` tokenizer a phrase is the key's trigrams at consecutive
    positions, that is the key anywhere in a title's key: what ``LIKE`` finds. Both
    sides are case-folded by the tokenizer as well; the stored keys and the query's
    are folded already (:func:`reelhouse.db.search_key.search_key`)."""
    key = pattern[1:-1] if pattern.startswith("%") and pattern.endswith("%") else pattern
    return '"' + key.replace('"', '""') + '"'


def literal_like(query: str) -> str:
    """``query`` anywhere, lower-case, as a LIKE pattern with escape ``\\``."""
    text = query.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{text}%"


#: Signs that make a name of their own when glued to a word ("C++" is not "C", "C#" not
#: "C", "Disney+" not "Disney"); other punctuation separates words ("Spider-Man",
#: "M*A*S*H", "(500) Days of Summer") and is left out of the folded key.
_SIGNS = re.compile(r"\w[+#]|[+#]\w")


def search_parameter(query: str) -> tuple[str, str]:
    """``(mode, pattern)``: how the search compares (:data:`TRIGRAM`, :data:`FOLDED`,
    :data:`LITERAL`) and the value of the bound ``q_like`` of a statement made by
    :func:`title_condition` with ``bound=True`` and the same ``mode``.

    A query with a sign glued to a word (:data:`_SIGNS`: "C++", "C#") compares as
    typed, in any ASCII case: its folded key ("c") found every title with a "c". Only
    for an ASCII query: SQLite's ``lower()`` folds ASCII letters only, so an accented
    capital would match on one engine and not the other; such a query uses its key."""
    pattern = search_pattern(query)
    if pattern is None or (query.isascii() and _SIGNS.search(query)):
        return LITERAL, literal_like(query)
    return (TRIGRAM if len(pattern) - 2 >= MIN_KEY else FOLDED), pattern


def title_condition(model: Any, query: str, bound: bool = False,
                    mode: str | None = None, phrase: bool = False) -> ColumnElement[bool]:
    """``model`` (Movie or Show) whose title matches ``query``. ``bound``: the pattern is
    the bound parameter ``q_like`` (see :func:`search_parameter`; ``mode`` says which
    of the comparisons the statement makes), so one statement serves every search.
    ``phrase`` (not with ``bound``): a trigram search asks SQLite's FTS5 table for the
    key as one phrase (:func:`match_query`, as :func:`trigram_ids` does) rather than
    by its ``LIKE``: the same titles, read from the index's positions instead of each
    candidate's key (the Jellyfin API's ``SearchTerm``)."""
    found_mode, value = search_parameter(query)
    if mode is None:
        mode = found_mode
    pattern: Any = bindparam("q_like", type_=Text) if bound else literal(value, Text)
    if mode == TRIGRAM:
        if phrase and not bound:
            return _KeyPhrase(model.search_key, model.id, pattern, literal(match_query(value), Text))
        return _KeyLike(model.search_key, model.id, pattern)
    if mode == FOLDED:
        return model.search_key.like(pattern)  # type: ignore[no-any-return]
    return func.lower(model.title).like(pattern, escape="\\")
