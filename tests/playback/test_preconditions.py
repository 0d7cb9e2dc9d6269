"""Conditional requests, pure (RFC 9110 §13.1, §13.2.2): a table of cases and a property
test that no header value makes the evaluation raise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelhouse.playback.preconditions import evaluate, http_date_seconds

TAG = '"abc"'
WHEN = 1_700_000_000.7  # Tue, 14 Nov 2023 22:13:20 GMT (+0.7 s: HTTP-dates are whole seconds)
DATE = "Tue, 14 Nov 2023 22:13:20 GMT"
EARLIER = "Tue, 14 Nov 2023 22:13:19 GMT"


@pytest.mark.parametrize(("method", "headers", "outcome"), [
    ("GET", {}, "proceed"),
    ("GET", {"if_none_match": TAG}, "not_modified"),
    ("HEAD", {"if_none_match": TAG}, "not_modified"),
    ("GET", {"if_none_match": f'"x" , W/{TAG}'}, "not_modified"),  # weak comparison
    ("GET", {"if_none_match": "*"}, "not_modified"),
    ("GET", {"if_none_match": '"x"'}, "proceed"),
    ("POST", {"if_none_match": TAG}, "failed"),
    ("GET", {"if_modified_since": DATE}, "not_modified"),  # not modified after DATE
    ("GET", {"if_modified_since": EARLIER}, "proceed"),
    ("GET", {"if_modified_since": "not a date"}, "proceed"),
    ("GET", {"if_modified_since": "Tue, 14 Nov 2023 22:13:20"}, "proceed"),  # no zone: not one
    ("POST", {"if_modified_since": DATE}, "proceed"),  # GET and HEAD only
    ("GET", {"if_none_match": '"x"', "if_modified_since": DATE}, "proceed"),  # INM wins
    ("GET", {"if_match": TAG}, "proceed"),
    ("GET", {"if_match": "*"}, "proceed"),
    ("GET", {"if_match": f"W/{TAG}"}, "failed"),  # strong comparison
    ("GET", {"if_match": '"x", "abc"'}, "proceed"),
    ("GET", {"if_match": '"x"'}, "failed"),
    ("GET", {"if_match": "junk"}, "failed"),
    ("GET", {"if_unmodified_since": DATE}, "proceed"),
    ("GET", {"if_unmodified_since": EARLIER}, "failed"),
    ("GET", {"if_match": TAG, "if_unmodified_since": EARLIER}, "proceed"),  # If-Match wins
    ("GET", {"if_match": TAG, "if_none_match": TAG}, "not_modified"),
])
def test_table(method: str, headers: dict[str, str], outcome: str) -> None:
    assert evaluate(method, etag=TAG, last_modified=WHEN, **headers) == outcome


def test_without_validators() -> None:
    """No stable validator: dates are ignored (§13.1.3), If-None-Match of a tag never
    matches, If-Match of a tag fails (only ``*`` holds)."""
    for headers, outcome in (({"if_none_match": TAG}, "proceed"), ({"if_modified_since": DATE}, "proceed"),
                             ({"if_unmodified_since": EARLIER}, "proceed"),
                             ({"if_match": TAG}, "failed"), ({"if_match": "*"}, "proceed")):
        assert evaluate("GET", etag=None, last_modified=None, **headers) == outcome, headers


def test_weak_validator_never_matches_if_match() -> None:
    assert evaluate("GET", if_match=TAG, etag=f"W/{TAG}", last_modified=None) == "failed"
    assert evaluate("GET", if_none_match=TAG, etag=f"W/{TAG}", last_modified=None) == "not_modified"


def test_http_dates() -> None:
    assert http_date_seconds(DATE) == 1_700_000_000
    assert http_date_seconds("Tuesday, 14-Nov-23 22:13:20 GMT") == 1_700_000_000  # RFC 850
    assert http_date_seconds("Tue Nov 14 22:13:20 2023") == 1_700_000_000  # asctime: GMT
    for bad in (None, "", "soon", "Tue, 99 Nov 2023 22:13:20 GMT", "9" * 400):
        assert http_date_seconds(bad) is None


@given(st.text(max_size=200), st.text(max_size=200), st.text(max_size=80), st.text(max_size=80))
def test_any_header_value_is_evaluated(im: str, inm: str, ims: str, ius: str) -> None:
    for etag in (TAG, None):
        assert evaluate("GET", if_match=im, if_none_match=inm, if_modified_since=ims,
                        if_unmodified_since=ius, etag=etag, last_modified=WHEN) in (
            "proceed", "not_modified", "failed")


# The cases of a second, independent table (written against the RFC by another hand).
ETAG2 = '"abc123"'
MTIME2 = 784111777.5  # Sun, 06 Nov 1994 08:49:37 GMT and a half second
DATE2 = "Sun, 06 Nov 1994 08:49:37 GMT"
EARLIER2 = "Sun, 06 Nov 1994 08:49:36 GMT"

RFC_CASES: list[tuple[str, dict[str, str], str]] = [
    ("GET", {}, "proceed"),
    # If-None-Match: weak comparison, lists, "*" (§13.1.2)
    ("GET", {"if-none-match": ETAG2}, "not_modified"),
    ("HEAD", {"if-none-match": ETAG2}, "not_modified"),
    ("GET", {"if-none-match": f"W/{ETAG2}"}, "not_modified"),
    ("GET", {"if-none-match": f'"x", {ETAG2}'}, "not_modified"),
    ("GET", {"if-none-match": '"a,b", "abc123"'}, "not_modified"),
    ("GET", {"if-none-match": "*"}, "not_modified"),
    ("GET", {"if-none-match": '"other"'}, "proceed"),
    ("GET", {"if-none-match": "abc123"}, "proceed"),  # not quoted: no entity-tag
    ("POST", {"if-none-match": ETAG2}, "failed"),
    # If-Modified-Since: GET/HEAD only, whole seconds, unreadable dates ignored (§13.1.3)
    ("GET", {"if-modified-since": DATE2}, "not_modified"),
    ("GET", {"if-modified-since": "Sunday, 06-Nov-94 08:49:37 GMT"}, "not_modified"),
    ("GET", {"if-modified-since": "Sun Nov  6 08:49:37 1994"}, "not_modified"),
    ("GET", {"if-modified-since": EARLIER2}, "proceed"),
    ("GET", {"if-modified-since": "yesterday"}, "proceed"),
    ("GET", {"if-modified-since": f"{DATE2}, {DATE2}"}, "proceed"),
    ("GET", {"if-modified-since": ""}, "proceed"),
    ("POST", {"if-modified-since": DATE2}, "proceed"),
    # If-None-Match present: If-Modified-Since is not looked at (§13.2.2 step 4)
    ("GET", {"if-none-match": '"other"', "if-modified-since": DATE2}, "proceed"),
    # If-Match: strong comparison, "*" (§13.1.1)
    ("GET", {"if-match": ETAG2}, "proceed"),
    ("GET", {"if-match": "*"}, "proceed"),
    ("GET", {"if-match": f'"x", {ETAG2}'}, "proceed"),
    ("GET", {"if-match": f"W/{ETAG2}"}, "failed"),
    ("GET", {"if-match": '"other"'}, "failed"),
    ("GET", {"if-match": ""}, "failed"),
    # If-Unmodified-Since (§13.1.4), looked at only without If-Match
    ("GET", {"if-unmodified-since": DATE2}, "proceed"),
    ("GET", {"if-unmodified-since": EARLIER2}, "failed"),
    ("GET", {"if-unmodified-since": "garbage"}, "proceed"),
    ("GET", {"if-match": ETAG2, "if-unmodified-since": EARLIER2}, "proceed"),
    # step 1 before step 3
    ("GET", {"if-match": '"other"', "if-none-match": ETAG2}, "failed"),
    ("GET", {"if-match": ETAG2, "if-none-match": ETAG2}, "not_modified"),
]




@pytest.mark.parametrize(("method", "headers", "outcome"), RFC_CASES)
def test_rfc_cases(method: str, headers: dict[str, str], outcome: str) -> None:
    assert evaluate(method, if_match=headers.get("if-match"), if_none_match=headers.get("if-none-match"),
                    if_modified_since=headers.get("if-modified-since"),
                    if_unmodified_since=headers.get("if-unmodified-since"),
                    etag=ETAG2, last_modified=MTIME2) == outcome
