"""NUL characters in requests: refused at the edge with a 400.

No name, path, title, code or search reelhouse stores or looks up may contain NUL:
PostgreSQL's text columns cannot hold it (its docs, §8.3: "the character with code zero
cannot be stored") and the driver refuses to even send it, so a ``%00`` in a query
argument or a ``"\\u0000"`` in a JSON string would otherwise end in a 500 on that engine
(and store an invisible character on SQLite). The main app's
:class:`~reelhouse.api.security.SecurityMiddleware` and the Jellyfin mount
(:class:`~reelhouse.jellyfin.asgi.JellyfinMount`) ask :func:`url_has_nul` about every
request and let :class:`BodyScanner` watch JSON and form bodies as they arrive.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import Scope

__all__ = ["URL_MESSAGE", "BodyScanner", "NulInBody", "url_has_nul"]

URL_MESSAGE = "the request URL contains a NUL character (%00)"

#: A JSON ``\u0000`` escape that is not itself an escaped backslash followed by "u0000".
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
#: Bytes kept from the end of one chunk to find a NUL split across two.
_TAIL = 64


class NulInBody(HTTPException):
    """400: a JSON or form body carries a NUL character."""

    def __init__(self) -> None:
        super().__init__(400, "the request body contains a NUL character (\\u0000 or %00)")


def url_has_nul(scope: Scope) -> bool:
    """Whether the request's path or query string (percent-decoded or not) has a NUL."""
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query


class BodyScanner:
    """Watches the chunks of one request body for a NUL: a JSON ``\\u0000`` escape in a
    JSON body (``application/json``, ``*+json``), a ``%00`` in an urlencoded form; other
    bodies (uploads, multipart) are not looked at. A raw NUL byte is left to the JSON
    parser, which refuses it (422)."""

    def __init__(self, headers: Headers) -> None:
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        self.pattern: re.Pattern[bytes] | None = None
        if ctype == "application/json" or ctype.endswith("+json"):
            self.pattern = _JSON_NUL
        elif ctype == "application/x-www-form-urlencoded":
            self.pattern = re.compile(rb"%00")
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        """Look at the next chunk; raises :class:`NulInBody`."""
        if self.pattern is None or not chunk:
            return
        window = self._tail + chunk
        if self.pattern.search(window):
            raise NulInBody()
        self._tail = window[-_TAIL:]
