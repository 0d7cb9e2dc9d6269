"""The trigram index of title searches (db/title_index.py, issue 14): a search through it
finds exactly what ``search_key LIKE '%key%'`` finds (accents, case, non-Latin
scripts, keys of 1–2 characters that have no trigram, narrow and common words) on
SQLite and PostgreSQL; every write of a title keeps it in step (ORM, Core, raw SQL,
renames, deletes); migration 0019s builds it for an existing library; start-up
rebuilds triggers a table rebuild dropped; the query plans use it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from library.test_query_plans import plans
from sqlalchemy import Connection, delete, insert, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie, SourceRow
from reelhouse.db.search_key import search_key
from reelhouse.library import grid
from reelhouse.library.grid import GridFilter, grid_page
from reelhouse.library.title_search import match_query, trigram_ids

from helpers import core_on, migrating

NOW = datetime(2026, 1, 1, tzinfo=UTC)
WORDS = ["Amélie", "Straße", "東京物語", "Spider-Man", "ﬁve", "night", "River", "Öko", "ÉLITE", "a", "b2",
         "Crème brûlée", "WALL·E", "Ölfeld", "ab"]


def _titles(n: int) -> list[str]:
    rng = random.Random(19)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3))) + (f" {i}" if i % 3 else "")
            for i in range(1, n + 1)]


def _queries(titles: list[str]) -> list[str]:
    rng = random.Random(20)
    keys = [search_key(t) for t in titles]
    out = ["a", "é", "ab", "B2", "ss", "東京", "東京物", "riv", "ÖKO", "spider man", "nightriver", "zzz", "!!!",
           "crème", "elite 1"]
    for _ in range(60):
        key = rng.choice(keys)
        start = rng.randrange(len(key))
        out.append(key[start : start + rng.randint(1, 7)])
    return out


def _fill(core: Core, titles: list[str]) -> None:
    with core.sessions() as s:
        s.execute(insert(SourceRow), [{"id": 1, "name": "disk", "kind": "local", "path": "/m", "tls": "none",
                                       "verify_tls": True, "created_at": NOW}])
        s.execute(insert(Movie), [{"id": i, "title": t, "match_key": f"m{i}", "needs_review": False,
                                   "locked": False, "created_at": NOW} for i, t in enumerate(titles, start=1)])
        s.execute(insert(MediaFile), [{"source_id": 1, "path": f"m/{i}.mkv", "size": 1, "kind": "movie",
                                       "movie_id": i, "first_seen": NOW, "last_seen": NOW}
                                      for i in range(1, len(titles) + 1)])
        s.commit()


def _found(core: Core, q: str) -> list[int]:
    with core.sessions() as s:
        page = grid_page(s, GridFilter(kind="movie", q=q), 1000)
        assert page.total == len(page.items)
        return sorted(i.id for i in page.items)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.requires_postgres)])
def core(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Core]:
    with core_on(request.param, tmp_path / "data", "rh_trgm") as c:
        yield c


def test_index_search_equals_the_key_substring(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    titles = _titles(240)
    _fill(core, titles)
    keys = {i: search_key(t) for i, t in enumerate(titles, start=1)}
    for window in (300, 8):  # 8: common keys take the sort index's walk (title_search.many_matches)
        monkeypatch.setattr(grid, "SEARCH_WINDOW", window)
        for q in _queries(titles):
            key = search_key(q)
            want = sorted(i for i, k in keys.items() if key in k) if key else \
                sorted(i for i, t in enumerate(titles, start=1) if q.lower() in t.lower())
            assert _found(core, q) == want, q


#: Queries with what the FTS5 query syntax or LIKE treat specially (quotes, ``%``, ``_``,
#: ``*``, ``-``, ``:``, parentheses, keywords), 1-2 characters, accents, case, scripts.
ODD_QUERIES = ['"night"', 'a"b', '""', "50%", "%", "_", "x_y", "ni%ht", "ni_ht", "night*", "-river", "night:river",
               "(night)", "NOT river", "night OR river", "night AND", "NEAR(a b)", "^night", "élite", "ÉLITE",
               "STRASSE", "straße", "東京物語", "ﬁve", "Crème Brûlée", "wall e", "wall·e", "b2", "é", "a", "ab"]


def _old_trigram_ids(conn: Connection, kind: str, pattern: str, limit: int) -> list[int] | None:
    """trigram_ids as it was before the phrase query: FTS5's LIKE."""
    if conn.dialect.name != "sqlite":
        return None
    sql = ("SELECT rowid FROM movies_fts WHERE search_key LIKE ? LIMIT ?" if kind == "movie" else
           "SELECT rowid FROM shows_fts WHERE search_key LIKE ? LIMIT ?")
    ids = [r[0] for r in conn.exec_driver_sql(sql, (pattern, limit + 1))]
    return ids if len(ids) <= limit else None


