"""Match confidence: title similarity (rapidfuzz) × year agreement."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelhouse.library.metadata.matcher import Candidate, best_match, confidence, fold

THING_1982 = Candidate(1091, "The Thing", 1982)
THING_2011 = Candidate(60935, "The Thing", 2011)


@pytest.mark.parametrize(("title", "year", "candidate", "low", "high"), [
    ("Big Buck Bunny", 2008, Candidate(10378, "Big Buck Bunny", 2008), 1.0, 1.0),
    ("big.buck.bunny", 2008, Candidate(10378, "Big Buck Bunny", 2008), 1.0, 1.0),
    ("Amelie", 2001, Candidate(194, "Amélie", 2001, "Le Fabuleux Destin d'Amélie Poulain"), 1.0, 1.0),
    ("Le Fabuleux Destin d'Amelie Poulain", 2001,
     Candidate(194, "Amélie", 2001, "Le Fabuleux Destin d'Amélie Poulain"), 1.0, 1.0),
    ("Fast and Furious", 2009, Candidate(13804, "Fast & Furious", 2009), 1.0, 1.0),
    ("Sintel", 2010, Candidate(45745, "Sintel", 2011), 0.89, 0.91),  # a year apart
    ("Sintel", None, Candidate(45745, "Sintel", 2010), 0.84, 0.86),  # no year to compare
    ("The Thing", 1982, THING_2011, 0.59, 0.61),  # same title, wrong year
    ("Star Wars", 1977, Candidate(181808, "Star Wars: The Last Jedi", 2017), 0.0, 0.4),
    ("Alien", 1979, Candidate(8077, "Alien³", 1992), 0.0, 0.6),
    ("", 2000, Candidate(1, "Anything", 2000), 0.0, 0.0),
])
def test_confidence_table(title: str, year: int | None, candidate: Candidate, low: float, high: float) -> None:
    assert low <= confidence(title, year, candidate) <= high


def test_best_match_prefers_the_year() -> None:
    best, score = best_match("The Thing", 1982, [THING_2011, THING_1982])
    assert best == THING_1982 and score == 1.0


def test_ambiguous_without_year_falls_under_threshold() -> None:
    best, score = best_match("The Thing", None, [THING_1982, THING_2011])
    assert best is not None and score < 0.8


def test_no_candidates() -> None:
    assert best_match("Nothing", None, []) == (None, 0.0)


def test_fold() -> None:
    assert fold("  Amélie & Nino: Part 2!  ") == "amelie and nino part 2"


@given(st.text(max_size=40), st.one_of(st.none(), st.integers(1870, 2100)),
       st.text(max_size=40), st.one_of(st.none(), st.integers(1870, 2100)))
def test_confidence_is_a_probability(title: str, year: int | None, other: str, other_year: int | None) -> None:
    assert 0.0 <= confidence(title, year, Candidate(1, other, other_year)) <= 1.0


@given(st.text(min_size=1, max_size=40).filter(lambda t: fold(t) != ""), st.integers(1870, 2100))
def test_exact_title_and_year_is_certain(title: str, year: int) -> None:
    assert confidence(title, year, Candidate(1, title, year)) == 1.0
