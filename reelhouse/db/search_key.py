"""The folded forms of a title that title searches compare and the library sorts by.

Search: "amelie" finds "Amélie", "ELITE" finds "Élite", "spider man" and "spiderman"
find "Spider-Man". Sort: "The Matrix" files under M, "Élite" under E (between
"Dark" and "Fargo", not after "Zodiac"), as in Jellyfin's default SortName (the
leading English articles "the", "a", "an" dropped).

A title's key is stored beside it (``movies.search_key``, ``shows.search_key``: SQLite's
``lower()`` and ``LIKE`` fold ASCII letters only, so an accent or a capital outside
ASCII never matched), and a search compares the key of its words with ``LIKE
'%key%'``. The key keeps letters and digits only: every character left is alphanumeric,
so a pattern made of keys needs no LIKE escaping.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["search_key", "search_pattern", "sort_key"]

_ARTICLES = ("the ", "a ", "an ")
_NOT_WORD = re.compile(r"[\W_]+")


def _fold(text: str) -> str:
    """``text`` in Unicode compatibility form (NFKD: "ﬁ" → "fi"), without combining
    marks (accents), case-folded ("ß" → "ss")."""
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.casefold()


def search_key(text: str | None) -> str:
    """``text`` folded (:func:`_fold`), letters and digits only. "" for None."""
    return "".join(c for c in _fold(text) if c.isalnum()) if text else ""


def sort_key(text: str | None) -> str:
    """``text`` folded, each run of other characters one space, without a leading
    "the", "a" or "an" ("The Matrix" → "matrix", "Élite" → "elite"). "" for None."""
    if not text:
        return ""
    key = _NOT_WORD.sub(" ", _fold(text)).strip()
    for article in _ARTICLES:
        if key.startswith(article):
            return key[len(article):]
    return key


def search_pattern(query: str | None) -> str | None:
    """The LIKE pattern (no escape needed) of a title search for ``query``; None when the
    query has no letter or digit (the caller then compares the title as typed)."""
    key = search_key(query)
    return f"%{key}%" if key else None