def test_phrase_lookup_finds_what_like_found(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """The phrase query (title_search.match_query) gives the same pages, items in the
    same order, as FTS5's LIKE did, for narrow and common keys and odd queries."""
    titles = [*_titles(240), 'The "Night" River', "50% Off", "x_y z", "NEAR Dark", "OR AND NOT"]
    _fill(core, titles)

    def pages(q: str) -> list[list[tuple[str, int]]]:
        out = []
        for window in (300, 8):
            monkeypatch.setattr(grid, "SEARCH_WINDOW", window)
            with core.sessions() as s:
                page = grid_page(s, GridFilter(q=q), 1000)
                out.append([(i.type, i.id) for i in page.items] + [("total", page.total)])
        return out

    for q in ODD_QUERIES + _queries(titles):
        now = pages(q)
        with monkeypatch.context() as m:
            m.setattr(grid, "trigram_ids", _old_trigram_ids)
            before = pages(q)
        assert now == before, q
    if core.engine.dialect.name == "sqlite":  # the lookup itself, whole keys of every title
        with core.engine.connect() as conn:
            for key in {search_key(t) for t in titles} | {search_key(q) for q in ODD_QUERIES}:
                if len(key) >= 3:
                    pattern = f"%{key}%"
                    assert sorted(trigram_ids(conn, "movie", pattern, 10_000) or []) == \
                        sorted(_old_trigram_ids(conn, "movie", pattern, 10_000) or []), key


def test_match_query_quotes_the_key() -> None:
    assert match_query("%nightriver%") == '"nightriver"'
    assert match_query('%a"b%') == '"a""b"'


def test_every_write_keeps_the_index(core: Core) -> None:
    _fill(core, ["Amélie", "Léon", "Zodiac"])
    with core.sessions() as s:  # the ORM: a new film, a renamed one
        s.add(Movie(id=10, title="Straße der Nacht", match_key="m10"))
        s.add(MediaFile(source_id=1, path="m/10.mkv", size=1, kind="movie", movie_id=10, first_seen=NOW,
                        last_seen=NOW))
        movie = s.get(Movie, 2)
        assert movie is not None
        movie.title = "Léon: The Professional"
        s.commit()
    assert _found(core, "strasse") == [10] and _found(core, "professional") == [2] and _found(core, "leon") == [2]
    with core.sessions() as s:  # Core and raw SQL writes of the key; a delete
        s.execute(update(Movie).where(Movie.id == 1).values(title="Amélie 2", search_key=search_key("Amélie 2")))
        s.execute(text("UPDATE movies SET search_key = 'zodiaque' WHERE id = 3"))
        s.execute(delete(MediaFile).where(MediaFile.movie_id == 10))
        s.execute(delete(Movie).where(Movie.id == 10))
        s.commit()
    assert _found(core, "amelie2") == [1] and _found(core, "zodiaque") == [3] and _found(core, "zodiac") == []
    assert _found(core, "strasse") == [] and _found(core, "nacht") == []
    if core.engine.dialect.name == "sqlite":  # the index itself, not only the rows it leads to
        with core.engine.connect() as conn:
            ids = conn.exec_driver_sql("SELECT rowid FROM movies_fts WHERE search_key LIKE '%nacht%'").all()
            assert ids == []


def test_migration_builds_the_index_for_an_existing_library(tmp_path: Path) -> None:
    from alembic import command

    with migrating(f"sqlite:///{tmp_path / 'db.sqlite'}") as (cfg, conn):
        command.upgrade(cfg, "0018d")
        conn.execute(text("INSERT INTO movies (id, title, match_key, created_at, needs_review, locked, search_key)"
                          " VALUES (1, 'Amélie', 'a', '2026-01-01', 0, 0, 'amelie')"))
        command.upgrade(cfg, "head")
        assert conn.exec_driver_sql("SELECT rowid FROM movies_fts WHERE search_key LIKE '%meli%'").all() == [(1,)]
        command.downgrade(cfg, "0018d")
        assert conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE name LIKE 'movies_fts%'").all() == []


def _triggers(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}


def test_start_up_rebuilds_what_a_table_rebuild_dropped(tmp_path: Path) -> None:
    """A batch migration recreates ``movies`` (copy, drop, rename): SQLite drops its
    triggers with it; the next start (migrate.upgrade → title_index.ensure) makes them
    again and refills the index."""
    with core_on("sqlite", tmp_path / "data") as core:
        _fill(core, ["Amélie"])
        with core.engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER movies_fts_ai")
            conn.execute(insert(Movie), [{"id": 2, "title": "Léon", "match_key": "m2", "needs_review": False,
                                          "locked": False, "created_at": NOW}])
        assert "movies_fts_ai" not in _triggers(core.engine)
    with core_on("sqlite", tmp_path / "data") as core:
        assert {"movies_fts_ai", "movies_fts_ad", "movies_fts_au"} <= _triggers(core.engine)
        with core.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT rowid FROM movies_fts WHERE search_key LIKE '%leon%'").all() == [(2,)]


def _page_plan(engine: Engine, q: str) -> str:
    """The plans of the film queries of the grid page for the search ``q`` (SQLite: the
    trigram lookup, then the page; PostgreSQL: the page, sequential scans priced out, so
    a small table shows what a big one gets)."""

    def page() -> None:
        with Session(engine) as s:
            grid_page(s, GridFilter(q=q), 50)

    out = [
        f"{sql}\n{plan}"
        for sql, plan in plans(engine, page, sorts=True)
        if sql.lstrip().startswith(("SELECT movies.id", "SELECT rowid FROM movies_fts")) and "LIMIT" in sql
    ]
    assert out
    return "\n\n".join(out)


def test_plans_use_the_trigram_index(core: Core) -> None:
    from synthetic_library import fill

    fill(core, movies=2000, shows=40)
    pg = core.engine.dialect.name == "postgresql"
    if pg:
        with core.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    with core.sessions() as s:
        assert grid_page(s, GridFilter(q="ilm 1777"), 50).total == 1
    plan = _page_plan(core.engine, "ilm 1777")
    if pg:
        assert "ix_movies_search_trgm" in plan, plan
    else:  # the ids from the FTS5 table, then each film read by its key, the few matches sorted
        fts, page = plan.split("\n\n")
        # "0:M…": FTS5's plan string for a MATCH constraint (a LIKE shows "L"): the phrase
        # is answered from the index's positions, no title row read to test a pattern
        assert "SCAN movies_fts VIRTUAL TABLE INDEX 0:M" in fts, plan
        assert "SEARCH movies USING INTEGER PRIMARY KEY" in page and "ix_movies_sort" not in page, plan
    # a key of two characters has no trigram: the sort index's walk, as before
    assert "ix_movies_sort" in _page_plan(core.engine, "il")
