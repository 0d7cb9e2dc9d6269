"""One page of an ``Items`` query, and how many items it matches in all.

:func:`page` runs the arms of an :class:`~reelhouse.jellyfin.query.ItemQuery` (one
SQL statement per item type, :func:`~reelhouse.jellyfin.query.arms`): one arm is
skipped and cut by the database; several are read in order and merged
(:class:`~reelhouse.jellyfin.ordering.MergeKey`), each cut at ``StartIndex + Limit``
rows. :func:`count` is ``TotalRecordCount``; :class:`Counts` keeps it a few seconds.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Column, Select, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from reelhouse.db.models import Movie, Show
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.ordering import MergeKey
from reelhouse.jellyfin.query import ItemQuery, arms, resolve_genre_ids

__all__ = ["Counts", "count", "page"]

_CHUNK = 500  # rows fetched at a time (yield_per)


def _nullable(col: Any) -> bool:
    """Whether an order column may hold NULL: a mapped column by its ``nullable``
    (``sort_title`` never is: the models fill it from the title, migration 0016 filled
    the rows before), a ``coalesce`` never (it ends in a literal here), anything else (a
    subquery) may."""
    if col is Movie.sort_title or col is Show.sort_title:
        return False
    expr = getattr(col, "expression", col)
    if isinstance(expr, Column):
        return bool(expr.nullable)
    return not (isinstance(expr, FunctionElement) and expr.name == "coalesce")


def _ordered(col: Any, desc: bool) -> Any:
    """``col`` ascending or descending with NULL lowest either way, written out (``NULLS
    FIRST`` ascending, ``NULLS LAST`` descending): SQLite's order, which
    :class:`.ordering.MergeKey` merges the arms by; PostgreSQL's default is the
    reverse (NULL highest, docs §7.5), which put a film without a year on the other
    end of the list than on SQLite. Left out for a column that holds no NULL, so its
    index still gives the order."""
    if not _nullable(col):
        return col.desc() if desc else col.asc()
    return col.desc().nulls_last() if desc else col.asc().nulls_first()


def _rows(s: Session, stmt: Select[Any], order: list[tuple[Any, bool]], n: int | None,
          skip: int = 0) -> Iterator[tuple[Any, ...]]:
    ordered = [_ordered(col, desc) for col, desc in order]
    stmt = stmt.order_by(*ordered)
    if n is not None:
        stmt = stmt.limit(n)
    if skip:
        stmt = stmt.offset(skip)
    yield from s.execute(stmt.execution_options(yield_per=_CHUNK))


def _keyed(kind: str, rows: Iterator[tuple[Any, ...]], descs: tuple[bool, ...]) -> Iterator[tuple[MergeKey, str, int]]:
    for r in rows:
        yield MergeKey(tuple(r[1:]), descs), kind, r[0]


def page(s: Session, q: ItemQuery) -> Iterator[ids.Ref]:
    """The refs of the requested page, in order (lazily: an unpaged query of 10,000
    items is read from the database as it is written out)."""
    resolve_genre_ids(s, q)
    built = arms(q)
    if len(built) == 1:  # one arm: the database skips and cuts (the indexes do the work)
        kind, stmt, order = built[0]
        for row in _rows(s, stmt, order, q.limit, q.start):
            yield ids.Ref(kind, row[0])  # type: ignore[arg-type]
        return
    need = None if q.limit is None else q.start + q.limit
    streams = [_keyed(kind, _rows(s, stmt, order, need), tuple(desc for _col, desc in order))
               for kind, stmt, order in built]
    merged = heapq.merge(*streams, key=lambda t: t[0])
    for n, (_key, kind, row_id) in enumerate(merged):
        if need is not None and n >= need:
            break
        if n >= q.start:
            yield ids.Ref(kind, row_id)  # type: ignore[arg-type]


def count(s: Session, q: ItemQuery) -> int:
    """TotalRecordCount: how many items match (all pages)."""
    total = 0
    resolve_genre_ids(s, q)
    for _kind, stmt, _order in arms(q):
        inner = stmt.with_only_columns(stmt.selected_columns[0]).subquery()
        total += int(s.scalar(select(func.count()).select_from(inner)) or 0)
    return total


class Counts:
    """TotalRecordCount per filter, kept ``ttl`` seconds (10 s): a client paging
    through a grid sends the same filter with every page, and counting 60,000 episodes
    costs more than serving the page. Filters on the user's own marks (played,
    resumable, favourite) are counted every time. Thread-safe; at most ``size`` kept."""

    def __init__(self, ttl: float = 10.0, size: int = 256) -> None:
        self.ttl = ttl
        self.size = size
        self._hits: dict[tuple[Any, ...], tuple[float, int]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(q: ItemQuery) -> tuple[Any, ...]:
        only = tuple(sorted((k, tuple(sorted(v))) for k, v in q.only.items())) if q.only is not None else None
        return (tuple(sorted(q.kinds)), q.parent, q.recursive, q.search, tuple(q.years),
                tuple(q.genres), tuple(q.genre_ids), q.name_prefix, q.name_before, q.name_from, only, q.since,
                tuple(sorted(q.sources)) if q.sources is not None else None, q.narrowing)

    def get(self, s: Session, q: ItemQuery, now: float | None = None) -> int:
        if q.played is not None or q.resumable or q.favorite is not None or q.since_user is not None:
            return count(s, q)
        key = self.key(q)
        now = time.monotonic() if now is None else now
        with self._lock:
            hit = self._hits.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = count(s, q)
        with self._lock:
            if len(self._hits) >= self.size:
                self._hits = {k: v for k, v in self._hits.items() if v[0] > now}
                if len(self._hits) >= self.size:
                    self._hits.clear()
            self._hits[key] = (now + self.ttl, value)
        return value

    def clear(self) -> None:
        """Forget every count (a mark changed what a personal filter matches)."""
        with self._lock:
            self._hits.clear()
