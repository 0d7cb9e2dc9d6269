"""What the database can store, for the edges that check input before it gets there.

Row ids and the other ``Integer`` columns are 32-bit signed on PostgreSQL (``integer``:
-2**31 .. 2**31-1, PostgreSQL docs §8.1.1) while SQLite takes 64 bits; an id past that
range reaches neither engine's index but makes PostgreSQL raise "integer out of range"
(and SQLite an ``OverflowError`` past 64 bits). Text columns cannot hold NUL on
PostgreSQL ("PostgreSQL text fields cannot contain NUL (0x00) bytes", §8.3) and no
engine can encode a lone UTF-16 surrogate (``"\\ud800"``, which JSON's ``\\u`` escapes
and base64 cursors can carry) as UTF-8. Checking here turns such input into
:class:`~reelhouse.errors.InvalidInput` (a 400) instead of a driver error (a 500).
"""

from __future__ import annotations

import logging

from reelhouse.errors import InvalidInput

__all__ = ["INT_MAX", "INT_MIN", "check_int", "check_text", "fit_text", "storable_int", "storable_text"]

log = logging.getLogger(__name__)

#: The range of an ``Integer`` column (ids included) on every engine we support.
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1


def storable_text(value: str) -> bool:
    """Whether ``value`` can be stored in (or compared with) a text column: no NUL, no
    lone surrogate."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_text(value: str, what: str) -> str:
    """``value`` if storable (:func:`storable_text`); raises InvalidInput naming ``what``."""
    if not storable_text(value):
        raise InvalidInput(f"{what} contains a NUL character or an unpaired surrogate")
    return value


def check_int(value: int, what: str) -> int:
    """``value`` if it fits an ``Integer`` column (bools refused); raises InvalidInput."""
    if isinstance(value, bool) or not INT_MIN <= value <= INT_MAX:
        raise InvalidInput(f"{what} is out of range ({INT_MIN} .. {INT_MAX})")
    return value


def storable_int(value: int | None, what: str, low: int = INT_MIN) -> int | None:
    """``value`` if it fits an ``Integer`` column and is at least ``low``, else None.

    For numbers read from outside (a ``[tmdbid=…]`` tag in a folder name, an NFO's
    ``<season>``, a TMDB reply): one past the range is no id we could match, so it is
    treated as absent, with a debug line naming ``what`` and the value, instead of
    failing the scan with PostgreSQL's "integer out of range".
    """
    if value is None or low <= value <= INT_MAX:
        return value
    log.debug("ignoring %s %d: outside %d .. %d", what, value, low, INT_MAX)
    return None


def fit_text(value: str | None, limit: int, what: str) -> str | None:
    """``value`` cut to ``limit`` characters, the length of its ``String(limit)`` column.

    PostgreSQL refuses a longer value ("value too long for type character varying",
    docs §8.3) where SQLite stores it, so a 200-character version label in a file name,
    or a 700-character NFO title, would fail a whole scan there. Cut, with a debug line
    naming ``what``; None stays None.
    """
    if value is None or len(value) <= limit:
        return value
    log.debug("cutting %s to %d characters (it has %d)", what, limit, len(value))
    return value[:limit]
