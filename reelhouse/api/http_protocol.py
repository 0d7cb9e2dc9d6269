"""uvicorn's httptools protocol with a bounded request head.

httptools (llhttp) keeps no limit of its own on a head: uvicorn's protocol buffers a
20 MB header, or 50,000 headers, and hands them to the app (h11 stops at 16 KiB,
``h11_max_incomplete_event_size``). Nor has uvicorn a deadline for a head, only for an
idle keep-alive connection, so a client trickling a head byte by byte (slowloris) holds
its connection forever. :class:`BoundedHttpToolsProtocol` answers 431 (RFC 6585 §5)
once a head passes ``Settings.head_limit`` bytes and 408 (RFC 9110 §15.5.9) once it has
taken ``Settings.head_timeout`` seconds, and closes the connection; a body the app
waits for that stalls that long is a 408 too. A body's size limits are
:class:`~reelhouse.api.security.SecurityMiddleware`'s."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["BoundedHttpToolsProtocol", "bounded_protocol"]

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that refuses a head over ``head_limit`` bytes (431) or slower
    than ``head_timeout`` seconds (408); set both on a subclass (:func:`bounded_protocol`)."""

    head_limit = 64 * 1024
    head_timeout = 30.0
    _body_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_bytes = 0
        self._in_head = True  # a connection's first bytes are a head
        self._head_timer: asyncio.TimerHandle | None = self.loop.call_later(
            self.head_timeout, self._head_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        self._stop_body_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_body()
        if self._in_head and not self.transport.is_closing():
            # counted after the parser saw it: a chunk that ends the head and brings a
            # body along is not a head's bytes; at most head_limit + one read is held
            self._head_bytes += len(data)
            if self._head_bytes > self.head_limit:
                self._refuse(431, f"request head too large: at most {self.head_limit} bytes of "
                                  "request line and headers")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0
        if self._head_timer is None:  # a keep-alive connection's next head
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._stop_head_timer()
        super().on_headers_complete()

    def _watch_body(self) -> None:
        """A body still to come (the app waits for it) must keep arriving: each read
        re-arms a ``head_timeout`` deadline; a body that stalls is a 408 (a chunked
        body that never ends is counted by SecurityMiddleware and refused at its limit)."""
        self._stop_body_timer()
        cycle = self.cycle
        if (not self._in_head and cycle is not None and cycle.more_body and not cycle.response_complete
                and not self.transport.is_closing()):
            self._body_timer = self.loop.call_later(self.head_timeout, self._body_stalled)

    def _stop_body_timer(self) -> None:
        timer = getattr(self, "_body_timer", None)
        if timer is not None:
            timer.cancel()
        self._body_timer = None

    def _body_stalled(self) -> None:
        self._body_timer = None
        cycle = self.cycle
        if cycle is None or not cycle.more_body or self.transport.is_closing():
            return
        if cycle.response_started:
            self.transport.close()
        else:
            self._refuse(408, f"request body stalled: no byte for {self.head_timeout:g} seconds")

    def _stop_head_timer(self) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
        self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(408, f"request head not complete within {self.head_timeout:g} seconds")

    def _refuse(self, status: int, message: str) -> None:
        self._stop_head_timer()
        body = json.dumps({"detail": message}).encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (status, _REASONS[status], len(body), body))
        self.transport.close()


def bounded_protocol(head_limit: int, head_timeout: float) -> type[Any]:
    """A :class:`BoundedHttpToolsProtocol` class with these limits (uvicorn builds one
    protocol object per connection from the class it is given as ``http``)."""
    return type("BoundedHttpTools", (BoundedHttpToolsProtocol,),
                {"head_limit": head_limit, "head_timeout": head_timeout})
