"""HTTP byte ranges, pure: parse ``Range``, evaluate ``If-Range``, build ``Content-Range``.

Rules from RFC 9110: §14.1.2 (byte-range syntax: ``a-b``, ``a-``, suffix ``-n``),
§14.2 (a server MAY ignore Range; a syntactically invalid Range is ignored), §14.4
(Content-Range), §13.1.5 (If-Range: strong ETag or an exact Last-Modified date),
§15.5.17 (416 with ``Content-Range: bytes */size``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reelhouse.errors import RangeNotSatisfiable

__all__ = ["ByteRange", "content_range", "if_range_matches", "parse_range"]

# RFC 9110 DIGIT is ASCII 0-9 only (\d would accept other scripts' digits); OWS is SP/HTAB.
_SPEC = re.compile(r"^[ \t]*([0-9]*)[ \t]*-[ \t]*([0-9]*)[ \t]*$")
#: A position with more digits is past any file (10**30 bytes). Capping
#: also avoids Python's limit on int() of very long digit strings.
_MAX_DIGITS = 30
_HUGE = 10**_MAX_DIGITS


def _num(digits: str) -> int:
    return int(digits) if len(digits) <= _MAX_DIGITS else _HUGE
#: Most range-specs we evaluate in one header; more is treated as abuse and ignored.
MAX_RANGES = 64


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``start`` … ``end`` of a representation, both inclusive, in bytes."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one byte range to send for ``header`` over ``size`` bytes, or ``None`` for
    the whole representation (no header, another unit, invalid syntax, several ranges).

    Raises :class:`RangeNotSatisfiable` when the header is valid but no range overlaps
    the representation (→ 416).
    """
    if header is None or size < 0:
        return None
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    parts = spec.split(",")
    if len(parts) > MAX_RANGES:
        return None
    satisfiable: list[ByteRange] = []
    for part in parts:
        if not part.strip():
            continue  # RFC 9110 §5.6.1: empty list elements are ignored
        m = _SPEC.match(part)
        if m is None:
            return None
        first, last = m.group(1), m.group(2)
        if first == "" and last == "":
            return None
        if first == "":
            suffix = _num(last)
            if suffix > 0 and size > 0:
                satisfiable.append(ByteRange(max(0, size - suffix), size - 1))
            continue
        start = _num(first)
        end = _num(last) if last else None
        if end is not None and end < start:
            return None  # invalid range-spec → ignore the header (§14.1.1)
        if start >= size:
            continue
        satisfiable.append(ByteRange(start, size - 1 if end is None else min(end, size - 1)))
    if not satisfiable:
        if not any(p.strip() for p in parts):
            return None
        raise RangeNotSatisfiable(f"range {header!r} is outside the {size} bytes of the file", size)
    if len(satisfiable) == 1:
        return satisfiable[0]
    # Several ranges: answer with one 200 (allowed by §14.2) unless they merge into one.
    merged = sorted(satisfiable, key=lambda r: r.start)
    lo, hi = merged[0].start, merged[0].end
    for r in merged[1:]:
        if r.start > hi + 1:
            return None
        hi = max(hi, r.end)
    return ByteRange(lo, hi) if (lo, hi) != (0, size - 1) else None


def content_range(r: ByteRange | None, size: int) -> str:
    """``Content-Range`` value: ``bytes a-b/size``, or ``bytes */size`` for a 416."""
    return f"bytes */{size}" if r is None else f"bytes {r.start}-{r.end}/{size}"


def if_range_matches(if_range: str | None, etag: str, last_modified: str) -> bool:
    """Whether a Range may be honoured given ``If-Range`` (RFC 9110 §13.1.5).

    True when there is no If-Range, when it is the same strong ETag, or exactly the
    Last-Modified HTTP-date; a weak ETag never matches.
    """
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith('"') or value.startswith("W/"):
        return value == etag and not etag.startswith("W/")
    return value == last_modified
