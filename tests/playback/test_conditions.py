"""Tests for reelhouse.playback.conditions: a table of RFC 9110 §13 cases, then a
property (any header values: a status or None, never an exception)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelhouse.playback.conditions import NOT_MODIFIED, PRECONDITION_FAILED, evaluate

ETAG = '"abc123"'
MTIME = 784111777.5  # Sun, 06 Nov 1994 08:49:37 GMT and a half second
DATE = "Sun, 06 Nov 1994 08:49:37 GMT"
EARLIER = "Sun, 06 Nov 1994 08:49:36 GMT"

CASES: list[tuple[str, dict[str, str], int | None]] = [
    ("GET", {}, None),
    # If-None-Match: weak comparison, lists, "*" (§13.1.2)
    ("GET", {"if-none-match": ETAG}, NOT_MODIFIED),
    ("HEAD", {"if-none-match": ETAG}, NOT_MODIFIED),
    ("GET", {"if-none-match": f"W/{ETAG}"}, NOT_MODIFIED),
    ("GET", {"if-none-match": f'"x", {ETAG}'}, NOT_MODIFIED),
    ("GET", {"if-none-match": '"a,b", "abc123"'}, NOT_MODIFIED),
    ("GET", {"if-none-match": "*"}, NOT_MODIFIED),
    ("GET", {"if-none-match": '"other"'}, None),
    ("GET", {"if-none-match": "abc123"}, None),  # not quoted: no entity-tag
    ("POST", {"if-none-match": ETAG}, PRECONDITION_FAILED),
    # If-Modified-Since: GET/HEAD only, whole seconds, unreadable dates ignored (§13.1.3)
    ("GET", {"if-modified-since": DATE}, NOT_MODIFIED),
    ("GET", {"if-modified-since": "Sunday, 06-Nov-94 08:49:37 GMT"}, NOT_MODIFIED),
    ("GET", {"if-modified-since": "Sun Nov  6 08:49:37 1994"}, NOT_MODIFIED),
    ("GET", {"if-modified-since": EARLIER}, None),
    ("GET", {"if-modified-since": "yesterday"}, None),
    ("GET", {"if-modified-since": f"{DATE}, {DATE}"}, None),
    ("GET", {"if-modified-since": ""}, None),
    ("POST", {"if-modified-since": DATE}, None),
    # If-None-Match present: If-Modified-Since is not looked at (§13.2.2 step 4)
    ("GET", {"if-none-match": '"other"', "if-modified-since": DATE}, None),
    # If-Match: strong comparison, "*" (§13.1.1)
    ("GET", {"if-match": ETAG}, None),
    ("GET", {"if-match": "*"}, None),
    ("GET", {"if-match": f'"x", {ETAG}'}, None),
    ("GET", {"if-match": f"W/{ETAG}"}, PRECONDITION_FAILED),
    ("GET", {"if-match": '"other"'}, PRECONDITION_FAILED),
    ("GET", {"if-match": ""}, PRECONDITION_FAILED),
    # If-Unmodified-Since (§13.1.4), looked at only without If-Match
    ("GET", {"if-unmodified-since": DATE}, None),
    ("GET", {"if-unmodified-since": EARLIER}, PRECONDITION_FAILED),
    ("GET", {"if-unmodified-since": "garbage"}, None),
    ("GET", {"if-match": ETAG, "if-unmodified-since": EARLIER}, None),
    # step 1 before step 3
    ("GET", {"if-match": '"other"', "if-none-match": ETAG}, PRECONDITION_FAILED),
    ("GET", {"if-match": ETAG, "if-none-match": ETAG}, NOT_MODIFIED),
]


@pytest.mark.parametrize(("method", "headers", "expected"), CASES)
def test_rfc_cases(method: str, headers: dict[str, str], expected: int | None) -> None:
    assert evaluate(method, headers, ETAG, MTIME) == expected


def test_no_known_date_ignores_date_conditions() -> None:
    assert evaluate("GET", {"if-modified-since": DATE}, ETAG, None) is None
    assert evaluate("GET", {"if-unmodified-since": EARLIER}, ETAG, None) is None
    assert evaluate("GET", {"if-none-match": ETAG}, ETAG, None) == NOT_MODIFIED


def test_a_weak_own_tag_never_matches_if_match() -> None:
    assert evaluate("GET", {"if-match": f"W/{ETAG}"}, f"W/{ETAG}", MTIME) == PRECONDITION_FAILED
    assert evaluate("GET", {"if-none-match": ETAG}, f"W/{ETAG}", MTIME) == NOT_MODIFIED


_NAMES = st.sampled_from(["if-match", "if-none-match", "if-modified-since", "if-unmodified-since"])


@given(st.dictionaries(_NAMES, st.text(max_size=80)), st.sampled_from(["GET", "HEAD", "PUT"]),
       st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)))
def test_any_header_values_give_a_verdict(headers: dict[str, str], method: str, mtime: float | None) -> None:
    assert evaluate(method, headers, ETAG, mtime) in (None, NOT_MODIFIED, PRECONDITION_FAILED)
