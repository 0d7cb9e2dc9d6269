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
