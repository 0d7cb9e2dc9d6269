"""HTTP conditional requests, pure: evaluate ``If-Match``, ``If-Unmodified-Since``,
``If-None-Match`` and ``If-Modified-Since`` against a representation's validators.

Rules from RFC 9110: §8.8.3.2 (strong and weak entity-tag comparison), §13.1.1
(If-Match: strong comparison, ``*`` matches any current representation), §13.1.2
(If-None-Match: weak comparison), §13.1.3 and §13.1.4 (a date is ignored when it is not
a valid HTTP-date, or when the representation has no modification date), §13.2.2 (the
order: If-Match, else If-Unmodified-Since → 412; then If-None-Match, else, for GET and
HEAD, If-Modified-Since → 304 for GET/HEAD, 412 for other methods). If-Range with Range
is :func:`.ranges.if_range_matches`. :func:`entity_tag` makes the strong ETags of the
streams and of the files this server made. No I/O, no clock.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Literal

from reelhouse.errors import PreconditionFailed

__all__ = ["Outcome", "entity_tag", "evaluate", "http_date_seconds", "precondition"]

#: ``proceed``: answer as usual (200/206); ``not_modified``: 304; ``failed``: 412.
Outcome = Literal["proceed", "not_modified", "failed"]

# entity-tag = [ W/ ] DQUOTE *etagc DQUOTE (RFC 9110 §8.8.3); etagc excludes DQUOTE
_TAG = re.compile(r'\s*(W/)?("[^"]*")\s*(?:,|$)')
# asctime-date = day-name SP date3 SP time-of-day SP year (RFC 9110 §5.6.7)
_ASCTIME = re.compile(r"[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\Z")
#: Most entity tags read from one header (more is abuse: the rest are ignored).
_MAX_TAGS = 64


def _tags(value: str) -> tuple[bool, list[tuple[bool, str]]]:
    """``(star, [(weak, opaque-tag)…])`` of an If-Match / If-None-Match value; a
    malformed list yields what parsed before the junk."""
    text = value.strip()
    if text == "*":
        return True, []
    out: list[tuple[bool, str]] = []
    pos = 0
    while pos < len(text) and len(out) < _MAX_TAGS:
        m = _TAG.match(text, pos)
        if m is None or m.end() == pos:
            break
        out.append((m.group(1) is not None, m.group(2)))
        pos = m.end()
    return False, out


def _opaque(etag: str) -> tuple[bool, str]:
    return (True, etag[2:]) if etag.startswith("W/") else (False, etag)


def http_date_seconds(value: str | None) -> int | None:
    """Seconds since the epoch of an HTTP-date (RFC 9110 §5.6.7), or None when it is
    not one (then the condition is ignored, §13.1.3)."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # a date without a zone is not one, but for asctime-date
        if not _ASCTIME.match(value.strip()):  # (§5.6.7), which is GMT without saying so
            return None
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


def evaluate(method: str, *, if_match: str | None = None, if_none_match: str | None = None,
             if_modified_since: str | None = None, if_unmodified_since: str | None = None,
             etag: str | None, last_modified: float | None) -> Outcome:
    """The outcome of a request's preconditions for a representation whose validators
    are ``etag`` (a quoted entity tag, or None when it has none) and ``last_modified``
    (seconds since the epoch, or None). Header values are as received (None: absent)."""
    get = method.upper() in ("GET", "HEAD")
    modified = int(last_modified) if last_modified is not None else None  # HTTP-dates: whole s
    if if_match is not None:
        star, tags = _tags(if_match)
        if not star:
            weak, mine = _opaque(etag) if etag else (True, "")
            if etag is None or weak or not any(not w and t == mine for w, t in tags):
                return "failed"
    elif if_unmodified_since is not None and modified is not None:
        since = http_date_seconds(if_unmodified_since)
        if since is not None and modified > since:
            return "failed"
    if if_none_match is not None:
        star, tags = _tags(if_none_match)
        current = _opaque(etag)[1] if etag else None
        if star or (current is not None and any(t == current for _, t in tags)):
            return "not_modified" if get else "failed"
    elif get and if_modified_since is not None and modified is not None:
        since = http_date_seconds(if_modified_since)
        if since is not None and modified <= since:
            return "not_modified"
    return "proceed"


def entity_tag(*identity: object) -> str:
    """A strong ETag (RFC 9110 §8.8.3) naming one version of a representation: a
    BLAKE2b digest (96 bits) of ``identity``, the parts that change when it does (e.g.
    source id, path, size in bytes, mtime)."""
    text = "\0".join(str(part) for part in identity)
    return f'"{hashlib.blake2b(text.encode(), digest_size=12).hexdigest()}"'


def precondition(conditions: Mapping[str, str] | None, method: str, etag: str | None,
                 mtime: float | None) -> bool:
    """Whether a request with headers ``conditions`` (lower-case names, as Starlette's
    ``request.headers``) gets the representation (True) or a 304 (False)
    (:func:`evaluate`); ``mtime`` in seconds since the epoch. Raises
    :class:`PreconditionFailed` (→ 412) for a false If-Match / If-Unmodified-Since."""
    if not conditions:
        return True
    outcome = evaluate(method, if_match=conditions.get("if-match"),
                       if_none_match=conditions.get("if-none-match"),
                       if_modified_since=conditions.get("if-modified-since"),
                       if_unmodified_since=conditions.get("if-unmodified-since"),
                       etag=etag, last_modified=mtime)
    if outcome == "failed":
        raise PreconditionFailed("the file is not the version the request names "
                                 "(If-Match / If-Unmodified-Since): it changed")
    return outcome == "proceed"
