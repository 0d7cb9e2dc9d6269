"""Tests for reelhouse.playback.ranges: a table of RFC 9110 cases, then properties.

The examples of RFC 9110 §14.1.2 are over a representation of 10000 bytes.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reelhouse.errors import InvalidInput, RangeNotSatisfiable
from reelhouse.playback.ranges import (
    MAX_RANGES,
    ByteRange,
    content_range,
    if_range_matches,
    parse_range,
)

SIZE = 10_000
HUGE = 10**30

# (header, size, expected ByteRange or None)
CASES: list[tuple[str | None, int, ByteRange | None]] = [
    # RFC 9110 §14.1.2 examples
    ("bytes=0-499", SIZE, ByteRange(0, 499)),
    ("bytes=500-999", SIZE, ByteRange(500, 999)),
    ("bytes=-500", SIZE, ByteRange(9500, 9999)),
    ("bytes=9500-", SIZE, ByteRange(9500, 9999)),
    # first and last byte: two disjoint ranges → one 200 (RFC 9110 §14.2 allows it)
    ("bytes=0-0,-1", SIZE, None),
    # "other valid (but not canonical) specifications" of the second 500 bytes
    ("bytes=500-600,601-999", SIZE, ByteRange(500, 999)),
    ("bytes=500-700,601-999", SIZE, ByteRange(500, 999)),
    # single bytes
    ("bytes=0-0", SIZE, ByteRange(0, 0)),
    ("bytes=-1", SIZE, ByteRange(9999, 9999)),
    ("bytes=9999-9999", SIZE, ByteRange(9999, 9999)),
    ("bytes=9999-", SIZE, ByteRange(9999, 9999)),
    # whole file by range
    ("bytes=0-", SIZE, ByteRange(0, 9999)),
    ("bytes=0-9999", SIZE, ByteRange(0, 9999)),
    # last-pos past the end is clipped (§14.1.2)
    ("bytes=0-10000", SIZE, ByteRange(0, 9999)),
    ("bytes=9000-99999", SIZE, ByteRange(9000, 9999)),
    # suffix longer than the file → the whole file
    ("bytes=-10000", SIZE, ByteRange(0, 9999)),
    ("bytes=-20000", SIZE, ByteRange(0, 9999)),
    # whitespace around list elements (OWS, §5.6.1) and the unit
    ("bytes= 0-499", SIZE, ByteRange(0, 499)),
    ("bytes=0-499 ", SIZE, ByteRange(0, 499)),
    (" bytes =0-499", SIZE, ByteRange(0, 499)),
    ("bytes=0-0, -1", SIZE, None),
    ("bytes=0-4 , 5-9", SIZE, ByteRange(0, 9)),
    ("bytes=\t100-199", SIZE, ByteRange(100, 199)),
    # the unit is case-insensitive (§14.1)
    ("BYTES=0-499", SIZE, ByteRange(0, 499)),
    ("Bytes=0-499", SIZE, ByteRange(0, 499)),
    # empty list elements are ignored (§5.6.1)
    ("bytes=,0-499", SIZE, ByteRange(0, 499)),
    ("bytes=0-499,,", SIZE, ByteRange(0, 499)),
    # adjacent and overlapping ranges merge; merged into the whole file → 200
    ("bytes=0-4999,5000-9999", SIZE, None),
    ("bytes=-5000,0-5000", SIZE, None),
    ("bytes=10-19,0-9", SIZE, ByteRange(0, 19)),
    # an unsatisfiable part next to a satisfiable one: only the satisfiable one counts
    ("bytes=20000-,0-9", SIZE, ByteRange(0, 9)),
    # huge numbers
    (f"bytes=0-{HUGE}", SIZE, ByteRange(0, 9999)),
    (f"bytes=-{HUGE}", SIZE, ByteRange(0, 9999)),
    (f"bytes={2**63}-{2**64}", 2**64, ByteRange(2**63, 2**64 - 1)),
    # no header, other units → the whole representation
    (None, SIZE, None),
    ("items=0-5", SIZE, None),
    ("none", SIZE, None),
    ("bytes", SIZE, None),
    ("byte=0-5", SIZE, None),
    ("bytesx=0-5", SIZE, None),
    # invalid syntax → ignored (§14.2)
    ("bytes=", SIZE, None),
    ("bytes=-", SIZE, None),
    ("bytes=abc", SIZE, None),
    ("bytes=0-abc", SIZE, None),
    ("bytes=1-2-3", SIZE, None),
    ("bytes=0x10-0x20", SIZE, None),
    ("bytes=+1-5", SIZE, None),
    ("bytes=-+5", SIZE, None),
    ("bytes=1.5-2", SIZE, None),
    ("bytes=0-5,x", SIZE, None),
    ("bytes 0-5", SIZE, None),
    ("=0-5", SIZE, None),
    # first-pos > last-pos is an invalid range-spec → the header is ignored (§14.1.1)
    ("bytes=500-400", SIZE, None),
    ("bytes=0-5,9-8", SIZE, None),
    # too many ranges: treated as abuse and ignored
    ("bytes=" + ",".join(f"{i}-{i}" for i in range(0, 2 * (MAX_RANGES + 1), 2)), SIZE, None),
]


@pytest.mark.parametrize(("header", "size", "expected"), CASES)
def test_parse_range_table(header: str | None, size: int, expected: ByteRange | None) -> None:
    assert parse_range(header, size) == expected


UNSATISFIABLE: list[tuple[str, int]] = [
    ("bytes=10000-", SIZE),
    ("bytes=10000-20000", SIZE),
    ("bytes=-0", SIZE),
    ("bytes=20000-,30000-", SIZE),
    (f"bytes={HUGE}-", SIZE),
    (f"bytes={HUGE}-{HUGE + 1}", SIZE),
    # an empty representation has no byte to select
    ("bytes=0-", 0),
    ("bytes=0-0", 0),
    ("bytes=-5", 0),
    ("bytes=1-", 1),
]


@pytest.mark.parametrize(("header", "size"), UNSATISFIABLE)
def test_unsatisfiable_raises_with_size(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as info:
        parse_range(header, size)
    assert info.value.size == size
    assert isinstance(info.value, InvalidInput)
    assert content_range(None, size) == f"bytes */{size}"


def test_max_ranges_is_accepted() -> None:
    header = "bytes=" + ",".join(f"{i}-{i}" for i in range(0, 2 * MAX_RANGES, 2))
    # 64 disjoint ranges are evaluated (and answered with one 200)
    assert parse_range(header, SIZE) is None
    header = "bytes=" + ",".join(f"{i}-{i}" for i in range(MAX_RANGES))
    assert parse_range(header, SIZE) == ByteRange(0, MAX_RANGES - 1)


@pytest.mark.parametrize("header", ["bytes=" + "9" * 5000 + "-", "bytes=0-" + "9" * 5000,
                                    "bytes=-" + "9" * 5000])
def test_very_long_numbers_do_not_crash(header: str) -> None:
    """Past 4300 digits int() raises ValueError (CPython's int max str digits)."""
    try:
        result = parse_range(header, SIZE)
    except RangeNotSatisfiable:
        return
    assert result is None or 0 <= result.start <= result.end < SIZE


def test_non_ascii_digits_are_invalid_syntax() -> None:
    """RFC 9110 DIGIT is ASCII 0-9 only (a regex \\d would take Arabic-Indic digits)."""
    assert parse_range("bytes=\u0660-\u0664\u0669\u0669", SIZE) is None


def test_byte_range_length() -> None:
    assert ByteRange(0, 0).length == 1
    assert ByteRange(10, 19).length == 10


@pytest.mark.parametrize(
    ("rng", "size", "expected"),
    [
        (ByteRange(0, 499), 10000, "bytes 0-499/10000"),
        (ByteRange(9999, 9999), 10000, "bytes 9999-9999/10000"),
        (None, 10000, "bytes */10000"),
        (None, 0, "bytes */0"),
    ],
)
def test_content_range(rng: ByteRange | None, size: int, expected: str) -> None:
    assert content_range(rng, size) == expected


# ------------------------------------------------------------------------- If-Range

ETAG = '"abc123"'
LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"


@pytest.mark.parametrize(
    ("if_range", "etag", "expected"),
    [
        (None, ETAG, True),
        (ETAG, ETAG, True),
        (f"  {ETAG} ", ETAG, True),
        ('"other"', ETAG, False),
        ('W/"abc123"', ETAG, False),  # a weak validator never matches (§13.1.5)
        ('W/"abc123"', 'W/"abc123"', False),
        (LAST_MODIFIED, ETAG, True),  # an exact HTTP-date match
        ("Wed, 21 Oct 2015 07:28:01 GMT", ETAG, False),
        ("Thu, 01 Jan 1970 00:00:00 GMT", ETAG, False),
        ("garbage", ETAG, False),
        ("", ETAG, False),
    ],
)
def test_if_range(if_range: str | None, etag: str, expected: bool) -> None:
    assert if_range_matches(if_range, etag, LAST_MODIFIED) is expected


# ------------------------------------------------------------------------ properties

sizes = st.integers(min_value=0, max_value=2**53)
digits = st.integers(min_value=0, max_value=2**64).map(str)
spec = st.one_of(
    st.tuples(digits, digits).map(lambda t: f"{t[0]}-{t[1]}"),
    digits.map(lambda a: f"{a}-"),
    digits.map(lambda n: f"-{n}"),
    st.text(alphabet="0123456789- ,\t", max_size=12),
)
structured = st.builds(
    lambda unit, specs, sep: f"{unit}={sep.join(specs)}",
    st.sampled_from(["bytes", "BYTES", " bytes ", "items", "byte"]),
    st.lists(spec, min_size=0, max_size=6),
    st.sampled_from([",", ", ", " ,"]),
)
headers = st.one_of(st.none(), st.text(max_size=40), st.text(max_size=20).map("bytes=".__add__),
                    structured)


@settings(max_examples=200)
@given(header=headers, size=sizes)
@example(header="bytes=0-0,-1", size=1)
@example(header="bytes=-0", size=0)
def test_result_is_inside_the_file_or_unsatisfiable(header: str | None, size: int) -> None:
    """Any text: a range within [0, size-1] with start <= end, None, or a 416 error."""
    try:
        result = parse_range(header, size)
    except RangeNotSatisfiable as exc:
        assert exc.size == size
        return
    if result is not None:
        assert 0 <= result.start <= result.end <= size - 1
        assert result.length >= 1
        assert content_range(result, size) == f"bytes {result.start}-{result.end}/{size}"


@settings(max_examples=200)
@given(data=st.data(), size=st.integers(min_value=1, max_value=2**53))
def test_single_range_inside_the_file_round_trips(data: st.DataObject, size: int) -> None:
    start = data.draw(st.integers(min_value=0, max_value=size - 1))
    end = data.draw(st.integers(min_value=start, max_value=size - 1))
    assert parse_range(f"bytes={start}-{end}", size) == ByteRange(start, end)
    assert parse_range(f"bytes={start}-", size) == ByteRange(start, size - 1)


@settings(max_examples=200)
@given(data=st.data(), size=st.integers(min_value=1, max_value=2**53))
def test_last_pos_past_the_end_is_clipped(data: st.DataObject, size: int) -> None:
    start = data.draw(st.integers(min_value=0, max_value=size - 1))
    end = data.draw(st.integers(min_value=size, max_value=size + 2**64))
    assert parse_range(f"bytes={start}-{end}", size) == ByteRange(start, size - 1)


@settings(max_examples=200)
@given(size=st.integers(min_value=1, max_value=2**53), n=st.integers(min_value=1, max_value=2**60))
def test_suffix_range(size: int, n: int) -> None:
    assert parse_range(f"bytes=-{n}", size) == ByteRange(max(0, size - n), size - 1)


@settings(max_examples=200)
@given(size=st.integers(min_value=0, max_value=2**53), extra=st.integers(min_value=0, max_value=2**60))
def test_start_at_or_past_the_end_is_unsatisfiable(size: int, extra: int) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(f"bytes={size + extra}-", size)


@settings(max_examples=200)
@given(size=st.integers(min_value=2, max_value=2**40), data=st.data())
def test_start_after_end_is_ignored(size: int, data: st.DataObject) -> None:
    end = data.draw(st.integers(min_value=0, max_value=size - 2))
    start = data.draw(st.integers(min_value=end + 1, max_value=size - 1))
    assert parse_range(f"bytes={start}-{end}", size) is None
