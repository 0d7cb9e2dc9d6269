"""UTCDateTime reads (db/models/base.py): aware UTC datetimes on SQLite and PostgreSQL,
from what the ORM wrote and from text written by hand; its one-function result
processor gives what TypeDecorator's own did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text

from reelhouse.db.models.base import UTCDateTime


@pytest.mark.parametrize("stored, want", [
    ("2026-01-01 00:00:00.000000", datetime(2026, 1, 1, tzinfo=UTC)),
    ("2026-01-01 10:20:30.000123", datetime(2026, 1, 1, 10, 20, 30, 123, tzinfo=UTC)),
    ("2026-01-01", datetime(2026, 1, 1, tzinfo=UTC)),
    ("2026-01-01 12:00:00+02:00", datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))),
    (None, None),
])
def test_sqlite_text_reads_as_aware_utc(tmp_path: Path, stored: str | None, want: datetime | None) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime()))
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(text("INSERT INTO t (id, at) VALUES (1, :at)"), {"at": stored})
        got = conn.execute(select(table.c.at)).scalar_one()
        assert got == want and (got is None or got.utcoffset() == want.utcoffset())  # type: ignore[union-attr]
        # what the ORM writes comes back equal, aware, in UTC
        written = datetime(2026, 5, 6, 7, 8, 9, 10, tzinfo=timezone(timedelta(hours=-3)))
        conn.execute(insert(table), {"id": 2, "at": written})
        back = conn.execute(select(table.c.at).where(table.c.id == 2)).scalar_one()
        assert back == written and back.tzinfo is UTC
    engine.dispose()


def test_sqlite_texts_converted_once_and_right_past_the_memo(tmp_path: Path) -> None:
    """A text read again is the same datetime object (converted once: the scan's
    timestamps repeat on every file of a page), and every value stays right when more
    distinct texts than the memo keeps are read."""
    from reelhouse.db.models import base

    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime()))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    n = base._MEMO_MAX + 500
    stamps = [start + timedelta(seconds=i // 3, microseconds=i % 3) for i in range(n)]
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(text("INSERT INTO t (id, at) VALUES (:id, :at)"),
                     [{"id": i, "at": s.strftime("%Y-%m-%d %H:%M:%S.%f")} for i, s in enumerate(stamps)]
                     + [{"id": n + i, "at": "2026-02-02 02:02:02.000000"} for i in range(5)])
        got = conn.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
    engine.dispose()
    assert got[:n] == stamps and all(g.tzinfo is UTC for g in got)
    assert got[n] == datetime(2026, 2, 2, 2, 2, 2, tzinfo=UTC)
    assert all(g is got[n] for g in got[n:])
