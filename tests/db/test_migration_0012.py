"""Migration 0012 and the rescan after it (issue 15): a library built by the old naming
rules (shows keyed by title alone, numeric titles read as episodes, a featurette merged
into its film) is upgraded, then scanned once; every file lands in its right place and
keeps its row, so watch progress, a watch party and a user's fix survive."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.engine import make_engine
from reelhouse.db.migrate import alembic_config
from reelhouse.db.models import Episode, MediaFile, Movie, Show, WatchProgress, WatchSession
from reelhouse.library.linking import NAMING_VERSION
from reelhouse.library.scanner import scan_source
from reelhouse.sources.memory import MemorySource

MTIME = 1_700_000_000.0
FILES = {
    1: "Doctor Who (1963)/Season 1/Doctor Who S01E01.mkv",
    2: "Doctor Who (2005)/Season 1/Doctor Who S01E01.mkv",
    3: "300 (2006)/300.mkv",
    4: "Dune (2021)/Dune (2021).mkv",
    5: "Dune (2021)/Dune (2021)-featurette.mkv",
    6: "Alien.1979.Directors.Cut.mkv",
}


def _insert(conn: sa.Connection, table: sa.Table, **values: Any) -> None:
    """Insert a row at revision 0007, filling the NOT NULL columns not given."""
    for col in table.columns:
        if col.name in values or col.nullable or col.server_default is not None or col.primary_key:
            continue
        py = col.type.python_type
        values[col.name] = {int: 0, float: 0.0, bool: False, str: "x", datetime: datetime.now(UTC)}.get(py, "x")
    conn.execute(table.insert().values(**values))


def _old_library(url: str) -> None:
    engine = make_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007")
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    with engine.begin() as conn:
        _insert(conn, t["users"], id=1, name="ann", is_admin=False)
        _insert(conn, t["sources"], id=1, name="disk", kind="local", path="/x")
        # the old rules: one "Doctor Who" for both shows; "300" a show (S03E00)
        _insert(conn, t["shows"], id=1, title="Doctor Who", year=2005, match_key="doctor who|")
        _insert(conn, t["shows"], id=2, title="300", year=None, match_key="300|")
        _insert(conn, t["seasons"], id=1, show_id=1, number=1)
        _insert(conn, t["seasons"], id=2, show_id=2, number=3)
        _insert(conn, t["episodes"], id=1, season_id=1, number=1)
        _insert(conn, t["episodes"], id=2, season_id=2, number=0)
        _insert(conn, t["movies"], id=1, title="Dune", year=2021, match_key="dune|2021")
        # a user fixed this one by hand
        _insert(conn, t["movies"], id=2, title="Alien: Director's Cut", year=1979, match_key="alien|1979",
                locked=True)
        links = {1: ("episode", None, 1), 2: ("episode", None, 1), 3: ("episode", None, 2),
                 4: ("movie", 1, None), 5: ("movie", 1, None), 6: ("movie", 2, None)}
        for fid, path in FILES.items():
            kind, movie, episode = links[fid]
            _insert(conn, t["media_files"], id=fid, source_id=1, path=path, size=len(path), mtime=MTIME,
                    kind=kind, movie_id=movie, episode_id=episode, container="matroska", probe_bytes=100)
        _insert(conn, t["watch_progress"], user_id=1, media_file_id=1, position=100.0, watched=False)
        _insert(conn, t["watch_progress"], user_id=1, media_file_id=3, position=50.0, watched=False)
        _insert(conn, t["watch_sessions"], id=1, code="ABC123", media_file_id=3, mode="host", state="paused")
    engine.dispose()


def test_upgrade_then_rescan_places_every_file_and_keeps_progress(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _old_library(f"sqlite:///{data / 'reelhouse.db'}")
    core = Core(load_settings(data_dir=data), consume_jobs=False)  # upgrades to head
    try:
        with core.sessions() as s:
            assert s.get(Show, 1).match_key == "doctor who|2005"  # type: ignore[union-attr]
            assert {f.naming_version for f in s.scalars(sa.select(MediaFile))} == {0}
        source = MemorySource({p: p.encode() for p in FILES.values()}, mtime=MTIME)
        report = scan_source(core.sessions, 1, source)
        assert (report.unchanged, report.added, report.missing) == (6, 0, 0)
        with core.sessions() as s:
            files = {f.id: f for f in s.scalars(sa.select(MediaFile))}
            assert set(files) == set(FILES)  # same rows, same ids
            assert {f.naming_version for f in files.values()} == {NAMING_VERSION}

            def show_of(fid: int) -> Show:
                ep = s.get(Episode, files[fid].episode_id)
                assert ep is not None
                return ep.season.show

            old, new = show_of(1), show_of(2)
            assert (old.title, old.year) == ("Doctor Who", 1963) and old.id != 1
            assert (new.id, new.year) == (1, 2005)
            assert files[3].kind == "movie" and s.get(Movie, files[3].movie_id).title == "300"  # type: ignore[union-attr]
            assert s.get(Show, 2) is None  # the "300" show had nothing left
            assert (files[4].kind, files[4].movie_id) == ("movie", 1)
            assert (files[5].kind, files[5].extra_type, files[5].movie_id) == ("extra", "featurette", 1)
            alien = s.get(Movie, 2)
            assert alien is not None and alien.locked and alien.title == "Alien: Director's Cut"
            assert files[6].movie_id == 2
            progress = {p.media_file_id: p.position for p in s.scalars(sa.select(WatchProgress))}
            assert progress == {1: 100.0, 3: 50.0}
            party = s.get(WatchSession, 1)
            assert party is not None and party.media_file_id == 3
        again = scan_source(core.sessions, 1, source)
        assert again.unchanged == 6 and again.matched == 0  # placed once, then left alone
    finally:
        core.close()
