"""Migration 0025a: a favourite made before keeps its date as its last change
(``updated_at`` = ``created_at``) and stays a favourite; the new columns (sample aspect
ratio, remembered tracks) start empty; the downgrade drops the unfavourites kept since
(before, unfavouriting deleted the row)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from reelhouse.db.engine import make_engine
from reelhouse.db.migrate import upgrade
from tests.helpers import PG_URL, downgraded, migrating, postgres_schema

MADE = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _run(url: str) -> None:
    with migrating(url) as (cfg, conn):
        command.upgrade(cfg, "0024b")
        conn.execute(sa.text("INSERT INTO users (id, name, password_hash, is_admin, created_at, disabled, "
                             "restrict_sources) VALUES (1, 'ann', 'x', false, :now, false, false)"), {"now": MADE})
        for i in (1, 2):
            conn.execute(sa.text("INSERT INTO favorites (id, user_id, item_kind, item_id, created_at) "
                                 "VALUES (:i, 1, 'movie', :i, :at)"), {"i": i, "at": MADE})
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            rows = [(i, bool(fav), bool(same)) for i, fav, same in conn.execute(sa.text(
                "SELECT id, is_favorite, updated_at = created_at FROM favorites ORDER BY id"))]
            assert rows == [(1, True, True), (2, True, True)]
            conn.execute(sa.text("UPDATE favorites SET is_favorite = false WHERE id = 2"))  # unfavourited
        with downgraded(engine, url, "0024b") as conn:
            left = [r[0] for r in conn.execute(sa.text("SELECT id FROM favorites ORDER BY id"))]
            columns = {c["name"] for c in sa.inspect(conn).get_columns("media_streams")}
        assert left == [1] and "sample_aspect_ratio" not in columns
    finally:
        engine.dispose()


def test_sqlite(tmp_path: Path) -> None:
    _run(f"sqlite:///{tmp_path / 'db.sqlite'}")


def test_postgres() -> None:
    if not PG_URL:
        pytest.skip("set REELHOUSE_TEST_POSTGRES_URL to a postgresql+psycopg:// URL")
    with postgres_schema(PG_URL, "rh_0025a") as url:
        _run(url)
