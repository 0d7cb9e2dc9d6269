"""One row by its id, or :class:`~reelhouse.errors.NotFound` naming what was asked for:
the lookup every service's ``get`` starts with (jobs, sources, transfers)."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from reelhouse.db.limits import INT_MAX, INT_MIN
from reelhouse.errors import NotFound

__all__ = ["get_row"]

_Row = TypeVar("_Row")


def get_row(session: Session, model: type[_Row], ident: int, what: str) -> _Row:
    """The ``model`` row whose primary key is ``ident``, from ``session``; raises
    NotFound "no <what> with id <ident>". An id outside the ``Integer`` range
    (:mod:`reelhouse.db.limits`) is NotFound too, on every engine, not PostgreSQL's
    "integer out of range"."""
    row = session.get(model, ident) if INT_MIN <= ident <= INT_MAX else None
    if row is None:
        raise NotFound(f"no {what} with id {ident}")
    return row
