"""An upload that runs while a file is still being written.

A file written from byte 0 straight to its end (a copy, a download saved into the
drive) starts its ``name.part`` upload once it has :data:`STREAM_AFTER` bytes, and the
bytes written after that are sent as they come, so ``close`` only waits for the tail
instead of the whole file. Each write is copied once, into a :class:`~reelhouse.drive.tee.Tee`
that writes the spool file (what a retry uploads) and feeds the upload; the first write
that is not at the end, or a truncate, stops the stream and the file is uploaded whole
at close as usual.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

from reelhouse.drive.tee import Tee
from reelhouse.sources.base import Source

__all__ = ["STREAM_AFTER", "Streamer"]

log = logging.getLogger(__name__)

#: Sequential bytes written before an upload starts during the writes (smaller files
#: are uploaded at close in one go; a slow writer of a small file holds no connection).
STREAM_AFTER = 8 * 1024 * 1024
_READ = 1024 * 1024


class _Shrunk(Exception):
    pass


class Streamer:
    """Uploads ``part`` on ``source`` while the spool file ``local`` (open as ``fd``,
    ``start`` bytes long) grows: first the file's bytes ``[0, start)``, then what
    :meth:`append` adds, until :meth:`finish` or :meth:`close`. ``thread_init`` runs
    first in its threads (the upload and the spool writer); ``on_sent(n)`` is called
    after each chunk of ``n`` bytes was handed to the server (for the status)."""

    def __init__(self, source: Source, part: str, local: Path, fd: int, start: int,
                 thread_init: Callable[[], None] | None = None,
                 on_sent: Callable[[int], None] | None = None) -> None:
        self.part = part
        self._on_sent = on_sent
        self.sent = 0
        self.error: BaseException | None = None
        self.tee = Tee(local, fd, start, thread_init=thread_init)
        self._thread = threading.Thread(target=self._run, args=(source, fd, start, thread_init),
                                        name="drive-upload", daemon=True)
        self._thread.start()

    @property
    def end(self) -> int:
        """The spool file's length counting every byte appended."""
        return self.tee.end

    @property
    def failed(self) -> bool:
        """The upload has failed (the caller stops the stream)."""
        return self.error is not None

    def _chunks(self, fd: int, start: int) -> Iterator[bytes | memoryview]:
        pos = 0
        while pos < start:
            chunk = os.pread(fd, min(_READ, start - pos), pos)
            if not chunk:
                raise _Shrunk("the spool file shrank")
            pos += len(chunk)
            yield chunk
            self._sent(len(chunk))
        for part in self.tee.chunks():
            n = len(part)
            yield part
            self._sent(n)

    def _sent(self, n: int) -> None:
        if self._on_sent is not None:
            self._on_sent(n)

    def _run(self, source: Source, fd: int, start: int, thread_init: Callable[[], None] | None) -> None:
        if thread_init is not None:
            thread_init()
        try:
            # the ring's views go to the socket as they are: every Source's write takes
            # any bytes-like chunk (sendall, bytearray +=, os.write), though typed bytes
            self.sent = source.write(self.part, cast(Iterator[bytes], self._chunks(fd, start)))
        except BaseException as exc:
            self.error = exc
        finally:
            self.tee.detach()  # also when the upload failed before its first chunk

    def append(self, data: bytes | memoryview) -> None:
        """Add ``data`` (read only during the call) to the spool file and the upload.
        Raises OSError when the spool file cannot be written."""
        self.tee.append(data)

    def settle(self) -> None:
        """Make the spool file hold every byte appended (raises OSError)."""
        self.tee.settle()

    def finish(self) -> bool:
        """End the upload; True when the server took every byte."""
        self.tee.finish()
        self._thread.join()
        if self.error is not None:
            log.info("upload during writes of %r failed: %s", self.part, self.error)
        return self.error is None

    def close(self) -> None:
        """Stop the upload if it still runs (the ``.part`` left on the server is
        overwritten later), settle the spool file and release the tee. Raises OSError
        from the spool file (the tee is released all the same)."""
        self.tee.cancel()
        self._thread.join(timeout=30)
        try:
            self.tee.settle()
        finally:
            self.tee.close()
