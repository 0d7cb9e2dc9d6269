"""An upload that runs while a file is still being written.

A file written from byte 0 straight to its end (a copy, a download saved into the
drive) starts its ``name.part`` upload once it has :data:`STREAM_AFTER` bytes, and the
bytes written after that are sent as they come, so ``close`` only waits for the tail
instead of the whole file. The spool file is still written first (it is what a retry
uploads); the first write that is not at the end, or a truncate, cancels the stream and
the file is uploaded whole at close as usual.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator

from reelhouse.sources.base import Source

__all__ = ["STREAM_AFTER", "Streamer"]

log = logging.getLogger(__name__)

#: Sequential bytes written before an upload starts during the writes (smaller files
#: are uploaded at close in one go; a slow writer of a small file holds no connection).
STREAM_AFTER = 8 * 1024 * 1024
_QUEUE = 32  # chunks in flight between the writer and the upload (back-pressure)
_READ = 1024 * 1024


class _Cancelled(Exception):
    pass


class Streamer:
    """Uploads ``part`` on ``source``: first the spool file's bytes ``[0, start)`` (read
    from ``fd``), then what :meth:`feed` gives, until :meth:`finish` or :meth:`cancel`."""

    def __init__(self, source: Source, part: str, fd: int, start: int,
                 thread_init: Callable[[], None] | None = None) -> None:
        self.part = part
        self.sent = 0
        self.error: BaseException | None = None
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=_QUEUE)
        self._thread = threading.Thread(target=self._run, args=(source, fd, start, thread_init),
                                        name="drive-upload", daemon=True)
        self._thread.start()

    def _chunks(self, fd: int, start: int) -> Iterator[bytes]:
        pos = 0
        while pos < start:
            chunk = os.pread(fd, min(_READ, start - pos), pos)
            if not chunk:
                raise _Cancelled("the spool file shrank")
            pos += len(chunk)
            yield chunk
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _run(self, source: Source, fd: int, start: int, thread_init: Callable[[], None] | None) -> None:
        if thread_init is not None:
            thread_init()
        try:
            self.sent = source.write(self.part, self._chunks(fd, start))
        except BaseException as exc:
            self.error = exc

    def _put(self, item: bytes | BaseException | None) -> bool:
        while self._thread.is_alive():
            try:
                self._queue.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def feed(self, data: bytes) -> bool:
        """Send ``data`` next; False when the upload has failed (the caller stops)."""
        return self.error is None and self._put(bytes(data))

    def finish(self) -> bool:
        """End the upload; True when the server took every byte."""
        self._put(None)
        self._thread.join()
        if self.error is not None:
            log.info("upload during writes of %r failed: %s", self.part, self.error)
        return self.error is None

    def cancel(self) -> None:
        """Stop the upload (the ``.part`` left on the server is overwritten later)."""
        self._put(_Cancelled("cancelled"))
        self._thread.join(timeout=30)
