"""Migration 0024a: an episode file names its show (``media_files.show_id``, filled from
its episode's season); an extra keeps its own show, a film's file none; the downgrade
takes the episodes' shows away again and leaves the extras'."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from reelhouse.db.engine import make_engine
from reelhouse.db.migrate import alembic_config, upgrade
from tests.helpers import PG_URL, migrating, postgres_schema

NOW = datetime(2026, 1, 1, tzinfo=UTC)
# id, path, kind, movie_id, episode_id, show_id (before)
FILES = [(1, "film.mkv", "movie", 1, None, None), (2, "a/s1e1.mkv", "episode", None, 11, None),
         (3, "a/s2e1.mkv", "episode", None, 21, None), (4, "b/s1e1.mkv", "episode", None, 31, None),
         (5, "b/trailer.mkv", "extra", None, None, 2), (6, "film-trailer.mkv", "extra", 1, None, None),
         (7, "odd.mkv", "other", None, None, None)]


def _files(conn: sa.Connection) -> list[tuple[int, int | None]]:
    return [(r[0], r[1]) for r in conn.execute(sa.text("SELECT id, show_id FROM media_files ORDER BY id"))]


def _run(url: str) -> None:
    with migrating(url) as (cfg, conn):
        command.upgrade(cfg, "0023a")
        conn.execute(sa.text("INSERT INTO sources (id, name, kind, path, tls, verify_tls, scan_interval, created_at) "
                             "VALUES (1, 'disk', 'local', '/x', 'none', true, 0, :now)"), {"now": NOW})
        conn.execute(sa.text("INSERT INTO movies (id, title, match_key, needs_review, locked, created_at) "
                             "VALUES (1, 'F', 'f', false, false, :now)"), {"now": NOW})
        for show in (1, 2):
            conn.execute(sa.text("INSERT INTO shows (id, title, match_key, needs_review, locked, created_at) "
                                 "VALUES (:i, :t, :t, false, false, :now)"), {"i": show, "t": f"s{show}", "now": NOW})
        for season, show, number in ((1, 1, 1), (2, 1, 2), (3, 2, 1)):
            conn.execute(sa.text("INSERT INTO seasons (id, show_id, number) VALUES (:i, :s, :n)"),
                         {"i": season, "s": show, "n": number})
            conn.execute(sa.text("INSERT INTO episodes (id, season_id, number) VALUES (:i, :s, 1)"),
                         {"i": season * 10 + 1, "s": season})
        for i, path, kind, movie, episode, show in FILES:
            conn.execute(sa.text("INSERT INTO media_files (id, source_id, path, size, kind, naming_version, "
                                 "first_seen, last_seen, movie_id, episode_id, show_id) VALUES "
                                 "(:i, 1, :p, 1, :k, 0, :now, :now, :m, :e, :s)"),
                         {"i": i, "p": path, "k": kind, "now": NOW, "m": movie, "e": episode, "s": show})
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        assert _files(conn) == [(1, None), (2, 1), (3, 1), (4, 2), (5, 2), (6, None), (7, None)]
        indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("media_files")}
        assert "ix_media_files_show_present" in indexes and "ix_media_files_show_id" not in indexes
    with engine.begin() as conn:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0023a")
        assert _files(conn) == [(1, None), (2, None), (3, None), (4, None), (5, 2), (6, None), (7, None)]
        indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("media_files")}
        assert "ix_media_files_show_id" in indexes and "ix_media_files_show_present" not in indexes
    engine.dispose()


def test_sqlite(tmp_path: Path) -> None:
    _run(f"sqlite:///{tmp_path / 'db.sqlite'}")


@pytest.mark.requires_postgres
def test_postgres() -> None:
    if not PG_URL:
        pytest.skip("set REELHOUSE_TEST_POSTGRES_URL to a postgresql+psycopg:// URL")
    with postgres_schema(PG_URL, "rh_0024a") as url:
        _run(url)
