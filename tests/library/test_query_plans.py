"""The big-library queries use indexes (issue 14): the plans of the grid page (also a
deep keyset page and the A-Z jump; a page of shows' files by their own show_id), the
media-file keyset page, a show page (the ORM one and the API's, by the files' show_id),
the /movies and /shows pages and continue watching, by
``EXPLAIN QUERY PLAN`` on SQLite and ``EXPLAIN`` on PostgreSQL (with sequential scans
priced out, so a small test table shows what a big one gets); on PostgreSQL also the
generic plans the read engine runs them with (``plan_cache_mode = force_generic_plan``).
Also: keyset pages walk the whole grid and the whole file list, each item once."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from synthetic_library import fill

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.library import queries, views
from reelhouse.library.grid import GridFilter, grid_page

from helpers import core_on

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def selects(engine: Engine, call: Callable[[], object]) -> list[tuple[str, Any]]:
    """(SQL, parameters) of every SELECT that ``call`` runs on ``engine`` in this
    thread. Only this thread's statements count: the core's background threads (the
    page cache warm-up, the scheduler) share the engine and once put a fifth query into
    a test that expected four."""
    seen: list[tuple[str, Any]] = []
    me = threading.get_ident()

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if threading.get_ident() == me and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return seen


def plans(engine: Engine, call: Callable[[], object], sorts: bool = False) -> list[tuple[str, str]]:
    """(SQL, its plan) of every SELECT that ``call`` runs (:func:`selects`); PostgreSQL
    prices out sequential scans, and sorts unless ``sorts``."""
    seen = selects(engine, call)
    out = []
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cur = raw.cursor()
        if engine.dialect.name == "postgresql":
            cur.execute("SET enable_seqscan = off")
            if not sorts:
                cur.execute("SET enable_sort = off")
        for sql, params in seen:
            prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
            cur.execute(prefix + sql, params)
            out.append((sql, "\n".join(" ".join(str(c) for c in row) for row in cur.fetchall())))
        cur.close()
    return out


def _check(engine: Engine, call: Callable[[], object], table: str, index: str, marker: str = "LIMIT") -> str:
    """The plan of the first query reading ``table`` (and containing ``marker``: the
    page query, not a count) names ``index``."""
    found = [(sql, plan) for sql, plan in plans(engine, call) if f"FROM {table}" in sql and marker in sql]
    assert found, f"no query read {table}"
    sql, plan = found[0]
    assert index in plan, f"{index} not used:\n{sql}\n{plan}"
    return plan


def _assert_plans(core: Core) -> None:
    e = core.engine
    sqlite = e.dialect.name == "sqlite"
    with core.sessions() as s:
        first = grid_page(s, GridFilter(), 50)
        assert first.next_cursor
        deep = first.next_cursor
        for call in (lambda: grid_page(s, GridFilter(), 50),
                     lambda: grid_page(s, GridFilter(), 50, cursor=deep),
                     lambda: grid_page(s, GridFilter(letter="k"), 50),
                     lambda: grid_page(s, GridFilter(q="an"), 50)):
            for table, index in (("movies", "ix_movies_sort"), ("shows", "ix_shows_sort")):
                plan = _check(e, call, table, index)
                if sqlite:  # the index gives the whole order: no sort of what it read
                    assert "TEMP B-TREE" not in plan, plan
        if sqlite:  # a deep page starts its walk at the cursor (a range), not at the top
            for table, index in (("movies", "ix_movies_sort"), ("shows", "ix_shows_sort")):
                plan = _check(e, lambda: grid_page(s, GridFilter(), 50, cursor=deep), table, index)
                assert f"SEARCH {table} USING INDEX {index}" in plan, plan
        plan = _check(e, lambda: grid_page(s, GridFilter(kind="movie"), 50), "movies", "ix_movies_sort")
        assert "ix_media_files_movie" in plan, plan  # (PostgreSQL may take the one-column index)
        _, _, cursor = views.media_files_page(s, None, False, 50)
        assert cursor
        plan = _check(e, lambda: views.media_files_page(s, None, False, 50, cursor), "media_files",
                      "source_id_path" if e.dialect.name == "postgresql" else "sqlite_autoindex_media_files")
        if sqlite:
            assert "SEARCH media_files" in plan and "TEMP B-TREE" not in plan, plan
        _check(e, lambda: queries.get_show(s, 3), "shows", "shows_pkey" if e.dialect.name == "postgresql"
               else "INTEGER PRIMARY KEY", marker="WHERE shows.id")
        _check(e, lambda: queries.get_show(s, 3), "episodes", "episodes_season_id_number_key"
               if e.dialect.name == "postgresql" else "sqlite_autoindex_episodes", marker="episodes.season_id IN")
        # the API's show page (library/views.py): its episode files and extras in one
        # statement, by the files' own show_id (migration 0024a), not through seasons
        pg = e.dialect.name == "postgresql"
        plan = _check(e, lambda: views.show_detail(s, 3), "media_files", "ix_media_files_show_present",
                      marker="media_files.show_id =")
        assert ("episodes_pkey" if pg else "episodes USING INTEGER PRIMARY KEY") in plan, plan
        assert "seasons_show_id" not in plan and "autoindex_seasons" not in plan, plan
        # a grid page of shows: "has an episode file" and its sources by the same index
        # (PostgreSQL reads this test's whole 12-show page's files by ix_media_files_episode_id)
        for marker in ("media_files.show_id = shows.id", "GROUP BY media_files.show_id"):
            plan = _check(e, lambda: grid_page(s, GridFilter(kind="show"), 50), "media_files",
                          "ix_media_files_show_present" if sqlite or "shows.id" in marker else "media_files",
                          marker=marker)
            assert "seasons" not in plan and "episodes" not in plan, plan
            if sqlite and "GROUP BY" in marker:  # the counts from the index alone, grouped in its order
                assert "COVERING INDEX ix_media_files_show_present" in plan and "FOR GROUP BY" not in plan, plan
        # /movies and /shows pages in the grid's index order
        for plan in (_check(e, lambda: views.title_page(s, "movie", None, 100, 50), "movies", "ix_movies_sort"),
                     _check(e, lambda: views.title_page(s, "show", None, 0, 50), "shows", "ix_shows_sort")):
            assert not sqlite or "TEMP B-TREE" not in plan, plan
    _check(core.read_engine or e, lambda: core.progress.continue_watching(1), "watch_progress",
           "ix_watch_progress_user_updated")


def _walk_all(core: Core, counts: dict[str, int]) -> None:
    with core.sessions() as s:
        seen: list[tuple[str, int]] = []
        cursor = None
        while True:
            page = grid_page(s, GridFilter(), 37, cursor)
            assert page.total == counts["movies"] + counts["shows"]
            seen += [(i.type, i.id) for i in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert len(seen) == len(set(seen)) == counts["movies"] + counts["shows"]
        files: list[int] = []
        cursor = None
        while True:
            rows, total, cursor = views.media_files_page(s, None, False, 50, cursor)
            files += [r["id"] for r in rows]
            if cursor is None:
                break
        assert len(files) == len(set(files)) == total == counts["files"]
        # filters
        drama = grid_page(s, GridFilter(kind="movie", genre="Drama"), 500)
        assert drama.total == counts["movies"] - counts["movies"] // 3
        sd = grid_page(s, GridFilter(kind="movie", resolution="1080p"), 500)
        assert sd.total == (counts["movies"] + 1) // 2
        unwatched = grid_page(s, GridFilter(kind="movie", unwatched_by=1), 500)
        assert unwatched.total == counts["movies"] - 59 // 4
        k = grid_page(s, GridFilter(letter="K"), 500)
        assert k.items and all(i.title.startswith("K") for i in k.items)


@pytest.fixture
def sqlite_core(tmp_path: Path) -> Iterator[Core]:
    core = Core(load_settings(data_dir=tmp_path / "data"))
    yield core
    core.close()


def test_sqlite_plans_use_the_indexes(sqlite_core: Core) -> None:
    counts = fill(sqlite_core)
    _assert_plans(sqlite_core)
    _walk_all(sqlite_core, counts)


@pytest.fixture
def pg_core(tmp_path: Path) -> Iterator[Core]:
    with core_on("postgres", tmp_path / "data", "rh_plan") as core:
        yield core


@pytest.mark.requires_postgres
def test_postgres_plans_use_the_indexes(pg_core: Core) -> None:
    counts = fill(pg_core)
    with pg_core.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    _assert_plans(pg_core)
    _walk_all(pg_core, counts)


@pytest.mark.requires_postgres
def test_postgres_read_pages_through_the_api(pg_core: Core) -> None:
    """The API's hot read pages answer on PostgreSQL, where they read in autocommit
    (``Core.read_sessions``: no BEGIN/ROLLBACK round trips), and a write before a read is
    seen at once."""
    from fastapi.testclient import TestClient

    from reelhouse.server import create_app

    counts = fill(pg_core)
    token, _ = pg_core.auth_sessions.create(1)
    with TestClient(create_app(pg_core), headers={"authorization": f"Bearer {token}"}) as api:
        first = api.get("/api/library/items?per_page=20")
        assert first.status_code == 200, first.text
        assert first.json()["total"] == counts["movies"] + counts["shows"]
        deep = api.get(f"/api/library/items?per_page=20&cursor={first.json()['next_cursor']}")
        assert deep.status_code == 200 and deep.json()["items"][0] != first.json()["items"][0]
        assert api.get("/api/library/items?q=ilm 1").json()["total"] > 0
        assert api.get("/api/library/shows/1").json()["seasons"]
        files = api.get("/api/library/media-files?per_page=50").json()
        assert files["total"] == counts["files"] and files["next_cursor"]
        assert api.get(f"/api/library/media-files?per_page=50&cursor={files['next_cursor']}").status_code == 200
        assert api.get("/api/library/continue").status_code == 200
        saved = api.put("/api/library/media-files/1/progress", json={"position": 600, "duration": 3600})
        assert saved.status_code == 200
        assert 1 in [r["media_file_id"] for r in api.get("/api/library/continue").json()]


def generic_plans(core: Core, call: Callable[[], object]) -> list[tuple[str, str]]:
    """(SQL, plan) of every SELECT that ``call`` runs on the read engine, as that
    engine's connections plan it (db/engine.py: made without the bound values): each
    statement ``PREPARE``d and explained by ``EXPLAIN EXECUTE`` there, sequential scans
    priced out."""
    import re

    from psycopg import sql as psql

    engine = core.read_engine
    assert engine is not None
    seen = selects(engine, call)
    out = []
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cur = raw.cursor()
        cur.execute("SHOW plan_cache_mode")
        assert cur.fetchone() == ("force_generic_plan",)
        cur.execute("SET enable_seqscan = off")
        for sql, params in seen:
            names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))  # psycopg's %(name)s, in order
            numbered = re.sub(r"%\((\w+)\)s", lambda m, names=names: f"${names.index(m.group(1)) + 1}", sql)
            cur.execute("PREPARE q AS " + numbered.replace("%%", "%"))
            values = psql.SQL(", ").join(psql.Literal(params[n]) for n in names).as_string(raw)
            cur.execute(f"EXPLAIN EXECUTE q({values})" if names else "EXPLAIN EXECUTE q")
            out.append((sql, "\n".join(str(row[0]) for row in cur.fetchall())))
            cur.execute("DEALLOCATE q")
        cur.close()
    return out


@pytest.mark.requires_postgres
def test_postgres_read_engine_plans_once_and_uses_the_indexes(pg_core: Core) -> None:
    """The API's hot read pages on PostgreSQL run on the read engine, whose connections
    plan a statement once, without its values (``force_generic_plan``: no planning a
    call; continue watching spent 0.9 ms a call in it). Those plans still walk the
    indexes; a title search writes its pattern and limit into the statement, so even
    such a plan asks the trigram index, not the whole sort index (6.7 ms of backend CPU a
    search of 20,000 films when the pattern was a bound value)."""
    from reelhouse.api.read_worker import BODIES

    fill(pg_core, movies=2000)
    with pg_core.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    reads = pg_core.read_sessions

    def items(q: str | None = None, cursor: str | None = None) -> Any:
        return BODIES["items"](reads, None, 1, q, None, None, None, None, None, None, False, None, cursor, 1, 60)

    cursor = json.loads(items().body)["next_cursor"]

    def plan_of(call: Callable[[], object], marker: str) -> str:
        found = [plan for sql, plan in generic_plans(pg_core, call) if marker in sql]
        assert found, f"no statement with {marker!r}"
        return found[0]

    deep = plan_of(lambda: items(cursor=cursor), "FROM movies")
    assert "ix_movies_sort" in deep, deep
    assert "ix_shows_sort" in plan_of(lambda: items(cursor=cursor), "FROM shows")
    search = plan_of(lambda: items(q="ilm 12"), "FROM movies")
    assert "ix_movies_search_trgm" in search and "ix_movies_sort" not in search, search
    written = next(sql for sql, _ in generic_plans(pg_core, lambda: items(q="ilm 12")) if "FROM movies" in sql)
    assert "LIKE '%%ilm12%%'" in written and "LIMIT 300" in written, written  # (psycopg's %% for %)
    assert "ix_media_files_show_present" in plan_of(lambda: BODIES["show"](reads, None, 1, 3),
                                                    "media_files.show_id =")
    assert "ix_watch_progress_user_updated" in plan_of(lambda: BODIES["continue"](reads, None, 1),
                                                       "FROM watch_progress")
    files = json.loads(BODIES["media-files"](reads, None, 1, None, False, None, 1, 50).body)
    assert "source_id_path" in plan_of(
        lambda: BODIES["media-files"](reads, None, 1, None, False, files["next_cursor"], 1, 50),
        "FROM media_files JOIN sources")
