"""Migration 0024b: offline copies get several owners. Each copy's owner keeps a claim
on it; a copy whose owner was deleted (``user_id`` NULL) has none; the downgrade gives
each copy its earliest claim's user back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from reelhouse.db.engine import make_engine
from reelhouse.db.migrate import upgrade
from tests.helpers import PG_URL, downgraded, migrating, postgres_schema

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _run(url: str) -> None:
    with migrating(url) as (cfg, conn):
        command.upgrade(cfg, "0024a")
        conn.execute(sa.text("INSERT INTO sources (id, name, kind, path, tls, verify_tls, scan_interval, created_at) "
                             "VALUES (1, 'disk', 'local', '/x', 'none', true, 0, :now)"), {"now": NOW})
        for uid, name in ((1, "ann"), (2, "bob")):
            conn.execute(sa.text("INSERT INTO users (id, name, password_hash, is_admin, created_at, disabled, "
                                 "restrict_sources) VALUES (:i, :n, 'x', false, :now, false, false)"),
                         {"i": uid, "n": name, "now": NOW})
        for i, owner in ((1, 1), (2, 2), (3, None)):
            conn.execute(sa.text("INSERT INTO media_files (id, source_id, path, size, kind, naming_version, "
                                 "first_seen, last_seen) VALUES (:i, 1, :p, 1, 'movie', 0, :now, :now)"),
                         {"i": i, "p": f"{i}.mkv", "now": NOW})
            conn.execute(sa.text("INSERT INTO offline_copies (id, media_file_id, scope, local_path, size, state, "
                                 "created_at, user_id) VALUES (:i, :i, 'movie:1', :p, 1, 'ready', :now, :u)"),
                         {"i": i, "p": f"offline/1/{i}.mkv", "now": NOW, "u": owner})
    engine = make_engine(url)
    try:
        upgrade(engine)  # as a server does: on SQLite with foreign keys off meanwhile
        with engine.begin() as conn:
            claims = [tuple(r) for r in conn.execute(
                sa.text("SELECT copy_id, user_id FROM offline_claims ORDER BY copy_id"))]
            assert claims == [(1, 1), (2, 2)]
            assert conn.scalar(sa.text("SELECT count(*) FROM offline_copies")) == 3  # the ownerless one stays
            # a second owner of copy 1; back down, the earliest claim owns it again
            conn.execute(sa.text("INSERT INTO offline_claims (copy_id, user_id, created_at) "
                                 "VALUES (1, 2, :at)"), {"at": datetime(2026, 2, 1, tzinfo=UTC)})
        with downgraded(engine, url, "0024a") as conn:
            owners = [tuple(r) for r in conn.execute(sa.text("SELECT id, user_id FROM offline_copies ORDER BY id"))]
        assert owners == [(1, 1), (2, 2), (3, None)]
    finally:
        engine.dispose()


def test_sqlite(tmp_path: Path) -> None:
    _run(f"sqlite:///{tmp_path / 'db.sqlite'}")


def test_postgres() -> None:
    if not PG_URL:
        pytest.skip("set REELHOUSE_TEST_POSTGRES_URL to a postgresql+psycopg:// URL")
    with postgres_schema(PG_URL, "rh_0024b") as url:
        _run(url)
