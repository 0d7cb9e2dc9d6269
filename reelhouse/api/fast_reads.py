"""The hot library reads answered without FastAPI's routing and dependency solving
(issue 14: CPU per request of a computed page).

FastAPI spends about 0.3 ms of the event loop's CPU on each library request: matching
the path against the app's routes and solving the route's dependencies (each query
parameter validated on its own), a third of a computed media-file page. For a request
whose token this process resolved within the identity window
(:meth:`~reelhouse.auth.identity.Authenticator.identify_cached`) and whose query is
plain — each parameter one the route takes, given once, with a value the route's
declaration accepts as it is (ASCII digits in range without a leading zero, one of the
listed words, ``true``/``false``/``1``/``0``, a non-empty string within its length) —
:func:`answer` runs the route's own body (``…_body`` of
:mod:`reelhouse.api.routes.library`, :func:`~reelhouse.api.routes.progress.continue_body`)
in the app's read processes (``read_processes``: :mod:`reelhouse.api.read_processes`)
or, without them, in its read lane, and returns its response.

Anything else goes the FastAPI way and is answered as it always was: an unknown,
repeated or empty parameter, a value FastAPI would refuse (422) or convert, and any
error the body raises (a bad cursor, a page too deep, no such show: the body runs again
there and its error handlers write the answer; so does any other exception, and a read
process lost before it answered). So the fast way only answers what the
route would have answered with a 200, with the same bytes and headers
(``tests/api/test_fast_reads.py``).

:class:`~reelhouse.api.page_cache.PageCacheMiddleware` calls it on a cache miss.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.types import Scope

from reelhouse.api.read_lane import ReadLane
from reelhouse.api.read_processes import ReadProcesses
from reelhouse.api.read_worker import BODIES
from reelhouse.api.routes import progress
from reelhouse.auth.access import sees_all
from reelhouse.core import Core
from reelhouse.db.limits import INT_MAX, INT_MIN

__all__ = ["FAST_PATHS", "answer"]


class _Refer(Exception):
    """The request is not plain: FastAPI answers it."""


def _int(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not (value.isascii() and value.isdigit()) or (value[0] == "0" and len(value) > 1) or len(value) > 10:
            raise _Refer
        number = int(value)
        if not low <= number <= high:
            raise _Refer
        return number
    return parse


def _text(max_length: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > max_length:
            raise _Refer
        return value
    return parse


def _word(*words: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in words:
            raise _Refer
        return value
    return parse


def _flag(value: str) -> bool:
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise _Refer


_LETTER = re.compile(r"^([A-Za-z]|#)$")


def _letter(value: str) -> str:
    if not _LETTER.match(value):
        raise _Refer
    return value


_ID = _int(max(1, INT_MIN), INT_MAX)  # an id given as digits is never negative
_PAGE = _int(1, 1_000_000)
_PER_PAGE = _int(1, 500)

#: path → (query parameters: name → parser, defaults), as the routes declare them
_Spec = tuple[dict[str, Callable[[str], Any]], dict[str, Any]]
_ITEMS: _Spec = ({"q": _text(200), "type": _word("movie", "show"), "source_id": _ID,
                  "source_kind": _word("ftp", "local"), "genre": _text(100), "year": _int(1800, 3000),
                  "resolution": _word("2160p", "1080p", "720p", "sd"), "unwatched": _flag, "letter": _letter,
                  "cursor": _text(2000), "page": _PAGE, "per_page": _PER_PAGE},
                 {"q": None, "type": None, "source_id": None, "source_kind": None, "genre": None, "year": None,
                  "resolution": None, "unwatched": False, "letter": None, "cursor": None, "page": 1, "per_page": 60})
_FILES: _Spec = ({"source_id": _ID, "include_missing": _flag, "cursor": _text(5000), "page": _PAGE,
                  "per_page": _PER_PAGE},
                 {"source_id": None, "include_missing": False, "cursor": None, "page": 1, "per_page": 100})
_TITLES: _Spec = ({"page": _PAGE, "per_page": _PER_PAGE}, {"page": 1, "per_page": 50})
_NONE: _Spec = ({}, {})

#: The paths answered here (the show page: ``/api/library/shows/<digits>``).
FAST_PATHS = re.compile(r"^/api/library/(?:items|movies|shows|shows/[0-9]+|media-files|continue)$")


def _params(query: bytes, spec: _Spec) -> dict[str, Any]:
    parsers, defaults = spec
    out = dict(defaults)
    seen: set[str] = set()
    # as Starlette reads a query string (starlette.datastructures.QueryParams)
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        parse = parsers.get(name)
        if parse is None or name in seen or not value:
            raise _Refer
        seen.add(name)
        out[name] = parse(value)
    return out


async def answer(scope: Scope, user: Any) -> Response | None:
    """The response of a plain GET of :data:`FAST_PATHS` for ``user`` (the identity's
    user), or None: FastAPI answers it (see the module docstring)."""
    path: str = scope["path"]
    query: bytes = scope.get("query_string", b"")
    app = scope["app"]
    core: Core = app.state.core
    lane: ReadLane = app.state.read_lane
    procs: ReadProcesses | None = getattr(app.state, "read_processes", None)

    async def body(name: str, *args: Any) -> Response:
        if procs is not None:  # another process computes it (api/read_processes.py)
            return await procs.answer(name, user.id, sees_all(user), args)
        return await lane.run(_here, core, user, name, args)

    try:
        if path == "/api/library/items":
            p = _params(query, _ITEMS)
            return await body("items", p["q"], p["type"], p["source_id"], p["source_kind"], p["genre"], p["year"],
                              p["resolution"], p["unwatched"], p["letter"], p["cursor"], p["page"], p["per_page"])
        if path == "/api/library/media-files":
            p = _params(query, _FILES)
            return await body("media-files", p["source_id"], p["include_missing"], p["cursor"], p["page"],
                              p["per_page"])
        if path == "/api/library/movies" or path == "/api/library/shows":
            p = _params(query, _TITLES)
            return await body(path.rsplit("/", 1)[1], p["page"], p["per_page"])
        if path == "/api/library/continue":
            _params(query, _NONE)
            cache = getattr(app.state, "page_cache", None)
            return await progress.continue_answer(cache, user, lambda: body("continue"))
        if path.startswith("/api/library/shows/"):
            _params(query, _NONE)
            return await body("show", _ID(path.rsplit("/", 1)[1]))
    except _Refer:
        return None
    except Exception:  # the FastAPI way runs it again and answers as it always has
        return None
    return None


def _here(core: Core, user: Any, name: str, args: tuple[Any, ...]) -> Response:
    """Body ``name`` computed in this process (a read lane thread)."""
    return BODIES[name](core.read_sessions, core.access.allowed(user), user.id, *args)
