"""Which letters of the grid's A-Z bar have titles, for the bar to disable the others.

A title files under the first character of its sort key
(:func:`reelhouse.db.search_key.sort_key`: folded, without a leading article): "a" to
"z" under that letter, anything else (a digit, a sign, a letter of another script, an
empty key) under "#" — the same rule as the grid's ``letter`` filter
(:mod:`reelhouse.library.grid`). The letters are those of the titles that pass the
page's other filters (a search, a type, a genre …), so a letter is a link exactly
when following it shows something.

Finding them reads every title that passes the filters, as the page's count does: the
answer is kept per filter while :func:`~reelhouse.library.queries.library_version` is
the same, for at most :data:`TTL` seconds (like the counts), so a page turn or a
reload reads nothing.
"""

from __future__ import annotations

import string
import threading
import time
from dataclasses import replace
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelhouse.library.grid import GridFilter, title_rows
from reelhouse.library.queries import library_version

__all__ = ["LETTERS", "TTL", "grid_letters", "letter_of"]

#: The bar's letters, in order.
LETTERS: Final = "#" + string.ascii_uppercase
#: Longest time a filter's letters are kept (seconds), as :func:`~reelhouse.library.queries.cached_count`.
TTL: Final = 30.0

_CACHE: dict[GridFilter, tuple[float, tuple[object, ...], frozenset[str]]] = {}
_LOCK = threading.Lock()


def letter_of(first: str | None) -> str:
    """The bar's letter ("A"…"Z", "#") of a sort key's first character."""
    return first.upper() if first and "a" <= first <= "z" else "#"


def grid_letters(s: Session, f: GridFilter) -> frozenset[str]:
    """The letters of :data:`LETTERS` under which the grid shows at least one title
    for ``f`` (its own ``letter`` ignored). Raises InvalidInput for a bad filter."""
    f = replace(f, letter=None)
    f.check()
    now, version = time.monotonic(), library_version(s)
    with _LOCK:
        hit = _CACHE.get(f)
    if hit is not None and now - hit[0] < TTL and hit[1] == version:
        return hit[2]
    found: set[str] = set()
    for kind in ("movie", "show"):
        if f.kind in (None, "", kind):
            rows = title_rows(kind, f).subquery()
            firsts = select(func.substr(rows.c.sort, 1, 1)).distinct()
            found.update(letter_of(first) for first in s.connection().scalars(firsts))
    letters = frozenset(found)
    with _LOCK:
        if len(_CACHE) > 1000:
            _CACHE.clear()
        _CACHE[f] = (now, version, letters)
    return letters
