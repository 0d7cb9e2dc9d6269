"""The Jellyfin API's title search (``SearchTerm`` on Items, ``Search/Hints``) asks
SQLite's FTS5 trigram table for the key as one phrase (``MATCH '"key"'``), as the web
API's grid does (library/title_search.py ``match_query``), not by FTS5's ``LIKE``: the
same titles and counts, in the same order, for narrow and common keys and odd queries
(quotes, ``%``, ``_``, FTS5 keywords, accents, scripts), on SQLite and PostgreSQL
(where the GIN index serves the LIKE as before)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from library.test_title_index import ODD_QUERIES, _fill, _queries, _titles
from sqlalchemy import ColumnElement

from reelhouse.core import Core
from reelhouse.jellyfin import query
from reelhouse.jellyfin.paging import count, page
from reelhouse.jellyfin.query import ItemQuery, arms
from reelhouse.library import title_search

from helpers import core_on


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.requires_postgres)])
def core(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Core]:
    with core_on(request.param, tmp_path / "data", "rh_jfphrase") as c:
        yield c


def _like_condition(model: Any, text: str, bound: bool = False, mode: str | None = None,
                    phrase: bool = False) -> ColumnElement[bool]:
    """title_condition as the Jellyfin API called it before: FTS5's LIKE."""
    return title_search.title_condition(model, text, bound, mode)


def test_search_term_asks_the_phrase_and_finds_what_like_found(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    titles = [*_titles(240), 'The "Night" River', "50% Off", "x_y z", "NEAR Dark", "OR AND NOT"]
    _fill(core, titles)

    def found(q: str) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        for start, limit in ((0, None), (3, 5)):
            iq = ItemQuery(user_id=1, kinds={"movie"}, recursive=True, search=q, start=start, limit=limit)
            with core.sessions() as s:
                out.append((*page(s, iq), ("total", count(s, iq))))
        return out

    queries = ODD_QUERIES + _queries(titles)
    now = {q: found(q) for q in queries}
    with monkeypatch.context() as m:
        m.setattr(query, "title_condition", _like_condition)
        before = {q: found(q) for q in queries}
    for q in queries:
        assert now[q] == before[q], q
    assert sum(1 for q in queries if now[q][0][-1][1]) > len(queries) // 2  # most queries find titles

    if core.engine.dialect.name == "sqlite" and title_search.SQLITE_TRIGRAM:
        (_kind, stmt, _order), = arms(ItemQuery(user_id=1, kinds={"movie"}, recursive=True, search="night river"))
        sql = str(stmt.compile(core.engine))
        assert "movies_fts MATCH" in sql and "search_key LIKE" not in sql, sql
