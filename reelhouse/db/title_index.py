"""The trigram index of title searches (issue 14: 100,000 files).

A title search looks for the folded key of its words anywhere in a title's stored key
(``movies.search_key``, ``shows.search_key``: :mod:`reelhouse.db.search_key`). With
``LIKE '%key%'`` alone the database tests every key (20,000 films: 4.5–5 ms of CPU a
search); a trigram index finds the titles holding the key's three-character pieces:

- SQLite: an FTS5 table ``movies_fts`` / ``shows_fts`` with the ``trigram`` tokenizer
  (SQLite ≥ 3.34, https://sqlite.org/fts5.html#the_trigram_tokenizer), an external
  content table over ``search_key`` (no copy of the text), kept in step by triggers on
  every insert, delete and update of the title's key — whatever writes the row.
  ``search_key LIKE '%key%'`` on it is answered from the index.
- PostgreSQL: ``CREATE EXTENSION pg_trgm`` (in Debian's ``postgresql`` package; a
  *trusted* extension since PostgreSQL 13, so the database's owner or any role with
  ``CREATE`` on it may create it, no superuser) and GIN indexes ``ix_movies_search_trgm``
  / ``ix_shows_search_trgm`` (``gin_trgm_ops``), which PostgreSQL keeps itself. A role
  that may not create the extension gets no index: searches work as before, with
  ``LIKE`` on the sort index; :func:`ensure` builds the index at the next start once an
  admin has run ``CREATE EXTENSION pg_trgm`` in the database.

Keys shorter than three characters have no trigram: those searches keep the sort index
(:mod:`reelhouse.library.title_search`). Migration ``0019s`` builds the index for
existing databases; :func:`ensure` runs after every upgrade, so a later batch migration
that rebuilds ``movies`` (SQLite drops a table's triggers with it) cannot leave the
index stale.
"""

from __future__ import annotations

import logging
import sqlite3

from sqlalchemy import Connection

__all__ = ["MIN_KEY", "SQLITE_TRIGRAM", "create", "drop", "ensure", "is_index_object"]

log = logging.getLogger(__name__)

#: Shortest key a trigram index serves (characters).
MIN_KEY = 3
#: This Python's SQLite has FTS5's trigram tokenizer (3.34).
SQLITE_TRIGRAM = sqlite3.sqlite_version_info >= (3, 34, 0)
_TABLES = ("movies", "shows")


def _sqlite_ddl(table: str) -> list[str]:
    """The FTS5 table and triggers of ``table`` (one of this module's constant names)."""
    fts = f"{table}_fts"
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(search_key, content='{table}', "
        f"content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}(rowid, search_key) VALUES (new.id, new.search_key); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}({fts}, rowid, search_key) VALUES ('delete', old.id, old.search_key); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF id, search_key ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}({fts}, rowid, search_key) VALUES ('delete', old.id, old.search_key); "
        f"INSERT INTO {fts}(rowid, search_key) VALUES (new.id, new.search_key); END",
    ]


def _sqlite_complete(conn: Connection) -> bool:
    names = {r[0] for r in conn.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') AND name LIKE '%\\_fts%' ESCAPE '\\'")}
    return all(f"{t}_fts{s}" in names for t in _TABLES for s in ("", "_ai", "_ad", "_au"))


def _pg_trgm_schema(conn: Connection) -> str | None:
    """The schema holding pg_trgm's operator classes (it may be off the search path:
    each reelhouse schema of a shared database finds the one extension); None: absent."""
    row = conn.exec_driver_sql("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                               "WHERE e.extname = 'pg_trgm'").first()
    return None if row is None else str(row[0])


def create(conn: Connection) -> bool:
    """Build the index in the transaction of ``conn`` (idempotent), filled from the
    stored keys. False when this database cannot have it (SQLite < 3.34; PostgreSQL
    without pg_trgm and a role that may not create it): searches then use LIKE alone."""
    if conn.dialect.name == "sqlite":
        if not SQLITE_TRIGRAM:
            log.warning("SQLite %s has no trigram tokenizer (3.34): title searches scan", sqlite3.sqlite_version)
            return False
        for table in _TABLES:
            for ddl in _sqlite_ddl(table):
                conn.exec_driver_sql(ddl)
            conn.exec_driver_sql(f"INSERT INTO {table}_fts({table}_fts) VALUES ('rebuild')")  # noqa: S608
        return True
    if conn.dialect.name != "postgresql":
        return False
    if _pg_trgm_schema(conn) is None:
        # in ``public`` if this role may (one extension for every schema of the database,
        # which outlives a reelhouse schema dropped with CASCADE), else in the current one
        refusal = ""
        for ddl in ("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public", "CREATE EXTENSION IF NOT EXISTS pg_trgm"):
            try:
                with conn.begin_nested():  # a refusal must not abort the migration's transaction
                    conn.exec_driver_sql(ddl)
                break
            except Exception as exc:  # any refusal: no index, searches still work
                refusal = str(exc).splitlines()[0]
        else:
            log.warning("no trigram index for title searches: CREATE EXTENSION pg_trgm failed (%s); "
                        "an admin can run it in this database, the next start builds the index", refusal)
            return False
    ops = conn.dialect.identifier_preparer.quote_identifier(_pg_trgm_schema(conn) or "public") + ".gin_trgm_ops"
    for table in _TABLES:  # fastupdate off: a search never reads a long pending list after a scan's inserts
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS ix_{table}_search_trgm ON {table} "
                             f"USING gin (search_key {ops}) WITH (fastupdate = off)")
    return True


def drop(conn: Connection) -> None:
    """Remove the index (the migration's downgrade). The pg_trgm extension stays."""
    for table in _TABLES:
        if conn.dialect.name == "sqlite":
            for suffix in ("_ai", "_ad", "_au"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_fts{suffix}")
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}_fts")
        elif conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS ix_{table}_search_trgm")


def ensure(conn: Connection) -> None:
    """After the migrations: build what is missing (SQLite: a table rebuilt by a batch
    migration lost its triggers; PostgreSQL: pg_trgm enabled since by an admin)."""
    if conn.dialect.name == "sqlite":
        if SQLITE_TRIGRAM and not _sqlite_complete(conn):
            drop(conn)
            create(conn)
    elif conn.dialect.name == "postgresql":
        present = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexname IN ('ix_movies_search_trgm', 'ix_shows_search_trgm')").scalar_one()
        if present < len(_TABLES) and _pg_trgm_schema(conn) is not None:
            create(conn)


def is_index_object(name: str | None) -> bool:
    """The schema objects of this module (left out of Alembic's model comparison)."""
    return bool(name) and (("_fts" in str(name)) or str(name).endswith("_search_trgm"))
