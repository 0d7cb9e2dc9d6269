"""One file being written through the drive: its local copy in the spool folder.

The copy is ``<id>.data`` (``<id>.json``, the manifest, is the :class:`~reelhouse.drive.spool.Spool`'s);
writes land in it, and a file written from byte 0 on streams to the server while it is
written (:mod:`reelhouse.drive.streamer`). The upload itself is the spool's.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from reelhouse.drive.streamer import STREAM_AFTER, Streamer
from reelhouse.sources.base import Entry, Source

__all__ = ["SpoolFile", "SpoolFileGone"]

log = logging.getLogger(__name__)
_CHUNK = 1024 * 1024


class SpoolFileGone(Exception):
    """The spool file was dropped (uploaded and closed by its last handle) after the
    caller took it from the spool: the server's copy is the file now."""


class SpoolFile:
    """The local copy of one remote file being written (shared by its open handles).

    ``loaded``: the local copy holds the remote content (a new or truncated file is
    loaded at once; an existing one is fetched on first use). ``dirty``: it differs
    from the server. ``error``: the last upload's failure, kept until one succeeds;
    ``refused``: the server's reply when it refused that upload for good (permission,
    a name it does not allow), which nothing retries by itself (spool.py).

    ``changes`` counts the changes (writes, truncates, a new empty file) and
    ``attempted`` is that count at the end of the last upload, sent or not: a handle
    whose last change is past it has something the server has not been asked to take
    (:meth:`unsent_since`), which is what a close uploads.
    """

    def __init__(self, folder: Path, path: str, *, loaded: bool, remote_size: int = 0,
                 mtime: float | None = None, ident: str | None = None,
                 start_stream: Callable[[SpoolFile, int], Streamer] | None = None,
                 on_unsettled: Callable[[SpoolFile], None] | None = None) -> None:
        """``on_unsettled(file)`` runs (under :attr:`lock`) at the first change after
        the file was opened or after an upload of it began (:attr:`unsettled`): the
        spool writes its manifest then."""
        self.ident = ident or uuid.uuid4().hex
        self.local = folder / f"{self.ident}.data"
        self.manifest = folder / f"{self.ident}.json"
        self.path = path
        self.loaded = loaded
        self.remote_size = remote_size
        self.dirty = False
        self.unlinked = False
        #: being deleted on the server (Spool.deleting): no upload starts until that is
        #: done (then :attr:`unlinked`) or refused (then pending as before)
        self.deleting = False
        self.handles = 0
        #: seconds since the epoch: the server's file's (``mtime``) until it is changed
        self.mtime = time.time() if mtime is None else mtime
        self.error: str | None = None
        self.refused: str | None = None
        #: made here where the server had no file of that name (a create without
        #: O_TRUNC), and not uploaded since: the upload's rename must not replace a file
        #: another client made meanwhile (uploader.CreatedElsewhere)
        self.absent = False
        #: its upload found such a file (:attr:`refused` says which): kept, not sent
        #: over it until the user says so (``drive spool retry``, a ``mv``)
        self.conflict = False
        #: adopted from a mount that ended (killed) maybe after its upload's rename but
        #: before it noted so: the upload first looks whether the server already holds
        #: exactly these bytes (uploader, :meth:`holds`)
        self.maybe_sent = False
        self.changes = 0
        self.attempted = 0
        #: a time set (utimens) while dirty, for the server once uploaded (``cp -a``, ``tar x``)
        self.set_mtime: float | None = None
        self.lock = threading.RLock()
        self.fd = os.open(self.local, os.O_RDWR | os.O_CREAT, 0o600)
        # bytes written in order from 0 (None once a write lands elsewhere) and the
        # upload running during the writes, which also writes the spool file (streamer.py)
        self.sequential: int | None = 0 if loaded and remote_size == 0 else None
        self.streamer: Streamer | None = None
        #: ``(.part, error)`` of an upload during the writes that failed and was stopped
        #: (the uploader does not send the same refused ``.part`` again at close)
        self.stream_error: tuple[str, BaseException] | None = None
        #: the name on the server its upload goes to before the rename (Spool._part_of)
        self.part: str | None = None
        #: the ``.part`` an upload running now sends to (set by the spool's upload)
        self.sending: str | None = None
        self._start_stream = start_stream
        self._on_unsettled = on_unsettled
        #: changed since it was opened or since an upload of it last began: if the mount
        #: ended now, its writer would not have seen it stored (manifest.INTERRUPTED)
        self.unsettled = False
        #: the upload running now: "uploading" (also during the writes, streamed), or
        #: "retrying" (an earlier try failed); None when none runs. ``sent``: its bytes
        #: handed to the server so far, of ``upload_size`` (of the streamer's end while
        #: the file is still being written). Read by :meth:`Spool.pending` without a lock.
        self.upload_state: str | None = None
        self.sent = 0
        self.upload_size = 0

    def unsent_since(self, change: int) -> bool:
        """Was change number ``change`` (a handle's last, see :attr:`changes`) made after
        the last upload began? Then a close of that handle uploads."""
        return self.dirty and change > self.attempted

    def changed(self) -> int:
        """Count one change (under :attr:`lock`); returns its number."""
        self.changes += 1
        self.dirty = True
        self.mtime = time.time()
        self.set_mtime = None
        if not self.unsettled:
            self.unsettled = True
            if self._on_unsettled is not None:
                self._on_unsettled(self)
        return self.changes

    def stop_stream(self) -> None:
        """Stop the upload during the writes (if any); the spool file is then complete.
        Raises OSError when it cannot be (a full disk)."""
        with self.lock:
            self.sequential = None
            streamer, self.streamer = self.streamer, None
            if streamer is not None:
                self.upload_state = None
                streamer.close()
                if streamer.error is not None:
                    self.stream_error = (streamer.part, streamer.error)

    def settle(self) -> None:
        """Make the spool file hold every byte written (before it is read or uploaded
        from, or kept for a retry)."""
        with self.lock:
            if self.streamer is not None:
                self.streamer.settle()

    def _open_fd(self) -> int:
        """The local copy's descriptor (under :attr:`lock`); SpoolFileGone once dropped (its
        number may already belong to another file)."""
        if self.fd < 0:
            raise SpoolFileGone(self.path)
        return self.fd

    @property
    def size(self) -> int:
        with self.lock:
            self._open_fd()
            if self.streamer is not None:
                return self.streamer.end
            return os.fstat(self.fd).st_size if self.loaded else self.remote_size

    def size_now(self) -> int:
        """:attr:`size` without the lock (a running upload holds it): for the status."""
        streamer = self.streamer
        if streamer is not None:
            return streamer.end
        try:
            return os.fstat(self.fd).st_size if self.loaded else self.remote_size
        except OSError:  # closed meanwhile
            return 0

    def add_sent(self, n: int) -> None:
        """``n`` more bytes of the running upload went to the server."""
        self.sent += n

    def entry(self) -> Entry:
        return Entry(self.path.rpartition("/")[2], self.path, False, self.size, self.mtime)

    def load(self, source: Source) -> None:
        """Fetch the remote content once (before a partial write, a read, a truncate)."""
        with self.lock:
            if self.loaded:
                return
            os.ftruncate(self.fd, 0)
            self.sequential = None
            pos = 0
            for chunk in source.read_range(self.path, 0, self.remote_size):
                os.pwrite(self.fd, chunk, pos)
                pos += len(chunk)
            self.loaded = True

    def read(self, source: Source, offset: int, size: int) -> bytes:
        with self.lock:
            self._open_fd()
            self.load(source)
            self.settle()
            return os.pread(self.fd, size, offset)

    def write(self, source: Source, offset: int, data: bytes | memoryview, append: bool = False) -> int:
        """Write ``data`` (read only during the call: it may be the kernel's buffer) at
        ``offset``, or at the file's end with ``append``; returns the bytes written."""
        with self.lock:
            self._open_fd()
            if append:
                offset = self.size
            streamer = self.streamer
            if streamer is not None and offset == self.sequential:
                n = self._append(streamer, offset, data)
            else:
                if self.sequential is not None and offset != self.sequential:
                    self.stop_stream()
                self.load(source)
                n = os.pwrite(self.fd, data, offset)
            if self.sequential is not None:
                self.sequential += n
                if self.streamer is None and self._start_stream is not None \
                        and self.sequential >= STREAM_AFTER:
                    try:
                        self.upload_state, self.sent = "uploading", 0
                        self.streamer = self._start_stream(self, self.sequential)
                    except OSError as exc:  # no memory for the ring, say: uploaded at close
                        log.info("no upload during the writes of %r: %s", self.path, exc)
                        self.sequential = self.upload_state = None
            self.changed()
            return n

    def _append(self, streamer: Streamer, offset: int, data: bytes | memoryview) -> int:
        try:
            streamer.append(data)
        except OSError as exc:
            # the spool's disk failed (full?): what the stream took is settled, then all
            # of ``data`` is written the ordinary way (where a full disk fails again, and
            # the writer gets ENOSPC)
            log.info("writing the spool file of %r failed (%s): stream stopped", self.path, exc)
            self.stop_stream()
            return os.pwrite(self.fd, data, offset)
        if streamer.failed:
            self.stop_stream()  # the upload failed: back to the ordinary spool (uploaded at close)
        return memoryview(data).nbytes

    def truncate(self, source: Source, length: int) -> None:
        with self.lock:
            self._open_fd()
            if self.streamer is not None or self.sequential != length:
                self.stop_stream()
            if length == 0:
                self.loaded = True
            else:
                self.load(source)
            if length == 0:
                self.sequential = 0
            os.ftruncate(self.fd, length)
            self.changed()

    def chunks(self) -> Iterator[bytes]:
        self.settle()
        pos = 0
        while chunk := os.pread(self.fd, _CHUNK, pos):
            pos += len(chunk)
            yield chunk
            self.sent = pos

    def holds(self, theirs: Iterable[bytes], size: int) -> bool:
        """Are the ``size`` bytes of the local copy exactly ``theirs`` (chunks of any
        length, read until the first difference; the caller holds :attr:`lock`)?"""
        fd, pos = self._open_fd(), 0
        for chunk in theirs:
            if pos + len(chunk) > size or os.pread(fd, len(chunk), pos) != chunk:
                return False
            pos += len(chunk)
        return pos == size == os.fstat(fd).st_size

    def discard(self) -> None:
        """Close and remove the local copy; a thread still holding this object then gets
        SpoolFileGone, never a descriptor number reused by another file."""
        with self.lock:
            try:
                self.stop_stream()
            except OSError:
                pass  # the file goes anyway
            fd, self.fd = self.fd, -1
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.local.unlink(missing_ok=True)
        self.manifest.unlink(missing_ok=True)
