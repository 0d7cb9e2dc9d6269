"""The earlier tree's own copy of a filled library, for ``big_library.py --before``.

A server of an earlier commit cannot start on a database this tree has migrated past
its head (Alembic: "Can't locate revision"), and reading this tree's columns would
not measure that commit. So when the earlier tree does not know this tree's head, the
``before`` server gets a copy of the library taken down by this tree's migrations to
the newest revision both trees have (its server upgrades the copy to its own head):
SQLite, a copy of the data dir; PostgreSQL, a copy of the schema (``pg_dump`` of the
schema, renamed, into ``psql``). Same rows, same sessions (the fixture's tokens work on
both), each server on the schema its code expects.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

__all__ = ["before_database", "drop_before_schema"]

_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)


def _revisions(tree: Path) -> dict[str, str | None]:
    """revision -> down_revision of the migrations of source tree ``tree`` (read, not
    imported)."""
    out: dict[str, str | None] = {}
    for path in (tree / "reelhouse" / "db" / "migrations" / "versions").glob("*.py"):
        text = path.read_text()
        if (m := _REVISION.search(text)) is not None:
            down = _DOWN.search(text)
            out[m.group(1)] = down.group(1) if down is not None else None
    return out


def _head(revisions: dict[str, str | None]) -> str:
    heads = set(revisions) - {d for d in revisions.values() if d is not None}
    if len(heads) != 1:
        raise RuntimeError(f"migration heads {sorted(heads)}")
    return heads.pop()


def _shared(here: dict[str, str | None], there: dict[str, str | None]) -> str:
    """The newest revision of this tree's chain that the other tree has too: the copy
    is taken down to it, and the other tree's server upgrades it to its own head."""
    rev: str | None = _head(here)
    while rev is not None and rev not in there:
        rev = here[rev]
    if rev is None:
        raise RuntimeError("the two trees share no migration")
    return rev


def _downgrade(url: str, head: str) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    from reelhouse.db.migrate import alembic_config

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, head)
    finally:
        engine.dispose()


def _schema(url: str) -> str:
    options = parse_qs(urlsplit(url).query).get("options", [""])[0]
    m = re.search(r"search_path=(\w+)", unquote(options))
    if m is None:
        raise RuntimeError("a PostgreSQL URL without -csearch_path=<schema>")
    return m.group(1)


def _libpq(url: str) -> str:
    parts = urlsplit(url)
    return f"postgresql://{parts.netloc}{parts.path}"


def before_database(url: str, data: Path, before: Path) -> tuple[str, Path]:
    """(database URL, data dir) for the server of source tree ``before``: ``url`` and
    ``data`` themselves when ``before`` knows this tree's migration head, else a fresh
    copy taken down to the newest revision both trees have (SQLite: ``<data>-before``;
    PostgreSQL: ``<schema>_before``); ``before``'s server upgrades it to its own head."""
    here, there = _revisions(Path(__file__).resolve().parent.parent), _revisions(before)
    head = _shared(here, there)
    if head == _head(here):
        return url, data
    if url.startswith("sqlite"):
        copy = data.with_name(data.name + "-before")
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(data, copy, ignore=shutil.ignore_patterns("serve-*.log", "wrk-*"))
        copied = url.replace(str(data), str(copy))
        _downgrade(copied, head)
        return copied, copy
    schema = _schema(url)
    target = f"{schema}_before"
    drop_before_schema(url)
    env = dict(os.environ, PGPASSWORD=unquote(urlsplit(url).password or ""))
    dump = subprocess.run(["pg_dump", "--no-owner", "--no-privileges", f"--schema={schema}", _libpq(url)],
                          env=env, check=True, capture_output=True).stdout
    renamed = re.sub(rb"\b" + schema.encode() + rb"\b", target.encode(), dump)
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", _libpq(url)], input=renamed, env=env, check=True,
                   capture_output=True)
    copied = url.replace(quote(f"-csearch_path={schema}"), quote(f"-csearch_path={target}"))
    _downgrade(copied, head)
    _analyze(copied)  # a restored schema has no statistics: the planner would guess
    return copied, data


def _analyze(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()


def drop_before_schema(url: str) -> None:
    """Drop the PostgreSQL copy :func:`before_database` made for ``url`` (if any)."""
    if url.startswith("sqlite"):
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{_schema(url)}_before" CASCADE'))
    finally:
        engine.dispose()
