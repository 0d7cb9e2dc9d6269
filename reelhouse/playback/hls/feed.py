"""A loopback HTTP server that lets ffmpeg read any Source, with seeking.

ffmpeg opens ``http://127.0.0.1:PORT/<key>`` and seeks with Range requests; each request
becomes one ``Source.read_range`` (FTP: REST + RETR), so an FTP file is read where the
encoder reads, never downloaded whole first. Keys are 128-bit random names given out by
:meth:`SourceFeed.url`; the server binds loopback only. A URL given out for a user
reads in that user's share of the FTP pool (:data:`~reelhouse.sources.ftp.pool.pool_user`:
one user's encoders and subtitle conversions cannot take the connections another user's
stream needs). It runs in its own daemon thread
so it works whatever serves the API (uvicorn, a test client).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from reelhouse.errors import ReelhouseError
from reelhouse.playback.ranges import parse_range
from reelhouse.sources.base import Source
from reelhouse.sources.ftp.pool import pool_user

__all__ = ["SourceFeed"]

log = logging.getLogger(__name__)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    files: dict[str, tuple[Source, str, int, str | None]]
    failures: dict[str, ReelhouseError]  # key → the error of its latest read, if it failed


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        log.debug("feed: " + format, *args)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        target = self.server.files.get(self.path.lstrip("/"))
        if target is None:
            self.send_error(404)
            return
        source, path, size, user = target
        pool_user.set(user)  # this request's thread reads in the user's share of the pool
        try:
            wanted = parse_range(self.headers.get("Range"), size)
        except ReelhouseError:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start, end = (wanted.start, wanted.end) if wanted else (0, size - 1)
        length = max(0, end - start + 1)
        chunks = iter(source.read_range(path, start, length)) if body and length else iter(())
        key = self.path.lstrip("/")
        try:
            first = next(chunks, b"")  # a source failure becomes a 503, not a cut body
        except ReelhouseError as exc:
            log.warning("feed: reading %s failed: %s", path, exc)
            self.server.failures[key] = exc
            self.send_error(503, "source unavailable")
            return
        if body and length:  # the source answered
            self.server.failures.pop(key, None)
        self.send_response(206 if wanted else 200)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        if wanted:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        try:
            if first:
                self.wfile.write(first)
            for chunk in chunks:
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # ffmpeg seeks by dropping the connection
        except ReelhouseError as exc:
            log.warning("feed: reading %s failed: %s", path, exc)
            self.server.failures[key] = exc
            self.close_connection = True
        finally:
            with contextlib.suppress(Exception):
                chunks.close()  # type: ignore[attr-defined]


class SourceFeed:
    """``url(source, path, size)`` → a loopback URL ffmpeg can read and seek."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._keys: dict[tuple[int, str, int, str | None], str] = {}
        self._files: dict[str, tuple[Source, str, int, str | None]] = {}
        self._failures: dict[str, ReelhouseError] = {}

    def url(self, source: Source, path: str, size: int, user: str | None = None) -> str:
        """A URL for ``path`` (``size`` bytes) on ``source``, read on behalf of ``user``
        (``"user:<id>"``; None: the server's own work); starts the server on first use."""
        with self._lock:
            if self._server is None:
                self._server = _Server(("127.0.0.1", 0), _Handler)
                self._server.files = self._files
                self._server.failures = self._failures
                self._thread = threading.Thread(target=self._server.serve_forever,
                                                name="hls-feed", daemon=True)
                self._thread.start()
            ident = (id(source), path, size, user)
            key = self._keys.get(ident)
            if key is None or self._files.get(key, (None,))[0] is not source:
                key = secrets.token_urlsafe(16)
                self._keys[ident] = key
                self._files[key] = (source, path, size, user)
            port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/{key}"

    def failure(self, url: str) -> ReelhouseError | None:
        """The error of the latest read of ``url``'s file (:meth:`url`) when it failed
        (its source down, timed out, the file gone), else None: what made an ffmpeg
        reading it fail, for the caller to raise instead of "ffmpeg failed" (a new
        instance each time: one error object is never raised by two threads)."""
        found = self._failures.get(url.rsplit("/", 1)[-1])
        return None if found is None else copy.copy(found)

    def close(self) -> None:
        with self._lock:
            server, self._server = self._server, None
            self._files.clear()
            self._failures.clear()
            self._keys.clear()
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
