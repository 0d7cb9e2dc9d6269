"""FtpSource: an FTP/FTPS server as a Source, over a :class:`FtpPool`.

Modules: :mod:`.pooled` (commands on pooled connections, the source's executor),
:mod:`.reads` (range reads: ``REST`` + ``RETR``, RFC 3659 §5, with mid-stream resume);
here the listings (the walk in batches) and the writes.
"""

from __future__ import annotations

import builtins
import socket
import ssl
from collections.abc import Iterable, Iterator

from reelhouse.errors import InvalidInput, NotFound, ReelhouseError, SourceBusy
from reelhouse.sources.base import Entry, normalize_path
from reelhouse.sources.ftp.client import FtpClient
from reelhouse.sources.ftp.connection import path_error
from reelhouse.sources.ftp.reads import (  # noqa: F401 - their home before the split (tests)
    MIN_RCVBUF,
    RECV_SIZE,
    RESUME_DELAYS,
    SHORT_READ,
    RangeReads,
    _cap_receive_window,
)
from reelhouse.sources.walk import walk_parallel

__all__ = ["FtpSource"]

#: Most folders listed in one write by :meth:`FtpSource.walk` (STAT servers): each
#: holds a few KiB of replies; 16 cut the walk's CPU per folder by about half
#: (benchmarks/listing.py) while a waiting stream waits for one short batch at most.
WALK_BATCH = 16


#: Not listed ahead (:meth:`FtpSource.walk`).
_UNLISTED: builtins.list[Entry] = []


