"""A migration step: fill a column of ``movies`` or ``shows`` from each row's title
(the folded keys of :mod:`reelhouse.db.search_key`; migrations 0015 and 0016)."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

__all__ = ["fill_from_titles"]


def fill_from_titles(conn: sa.Connection, table: str, column: str, fold: Callable[[str | None], str],
                     batch: int = 1000) -> None:
    """Set ``table.column`` to ``fold(title)`` in every row, ``batch`` rows per
    statement in id order (memory stays bounded at any library size)."""
    rows = sa.table(table, sa.column("id", sa.Integer), sa.column("title", sa.String),
                    sa.column(column, sa.String))
    update = rows.update().where(rows.c.id == sa.bindparam("b_id")).values({column: sa.bindparam("b_key")})
    last = 0
    while True:
        found = conn.execute(sa.select(rows.c.id, rows.c.title).where(rows.c.id > last)
                             .order_by(rows.c.id).limit(batch)).all()
        if not found:
            return
        conn.execute(update, [{"b_id": i, "b_key": fold(t)} for i, t in found])
        last = found[-1][0]
