"""The bytes of a file being streamed, copied once into a ring buffer that feeds both
the spool file and the upload.

While a file is uploaded during its writes (:mod:`reelhouse.drive.streamer`), each
write request is copied into one page-aligned ring buffer (:class:`Tee`), the only copy
the mount makes of it: a thread of its own writes the spool file from the ring, and the
upload sends from it (``sendall`` of a view: the kernel copies straight into the
socket). A part of the ring is reused once both have taken it. Before, each request
became a new ``bytes`` (on the benchmark machine, a VM whose memory the host faults in
on first touch, ~50,000 page faults per GiB), then a second copy for the spool thread.

The spool copy is a safety copy: read back only if the upload fails, or by a reader of
the file being written. It is written with ``O_DIRECT`` where the filesystem has it:
through the page cache every byte would cost a copy into freshly allocated pages (75 %
of the mount's CPU once). ``O_DIRECT`` wants the buffer address, the file offset and
the length aligned (:data:`ALIGN`): the ring is page-aligned, holds file offset ``p``
at index ``p % size`` and its size is a multiple of :data:`ALIGN`, so runs that start
and end on an aligned offset are aligned everywhere; the unaligned rest waits for the
next bytes. :meth:`Tee.settle` writes it through the ordinary descriptor when the file
must be complete on disk (a read, an upload from the spool, the end of the stream,
after a failure). Linux keeps the two descriptors coherent: a direct write first
writes back and drops the cached pages of its range. Without ``O_DIRECT`` (macOS,
Windows, tmpfs) the thread writes through the ordinary descriptor.

Until :meth:`~Tee.settle`, up to the ring's size of bytes live only in memory (as they
did in the page cache before): the spool's promise covers a failing server, not a crash
of the mount process in the middle of a write.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from reelhouse.drive.rings import HUGE, IDLE_RINGS, drop_ring, take_ring

__all__ = ["ALIGN", "HUGE", "IDLE_RINGS", "RING", "SPOOL_NICE", "Tee", "TeeCancelled"]

log = logging.getLogger(__name__)

#: Alignment of ``O_DIRECT`` offsets, lengths and buffers, bytes (the page size covers
#: every logical block size in use: 512 and 4096).
ALIGN = 4096
#: The ring buffer, bytes: what may be written but not yet on disk or not yet sent.
RING = 16 * 1024 * 1024
#: Bytes the spool thread gathers before a write (``_WRITE_AT``) and the upload before
#: it sends (``_SEND_AT``), unless the stream ends: each wakes once per few requests
#: (a wake-up is a context switch on a busy machine: 4 MiB took ~10 % less of the
#: mount's CPU than 1 MiB and 256 KiB). ``_MOST``: the largest single write or send.
_WRITE_AT = 4 * 1024 * 1024
_SEND_AT = 2 * 1024 * 1024
_MOST = 8 * 1024 * 1024
#: The spool thread's nice value above its process's (Linux: each thread has its own).
#: Its writes wait on nobody while the ring has room, so on a busy machine it gives way
#: to the writer's round trips, the upload and the FTP server: in an A/B of 16 paired
#: 1 GiB ``cp`` writes each at load 2–9, the median ratio to ``STOR`` went from
#: 0.60–0.64 to 0.72–0.74 (benchmarks/README.md).
SPOOL_NICE = 10


class TeeCancelled(Exception):
    """The upload reading from the tee was cancelled."""


def _yield_cpu() -> None:
    """Raise the calling thread's nice value by :data:`SPOOL_NICE` (Linux; elsewhere,
    or where it is refused, nothing changes)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + SPOOL_NICE))
    except OSError as exc:
        log.debug("spool thread keeps its priority: %s", exc)


def _open_direct(path: Path) -> int | None:
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return None
    try:
        return os.open(path, os.O_WRONLY | flag)
    except OSError as exc:
        log.info("no O_DIRECT for the spool file %s (%s): written through the page cache", path, exc)
        return None


