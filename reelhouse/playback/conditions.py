"""HTTP preconditions of a stream, pure: ``If-Match``, ``If-Unmodified-Since``,
``If-None-Match``, ``If-Modified-Since`` (RFC 9110 §13.1.1-13.1.4), evaluated in the
order of §13.2.2. ``If-Range`` comes after them and lives in :mod:`ranges`.

A cache or a player that revalidates what it holds gets a ``304`` without the file;
a client that asks to act only on one version gets a ``412`` when the file is another.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

__all__ = ["NOT_MODIFIED", "PRECONDITION_FAILED", "evaluate"]

NOT_MODIFIED = 304
PRECONDITION_FAILED = 412

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE (RFC 9110 §8.8.3); etagc has no DQUOTE,
# so a quoted tag ends at the next quote whatever it holds (commas included).
_TAG = re.compile(r'(W/)?"[^"]*"')


def _tags(value: str) -> list[tuple[bool, str]]:
    """(weak, opaque tag) of each entity-tag in a list field."""
    return [(m.group(1) is not None, m.group(0).removeprefix("W/")) for m in _TAG.finditer(value)]


def _matches(value: str, etag: str, *, strong: bool) -> bool:
    """Whether the ``If-Match``/``If-None-Match`` ``value`` names ``etag`` (``*`` names
    any current representation); strong comparison refuses a weak tag on either side
    (§8.8.3.2), weak comparison compares the opaque tags only."""
    if value.strip() == "*":
        return True
    own_weak = etag.startswith("W/")
    own = etag.removeprefix("W/")
    for weak, tag in _tags(value):
        if tag == own and (not strong or not (weak or own_weak)):
            return True
    return False


def _date(value: str) -> float | None:
    """Seconds since the epoch of an HTTP-date (IMF-fixdate, RFC 850 or asctime, all
    three of which a recipient must read: §5.6.7); ``None`` when it is not one date."""
    if "," in value.split(" ", 1)[-1]:  # a list of dates (a second member): not one date
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # asctime carries no zone: it is GMT
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def evaluate(method: str, headers: Mapping[str, str], etag: str, mtime: float | None) -> int | None:
    """The status a request's preconditions call for on the representation with
    ``etag`` last modified at ``mtime`` (seconds since the epoch, ``None`` if unknown):
    ``412``, ``304``, or ``None`` to go on (then ``If-Range`` and ``Range`` apply).

    ``headers`` is case-insensitive with lower-case keys (Starlette's ``Headers``, or a
    dict of lower-case names). Dates compare at whole seconds, the precision of
    ``Last-Modified``; a date that does not parse, and every date condition on a file
    with no known ``mtime``, is ignored (§13.1.3, §13.1.4).
    """
    modified = math.floor(mtime) if mtime is not None else None
    if_match = headers.get("if-match")
    if if_match is not None:
        if not _matches(if_match, etag, strong=True):
            return PRECONDITION_FAILED
    else:
        since = headers.get("if-unmodified-since")
        limit = _date(since) if since is not None else None
        if limit is not None and modified is not None and modified > limit:
            return PRECONDITION_FAILED
    safe = method.upper() in ("GET", "HEAD")
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        if _matches(if_none_match, etag, strong=False):
            return NOT_MODIFIED if safe else PRECONDITION_FAILED
    elif safe:
        since = headers.get("if-modified-since")
        limit = _date(since) if since is not None else None
        if limit is not None and modified is not None and modified <= limit:
            return NOT_MODIFIED
    return None
