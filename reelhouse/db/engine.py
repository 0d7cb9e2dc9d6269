"""Engine and session factory. SQLite runs in WAL mode with foreign keys on and a busy
timeout (so the scanner thread and web requests can share one file); PostgreSQL URLs
(``postgresql+psycopg://``) are used as they are."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["make_engine", "make_sessionmaker"]


def make_engine(url: str) -> Engine:
    """Create the engine for ``url``; SQLite gets WAL, ``foreign_keys=ON``, 30 s busy wait."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (services return rows)."""
    return sessionmaker(engine, expire_on_commit=False)