class Tee:
    """Appends to the spool file ``path`` (open as ``fd``, not owned) from byte ``start``
    (its length) on, and hands the same bytes to one upload (:meth:`chunks`).

    Callers serialise :meth:`append`, :meth:`settle` and :meth:`close` (the spool
    file's lock). A failed spool write (``ENOSPC``, ``EIO``) is raised by the next
    :meth:`append`; a failed direct write is first tried again through ``fd``.
    ``thread_init`` runs first in the spool thread.
    """

    def __init__(self, path: Path, fd: int, start: int, *, size: int = RING,
                 thread_init: Callable[[], None] | None = None) -> None:
        assert size % ALIGN == 0 and size >= 2 * _WRITE_AT
        self._fd = fd
        self._dfd = _open_direct(path)
        head = start % ALIGN if self._dfd is not None else 0
        self._size = size
        self._ring = take_ring(size)
        #: this tee's own view of the ring: released at :meth:`close`, so a late use
        #: fails instead of touching a ring kept for another file
        self._view = self._ring[2][:]
        #: the file holds every byte before ``_written`` (aligned while writing directly)
        self._written = start - head
        self.end = start  #: the file's length counting every byte appended
        self._put(self._written, os.pread(fd, head, start - head) if head else b"")
        self._sent = start  # bytes the upload has taken
        self._uploading = True
        self._finished = False  # no more bytes for the upload
        self._cancelled = False
        self._settling = False
        self._closing = False
        self._error: OSError | None = None
        lock = threading.Lock()
        self._for_disk = threading.Condition(lock)  # the spool thread waits here
        self._for_upload = threading.Condition(lock)  # the upload waits here
        self._for_space = threading.Condition(lock)  # append and settle wait here
        self._thread = threading.Thread(target=self._run, args=(thread_init,), name="drive-spool",
                                        daemon=True)
        self._thread.start()

    # -- the ring ------------------------------------------------------------------------
    def _slices(self, start: int, stop: int) -> list[memoryview]:
        """The ring's views of file bytes ``[start, stop)`` (two where it wraps)."""
        a, b = start % self._size, (stop - 1) % self._size + 1
        if stop <= start:
            return []
        if a < b:
            return [self._view[a:b]]
        return [self._view[a:], self._view[:b]]

    def _put(self, at: int, data: memoryview | bytes) -> None:
        pos = 0
        for part in self._slices(at, at + len(data)):
            n = len(part)
            part[:] = data[pos:pos + n]
            part.release()
            pos += n

    def _low(self) -> int:
        """The first byte someone still needs (the ring holds ``[_low, end)``)."""
        return min(self._written, self._sent) if self._uploading else self._written

    def _disk_run(self) -> int:
        """Bytes the spool thread may write now (aligned while writing directly)."""
        stop = self.end if self._dfd is None else self.end - self.end % ALIGN
        return stop - self._written

    # -- the writer ----------------------------------------------------------------------
    def append(self, data: bytes | memoryview) -> None:
        """Copy ``data`` (read only during the call) to :attr:`end`; waits while the
        ring is full. Raises the spool thread's OSError."""
        src = data if isinstance(data, memoryview) else memoryview(data)
        if src.format != "B" or src.ndim != 1:
            src = src.cast("B")
        pos, n = 0, len(src)
        while pos < n:
            with self._for_space:
                while self._error is None and self._size - (self.end - self._low()) < ALIGN:
                    self._for_space.wait()
                if self._error is not None:
                    raise OSError(self._error.errno, self._error.strerror)
                take = min(n - pos, self._size - (self.end - self._low()))
                at = self.end
            self._put(at, src[pos:pos + take])  # beyond ``end``: nobody else reads it yet
            pos += take
            with self._for_space:
                self.end = at + take
                if self._disk_run() >= _WRITE_AT:
                    self._for_disk.notify()
                if self.end - self._sent >= _SEND_AT:
                    self._for_upload.notify()

    def settle(self) -> None:
        """Wait until the spool thread has written what it can, then write the rest at
        its place through ``fd``: the file then holds every byte up to :attr:`end`.
        Raises OSError from that write."""
        with self._for_space:
            self._settling = True
            self._for_disk.notify()
            while self._error is None and self._disk_run() > 0 and self._thread.is_alive():
                self._for_space.wait()
            self._settling = False
            start = self._written
        # the thread is idle (nothing it may write) or stopped: [start, end) is ours
        pos = start
        for part in self._slices(start, self.end):
            n = len(part)
            try:
                done = 0
                while done < n:
                    done += os.pwrite(self._fd, part[done:], pos + done)
            finally:
                part.release()
            pos += n

    def close(self) -> None:
        """Stop the spool thread and the upload, release the ring (kept for the next
        file when no upload holds it: :data:`IDLE_RINGS`) and the direct descriptor
        (call :meth:`settle` first, or what was not written is dropped). Only the first
        call does anything."""
        with self._for_space:
            if self._closing:
                return
            self._closing = self._cancelled = True
            self._for_disk.notify_all()
            self._for_upload.notify_all()
        self._thread.join()
        self._view.release()
        with self._for_space:
            # an upload that never detached may still be sending from a view (stuck in
            # sendall): that ring is never reused
            reusable = not self._uploading
        drop_ring(self._ring, keep=reusable)
        if self._dfd is not None:
            os.close(self._dfd)
            self._dfd = None

    # -- the spool thread ----------------------------------------------------------------
    def _run(self, thread_init: Callable[[], None] | None) -> None:
        if thread_init is not None:
            thread_init()
        _yield_cpu()
        while True:
            with self._for_disk:
                while not self._closing and not (
                        self._disk_run() >= _WRITE_AT or (self._settling and self._disk_run() > 0)):
                    if self._settling:
                        self._for_space.notify_all()  # nothing left to write: settle goes on
                    self._for_disk.wait()
                if self._closing:
                    return
                start = self._written
                stop = start + min(self._disk_run(), _MOST)
            try:
                self._write(start, stop)
            except OSError as exc:
                with self._for_disk:
                    self._error = exc
                    self._for_space.notify_all()
                return
            with self._for_disk:
                self._written = stop
                self._for_space.notify_all()

    def _write(self, start: int, stop: int) -> None:
        pos = start
        for part in self._slices(start, stop):
            n = len(part)
            try:
                done = 0
                while done < n:
                    done += self._pwrite(part[done:], pos + done)
            finally:
                part.release()
            pos += n

    def _pwrite(self, data: memoryview, at: int) -> int:
        if self._dfd is not None:
            try:
                return os.pwrite(self._dfd, data, at)
            except OSError as exc:
                # a filesystem that opens but refuses direct writes, or a full disk:
                # from now on through the page cache (where a full disk fails again)
                log.info("direct write to the spool file failed (%s): written through the "
                         "page cache from now on", exc)
                os.close(self._dfd)
                self._dfd = None
        return os.pwrite(self._fd, data, at)

    # -- the upload ----------------------------------------------------------------------
    def chunks(self) -> Iterator[memoryview]:
        """The bytes from ``start`` on, for one upload, until :meth:`finish`. Each
        chunk is a view of the ring, valid until the next one is asked for. Raises
        TeeCancelled after :meth:`cancel` or :meth:`close`."""
        try:
            while True:
                with self._for_upload:
                    while not self._cancelled and not self._finished and self.end - self._sent < _SEND_AT:
                        self._for_upload.wait()
                    if self._cancelled:
                        raise TeeCancelled("cancelled")
                    start = self._sent
                    stop = min(self.end, start + _MOST)
                    if start == stop:
                        return  # finished and all sent
                for part in self._slices(start, stop):
                    try:
                        yield part
                    finally:
                        part.release()
                with self._for_upload:
                    self._sent = stop
                    self._for_space.notify_all()
        finally:
            self.detach()

    def finish(self) -> None:
        """No more bytes for the upload: :meth:`chunks` ends once it has sent them."""
        with self._for_upload:
            self._finished = True
            self._for_upload.notify_all()

    def cancel(self) -> None:
        """Make :meth:`chunks` raise TeeCancelled at its next chunk."""
        with self._for_upload:
            self._cancelled = True
            self._for_upload.notify_all()

    def detach(self) -> None:
        """The upload is over (done, failed or cancelled): the writer no longer waits
        for it."""
        with self._for_space:
            self._uploading = False
            self._for_space.notify_all()
