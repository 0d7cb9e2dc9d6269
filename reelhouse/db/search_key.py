"""The folded form of a title that title searches compare: "amelie" finds "Amélie",
"ELITE" finds "Élite", "spider man" and "spiderman" find "Spider-Man".

A title's key is stored beside it (``movies.search_key``, ``shows.search_key``: SQLite's
``lower()`` and ``LIKE`` fold ASCII letters only, so an accent or a capital outside
ASCII never matched), and a search compares the key of its words with ``LIKE
'%key%'``. The key keeps letters and digits only: every character left is alphanumeric,
so a pattern made of keys needs no LIKE escaping.
"""

from __future__ import annotations

import unicodedata

__all__ = ["search_key", "search_pattern"]


def search_key(text: str | None) -> str:
    """``text`` in Unicode compatibility form (NFKD: "ﬁ" → "fi"), without combining
    marks (accents), case-folded ("ß" → "ss"), letters and digits only. "" for None."""
    if not text:
        return ""
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return "".join(c for c in text.casefold() if c.isalnum())


def search_pattern(query: str | None) -> str | None:
    """The LIKE pattern (no escape needed) of a title search for ``query``; None when the
    query has no letter or digit (the caller then compares the title as typed)."""
    key = search_key(query)
    return f"%{key}%" if key else None