class FtpSource(RangeReads):
    """Files on an FTP/FTPS server. Thread-safe; all methods raise reelhouse errors.
    Streams never wait in asyncio's default executor (:class:`~.pooled.PooledSource`)."""

    kind = "ftp"

    def list(self, path: str) -> list[Entry]:
        """Entries of a folder; a symbolic link a LIST or MLSD server shows as a link
        appears as the file it leads to, or not at all (:meth:`FtpClient.resolve_links`).
        The source's root missing on the server is a NotFound naming it (:meth:`_root_error`)."""
        try:
            return self._run(lambda c: c.resolve_links(c.list(path)))
        except NotFound as exc:
            raise self._root_error(path, exc) from exc

    def _root_error(self, path: str, error: ReelhouseError) -> ReelhouseError:
        """``error`` of listing ``path``; for a NotFound of the source's root, a
        NotFound that names the root folder on the server, as a local source says its
        folder is missing ("not found … while listing '/'" named the root by its
        relative path, as if the source itself were not there)."""
        if not isinstance(error, NotFound) or normalize_path(path):
            return error
        reply = str(error.__cause__).strip() if error.__cause__ is not None else error.message
        root = self.config.root or "(the login folder)"
        return NotFound(f"source folder is missing on the FTP server {self.config.host}: {root!r} ({reply})")

    def list_now(self, path: str) -> builtins.list[Entry]:
        """:meth:`list` on a connection that is free now (health checks never wait
        behind streams); raises SourceBusy when every pooled connection is in use."""
        got = self.pool.try_acquire()
        if got is None:
            raise SourceBusy(f"all {self.pool.size} FTP connections are in use")
        client = got[0]
        try:
            entries = client.resolve_links(client.list(path))
        except NotFound as exc:
            self.pool.release(client, reusable=client.alive and not client.in_transfer)
            raise self._root_error(path, exc) from exc
        except BaseException:
            self.pool.release(client, reusable=client.alive and not client.in_transfer)
            raise
        self.pool.release(client)
        return entries

    def stat(self, path: str) -> Entry:
        """One entry (a link as the file it leads to, NotFound if it leads to none)."""
        def _stat(c: FtpClient) -> Entry:
            entry = c.stat(path)
            if not entry.link:
                return entry
            resolved = c.resolve_links([entry])
            if not resolved:
                raise NotFound(f"{entry.path!r} is a link to no file the FTP server reads")
            return resolved[0]
        return self._run(_stat)

    def walk(self, path: str = "") -> Iterator[tuple[str, builtins.list[Entry] | Exception]]:
        """Every folder under ``path``, listing as many at once as the pool has
        connections: each listing holds its connection for one folder (on a server
        listed by STAT: up to :data:`WALK_BATCH` folders in one write, one round trip,
        :meth:`FtpClient.list_many`) only, and a freed connection goes to a waiting
        viewer before the walk (:class:`FtpPool` serves the waiter holding fewest
        first), so a scan delays a stream by one listing at most. On pure-ftpd, each
        folder under ``path`` is listed with everything under it by one ``LIST -R``
        (:mod:`.treelist`: one data connection per sub-tree, not per folder; the rest of
        its folders are handed out from there), ``path`` itself alone first: listed
        whole, the root of a big tree runs alone and is cut at pure-ftpd's ``-L`` limit,
        while its sub-folders' trees are listed side by side (benchmarks/listing.py)."""
        tree: dict[str, builtins.list[Entry] | None] = {}  # listed ahead by LIST -R (pure-ftpd)
        started: builtins.list[bool] = []

        def many(paths: builtins.list[str]) -> builtins.list[builtins.list[Entry] | ReelhouseError]:
            ahead: builtins.list[builtins.list[Entry] | ReelhouseError] = []
            for folder in paths:  # dict.pop: atomic, each listing is handed out once
                entries = tree.pop(key := normalize_path(folder), _UNLISTED)
                if entries is None and not ahead:  # its sub-folders were listed, not it
                    return [self.list(folder)]
                if entries is None:
                    tree[key] = None  # the next call's first
                if entries is None or entries is _UNLISTED:
                    break
                ahead.append(entries)
            if not started:  # the first folder alone, then its sub-folders' trees at once
                started.append(True)
                return self._list_many(paths)
            return ahead or self._list_many(paths, tree)

        return walk_parallel(self, path, workers=self.pool.size, list_many=many, batch=WALK_BATCH)

    def folder_place(self, path: str) -> str | None:
        """The folder ``path`` leads to, as a server whose ``PWD`` resolves links names
        it (vsftpd, pure-ftpd: :meth:`FtpLister.folder_place`); None where the server does
        not say or the path is no folder it enters. For the walk's links to folders
        (:mod:`reelhouse.sources.linkwalk`)."""
        try:
            return self._run(lambda c: c.folder_place(path))
        except ReelhouseError:
            return None

    def same_folder(self, a: str, b: str) -> bool | None:
        """Whether paths ``a`` and ``b`` lead to one folder (a link back up), by the
        server's ``unique`` facts (:meth:`FtpLister.folder_id`), else, on a server whose
        ``PWD`` resolves links (vsftpd: LIST only, no MLST), by where a ``CWD`` to each
        lands (:meth:`FtpLister.folder_place`); None where the server does not say. The
        walk asks only about a folder listed exactly like an ancestor (LIST's minutes:
        ``Show/Show/Show`` made within one minute lists each level alike)."""
        def ask(c: FtpClient) -> bool | None:
            first = c.folder_id(a)
            second = c.folder_id(b) if first is not None else None
            if first is not None and second is not None:
                return first == second
            here = c.folder_place(a)
            there = c.folder_place(b) if here is not None else None
            return None if here is None or there is None else here == there
        try:
            return self._run(ask)
        except ReelhouseError:
            return None

    def _list_many(self, paths: builtins.list[str], tree: dict[str, builtins.list[Entry] | None] | None = None,
                   ) -> builtins.list[builtins.list[Entry] | ReelhouseError]:
        try:
            got = self._run(lambda c: [r if isinstance(r, ReelhouseError) else c.resolve_links(r)
                                       for r in c.list_many(paths, tree)])
        except NotFound as exc:  # the first folder's
            raise self._root_error(paths[0], exc) from exc
        return [self._root_error(p, r) if isinstance(r, ReelhouseError) else r
                for p, r in zip(paths, got, strict=False)]

    # -- writing -----------------------------------------------------------------------
    def size(self, path: str) -> int | None:
        """The file's size on the server (SIZE, else the listing); raises NotFound."""
        return self._run(lambda c: c.size(path))

    def sizes(self, paths: builtins.list[str]) -> dict[str, int | None]:
        """The sizes of several files in one round trip (pipelined SIZE:
        :meth:`FtpClient.sizes`); a path the server has no file of is left out."""
        return self._run(lambda c: c.sizes(paths))

    def exact_mtime(self, path: str) -> float | None:
        """The file's mtime to the second (MDTM), None where the server has none."""
        return self._run(lambda c: c.exact_mtime(path))

    def write(self, path: str, chunks: Iterable[bytes], offset: int = 0) -> int:
        """Upload: STOR from byte 0; to resume, APPE when the server's file is exactly
        ``offset`` bytes long, else REST + STOR. The data connection is written with
        ``sendall`` per chunk; the server's final reply decides (552/452 →
        StorageFull, 553 → InvalidInput). No resume inside: the transfer queue retries
        from the size the server then reports."""
        if offset < 0:
            raise InvalidInput("offset must be >= 0")
        rel = normalize_path(path)
        what = f"uploading {rel!r}"

        def _open(c: FtpClient) -> socket.socket:
            append = False
            if offset:
                have = c.size(rel)
                if have is None or have < offset:
                    raise InvalidInput(
                        f"cannot resume {rel!r} at byte {offset}: the server has {have} bytes")
                append = have == offset
            return c.start_stor(rel, offset, append)

        client, data = self._attempt(_open)
        sent = 0
        failure: BaseException | None = None
        try:
            for chunk in chunks:
                try:
                    data.sendall(chunk)
                except (OSError, ssl.SSLError) as exc:
                    failure = exc
                    break
                sent += len(chunk)
        except BaseException:
            # the caller's stream failed (or was cancelled): end the transfer cleanly
            try:
                client.end_upload(data, what, None)
                self.pool.release(client)
            except BaseException:
                self.pool.release(client, reusable=False)
            raise
        try:
            client.end_upload(data, what, failure)
        except BaseException:
            self.pool.release(client, reusable=client.alive)
            raise
        self.pool.release(client)
        return sent

    def mkdir(self, path: str) -> None:
        self._run(lambda c: c.mkdirs(path))

    def rename(self, old: str, new: str) -> None:
        self._run(lambda c: c.rename(old, new))

    def delete(self, path: str) -> None:
        self._run(lambda c: c.delete(path))

    def name_error(self, path: str) -> str | None:
        """Why the server cannot take ``path`` as a name (CR or LF, a character its
        encoding lacks), or None; asked before a file is made, without a connection."""
        return path_error(path, self.encoding)

    def set_mtime(self, path: str, mtime: float) -> None:
        """Set a file's modification time (MFMT, or vsftpd's MDTM with a time); InvalidInput if the server cannot."""
        self._run(lambda c: c.set_mtime(path, mtime))

    def test(self) -> None:
        self.list("")
