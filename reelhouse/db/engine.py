"""Engine and session factory. SQLite runs in WAL mode with foreign keys on, a busy
timeout (so the scanner thread and web requests can share one file) and memory-mapped
reads (:data:`SQLITE_MMAP_BYTES`); PostgreSQL URLs
(``postgresql+psycopg://``) are used as they are."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["READ_POOL_OVERFLOW", "READ_POOL_SIZE", "make_engine", "make_read_engine", "make_sessionmaker"]


#: Connections a process keeps open (and how many more it may open for a burst). The
#: API runs sync routes on up to 40 threads; with SQLAlchemy's default of 5 kept, 20
#: concurrent requests opened a new connection on one checkout in 14 (SQLite) or 48
#: (PostgreSQL: a backend fork each; issue 14). On PostgreSQL a node also has the read
#: engine's :data:`READ_POOL_SIZE` + :data:`READ_POOL_OVERFLOW` (8 + 4): two nodes and a
#: worker keep at most 20 + 8 + 20 + 8 + 20 = 76 connections open, under PostgreSQL's
#: default ``max_connections`` of 100; the overflows open more only for a burst.
POOL_SIZE = 20
POOL_OVERFLOW = 10

#: SQLite reads the database through a memory map of up to this many bytes
#: (``PRAGMA mmap_size``, https://sqlite.org/mmap.html): every connection of the pool
#: reads the pages the OS already caches instead of copying them into its own 2 MiB page
#: cache with a ``pread`` each. A title search walks doclists of its trigrams spread over
#: the FTS5 table, which the rotating pool's caches did not hold: on a 100,000-file
#: library its server CPU fell from 3.3-4.0 to 2.8-3.3 ms a search (benchmarks/README.md,
#: "Computed pages, CPU per request"). Writes still go through SQLite's own I/O. The
#: pages a process has read count in its resident memory (shared, reclaimable file cache).
SQLITE_MMAP_BYTES = 256 * 1024 * 1024


def make_engine(url: str) -> Engine:
    """Create the engine for ``url``; SQLite gets WAL, ``foreign_keys=ON``, 30 s busy wait."""
    if url.startswith("sqlite"):
        pool: dict[str, Any] = {}
        if ":memory:" not in url and url.rstrip("/") not in ("sqlite:", "sqlite+pysqlite:"):
            pool = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)


#: Connections of the server's engine for the hot read pages on PostgreSQL
#: (``Core.read_sessions``): the read lane runs 8 at once (api/read_lane.py); the rest
#: for the same pages answered the FastAPI way. Opened only when used (a worker never does).
READ_POOL_SIZE = 8
READ_POOL_OVERFLOW = 4


def make_read_engine(url: str, pool_size: int = 2, max_overflow: int | None = None) -> Engine:
    """An engine for ``url`` that only reads, for a process that serves read pages
    (api/read_processes.py) and, on PostgreSQL, the server's own hot read pages
    (``Core.read_sessions``): SQLite as :func:`make_engine` plus ``PRAGMA query_only``
    (https://sqlite.org/pragma.html#pragma_query_only); PostgreSQL in autocommit (each
    statement reads a snapshot of its own, no BEGIN/ROLLBACK round trips) with
    ``default_transaction_read_only`` on. Any write statement fails. ``pool_size``:
    connections kept (one thread reads at a time there); ``max_overflow``: more for a
    burst (default ``pool_size``).

    PostgreSQL plans these statements once (``plan_cache_mode = force_generic_plan``,
    https://www.postgresql.org/docs/current/runtime-config-query.html): psycopg 3
    prepares a statement from its 5th run on a connection, and PostgreSQL then kept
    planning some of them for each run's values (a generic plan's estimate above the
    custom ones'): continue watching's six-table join took 0.9 ms of planning a call.
    Generic plans of the hot pages, measured on 100,000 files (backend CPU a page):
    continue watching 1.05 → 0.1 ms, grid deep page 0.9 → 0.55 ms, show page 0.5 → 0.3,
    media files 0.3 → 0.2 (benchmarks/README.md, "Plans of the hot reads on
    PostgreSQL"). Their plans do not depend on the values — index walks by keys, with
    LIMIT — except a title search's, whose pattern is written into the statement
    (library/title_search.py) and so planned with it; ``tests/library/test_query_plans.py``
    checks the generic plans use the indexes.

    SQLite's busy timeout is 0 here: a read that finds the file locked by another
    process fails at once (``database is locked``) and the server process answers that
    page itself, the FastAPI way (api/fast_reads.py), instead of sleeping in SQLite's
    busy handler (1, 2, 5, 10 … ms: 128 ms after nine tries). Measured, paced run of
    benchmarks/big_library.py (20 clients × 1.5 requests/s, 100,000 files, quiet
    machine): with a 30 s timeout 2 runs of 7 had a stall of ~125 ms across every kind
    (p99 104.5 and 124.6 ms), with 0 none of 6 (p99 8.7–10.5 ms)."""
    overflow = pool_size if max_overflow is None else max_overflow
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 0},
                               pool_size=pool_size, max_overflow=overflow)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cur.execute("PRAGMA query_only=ON")
            cur.close()

        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=overflow,
                           isolation_level="AUTOCOMMIT")

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_conn: Any, _record: Any) -> None:
        # a statement of its own (the URL's ``options`` stay as they are: a search_path)
        with dbapi_conn.cursor() as cur:
            cur.execute("SET SESSION default_transaction_read_only = on")
            cur.execute("SET SESSION plan_cache_mode = force_generic_plan")
        dbapi_conn.commit()

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (services return rows)."""
    return sessionmaker(engine, expire_on_commit=False)
