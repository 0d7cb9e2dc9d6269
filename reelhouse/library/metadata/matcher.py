"""How sure we are that a TMDB result is the file's film or show. Pure.

``confidence`` (0..1) = title similarity × year agreement:

- similarity: rapidfuzz ``ratio`` and ``token_sort_ratio`` (the better of the two)
  on titles folded to lower case without accents and punctuation, against the
  candidate's title and original title (the better counts);
- year: same year ×1.0, one year apart ×0.9 (release dates differ by country), further
  apart ×0.6, a year missing on either side ×0.85.

:func:`best_match` also lowers the best score by 10 % when the runner-up scores within
0.02 of it (two films of one name, no year to tell them apart), so such a pick falls
under the default threshold (0.8) and is marked "needs review".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

__all__ = ["Candidate", "best_match", "confidence", "fold"]


@dataclass(frozen=True)
class Candidate:
    """A search result: TMDB id, title, original title, year (of first release/air date)."""

    tmdb_id: int
    title: str
    year: int | None = None
    original_title: str | None = None
    overview: str | None = None
    poster_path: str | None = None
    countries: tuple[str, ...] = ()  # shows: ISO 3166-1 origin countries


def fold(title: str) -> str:
    """Lower case, no accents, ``&`` → "and", punctuation → spaces, single spaces."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("&", " and ")
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def _similarity(a: str, b: str) -> float:
    fa, fb = fold(a), fold(b)
    if not fa or not fb:
        return 0.0
    return max(fuzz.ratio(fa, fb), fuzz.token_sort_ratio(fa, fb)) / 100.0


def confidence(title: str, year: int | None, candidate: Candidate) -> float:
    """0..1: how well ``candidate`` fits a file named ``title`` (``year`` if known)."""
    sim = _similarity(title, candidate.title)
    if candidate.original_title:
        sim = max(sim, _similarity(title, candidate.original_title))
    if year is None or candidate.year is None:
        factor = 0.85
    elif year == candidate.year:
        factor = 1.0
    elif abs(year - candidate.year) == 1:
        factor = 0.9
    else:
        factor = 0.6
    return round(sim * factor, 4)


def best_match(
    title: str, year: int | None, candidates: Sequence[Candidate]
) -> tuple[Candidate | None, float]:
    """The best candidate and its confidence ((None, 0.0) when there is none)."""
    scored = sorted(((confidence(title, year, c), i) for i, c in enumerate(candidates)), reverse=True)
    if not scored:
        return None, 0.0
    best, index = scored[0]
    if len(scored) > 1 and best - scored[1][0] <= 0.02:
        best = round(best * 0.9, 4)
    return candidates[index], best
