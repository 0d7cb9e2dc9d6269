"""make_engine (db/engine.py): the SQLite pragmas every pooled connection gets."""

from __future__ import annotations

from pathlib import Path

from reelhouse.db.engine import SQLITE_MMAP_BYTES, make_engine


def test_sqlite_connections_read_through_a_memory_map(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA mmap_size").scalar() == SQLITE_MMAP_BYTES
    finally:
        engine.dispose()
