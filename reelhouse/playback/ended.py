"""Responses reelhouse ends on purpose before their last byte, logged once.

A stream the server ends short (:mod:`reelhouse.playback.direct`: its client read
nothing for ``stream_send_timeout``, its source was removed, the file is shorter than
the library says) cannot end in ASGI but by returning without its last body message;
the server then closes the connection, so the client sees the body cut short of its
Content-Length (RFC 9112 §6.3). uvicorn logs each such return as "ASGI callable
returned without completing response." at ERROR (``uvicorn.error``;
uvicorn/protocols/http/httptools_impl.py and h11_impl.py ``run_asgi``), one line per
stream, beside reelhouse's own INFO/WARNING line saying why.

:class:`TrackEnded` (the app's outermost layer) gives each request a marker,
:func:`mark` sets it, and :class:`QuietEnded` (a filter on ``uvicorn.error``,
:func:`install_filter`) drops that one message for a marked request only: a response
an app bug leaves unfinished is still an ERROR. uvicorn logs it in the task that ran
the app, after the app returned, so the marker (a context variable set in that task,
holding a mutable cell that the stream's own task may flip) is still there.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["UNFINISHED", "QuietEnded", "TrackEnded", "install_filter", "mark"]

#: uvicorn's message for an app that returned before its response's last message.
UNFINISHED = "ASGI callable returned without completing response."

_ended: ContextVar[list[bool] | None] = ContextVar("reelhouse_ended_on_purpose", default=None)


def mark() -> None:
    """Say that the current request's response is ended short on purpose (its own log
    line says why). Does nothing outside :class:`TrackEnded`."""
    cell = _ended.get()
    if cell is not None:
        cell[0] = True


class TrackEnded:
    """ASGI middleware (outermost: no task between it and the server) giving each HTTP
    request a fresh marker for :func:`mark`; left set after the app returns, for the
    server's log call (a request runs in a task of its own in uvicorn)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            _ended.set([False])
        await self.app(scope, receive, send)


class QuietEnded(logging.Filter):
    """Drops uvicorn's :data:`UNFINISHED` ERROR for a request :func:`mark` ed; passes
    every other record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != UNFINISHED:
            return True
        cell = _ended.get()
        return not (cell is not None and cell[0])


def install_filter() -> None:
    """Put one :class:`QuietEnded` on the ``uvicorn.error`` logger (idempotent; uvicorn's
    logging config keeps a logger's filters)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, QuietEnded) for f in logger.filters):
        logger.addFilter(QuietEnded())
