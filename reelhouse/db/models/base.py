"""Declarative base, the UTC datetime column type and ``utcnow``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Dialect,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase

__all__ = ["Base", "UTCDateTime", "utcnow"]

#: Distinct stored texts a column's result processor keeps converted (SQLite).
_MEMO_MAX = 4096


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every engine. SQLite stores datetimes without a
    zone, so values read back get UTC attached (they were written as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], datetime | None]:
        """What :meth:`process_result_value` does after the engine's own conversion
        (SQLite: ``datetime.fromisoformat`` of the stored text), in one function a value.
        TypeDecorator's own processor calls two more Python functions a value: a show page
        of 80 files reads 240 datetimes (issue 14: CPU per request; benchmarks/README.md,
        "Computed pages, CPU per request")."""
        impl = self.impl_instance.result_processor(dialect, coltype)
        if impl is None:  # the driver gives datetimes (psycopg: aware ones)

            def process(value: Any) -> datetime | None:
                if value is None or value.tzinfo is not None:
                    return value  # type: ignore[no-any-return]
                return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]

            return process
        # SQLite: the stored text, converted once per distinct text. A page's files share
        # a few values (the scan's first_seen and last_seen), and datetimes are immutable,
        # so one object serves every row and thread: a show page's 240 values cost ~0.2 ms
        # of CPU converted one by one (issue 14)
        memo: dict[Any, datetime] = {}

        def convert(value: Any) -> datetime | None:
            if value is None:
                return None
            hit = memo.get(value)
            if hit is None:
                made: datetime = impl(value)  # type: ignore[assignment]
                hit = made if made.tzinfo is not None else made.replace(tzinfo=UTC)
                if len(memo) >= _MEMO_MAX:
                    memo.clear()
                memo[value] = hit
            return hit

        return convert


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}
