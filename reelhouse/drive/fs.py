"""The drive's filesystem operations over a Source, free of any platform detail.

Paths come in as the kernel gives them (``/Films/a.mkv``); results are :class:`Attr`,
names and bytes; every failure is an ``OSError`` whose errno comes from
:mod:`reelhouse.drive.errnos` (ENOENT, EACCES, EEXIST, ENOTEMPTY, ENOTDIR, EISDIR,
EROFS, ENOSPC, ETIMEDOUT, ENOTCONN …). The FUSE adapter only converts.

Writes go through the spool (:mod:`reelhouse.drive.spool`) and are uploaded on
``flush`` (the ``close`` of a descriptor that wrote since the last upload: see
:meth:`DriveFS.flush`) and ``fsync``; the listing cache is updated by our own changes
at once, so a file just written, renamed or deleted shows as such.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable

from reelhouse.drive.cache import BlockCache, ListingCache
from reelhouse.drive.errnos import os_error
from reelhouse.drive.guard import Guard
from reelhouse.drive.handles import Handle, Handles
from reelhouse.drive.names import NAME_MAX
from reelhouse.drive.namespace import Namespace
from reelhouse.drive.prefetch import Prefetcher
from reelhouse.drive.reading import FileReader
from reelhouse.drive.spool import Spool
from reelhouse.drive.spoolfile import SpoolFile, SpoolFileGone
from reelhouse.drive.status import Counters, Health
from reelhouse.drive.tree import EXCLUSIVE_FRESH, Attr, Tree
from reelhouse.drive.uploader import NameRewritten
from reelhouse.errors import NotFound
from reelhouse.sources.base import Entry, Source, normalize_path

log = logging.getLogger(__name__)

__all__ = ["EXCLUSIVE_FRESH", "Attr", "DriveFS"]

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR


class DriveFS:
    """Filesystem operations over ``source``. Thread-safe (FUSE calls from many
    threads). ``read_only`` refuses every change with EROFS, and so does a server found
    to refuse every write (:meth:`Guard.refused <reelhouse.drive.guard.Guard.refused>`).

    The parts: :class:`~reelhouse.drive.tree.Tree` (entries and listings as the mount
    shows them, and the server's entry of a name being created),
    :class:`~reelhouse.drive.guard.Guard` (errno mapping, write refusal),
    :class:`~reelhouse.drive.handles.Handles` (open files),
    :class:`~reelhouse.drive.namespace.Namespace` (unlink, mkdir, rmdir, rename,
    utimens); reading and writing file contents are here."""

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
        self.prefetch = Prefetcher(source, listings, prefetch_workers, thread_init)
        self.tree = Tree(source, listings, spool, self.prefetch, health)
        self.guard = Guard(source, health, read_only)
        self.handles = Handles()
        self.names = Namespace(self.tree, self.guard, self.handles, self._upload)
        spool.taken = self._taken
        #: ``forget_kernel(rel)``: make the kernel drop what it keeps of ``rel`` (its
        #: attributes, its cached pages), for a change it was not told of (``drive spool
        #: discard`` brings the server's file back). Set by the FUSE adapter while
        #: mounted; does nothing otherwise. Never call it from a request handler.
        self.forget_kernel: Callable[[str], None] = lambda rel: None

    def _taken(self, rel: str) -> bool:
        """Is ``rel`` on the server (its folder's listing: cached, else asked now)? An
        upload's ``.part`` must not be (:meth:`Spool._part_of
        <reelhouse.drive.spool.Spool._part_of>`). Takes no spool lock (an upload holds
        its file's lock). Raises what a listing raises."""
        known = self.listings.lookup(rel)
        if known is not None:
            return known is not False
        folder, _, name = rel.rpartition("/")
        return any(e.name == name for e in self.tree.list(folder))

    # -- state ---------------------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        return self.guard.read_only

    @property
    def server_read_only(self) -> bool:
        """The server refuses every write for this login (changes get EROFS)."""
        return self.guard.server_read_only

    @property
    def writes_refused(self) -> bool:
        """Every change gets EROFS: a read-only mount, or a server refusing every write."""
        return self.guard.writes_refused

    def _attr(self, entry: Entry) -> Attr:
        return self.tree.attr(entry, not self.guard.writes_refused)

    def _add(self, handle: Handle) -> int:
        fh = self.handles.add(handle)
        self.counters.opened(1)
        return fh

    # -- reading -------------------------------------------------------------------------
    def getattr(self, path: str, fh: int | None = None) -> Attr:
        """The attributes of ``path``; ``fh``: a handle of it the kernel asks through
        (``fstat``, and its check of the size before each read once its attributes
        expired): a file open for reading shows what it showed at open, without a
        listing (with a kernel TTL of 0 and no cache of ours, every read asked for one)."""
        rel = normalize_path(path)
        handle = self.handles.find(fh) if fh is not None else None  # a folder's fh: no match
        if handle is not None and handle.path == rel and handle.reader is not None \
                and self.spool.node(rel) is None:
            reader = handle.reader
            return self.tree.attr(Entry(rel.rpartition("/")[2], rel, False, reader.size, reader.mtime),
                                  not self.guard.writes_refused)
        with self.guard.errors(path):
            try:
                return self._attr(self.tree.entry(rel))
            except NotFound:
                # FUSE lets names of up to 1024 bytes through: past NAME_MAX, say so
                # (as ext4 does) unless the server has one
                if len(rel.rpartition("/")[2].encode("utf-8", "surrogateescape")) > NAME_MAX:
                    raise os_error(errno.ENAMETOOLONG, path) from None
                raise

    def readdir(self, path: str) -> list[tuple[str, Attr]]:
        """The entries of folder ``path`` with their attributes (no ``.``/``..``)."""
        rel = normalize_path(path)
        with self.guard.errors(path):
            if not self.tree.entry(rel).is_dir:
                raise os_error(errno.ENOTDIR, path)
            # a NUL (from a hostile server) would cut the name short in the kernel: a
            # second entry under another's name, which no lookup reaches
            return [(name, self._attr(e)) for name, e in self.tree.children(rel).items() if "\x00" not in name]

    def open(self, path: str, flags: int) -> int:
        rel = normalize_path(path)
        with self.guard.errors(path):
            entry = self.tree.entry(rel)
            if entry.is_dir:
                raise os_error(errno.EISDIR, path)
            handle = Handle(rel, append=bool(flags & os.O_APPEND))
            if flags & _WRITE_FLAGS:
                self.guard.writable(path)
                self.guard.reachable(path)
                if not flags & os.O_TRUNC and self.spool.node(rel) is None:
                    entry = self.tree.as_on_server(rel)
                    if entry.is_dir:
                        raise os_error(errno.EISDIR, path)
                handle.node = self.spool.open(rel, new=bool(flags & os.O_TRUNC),
                                              remote_size=entry.size or 0, remote_mtime=entry.mtime)
                if flags & os.O_TRUNC:
                    handle.change = handle.node.changes
            else:
                handle.reader = FileReader(self.source, rel, entry.size or 0, entry.mtime,
                                           self.blocks, self.counters)
            return self._add(handle)

    def read(self, fh: int, offset: int, size: int) -> bytes:
        handle = self.handles.get(fh)
        with self.guard.errors(handle.path):
            node = handle.node or self.spool.node(handle.path)
            if node is not None and (node.dirty or node.loaded):
                try:
                    data = node.read(self.source, offset, size)
                except SpoolFileGone:
                    pass  # uploaded and dropped meanwhile: read the server's copy
                else:
                    self.counters.add_read(len(data))
                    return data
            if handle.reader is None:
                entry = self.tree.entry(handle.path)
                handle.reader = FileReader(self.source, handle.path, entry.size or 0, entry.mtime,
                                           self.blocks, self.counters)
            return handle.reader.read(offset, size)

    # -- writing -------------------------------------------------------------------------
    def create(self, path: str, flags: int) -> int:
        rel = normalize_path(path)
        self.guard.writable(path)
        self.guard.reachable(path)
        with self.guard.errors(path, write=True):
            try:
                existing: Entry | None = self.tree.entry(rel)
            except NotFound:
                existing = None
                self.guard.new_name(rel, path)
                if flags & os.O_EXCL:
                    existing = self.tree.made_elsewhere(rel)
                elif not flags & os.O_TRUNC:
                    existing = self.tree.there_now(rel)
            if existing is not None:
                if flags & os.O_EXCL:
                    raise os_error(errno.EEXIST, path)
                if existing.is_dir:
                    raise os_error(errno.EISDIR, path)
            parent = self.tree.entry(rel.rpartition("/")[0])
            if not parent.is_dir:
                raise os_error(errno.ENOTDIR, path)
            # a file another process made since the kernel looked the name up keeps its
            # bytes unless O_TRUNC (two shells appending with ``>>`` to one new log)
            new = existing is None or bool(flags & os.O_TRUNC)
            # a name the server did not have (asked, unless O_TRUNC): its upload will not
            # replace a file another client makes before it (uploader.CreatedElsewhere)
            node = self.spool.open(rel, new=new, remote_size=0 if existing is None else existing.size or 0,
                                   remote_mtime=None if existing is None else existing.mtime,
                                   absent=existing is None and not flags & os.O_TRUNC)
            self.listings.put(node.entry())
            return self._add(Handle(rel, node=node, change=node.changes if new else 0,
                                    append=bool(flags & os.O_APPEND)))

    def write(self, fh: int, offset: int, data: bytes | memoryview) -> int:
        """Write ``data`` at byte ``offset`` of open file ``fh`` (at the file's end for a
        handle opened with O_APPEND, whatever the kernel's idea of the size: another
        client may have made the file longer since the kernel asked); returns the bytes
        written. ``data`` is read during the call only (the FUSE adapter passes a view
        of the kernel request's buffer)."""
        handle = self.handles.get(fh)
        if handle.node is None:
            raise os_error(errno.EBADF)
        with self.guard.errors(handle.path, write=True):
            n = handle.node.write(self.source, offset, data, append=handle.append)
            handle.change = handle.node.changes
            return n

    def truncate(self, path: str, length: int, fh: int | None = None) -> None:
        rel = normalize_path(path)
        self.guard.writable(path)
        with self.guard.errors(path, write=True):
            handle = self.handles.get(fh) if fh is not None else None
            node = handle.node if handle is not None else self.spool.node(rel)
            if node is not None:
                try:
                    node.truncate(self.source, length)
                    if handle is not None:
                        handle.change = node.changes
                        return  # ftruncate: uploaded at its close or fsync
                    self._upload(node)  # truncate(2) by name: no close of ours follows
                    return
                except SpoolFileGone:
                    pass  # uploaded and dropped meanwhile: truncate the server's copy
            entry = self.tree.entry(rel)
            if length and not entry.is_dir:
                entry = self.tree.as_on_server(rel)  # the bytes kept are the server's
            if entry.is_dir:
                raise os_error(errno.EISDIR, path)
            node = self.spool.open(rel, new=length == 0, remote_size=entry.size or 0, remote_mtime=entry.mtime)
            try:
                node.truncate(self.source, length)
                self._upload(node)
            finally:
                self.spool.release(node)

    def _upload(self, node: SpoolFile) -> None:
        try:
            entry = self.spool.upload(node)
        except NameRewritten:
            # from now on such names fail when made (Guard.new_name); the server's name shows
            self.guard.names_rewritten = True
            self.listings.remove(node.path)
            self.listings.invalidate(node.path.rpartition("/")[0])
            raise
        if entry is not None:
            self.health.ok()
            self.listings.put(entry)

    def flush(self, fh: int) -> None:
        """Every ``close`` of a descriptor of ``fh`` calls this: when something was
        written through ``fh`` since the file's last upload began (also: made, or
        opened with O_TRUNC), upload the file, so that its bytes are on the server when
        that close returns; its errors reach close(). Any other close asks nothing of
        the server: a descriptor that only read, a copy a child process inherited and
        closes after the writer's close, a second descriptor closed while another still
        writes (the writer's close uploads), a file whose upload failed or was refused
        and that nothing wrote to since (retried when the server is back up, or at the
        next mount; a refused one is not retried by itself: spool.py)."""
        handle = self.handles.get(fh)
        node = handle.node
        if node is not None and node.unsent_since(handle.change):
            with self.guard.errors(handle.path, write=True):
                self._upload(node)

    def fsync(self, fh: int) -> None:
        """Upload the file if it differs from the server, whichever descriptor wrote
        it (fsync: the data is on the server when it returns); its errors reach the
        caller. A file the server refused is asked again (the user asks for it)."""
        handle = self.handles.get(fh)
        if handle.node is not None:
            with self.guard.errors(handle.path, write=True):
                self._upload(handle.node)

    def release(self, fh: int) -> None:
        handle = self.handles.pop(fh)
        if handle is None:
            return
        self.counters.opened(-1)
        if handle.reader is not None:
            handle.reader.close()
        node = handle.node
        if node is not None:
            try:
                if node.unsent_since(handle.change):  # written after its flush (mmap), or no flush (unmount)
                    with self.guard.errors(handle.path, write=True):
                        self._upload(node)
            except OSError:
                pass  # kept in the spool, listed as pending; flush already reported it
            finally:
                if self.spool.release(node):
                    self.listings.remove(node.path)  # refused and empty: dropped, never on the server

    # -- names and times (drive/namespace.py) --------------------------------------------
    def unlink(self, path: str) -> None:
        self.names.unlink(path)

    def mkdir(self, path: str) -> None:
        self.names.mkdir(path)

    def rmdir(self, path: str) -> None:
        self.names.rmdir(path)

    def rename(self, old: str, new: str, *, noreplace: bool = False) -> None:
        """Move ``old`` to ``new`` (:meth:`Namespace.rename
        <reelhouse.drive.namespace.Namespace.rename>`)."""
        self.names.rename(old, new, noreplace=noreplace)

    def utimens(self, path: str, mtime: float) -> None:
        """Set the modification time (MFMT where the server has it, else only here)."""
        self.names.utimens(path, mtime)

    def chmod(self, path: str) -> None:
        """FTP has no portable modes: accepted (so ``cp -p``, git work) and ignored."""
        self.guard.writable(path)
        self.getattr(path)

    def statfs(self) -> tuple[int, int, int, int]:
        """``(block size, total blocks, free blocks, max name length)``: FTP tells no
        quota, so a large free space is reported (0 free on a read-only mount)."""
        total = 1 << 30  # blocks of 4 KiB: 4 TiB
        return 4096, total, 0 if self.writes_refused else total, 255

    def interrupt(self) -> None:
        """The mount is ending while requests may still run: cut the server commands
        under way (a read from a server that stopped answering gets EIO or ENOTCONN
        at once instead of holding the unmount for the timeouts) and refuse new ones
        until :meth:`close`. For a source that can (FTP: ``interrupt``)."""
        cut = getattr(self.source, "interrupt", None)
        if callable(cut):
            cut()

    def close(self) -> None:
        """Close every open handle (at unmount: their uploads run, the source taking
        commands again after :meth:`interrupt`) and stop prefetching."""
        resume = getattr(self.source, "resume", None)
        if callable(resume):
            resume()
        self.prefetch.close()
        for fh in self.handles.numbers():
            self.release(fh)
