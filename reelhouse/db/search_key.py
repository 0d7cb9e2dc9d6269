"""The folded forms of a title that title searches compare and the library sorts by.

Search: "amelie" finds "Amélie", "ELITE" finds "Élite", "ornen" finds "Ørnen",
"aeon flux" finds "Æon Flux", "spider man" and "spiderman" find "Spider-Man". Sort:
"The Matrix" files under M, "Élite" under E (between "Dark" and "Fargo", not after
"Zodiac"), "Ørnen" under O, "Æon Flux" under A, as in Jellyfin's default SortName (the
leading English articles "the", "a", "an" dropped).

Folding: compatibility decomposition (NFKD) without the accents, then the Latin
letters that have no decomposition (Ø, Æ, Œ, Ł, Đ, Þ, ı, ß …) as the ASCII letters
``anyascii`` (ISC licence, https://github.com/anyascii/anyascii) writes them ("Ø" →
"O", "Æ" → "AE", "Þ" → "TH"), then case folding. Letters of other scripts (Cyrillic,
Greek, CJK …) stay as they are: "Брат" is found by "брат", not by a transliteration
that nobody types, and files under "#".

A title's key is stored beside it (``movies.search_key``, ``shows.search_key``: SQLite's
``lower()`` and ``LIKE`` fold ASCII letters only, so an accent or a capital outside
ASCII never matched), and a search compares the key of its words with ``LIKE
'%key%'``. The key keeps letters and digits only: every character left is alphanumeric,
so a pattern made of keys needs no LIKE escaping.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

__all__ = ["KEY_MAX", "search_key", "search_pattern", "sort_key"]

#: Longest key kept (characters): the columns' ``String(1100)``. A 512-character title
#: can fold longer ("ﷺ" is 18 letters in NFKD, "Þ" two): the rest is cut.
KEY_MAX = 1100

_ARTICLES = ("the ", "a ", "an ")
_NOT_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=4096)
def _latin(c: str) -> str:
    """A non-ASCII character left after NFKD: a Latin letter as ASCII letters ("Ø" →
    "O", "Æ" → "AE", "ß" → "ss"; ``anyascii``), anything else as it is."""
    if unicodedata.name(c, "").startswith("LATIN ") and (ascii_ := anyascii(c)).isalpha():
        return ascii_
    return c


def _fold(text: str) -> str:
    """``text`` in Unicode compatibility form (NFKD: "ﬁ" → "fi"), without combining
    marks (accents), with the Latin letters that do not decompose in ASCII ("Ørnen" →
    "Ornen": :func:`_latin`), case-folded."""
    if not text.isascii():
        text = "".join(c if c.isascii() else _latin(c)
                       for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.casefold()


def search_key(text: str | None) -> str:
    """``text`` folded (:func:`_fold`), letters and digits only. "" for None."""
    return "".join(c for c in _fold(text) if c.isalnum())[:KEY_MAX] if text else ""


def sort_key(text: str | None) -> str:
    """``text`` folded, each run of other characters one space, without a leading
    "the", "a" or "an" ("The Matrix" → "matrix", "Élite" → "elite"). "" for None."""
    if not text:
        return ""
    key = _NOT_WORD.sub(" ", _fold(text)).strip()
    for article in _ARTICLES:
        if key.startswith(article):
            return key[len(article):][:KEY_MAX]
    return key[:KEY_MAX]


def search_pattern(query: str | None) -> str | None:
    """The LIKE pattern (no escape needed) of a title search for ``query``; None when the
    query has no letter or digit (the caller then compares the title as typed)."""
    key = search_key(query)
    return f"%{key}%" if key else None
