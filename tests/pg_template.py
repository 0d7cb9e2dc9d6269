"""PostgreSQL databases at the migrations' head for tests: each a copy of one database
migrated once per test process (``CREATE DATABASE … TEMPLATE``, PostgreSQL's own copy,
~0.1 s where running the migrations cost ~1.5 s of a loaded 2-core machine), dropped
after its test. The tests of the migrations themselves (tests/db) run them for real."""

from __future__ import annotations

import atexit
import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, make_url, text

from reelhouse.db.engine import make_engine
from reelhouse.db.migrate import upgrade

_TEMPLATES: dict[str, str] = {}  # the server's URL -> its template database, once made
_SERIAL = itertools.count(1)


def _admin(url: str) -> Engine:
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _named(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _drop(url: str, database: str) -> None:
    admin = _admin(url)
    try:
        with admin.connect() as conn:  # FORCE: a connection a test left open ends with it
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def may_create_databases(url: str) -> bool:
    """Whether the role of ``url`` may create databases (``CREATEDB``, as .ci/run's)."""
    admin = _admin(url)
    try:
        with admin.connect() as conn:
            return bool(conn.execute(text("SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user"))
                        .scalar())
    finally:
        admin.dispose()


def _template(url: str) -> str:
    """The database migrated to head by the real migrations (made on first use, named
    after the database of ``url`` and this process; dropped when the process ends)."""
    if url not in _TEMPLATES:
        name = f"{make_url(url).database}_tmpl_{os.getpid()}"
        _drop(url, name)
        admin = _admin(url)
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        atexit.register(_drop, url, name)
        engine = make_engine(_named(url, name))
        try:
            upgrade(engine)
        finally:
            engine.dispose()  # a template may have no session open while it is copied
        _TEMPLATES[url] = name
    return _TEMPLATES[url]


@contextmanager
def database_at_head(url: str) -> Iterator[str]:
    """The URL of a new database on the server of ``url`` (a PostgreSQL URL whose role
    may create databases: :func:`may_create_databases`) at the migrations' head, a copy
    of :func:`_template`; dropped when the block ends."""
    template = _template(url)
    name = f"{make_url(url).database}_{os.getpid()}_{next(_SERIAL)}"
    admin = _admin(url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY WAL_LOG'))
    finally:
        admin.dispose()
    try:
        yield _named(url, name)
    finally:
        _drop(url, name)
