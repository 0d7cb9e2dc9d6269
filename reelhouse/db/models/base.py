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

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            if impl is not None:
                value = impl(value)
            return value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # type: ignore[no-any-return]

        return process


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}
