"""Migration 0021h: the ids a playback token or a URL names (users, sessions, API
keys, media files) are never handed out again on SQLite, and the rebuild keeps every
row, id and the rows that point at them (PostgreSQL's sequences never go back)."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from reelhouse.db.engine import make_engine
from reelhouse.db.migrate import upgrade
from tests.helpers import PG_URL, migrating, postgres_schema

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _fill(conn: sa.Connection) -> None:
    """A library at 0020j: two users with a session and a key, two files with progress."""
    meta = sa.MetaData()
    with warnings.catch_warnings():  # SQLite cannot reflect the expression indexes of movies, shows
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        meta.reflect(conn)
    t = meta.tables

    def put(table: str, **values: Any) -> None:
        for col in t[table].columns:
            if col.name in values or col.nullable or col.server_default is not None or col.primary_key:
                continue
            py = col.type.python_type
            values[col.name] = {int: 0, float: 0.0, bool: False, str: "x", datetime: NOW}.get(py, "x")
        conn.execute(t[table].insert().values(**values))

    put("users", id=1, name="ann", is_admin=True)
    put("users", id=2, name="bob")
    put("auth_sessions", id=1, user_id=1, token_hash="a" * 64)
    put("auth_sessions", id=2, user_id=2, token_hash="b" * 64)
    put("api_keys", id=1, user_id=2, token_hash="c" * 64, prefix="rhk_b")
    put("sources", id=1, name="disk", kind="local", path="/x")
    put("media_files", id=1, source_id=1, path="a.mkv", size=1)
    put("media_files", id=2, source_id=1, path="b.mkv", size=2)
    put("watch_progress", user_id=2, media_file_id=2, position=10.0, watched=False)


def _check(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM users")) == 2
            assert conn.scalar(sa.text("SELECT count(*) FROM auth_sessions")) == 2
            assert conn.scalar(sa.text("SELECT count(*) FROM api_keys")) == 1
            assert [tuple(r) for r in conn.execute(sa.text("SELECT id, path FROM media_files ORDER BY id"))] == [
                (1, "a.mkv"), (2, "b.mkv")]
            # the rows pointing at the rebuilt tables were not cascaded away
            assert conn.scalar(sa.text("SELECT media_file_id FROM watch_progress WHERE user_id = 2")) == 2
            # the newest of each is deleted, then a new one added: it gets a new id
            for table, newest in (("auth_sessions", 2), ("api_keys", 1), ("media_files", 2), ("users", 2)):
                conn.execute(sa.text(f"DELETE FROM {table} WHERE id = :id"), {"id": newest})
            assert conn.scalar(sa.text("SELECT count(*) FROM watch_progress")) == 0  # foreign keys are on
            conn.execute(sa.text("INSERT INTO users (name, password_hash, is_admin, created_at, disabled, "
                                 "restrict_sources) VALUES ('cy', 'x', false, :now, false, false)"), {"now": NOW})
            conn.execute(sa.text("INSERT INTO media_files (source_id, path, size, kind, naming_version, "
                                 "first_seen, last_seen) VALUES (1, 'c.mkv', 3, 'movie', 0, :now, :now)"),
                         {"now": NOW})
            assert conn.scalar(sa.text("SELECT id FROM users WHERE name = 'cy'")) == 3
            assert conn.scalar(sa.text("SELECT id FROM media_files WHERE path = 'c.mkv'")) == 3
    finally:
        engine.dispose()


def _old(url: str) -> None:
    with migrating(url) as (cfg, conn):
        command.upgrade(cfg, "0020j")
        _fill(conn)


def test_sqlite_upgrade_keeps_rows_and_never_reuses_ids(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _old(url)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    _check(url)


def test_fresh_sqlite_database_never_reuses_ids(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        _fill(conn)
    engine.dispose()
    _check(url)


def test_postgres_upgrade_keeps_rows_and_never_reuses_ids() -> None:
    if not PG_URL:
        pytest.skip("set REELHOUSE_TEST_POSTGRES_URL to a postgresql+psycopg:// URL")
    with postgres_schema(PG_URL, "rh_0021h") as url:
        _old(url)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        # rows inserted with explicit ids leave the sequences behind: move them on as a
        # server's own inserts would have
        engine = make_engine(url)
        with engine.begin() as conn:
            for table in ("users", "media_files"):
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))"))
        engine.dispose()
        _check(url)
