"""Migration 0022f: files whose probe failed only because their tags are not UTF-8 are
probed again by the next scan (their probe_error is cleared); other failures stay."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from reelhouse.db.engine import make_engine
from reelhouse.db.migrate import upgrade
from tests.helpers import PG_URL, migrating, postgres_schema

NOW = datetime(2026, 1, 1, tzinfo=UTC)
UNDECODABLE = ("could not read media header: 'utf-8' codec can't decode byte 0xe9 in position 3: "
               "invalid continuation byte")
TRUNCATED = "damaged: the file is truncated (359633 bytes, its container needs 719267)"


def _run(url: str) -> None:
    with migrating(url) as (cfg, conn):
        command.upgrade(cfg, "0021h")
        conn.execute(sa.text("INSERT INTO sources (id, name, kind, path, tls, verify_tls, scan_interval, created_at) "
                             "VALUES (1, 'disk', 'local', '/x', 'none', true, 0, :now)"), {"now": NOW})
        for i, error in ((1, UNDECODABLE), (2, TRUNCATED), (3, None)):
            conn.execute(sa.text("INSERT INTO media_files (id, source_id, path, size, kind, naming_version, "
                                 "first_seen, last_seen, probe_error, probe_bytes) VALUES "
                                 "(:i, 1, :p, 1, 'movie', 0, :now, :now, :e, :b)"),
                         {"i": i, "p": f"{i}.avi", "now": NOW, "e": error, "b": 1000 if error is None else None})
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        rows = [tuple(r) for r in conn.execute(
            sa.text("SELECT id, probe_error, probe_bytes FROM media_files ORDER BY id"))]
    engine.dispose()
    assert rows == [(1, None, None), (2, TRUNCATED, None), (3, None, 1000)]


def test_sqlite(tmp_path: Path) -> None:
    _run(f"sqlite:///{tmp_path / 'db.sqlite'}")


def test_postgres() -> None:
    if not PG_URL:
        pytest.skip("set REELHOUSE_TEST_POSTGRES_URL to a postgresql+psycopg:// URL")
    with postgres_schema(PG_URL, "rh_0022f") as url:
        _run(url)
