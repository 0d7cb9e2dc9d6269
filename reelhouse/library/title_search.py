"""Title search conditions shared by the library grid, the title lists and the Jellyfin
API: the folded key of the words (:mod:`reelhouse.db.search_key`) anywhere in the
title's stored key; a query without any letter or digit ("!!!") is compared with the
lower-case title as typed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, bindparam, func
from sqlalchemy.types import Text

from reelhouse.db.search_key import search_pattern

__all__ = ["literal_like", "search_parameter", "title_condition"]


def literal_like(query: str) -> str:
    """``query`` anywhere, lower-case, as a LIKE pattern with escape ``\\``."""
    text = query.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{text}%"


def search_parameter(query: str) -> tuple[bool, str]:
    """``(folded, pattern)``: the value of the bound ``q_like`` of a statement made by
    :func:`title_condition` with ``bound=True`` and the same ``folded``."""
    pattern = search_pattern(query)
    return (True, pattern) if pattern else (False, literal_like(query))


def title_condition(model: Any, query: str, bound: bool = False,
                    folded: bool | None = None) -> ColumnElement[bool]:
    """``model`` (Movie or Show) whose title matches ``query``. ``bound``: the pattern is
    the bound parameter ``q_like`` (see :func:`search_parameter`; ``folded`` says which
    of the two comparisons the statement makes), so one statement serves every search."""
    if folded is None:
        folded, value = search_parameter(query)
    else:
        value = search_parameter(query)[1]
    pattern: Any = bindparam("q_like", type_=Text) if bound else value
    if folded:
        return model.search_key.like(pattern)  # type: ignore[no-any-return]
    return func.lower(model.title).like(pattern, escape="\\")
