"""Engine and session factory. SQLite runs in WAL mode with foreign keys on, a busy
timeout (so the scanner thread and web requests can share one file) and memory-mapped
reads (:data:`SQLITE_MMAP_BYTES`); PostgreSQL URLs
(``postgresql+psycopg://``) are used as they are."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["PLAN_EACH_TIME", "make_engine", "make_read_engine", "make_sessionmaker", "plan_each_time"]


#: Connections a process keeps open (and how many more it may open for a burst). The
#: API runs sync routes on up to 40 threads; with SQLAlchemy's default of 5 kept, 20
#: concurrent requests opened a new connection on one checkout in 14 (SQLite) or 48
#: (PostgreSQL: a backend fork each; issue 14). 20 + 10 per process leaves room for two
#: nodes and workers under PostgreSQL's default ``max_connections`` of 100.
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


#: A compiled statement's execution option (set by :func:`plan_each_time`): on
#: PostgreSQL it is sent unprepared, so the server plans it with its bound values each
#: time. psycopg 3 prepares a statement run 5 times on a connection
#: (``prepare_threshold``, https://www.psycopg.org/psycopg3/docs/advanced/prepare.html),
#: and after 5 executions of a prepared statement PostgreSQL may keep a generic plan
#: (``plan_cache_mode``, https://www.postgresql.org/docs/current/sql-prepare.html), made
#: without the values: for a title search's ``search_key LIKE $n`` that plan walks the
#: whole sort index and tests every title (20,000 films: 6.7 ms of the backend's CPU a
#: search) instead of asking the trigram index (1.2 ms with its parse and plan; issue 14,
#: benchmarks/README.md "Title searches planned with their words").
PLAN_EACH_TIME = "reelhouse_plan_each_time"


def plan_each_time(compiler: Any) -> None:
    """Mark the statement being compiled by ``compiler`` (a SQLAlchemy ``SQLCompiler``,
    in a ``@compiles`` function) as :data:`PLAN_EACH_TIME`; the mark is kept with the
    compiled form in SQLAlchemy's statement cache."""
    if not compiler.execution_options.get(PLAN_EACH_TIME):
        compiler.execution_options = compiler.execution_options.union({PLAN_EACH_TIME: True})


def _plan_marked_each_time(engine: Engine) -> None:
    """PostgreSQL: run statements marked by :func:`plan_each_time` with psycopg's
    ``prepare=False``; the rest as psycopg decides (prepared from their 5th run on a
    connection: parsed and planned once)."""

    @event.listens_for(engine, "do_execute")
    def _unprepared(cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
        compiled = getattr(context, "compiled", None)
        if compiled is not None and compiled.execution_options.get(PLAN_EACH_TIME):
            cursor.execute(statement, parameters, prepare=False)
            return True
        return None


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
    engine = create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    _plan_marked_each_time(engine)
    return engine


def make_read_engine(url: str, pool_size: int = 2) -> Engine:
    """An engine for ``url`` that only reads, for a process that serves read pages
    (api/read_processes.py): SQLite as :func:`make_engine` plus ``PRAGMA query_only``
    (https://sqlite.org/pragma.html#pragma_query_only); PostgreSQL in autocommit (each
    statement reads a snapshot of its own, no BEGIN/ROLLBACK round trips) with
    ``default_transaction_read_only`` on. Any write statement fails. ``pool_size``:
    connections kept (one thread reads at a time there).

    SQLite's busy timeout is 0 here: a read that finds the file locked by another
    process fails at once (``database is locked``) and the server process answers that
    page itself, the FastAPI way (api/fast_reads.py), instead of sleeping in SQLite's
    busy handler (1, 2, 5, 10 … ms: 128 ms after nine tries). Measured, paced run of
    benchmarks/big_library.py (20 clients × 1.5 requests/s, 100,000 files, quiet
    machine): with a 30 s timeout 2 runs of 7 had a stall of ~125 ms across every kind
    (p99 104.5 and 124.6 ms), with 0 none of 6 (p99 8.7–10.5 ms)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 0},
                               pool_size=pool_size, max_overflow=pool_size)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cur.execute("PRAGMA query_only=ON")
            cur.close()

        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size,
                           isolation_level="AUTOCOMMIT")

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_conn: Any, _record: Any) -> None:
        # a statement of its own (the URL's ``options`` stay as they are: a search_path)
        with dbapi_conn.cursor() as cur:
            cur.execute("SET SESSION default_transaction_read_only = on")
        dbapi_conn.commit()

    _plan_marked_each_time(engine)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (services return rows)."""
    return sessionmaker(engine, expire_on_commit=False)
