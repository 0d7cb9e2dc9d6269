"""Direct play: one media file over HTTP with Range support, from any Source.

An ASGI response that answers ``GET``/``HEAD`` with 200 or 206 (RFC 9110 §14, §15.3.7)
and streams from :meth:`Source.aread_range`. The first chunk is read before the status
line goes out, so a source failure becomes a clean error response instead of a broken
206. A client disconnect cancels the stream at once and the source read is closed
(an FTP transfer is cut and its connection returned to the pool or dropped); so does
a client that takes no data for ``send_timeout`` seconds (it stopped reading: a paused
player whose buffers are full, or a hostile client) — its FTP connection must serve
others. The stream runs in the FTP pool's share of ``user_key``
(:data:`~reelhouse.sources.ftp.pool.pool_user`). Removing its source ends it too
(:class:`OpenStreams`): the response stops short of its Content-Length and the server
closes the connection, so the client sees the stream cut, not a file played to its end
from a source that no longer exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import posixpath
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from email.utils import formatdate
from typing import Any

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from reelhouse.errors import NotFound, RangeNotSatisfiable, SeekRefused
from reelhouse.playback import ended
from reelhouse.playback.preconditions import precondition
from reelhouse.playback.ranges import ByteRange, content_range, if_range_matches, parse_range
from reelhouse.sources.base import Source
from reelhouse.sources.ftp.pool import pool_user

__all__ = ["OpenStreams", "RangeStreamResponse", "StreamObserver", "attachment", "content_type_for"]

log = logging.getLogger(__name__)

#: Called once a response ends: (HTTP status, body bytes sent, seconds to the first
#: byte from the source). The API uses it for metrics.
StreamObserver = Callable[[int, int, float], None]

_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".mov": "video/quicktime",
    ".avi": "video/x-msvideo",
    ".ts": "video/mp2t",
    ".m2ts": "video/mp2t",
    ".mts": "video/mp2t",
    ".mpg": "video/mpeg",
    ".mpeg": "video/mpeg",
    ".wmv": "video/x-ms-wmv",
    ".flv": "video/x-flv",
    ".ogv": "video/ogg",
    ".3gp": "video/3gpp",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".flac": "audio/flac",
}


#: The probe's container names (library/probe.py) → the MIME types a file of that
#: container may be served as (the first when its extension names another container).
_CONTAINER_TYPES = {
    "mp4": ("video/mp4", "video/quicktime", "video/3gpp", "audio/mp4"),
    "mkv": ("video/x-matroska", "video/webm"),
    "webm": ("video/webm", "video/x-matroska"),
    "mpegts": ("video/mp2t",),
    "avi": ("video/x-msvideo",),
    "mpeg": ("video/mpeg",),
    "asf": ("video/x-ms-wmv",),
    "flv": ("video/x-flv",),
    "ogg": ("video/ogg",),
    "mp3": ("audio/mpeg",),
    "flac": ("audio/flac",),
}


def content_type_for(path: str, container: str | None = None) -> str:
    """MIME type by extension; ``application/octet-stream`` if unknown. ``container``
    (the probe's name for what the file holds: ``mp4``, ``mkv``, ``mpegts`` …) wins
    when the extension names another container: an MP4 named ``.mkv`` is
    ``video/mp4``, which a browser's ``<video>`` and a Jellyfin app's profile match."""
    by_name = _TYPES.get(posixpath.splitext(path)[1].lower(), "application/octet-stream")
    types = _CONTAINER_TYPES.get(container or "")
    if types is None or by_name in types:
        return by_name
    return types[0]


# RFC 8187 §3.2.1 attr-char: what filename* carries unescaped.
_ATTR_CHAR = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~")


def attachment(name: str) -> str:
    """A ``Content-Disposition`` that saves the response as ``name`` (RFC 6266 §4.3):
    ``filename*`` in UTF-8 (RFC 8187) for the real name, and ``filename`` with an ASCII
    stand-in for clients that read only that (other characters, quotes, backslashes,
    ``%`` (some clients decode it, §D) and controls become ``_``). The value is plain
    ASCII, as a header must be."""
    star = "".join(chr(b) if b in _ATTR_CHAR else f"%{b:02X}" for b in name.encode("utf-8", "replace"))
    plain = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in name) or "download"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{star}"


class OpenStreams:
    """The direct streams being sent, by source id: :meth:`stop_source` ends those of a
    removed source. Thread-safe (streams run on event loops, a removal on a worker
    thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._open: dict[int, dict[int, Callable[[], None]]] = {}

    def add(self, source_id: int, stop: Callable[[], None]) -> Callable[[], None]:
        """Register a stream's ``stop`` (callable from any thread); returns its remover."""
        key = next(self._ids)
        with self._lock:
            self._open.setdefault(source_id, {})[key] = stop

        def remove() -> None:
            with self._lock:
                streams = self._open.get(source_id, {})
                streams.pop(key, None)
                if not streams:
                    self._open.pop(source_id, None)
        return remove

    def count(self, source_id: int) -> int:
        with self._lock:
            return len(self._open.get(source_id, {}))

    def stop_source(self, source_id: int) -> int:
        """Stop every stream of ``source_id``; how many there were."""
        with self._lock:
            stops = list(self._open.pop(source_id, {}).values())
        for stop in stops:
            with contextlib.suppress(RuntimeError):  # its event loop has closed: it ended
                stop()
        return len(stops)


class RangeStreamResponse(Response):
    """Serve ``path`` of ``size`` bytes from ``source`` honouring Range/If-Range/HEAD and
    the conditional headers in ``conditions`` (the request's headers): 304 for a
    matching If-None-Match / If-Modified-Since (RFC 9110 §15.4.5).

    The validators (ETag, Last-Modified) are the file's size and ``mtime`` as the
    library knows them; a file without an mtime has no stable validator, so it gets
    neither header, a Range with If-Range gets the whole file (§13.1.5) and If-Match
    fails.

    Raises :class:`RangeNotSatisfiable` (→ 416) from the constructor for a range outside
    the file, :class:`PreconditionFailed` (→ 412) for a false If-Match, and the source's
    errors before any byte is sent. ``reopen``: called once when the source says the
    file is not there, before any byte is sent; the response it returns (the file's
    row read again: another process's scan moved it) answers instead, None lets the
    NotFound stand.
    """

    def __init__(
        self,
        source: Source,
        path: str,
        size: int,
        *,
        method: str,
        range_header: str | None,
        if_range: str | None,
        etag: str,
        mtime: float | None,
        media_type: str | None = None,
        extra_headers: dict[str, str] | None = None,
        observer: StreamObserver | None = None,
        user_key: str | None = None,
        send_timeout: float | None = None,
        open_streams: tuple[OpenStreams, int] | None = None,
        conditions: Mapping[str, str] | None = None,
        reopen: Callable[[], Awaitable[Response | None]] | None = None,
    ) -> None:
        self.source = source
        self.reopen = reopen
        self.open_streams = open_streams  # (the registry, the file's source id)
        self.user_key = user_key
        self.send_timeout = send_timeout
        self.observer = observer
        self.path = path
        self.size = size
        self.method = method.upper()
        self.background = None
        validators: dict[str, str] = {}
        if mtime is not None:
            validators = {"etag": etag, "last-modified": formatdate(mtime, usegmt=True)}
        fresh = precondition(conditions, self.method, validators.get("etag"), mtime)
        rng: ByteRange | None = None
        if fresh and (if_range is None or (validators and if_range_matches(
                if_range, validators["etag"], validators["last-modified"]))):
            rng = parse_range(range_header, size)  # may raise RangeNotSatisfiable
        self.byte_range = rng
        headers: dict[str, str] = {
            "accept-ranges": "bytes",
            **validators,
            "content-type": media_type or content_type_for(path),
            "cache-control": "private, max-age=0",
        }
        headers.update(extra_headers or {})
        if not fresh:  # 304: the validators and caching headers, no content (§15.4.5)
            self.status_code = 304
            self.start = self.length = 0
            headers.pop("content-type")
            self.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
            return
        if rng is None:
            self.status_code = 200
            self.start, self.length = 0, size
        else:
            self.status_code = 206
            self.start, self.length = rng.start, rng.length
            headers["content-range"] = content_range(rng, size)
        headers["content-length"] = str(self.length)
        self.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start_msg: dict[str, Any] = {
            "type": "http.response.start",
            "status": self.status_code,
            "headers": self.raw_headers,
        }
        if self.length == 0:
            await send(start_msg)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            self._observe(0, 0.0)
            return
        started = time.perf_counter()
        pool_user.set(self.user_key)  # whose share of the FTP pool this stream uses
        # HEAD reads the range's first byte as GET would (RFC 9110 §9.3.2: the same
        # status and headers): a file gone from its source is 404 for both, not 200
        chunks = self.source.aread_range(self.path, self.start, 1 if self.method == "HEAD" else self.length)
        first = await self._first(chunks, scope, receive, send)
        if first is None:  # answered already (by the file's row read again), or nobody to answer
            return
        if self.method == "HEAD":
            with anyio.CancelScope(shield=True):
                await chunks.aclose()
            await send(start_msg)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            self._observe(0, 0.0)
            return
        first_byte = time.perf_counter() - started
        served_from = getattr(self.source, "served_from", None)  # playback/fallback.py
        if served_from:
            start_msg["headers"] = [*self.raw_headers,
                                    (b"x-reelhouse-served-from", served_from.encode())]
        await send(start_msg)
        sent = 0
        stalled = cut = short = False
        forget: Callable[[], None] = lambda: None  # noqa: E731
        try:
            async with anyio.create_task_group() as tg:
                if self.open_streams is not None:
                    loop = asyncio.get_running_loop()

                    def cut_now() -> None:
                        nonlocal cut
                        cut = True
                        tg.cancel_scope.cancel()

                    def stop() -> None:  # from the thread that removes the source
                        loop.call_soon_threadsafe(cut_now)

                    registry, source_id = self.open_streams
                    forget = registry.add(source_id, stop)

                async def watch_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    tg.cancel_scope.cancel()

                async def body(chunk: bytes, more: bool) -> None:
                    nonlocal stalled
                    with anyio.move_on_after(self.send_timeout) as scope:
                        await send({"type": "http.response.body", "body": chunk, "more_body": more})
                    if scope.cancelled_caught:  # the client stopped reading
                        stalled = True
                        tg.cancel_scope.cancel()

                tg.start_soon(watch_disconnect)
                await body(first, True)
                sent = len(first)
                async for chunk in chunks:
                    await body(chunk, True)
                    sent += len(chunk)
                short = sent < self.length
                if not short:
                    await body(b"", False)
                tg.cancel_scope.cancel()
        finally:
            forget()
            with anyio.CancelScope(shield=True):
                await chunks.aclose()
            self._observe(sent, first_byte)
        if cut or stalled or short:
            ended.mark()  # its line below, not uvicorn's "without completing response" ERROR
        if cut:
            log.info("stream of %r cut after %d bytes: its source was removed", self.path, sent)
        if stalled:
            log.info("stream of %r ended: the client read nothing for %s s", self.path,
                     self.send_timeout)
        if short:  # the response ends without its last message: the server closes the
            # connection, so the client sees the body cut short of its Content-Length
            log.warning("stream of %r cut at byte %d of %d: the file on its source is shorter than "
                        "the library says (changed since the last scan?)", self.path,
                        self.start + sent, self.start + self.length)

    async def _first(self, chunks: AsyncGenerator[bytes, None], scope: Scope, receive: Receive,
                     send: Send) -> bytes | None:
        """The first chunk of ``chunks``; None when the request is answered already: the
        client went away, or the source had no such file and :attr:`reopen`'s response
        (the file's row read again) answered. Closes ``chunks`` on every error. Raises
        NotFound (no such file, nothing to reopen), SeekRefused and RangeNotSatisfiable
        (416: a seek refused, or the file shrank below ``start`` since the scan) and
        what the source raises: errors here become a clean 4xx/5xx (no byte is sent)."""
        try:
            return await _first_chunk(chunks, receive)
        except _ClientGone:
            with anyio.CancelScope(shield=True):
                await chunks.aclose()
            log.info("request for %r ended before its first byte: the client went away", self.path)
            return None
        except StopAsyncIteration:  # no byte at ``start``: the file shrank on its source since the scan
            with anyio.CancelScope(shield=True):
                await chunks.aclose()
            raise await self._shrunk() from None
        except NotFound:  # the source has no such file: a stale target? (``reopen``)
            with anyio.CancelScope(shield=True):
                await chunks.aclose()
            fresh = await self.reopen() if self.reopen is not None else None
            if fresh is None:
                raise
            await fresh(scope, receive, send)
            return None
        except SeekRefused as exc:  # a seek too far on a server without REST: 416, this size
            with anyio.CancelScope(shield=True):
                await chunks.aclose()
            raise SeekRefused(exc.message, self.size) from exc
        except BaseException:
            with anyio.CancelScope(shield=True):
                await chunks.aclose()
            raise

    async def _shrunk(self) -> RangeNotSatisfiable:
        """The 416 (RFC 9110 §15.5.17) for a stream whose source has no byte at its start:
        the file's size now (a ``stat`` in anyio's worker threads: a rare path)."""
        entry = await anyio.to_thread.run_sync(self.source.stat, self.path)
        size = entry.size or 0
        log.warning("stream of %r: no byte at %d, the file on its source has %d bytes (the "
                    "library says %d: changed since the last scan?)", self.path, self.start, size,
                    self.size)
        return RangeNotSatisfiable(
            f"the file on its source is shorter than the library says ({size} bytes, not "
            f"{self.size}): it changed since the last scan", size)

    def _observe(self, sent: int, first_byte: float) -> None:
        if self.observer is not None:
            self.observer(self.status_code, sent, first_byte)


class _ClientGone(Exception):
    """The client disconnected before the first chunk of its body came."""


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _first_chunk(chunks: AsyncIterator[bytes], receive: Receive) -> bytes:
    """The first chunk of ``chunks``, watching the client meanwhile. A source may take
    long before its first byte (an FTP server without REST reads up to ``ftp_max_skip``
    bytes to reach the offset): when the client goes away first, the read is cancelled
    (the skip stops, its FTP connection goes back to the pool or is dropped) and
    :class:`_ClientGone` is raised. Raises what the read raises (StopAsyncIteration:
    no byte)."""
    read = asyncio.ensure_future(chunks.__anext__())
    watch = asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait((read, watch), return_when=asyncio.FIRST_COMPLETED)
    finally:  # also when this task is cancelled (the server stopping)
        watch.cancel()
        if not read.done():
            read.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.wait((read,))
    if read.cancelled():
        raise _ClientGone
    return read.result()


def unsatisfiable_headers(exc: RangeNotSatisfiable) -> dict[str, str]:
    """Headers of a 416 answer (RFC 9110 §15.5.17)."""
    return {"content-range": f"bytes */{exc.size}", "accept-ranges": "bytes"}
