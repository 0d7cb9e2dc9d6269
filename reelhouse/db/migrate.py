"""Apply Alembic migrations (shipped in the package) at start-up."""

from __future__ import annotations

import warnings
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError, SAWarning

from reelhouse.db import title_index
from reelhouse.errors import ConfigError

__all__ = ["alembic_config", "upgrade"]

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 0x7265656C  # "reel": the advisory lock key of schema upgrades


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the package's migrations and ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _connect(engine: Engine) -> Connection:
    """The first connection of a process; a database that cannot be opened (SQLite: the
    data dir is read-only or gone; PostgreSQL: down, or the login refused) is a
    :class:`~reelhouse.errors.ConfigError` naming it (password hidden), not a traceback."""
    try:
        return engine.connect()
    except OperationalError as exc:
        lines = str(exc.orig or exc).strip().splitlines()
        reason = lines[0] if lines else "refused"
        where = engine.url.render_as_string(hide_password=True)
        raise ConfigError(f"cannot open the database {where}: {reason}") from None


def upgrade(engine: Engine) -> None:
    """Bring the database behind ``engine`` to the newest revision (idempotent).

    On SQLite, foreign keys are off while the migrations run: a batch migration
    rebuilds a table (copy, drop, rename), and dropping ``users`` with foreign keys on
    would cascade into every table that refers to it (watch progress, sessions, …).
    This is the procedure of https://www.sqlite.org/lang_altertable.html §7; the pragma
    has no effect inside a transaction, so it is set before the migration's own.
    """
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    sqlite = engine.dialect.name == "sqlite"
    with _connect(engine) as conn:
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin(), warnings.catch_warnings():
                # a batch rebuild reflects the tables around it; SQLite cannot reflect the
                # expression indexes (ix_movies_sort…), which the rebuild does not touch
                warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
                if conn.dialect.name == "postgresql":
                    # nodes and workers starting together on a fresh database take turns
                    # (the lock ends with the transaction); the later ones find it at head
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                title_index.ensure(conn)
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()
