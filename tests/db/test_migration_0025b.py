"""Migration 0025b: titles written before it get keys that fold Ø, Æ, Œ, Ł, Þ … ("Ørnen"
under O and found by "ornen"; the SQLite trigram index follows); ASCII titles keep
theirs; the downgrade writes the keys as the code before made them."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from reelhouse.db.engine import make_engine
from reelhouse.db.migrate import alembic_config, upgrade
from tests.helpers import PG_URL, migrating, postgres_schema

# id, title, search_key and sort_title as the code before 0025b made them, and after
MOVIES = [(1, "Ørnen", "ørnen", "ørnen", "ornen", "ornen"),
          (2, "The Ærø Ferry", "theærøferry", "ærø ferry", "theaeroferry", "aero ferry"),
          (3, "Amélie", "amelie", "amelie", "amelie", "amelie"),
          (4, "Dark", "dark", "dark", "dark", "dark"),
          (5, "Брат", "брат", "брат", "брат", "брат")]
SHOWS = [(1, "Łódź Stories", "łodzstories", "łodz stories", "lodzstories", "lodz stories")]


def _keys(conn: sa.Connection, table: str) -> list[tuple[int, str, str]]:
    return [tuple(r) for r in conn.execute(sa.text(f"SELECT id, search_key, sort_title FROM {table} ORDER BY id"))]


def _run(url: str) -> None:
    with migrating(url) as (cfg, conn):
        command.upgrade(cfg, "0025a")
        for table, rows in (("movies", MOVIES), ("shows", SHOWS)):
            for i, title, key, sort, _, _ in rows:
                conn.execute(sa.text(f"INSERT INTO {table} (id, title, match_key, search_key, sort_title, "
                                     "needs_review, locked, created_at) VALUES (:i, :t, :m, :k, :s, false, false, "
                                     "'2026-01-01')"), {"i": i, "t": title, "m": f"m{i}", "k": key, "s": sort})
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        assert _keys(conn, "movies") == [(i, k, s) for i, _, _, _, k, s in MOVIES]
        assert _keys(conn, "shows") == [(i, k, s) for i, _, _, _, k, s in SHOWS]
        if conn.dialect.name == "sqlite":  # the trigram index holds the new keys
            found = conn.execute(sa.text("SELECT rowid FROM movies_fts WHERE movies_fts MATCH '\"ornen\"'")).all()
            assert [r[0] for r in found] == [1]
    with engine.begin() as conn:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0025a")
        assert _keys(conn, "movies") == [(i, k, s) for i, _, k, s, _, _ in MOVIES]
        assert _keys(conn, "shows") == [(i, k, s) for i, _, k, s, _, _ in SHOWS]
    engine.dispose()


def test_sqlite(tmp_path: Path) -> None:
    _run(f"sqlite:///{tmp_path / 'db.sqlite'}")


@pytest.mark.requires_postgres
def test_postgres() -> None:
    if not PG_URL:
        pytest.skip("set REELHOUSE_TEST_POSTGRES_URL to a postgresql+psycopg:// URL")
    with postgres_schema(PG_URL, "rh_0025b") as url:
        _run(url)
