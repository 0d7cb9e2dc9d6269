"""The drive's filesystem operations over a Source, free of any platform detail.

Paths come in as the kernel gives them (``/Films/a.mkv``); results are :class:`Attr`,
names and bytes; every failure is an ``OSError`` whose errno comes from
:mod:`reelhouse.drive.errnos` (ENOENT, EACCES, EEXIST, ENOTEMPTY, ENOTDIR, EISDIR,
EROFS, ENOSPC, ETIMEDOUT, ENOTCONN …). The FUSE adapter only converts.

Writes go through the spool (:mod:`reelhouse.drive.spool`) and are uploaded on
``flush`` (every ``close``) and ``fsync``; the listing cache is updated by our own
changes at once, so a file just written, renamed or deleted shows as such.
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from reelhouse.drive.cache import BlockCache, ListingCache
from reelhouse.drive.errnos import errno_for, os_error
from reelhouse.drive.names import new_name_errno, risky_name
from reelhouse.drive.prefetch import Prefetcher
from reelhouse.drive.reading import FileReader
from reelhouse.drive.spool import NameRewritten, Spool, SpoolFile
from reelhouse.drive.status import Counters, Health
from reelhouse.errors import NotFound, PermissionDenied, ReelhouseError, SourceUnavailable
from reelhouse.sources.base import Entry, Source, normalize_path

log = logging.getLogger(__name__)

__all__ = ["Attr", "DriveFS"]

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR
_ROOT = Entry("", "", True)


@dataclass(frozen=True, slots=True)
class Attr:
    """What ``stat`` shows: a folder or a file of ``size`` bytes, ``mtime`` in seconds
    since the epoch; ``writable`` is false on a read-only mount."""

    is_dir: bool
    size: int
    mtime: float
    writable: bool


@dataclass
class _Handle:
    path: str
    reader: FileReader | None = None
    node: SpoolFile | None = None


class DriveFS:
    """Filesystem operations over ``source``. Thread-safe (FUSE calls from many
    threads). ``read_only`` refuses every change with EROFS, and so does a server found
    to refuse every write (:meth:`_refused`)."""

    def __init__(self, source: Source, *, listings: ListingCache, blocks: BlockCache,
                 spool: Spool, counters: Counters, health: Health, read_only: bool = False,
                 prefetch_workers: int = 0, thread_init: Callable[[], None] | None = None) -> None:
        """``prefetch_workers`` > 0 lists the subfolders of a folder just read in the
        background, that many at a time (a walk then finds them cached: see
        :mod:`~reelhouse.drive.prefetch`); ``thread_init`` runs first in each of those
        threads."""
        self.source = source
        self.listings = listings
        self.blocks = blocks
        self.spool = spool
        self.counters = counters
        self.health = health
        self.read_only = read_only
        #: the server refuses every write for this login (found by :meth:`_refused`)
        self.server_read_only = False
        #: the server stored an upload under another name (spool.NameRewritten)
        self.names_rewritten = False
        self._probed = False
        self.started = time.time()
        self._handles: dict[int, _Handle] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.prefetch = Prefetcher(source, listings, prefetch_workers, thread_init)

    # -- plumbing ------------------------------------------------------------------------
    @contextmanager
    def _errors(self, path: str = "", *, write: bool = False) -> Iterator[None]:
        """Map reelhouse errors to ``OSError(errno)``; a connection failure marks the
        server unhealthy (answers from the server mark it healthy again: ``_list``,
        uploads, the mount's probe). In a ``write``, a permission refusal is EROFS when
        the server refuses every write (:meth:`_refused`), else EACCES."""
        try:
            yield
        except OSError:
            raise
        except SourceUnavailable as exc:
            self.health.failed(exc.message)
            raise os_error(errno_for(exc), path) from exc
        except PermissionDenied as exc:
            code = errno.EROFS if write and self._refused() else errno_for(exc)
            raise os_error(code, path) from exc
        except ReelhouseError as exc:
            raise os_error(errno_for(exc), path) from exc

    @property
    def writes_refused(self) -> bool:
        """Every change gets EROFS: a read-only mount, or a server refusing every write."""
        return self.read_only or self.server_read_only

    def _refused(self) -> bool:
        """After a write was refused: does the server refuse *every* write for this login?

        Asked once per mount by renaming a name that does not exist at the mount's root
        (RNFR changes nothing): a server that allows writes looks the name up and answers
        "not found"; one that refuses writes to this login (vsftpd ``write_enable=NO``,
        anonymous FTP without uploads, pyftpdlib without the ``f`` permission) answers
        "permission denied" before looking. A per-folder refusal on a writable server
        thus stays EACCES. Limit: a server whose root is read-only while a subfolder is
        writable is taken as read-only once a write was refused.
        """
        with self._lock:
            if self._probed:
                return self.server_read_only
            self._probed = True
        probe = f".reelhouse-write-probe-{os.getpid()}-{time.monotonic_ns()}"
        try:
            self.source.rename(probe, probe + ".to")
        except PermissionDenied:
            self.server_read_only = True
            log.warning("the FTP server refuses every write for this login: changes get EROFS")
        except ReelhouseError:
            pass  # not found (writes allowed), or no answer: a plain permission refusal
        return self.server_read_only

    def _writable(self, path: str) -> None:
        if self.writes_refused:
            raise os_error(errno.EROFS, path)

    def _new_name(self, rel: str, path: str) -> None:
        """A name about to be made that the server cannot take fails now, not at the
        upload (:func:`~reelhouse.drive.names.new_name_errno`)."""
        refused = new_name_errno(self.source, rel, self.names_rewritten)
        if refused is not None:
            log.info("refused the name %r: %s", rel, refused[1])
            raise os_error(refused[0], path)

    def _attr(self, entry: Entry) -> Attr:
        return Attr(entry.is_dir, entry.size or 0, entry.mtime or self.started, not self.writes_refused)

    def _entry(self, rel: str) -> Entry:
        """The entry of ``rel``: an open spool file, the cache, else the parent's
        listing. Raises NotFound."""
        if not rel:
            return _ROOT
        node = self.spool.node(rel)
        if node is not None and not node.unlinked:
            return node.entry()
        known = self.listings.lookup(rel)
        if known is False:
            raise NotFound(f"no such file: {rel!r}")
        if isinstance(known, Entry):
            return known
        folder, _, name = rel.rpartition("/")
        for entry in self._list(folder):
            if entry.name == name:
                return entry
        raise NotFound(f"no such file: {rel!r}")

    def _list(self, folder: str) -> list[Entry]:
        cached = self.listings.listing(folder)
        if cached is not None:
            return cached
        got = self.prefetch.take(folder)
        if got is not None:
            return got
        since = self.listings.mark()
        entries = self.source.list(folder)
        self.health.ok()
        self.listings.put_listing(folder, entries, since)
        return entries

    def _handle(self, fh: int) -> _Handle:
        with self._lock:
            handle = self._handles.get(fh)
        if handle is None:
            raise os_error(errno.EBADF)
        return handle

    def _add(self, handle: _Handle) -> int:
        with self._lock:
            fh = next(self._ids)
            self._handles[fh] = handle
        self.counters.opened(1)
        return fh

    # -- reading -------------------------------------------------------------------------
    def getattr(self, path: str) -> Attr:
        rel = normalize_path(path)
        with self._errors(path):
            return self._attr(self._entry(rel))

    def readdir(self, path: str) -> list[tuple[str, Attr]]:
        """The entries of folder ``path`` with their attributes (no ``.``/``..``)."""
        rel = normalize_path(path)
        with self._errors(path):
            if not self._entry(rel).is_dir:
                raise os_error(errno.ENOTDIR, path)
            listed = self._list(rel)
            self.prefetch.queue(rel, listed)
            entries = {e.name: e for e in listed}
            with self.spool.lock:
                for node in self.spool.nodes.values():
                    if node.path.rpartition("/")[0] == rel and not node.unlinked:
                        entries[node.path.rpartition("/")[2]] = node.entry()
            return [(name, self._attr(e)) for name, e in entries.items()]

    def open(self, path: str, flags: int) -> int:
        rel = normalize_path(path)
        with self._errors(path):
            entry = self._entry(rel)
            if entry.is_dir:
                raise os_error(errno.EISDIR, path)
            handle = _Handle(rel)
            if flags & _WRITE_FLAGS:
                self._writable(path)
                handle.node = self.spool.open(rel, new=bool(flags & os.O_TRUNC),
                                              remote_size=entry.size or 0)
            else:
                handle.reader = FileReader(self.source, rel, entry.size or 0, entry.mtime,
                                           self.blocks, self.counters)
            return self._add(handle)

    def read(self, fh: int, offset: int, size: int) -> bytes:
        handle = self._handle(fh)
        with self._errors(handle.path):
            node = handle.node or self.spool.node(handle.path)
            if node is not None and (node.dirty or node.loaded):
                data = node.read(self.source, offset, size)
                self.counters.add_read(len(data))
                return data
            if handle.reader is None:
                entry = self._entry(handle.path)
                handle.reader = FileReader(self.source, handle.path, entry.size or 0, entry.mtime,
                                           self.blocks, self.counters)
            return handle.reader.read(offset, size)

    # -- writing -------------------------------------------------------------------------
    def create(self, path: str, flags: int) -> int:
        rel = normalize_path(path)
        self._writable(path)
        with self._errors(path, write=True):
            try:
                existing: Entry | None = self._entry(rel)
            except NotFound:
                existing = None
                self._new_name(rel, path)
            if existing is not None:
                if flags & os.O_EXCL:
                    raise os_error(errno.EEXIST, path)
                if existing.is_dir:
                    raise os_error(errno.EISDIR, path)
            parent = self._entry(rel.rpartition("/")[0])
            if not parent.is_dir:
                raise os_error(errno.ENOTDIR, path)
            node = self.spool.open(rel, new=True)
            self.listings.put(node.entry())
            return self._add(_Handle(rel, node=node))

    def write(self, fh: int, offset: int, data: bytes) -> int:
        handle = self._handle(fh)
        if handle.node is None:
            raise os_error(errno.EBADF)
        with self._errors(handle.path, write=True):
            return handle.node.write(self.source, offset, data)

    def truncate(self, path: str, length: int, fh: int | None = None) -> None:
        rel = normalize_path(path)
        self._writable(path)
        with self._errors(path, write=True):
            node = self._handle(fh).node if fh is not None else self.spool.node(rel)
            if node is not None:
                node.truncate(self.source, length)
                return
            entry = self._entry(rel)
            if entry.is_dir:
                raise os_error(errno.EISDIR, path)
            node = self.spool.open(rel, new=length == 0, remote_size=entry.size or 0)
            try:
                node.truncate(self.source, length)
                self._upload(node)
            finally:
                self.spool.release(node)

    def _stored_as_asked(self, rel: str, path: str) -> None:
        """After a folder or rename was made under a :func:`risky_name`: EINVAL if the
        server stored it as another name (that name shows from now on)."""
        if not risky_name(rel):
            return
        try:
            self.source.stat(rel)
        except NotFound:
            self.names_rewritten = True
            self.listings.remove(rel)
            self.listings.invalidate(rel.rpartition("/")[0])
            raise os_error(errno.EINVAL, path) from None

    def _upload(self, node: SpoolFile) -> None:
        try:
            entry = self.spool.upload(node)
        except NameRewritten:
            # from now on such names fail when made (_new_name); the server's name shows
            self.names_rewritten = True
            self.listings.remove(node.path)
            self.listings.invalidate(node.path.rpartition("/")[0])
            raise
        if entry is not None:
            self.health.ok()
            self.listings.put(entry)

    def flush(self, fh: int) -> None:
        """Upload a written file (every ``close`` calls this); its errors reach close()."""
        handle = self._handle(fh)
        if handle.node is not None:
            with self._errors(handle.path, write=True):
                self._upload(handle.node)

    def fsync(self, fh: int) -> None:
        self.flush(fh)

    def release(self, fh: int) -> None:
        with self._lock:
            handle = self._handles.pop(fh, None)
        if handle is None:
            return
        self.counters.opened(-1)
        if handle.reader is not None:
            handle.reader.close()
        if handle.node is not None:
            try:
                with self._errors(handle.path, write=True):
                    self._upload(handle.node)
            except OSError:
                pass  # kept in the spool, listed as pending; flush already reported it
            finally:
                self.spool.release(handle.node)

    def unlink(self, path: str) -> None:
        rel = normalize_path(path)
        self._writable(path)
        with self._errors(path, write=True):
            entry = self._entry(rel)
            if entry.is_dir:
                raise os_error(errno.EISDIR, path)
            node = self.spool.node(rel)
            self.spool.forget(rel)
            try:
                self.source.delete(rel)
            except NotFound:
                if node is None:  # a file only in the spool was never on the server
                    raise
            self.listings.remove(rel)

    def mkdir(self, path: str) -> None:
        rel = normalize_path(path)
        self._writable(path)
        with self._errors(path, write=True):
            try:
                self._entry(rel)
            except NotFound:
                pass
            else:
                raise os_error(errno.EEXIST, path)
            if not self._entry(rel.rpartition("/")[0]).is_dir:
                raise os_error(errno.ENOTDIR, path)
            self._new_name(rel, path)
            self.source.mkdir(rel)
            self._stored_as_asked(rel, path)
            self.listings.put(Entry(rel.rpartition("/")[2], rel, True, None, time.time()))
            self.listings.put_listing(rel, [])

    def rmdir(self, path: str) -> None:
        rel = normalize_path(path)
        self._writable(path)
        with self._errors(path, write=True):
            if not rel:
                raise os_error(errno.EBUSY, path)
            if not self._entry(rel).is_dir:
                raise os_error(errno.ENOTDIR, path)
            if self.source.list(rel) or any(n.path.startswith(rel + "/") and not n.unlinked
                                            for n in list(self.spool.nodes.values())):
                raise os_error(errno.ENOTEMPTY, path)
            self.source.delete(rel)
            self.listings.remove(rel)

    def rename(self, old: str, new: str, *, noreplace: bool = False) -> None:
        """Move ``old`` to ``new``, over an existing file (or empty folder) there unless
        ``noreplace`` (Linux ``RENAME_NOREPLACE``: EEXIST). The check is ours: another
        client creating ``new`` meanwhile is not seen (FTP has no exclusive rename)."""
        src, dst = normalize_path(old), normalize_path(new)
        self._writable(old)
        with self._errors(old, write=True):
            entry = self._entry(src)
            if not dst or not src:
                raise os_error(errno.EBUSY, old)
            node = self.spool.node(src)
            if node is not None:
                self._upload(node)  # the server must hold it before it can move
            try:
                target: Entry | None = self._entry(dst)
            except NotFound:
                target = None
                self._new_name(dst, new)
            if target is not None:
                if noreplace:
                    raise os_error(errno.EEXIST, new)
                if target.is_dir and not entry.is_dir:
                    raise os_error(errno.EISDIR, new)
                if entry.is_dir and not target.is_dir:
                    raise os_error(errno.ENOTDIR, new)
                if target.is_dir and self.source.list(dst):
                    raise os_error(errno.ENOTEMPTY, new)
            try:
                self.source.rename(src, dst)
            except (NotFound, SourceUnavailable):
                raise
            except ReelhouseError:
                if target is None:
                    raise
                self.source.delete(dst)  # a server that will not rename over a file
                self.source.rename(src, dst)
            if self.spool.node(dst) is not node:
                self.spool.forget(dst)  # whatever was written to the old target is gone
            self.spool.rekey(src, dst)
            self._moved(src, dst)
            self.listings.remove(src)
            self.listings.remove(dst)
            self._stored_as_asked(dst, new)
            self.listings.put(Entry(dst.rpartition("/")[2], dst, entry.is_dir, entry.size, entry.mtime))

    def _moved(self, src: str, dst: str) -> None:
        """Open handles of ``src`` (or of files under the folder ``src``) follow it to
        ``dst``: a file read while renamed keeps its bytes, which is also how an open file
        survives ``unlink`` and being renamed over (libfuse first renames it to
        ``.fuse_hidden…``, then unlinks that at the last close)."""
        with self._lock:
            for handle in self._handles.values():
                if handle.path == src or handle.path.startswith(src + "/"):
                    handle.path = dst + handle.path[len(src):]
                    if handle.reader is not None:
                        handle.reader.path = handle.path

    def utimens(self, path: str, mtime: float) -> None:
        """Set the modification time (MFMT where the server has it, else only here)."""
        rel = normalize_path(path)
        self._writable(path)
        with self._errors(path, write=True):
            entry = self._entry(rel)
            node = self.spool.node(rel)
            if node is not None:
                node.mtime = mtime
                if node.dirty:
                    node.set_mtime = mtime  # sent once uploaded (spool.py)
            setter = getattr(self.source, "set_mtime", None)
            if callable(setter) and (node is None or not node.dirty):
                try:
                    setter(rel, mtime)
                except (NotFound, SourceUnavailable):
                    raise
                except ReelhouseError:
                    pass  # the server refuses MFMT here: the time is kept in the cache
            self.listings.put(Entry(entry.name, rel, entry.is_dir, entry.size, mtime))

    def chmod(self, path: str) -> None:
        """FTP has no portable modes: accepted (so ``cp -p``, git work) and ignored."""
        self._writable(path)
        self.getattr(path)

    def statfs(self) -> tuple[int, int, int, int]:
        """``(block size, total blocks, free blocks, max name length)``: FTP tells no
        quota, so a large free space is reported (0 free on a read-only mount)."""
        total = 1 << 30  # blocks of 4 KiB: 4 TiB
        return 4096, total, 0 if self.writes_refused else total, 255

    def close(self) -> None:
        """Close every open handle (at unmount) and stop prefetching."""
        self.prefetch.close()
        with self._lock:
            fhs = list(self._handles)
        for fh in fhs:
            self.release(fh)
