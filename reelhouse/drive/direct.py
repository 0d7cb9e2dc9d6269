"""The spool copy of a file being streamed, written past the page cache (``O_DIRECT``)
by a thread of its own.

While a file is uploaded during its writes (:mod:`reelhouse.drive.streamer`), its spool
file is a safety copy: read back only if the upload fails, or by a reader of the file
being written. Writing it through the page cache costs a copy into freshly allocated
pages per byte — on the benchmark machine (a VM whose memory the host faults in on first
touch) that was 75 % of the mount's CPU time and held a 1 GiB write to ~110 MiB/s.
``O_DIRECT`` hands the bytes to the disk without that copy, and doing it in a thread
keeps the disk's latency (~0.35 ms per MiB) out of the writer's round trip.

``O_DIRECT`` wants the buffer address, the file offset and the length aligned
(:data:`ALIGN`): the thread gathers the bytes in a page-aligned buffer and writes
aligned runs; the unaligned rest waits for the next bytes. :meth:`DirectAppender.settle`
waits for the thread and writes that rest through the ordinary descriptor when the file
must be complete on disk (a read, an upload from the spool, the end of the stream,
after a failure). Linux keeps the two descriptors coherent: a direct write first writes
back and drops the cached pages of its range.

Until :meth:`~DirectAppender.settle`, up to :data:`_QUEUED` bytes live only in memory
(as they did in the page cache before): the spool's promise covers a failing server,
not a crash of the mount process in the middle of a write. Where the platform or
filesystem has no ``O_DIRECT`` (macOS, Windows, some filesystems), :func:`open_direct`
returns ``None`` and the spool is written through the page cache as before.
"""

from __future__ import annotations

import logging
import mmap
import os
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

__all__ = ["ALIGN", "DirectAppender", "open_direct"]

log = logging.getLogger(__name__)

#: Alignment of ``O_DIRECT`` offsets, lengths and buffers, bytes (the page size covers
#: every logical block size in use: 512 and 4096).
ALIGN = 4096
#: The gathering buffer, bytes: twice the largest FUSE write (1 MiB), so one kernel
#: request usually becomes one direct write.
_BUFFER = 2 * 1024 * 1024
#: Buffered bytes that trigger a direct write (small writes are gathered up to this).
_FLUSH_AT = _BUFFER // 2
#: Bytes handed over but not yet written before :meth:`DirectAppender.append` waits.
_QUEUED = 16 * 1024 * 1024


class DirectAppender:
    """Appends bytes to the file open as ``fd`` (with ``O_DIRECT``; owned and closed
    here) from byte ``start`` on, in a thread.

    ``head``: the bytes ``[start - len(head), start)`` already in the file, written
    again so that the first direct write starts on an :data:`ALIGN` boundary.
    ``thread_init`` runs first in the thread. Callers serialise their calls (the spool
    file's lock). A failed direct write (``ENOSPC``, ``EIO``, ``EINVAL`` from a
    filesystem that opens but refuses them) is raised by the next :meth:`append`;
    :meth:`settle` then writes everything the thread had not written through the
    ordinary descriptor.
    """

    def __init__(self, fd: int, start: int, head: bytes,
                 thread_init: Callable[[], None] | None = None) -> None:
        self._fd = fd
        self._buf = mmap.mmap(-1, _BUFFER)  # page-aligned, as O_DIRECT wants
        self._view = memoryview(self._buf)
        self._written = start - len(head)  # bytes in the file through direct writes
        assert self._written % ALIGN == 0 and len(head) < ALIGN
        self._view[:len(head)] = head
        self._pending = len(head)  # bytes after ``_written`` gathered in the buffer
        self.end = start  # the file's length counting every byte appended
        self._chunks: deque[tuple[int, bytes]] = deque()  # (offset, bytes) not yet gathered
        self._queued = 0
        self._error: OSError | None = None
        self._closing = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, args=(thread_init,), name="drive-spool",
                                        daemon=True)
        self._thread.start()

    def append(self, data: bytes) -> None:
        """Add ``data`` (kept, not copied: it must not change) at :attr:`end`; waits
        while :data:`_QUEUED` bytes are not yet written. Raises the thread's OSError."""
        with self._cond:
            while self._queued >= _QUEUED and self._error is None:
                self._cond.wait()
            if self._error is not None:
                raise OSError(self._error.errno, self._error.strerror)
            self._chunks.append((self.end, data))
            self._queued += len(data)
            self.end += len(data)
            self._cond.notify_all()

    def _run(self, thread_init: Callable[[], None] | None) -> None:
        if thread_init is not None:
            thread_init()
        while True:
            with self._cond:
                while not self._chunks and not self._closing:
                    self._cond.wait()
                if not self._chunks:
                    return
                _, data = self._chunks[0]  # stays queued until written: settle() needs it after a failure
            try:
                self._gather(data)
            except OSError as exc:
                with self._cond:
                    self._error = exc
                    self._cond.notify_all()
                return
            with self._cond:
                if self._closing:
                    return
                self._chunks.popleft()
                self._queued -= len(data)
                self._cond.notify_all()

    def _gather(self, data: bytes) -> None:
        src = memoryview(data).cast("B")
        while src:
            take = min(len(src), _BUFFER - self._pending)
            self._view[self._pending:self._pending + take] = src[:take]
            self._pending += take
            src = src[take:]
            if self._pending >= _FLUSH_AT:
                self._flush()

    def _flush(self) -> None:
        run = self._pending - self._pending % ALIGN
        done = 0
        while done < run:
            done += os.pwrite(self._fd, self._view[done:run], self._written + done)
        self._written += run
        rest = self._pending - run
        self._view[:rest] = self._view[run:self._pending]  # rest < ALIGN <= run: no overlap
        self._pending = rest

    def settle(self, fd: int) -> None:
        """Wait for the thread, then write what is not in the file yet at its place
        through ``fd`` (an ordinary descriptor of the same file): the file then holds
        every byte up to :attr:`end`. Raises OSError from that write."""
        with self._cond:
            while self._chunks and self._error is None:
                self._cond.wait()
            chunks = list(self._chunks)
        # the thread is idle (nothing queued) or stopped (after an error): the buffer is ours
        if self._pending:
            os.pwrite(fd, self._view[:self._pending], self._written)
        for offset, data in chunks:  # after a failure: bytes the thread did not write
            os.pwrite(fd, data, offset)  # (any part already gathered is written again: same bytes)

    def close(self) -> None:
        """Stop the thread, release the buffer and the direct descriptor (call
        :meth:`settle` first, or what was not written is dropped)."""
        with self._cond:
            self._closing = True
            self._chunks.clear()
            self._cond.notify_all()
        self._thread.join()
        self._view.release()
        self._buf.close()
        try:
            os.close(self._fd)
        except OSError:
            pass


def open_direct(path: Path, fd: int, start: int,
                thread_init: Callable[[], None] | None = None) -> DirectAppender | None:
    """A :class:`DirectAppender` for ``path`` from byte ``start`` (the file's length;
    ``fd`` is its ordinary descriptor, used to read the unaligned head), or ``None``
    where ``O_DIRECT`` is not available here."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return None
    try:
        dfd = os.open(path, os.O_WRONLY | flag)
    except OSError as exc:
        log.info("no O_DIRECT for the spool file %s (%s): written through the page cache", path, exc)
        return None
    head_len = start % ALIGN
    try:
        head = os.pread(fd, head_len, start - head_len) if head_len else b""
    except OSError:
        os.close(dfd)
        raise
    return DirectAppender(dfd, start, head, thread_init)
