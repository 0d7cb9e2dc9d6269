"""The write spool: what is written through the drive lands in a local file first and
is uploaded on close or ``fsync``.

An upload goes to ``name.part`` (STOR), its size is checked against the spool file
(SIZE, else the listing), then it is renamed over ``name`` (RNFR/RNTO): a reader on the
server never sees half a file under the real name. An upload whose connection failed
is retried ``attempts`` times with a doubling delay (one the server refused is not).
If it still fails the spool file stays with a manifest (``<id>.json``: the remote
path), ``drive status`` lists it as pending, and the next mount of the same server
retries it (:meth:`Spool.recover`). Nothing written is dropped silently.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from reelhouse.drive.direct import DirectAppender, open_direct
from reelhouse.drive.names import NAME_MAX, risky_name
from reelhouse.drive.status import Counters
from reelhouse.drive.streamer import STREAM_AFTER, Streamer
from reelhouse.errors import InvalidInput, NotFound, ReelhouseError, SourceUnavailable
from reelhouse.sources.base import Entry, Source

__all__ = ["NameRewritten", "Spool", "SpoolFile"]

log = logging.getLogger(__name__)
_CHUNK = 1024 * 1024


class NameRewritten(InvalidInput):
    """The server stored an upload under another name than the one asked for (pure-ftpd
    turns control characters and a trailing space into ``_``): the bytes are on the
    server, the name is not."""


class SpoolFile:
    """The local copy of one remote file being written (shared by its open handles).

    ``loaded``: the local copy holds the remote content (a new or truncated file is
    loaded at once; an existing one is fetched on first use). ``dirty``: it differs
    from the server. ``error``: the last upload's failure, kept until one succeeds.
    """

    def __init__(self, folder: Path, path: str, *, loaded: bool, remote_size: int = 0,
                 ident: str | None = None, start_stream: Callable[[SpoolFile, int], Streamer | None] | None = None,
                 thread_init: Callable[[], None] | None = None) -> None:
        self.ident = ident or uuid.uuid4().hex
        self.local = folder / f"{self.ident}.data"
        self.manifest = folder / f"{self.ident}.json"
        self.path = path
        self.loaded = loaded
        self.remote_size = remote_size
        self.dirty = False
        self.unlinked = False
        self.handles = 0
        self.mtime = time.time()
        self.error: str | None = None
        #: a time set (utimens) while dirty, for the server once uploaded (``cp -a``, ``tar x``)
        self.set_mtime: float | None = None
        self.lock = threading.RLock()
        self.fd = os.open(self.local, os.O_RDWR | os.O_CREAT, 0o600)
        # bytes written in order from 0 (None once a write lands elsewhere) and the
        # upload running during the writes (see streamer.py)
        self.sequential: int | None = 0 if loaded and remote_size == 0 else None
        self.streamer: Streamer | None = None
        self._start_stream = start_stream
        # while streaming, the spool copy is written past the page cache (direct.py)
        self.direct: DirectAppender | None = None
        self._thread_init = thread_init

    def stop_stream(self) -> None:
        with self.lock:
            self.sequential = None
            streamer, self.streamer = self.streamer, None
            try:
                self.end_direct()
            finally:
                if streamer is not None:
                    streamer.cancel()

    def settle(self) -> None:
        """Make the spool file hold every byte written (before it is read or uploaded
        from, or kept for a retry)."""
        with self.lock:
            if self.direct is not None:
                self.direct.settle(self.fd)

    def end_direct(self) -> None:
        """Back to writing through the page cache, the spool file complete."""
        with self.lock:
            direct, self.direct = self.direct, None
            if direct is not None:
                try:
                    direct.settle(self.fd)
                finally:
                    direct.close()

    def _follow(self, offset: int, data: bytes) -> None:
        """Keep the upload during writes going (or start or stop it) after a write."""
        if self.sequential is None:
            return
        if offset != self.sequential:
            self.stop_stream()
            return
        self.sequential += len(data)
        if self.streamer is not None:
            if not self.streamer.feed(data):
                self.stop_stream()
        elif self._start_stream is not None and self.sequential >= STREAM_AFTER:
            self.end_direct()  # the upload starts by reading the spool file back
            self.streamer = self._start_stream(self, self.sequential)
            if self.streamer is not None:
                self.direct = open_direct(self.local, self.fd, self.sequential, self._thread_init)

    @property
    def size(self) -> int:
        with self.lock:
            if self.direct is not None:
                return self.direct.end
            return os.fstat(self.fd).st_size if self.loaded else self.remote_size

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
            self.load(source)
            self.settle()
            return os.pread(self.fd, size, offset)

    def write(self, source: Source, offset: int, data: bytes) -> int:
        with self.lock:
            if self.direct is not None and offset == self.sequential:
                n = self._append(offset, data)
            else:
                self.end_direct()
                self.load(source)
                n = os.pwrite(self.fd, data, offset)
            self.dirty = True
            self.mtime = time.time()
            self.set_mtime = None
            self._follow(offset, data[:n])
            return n

    def _append(self, offset: int, data: bytes) -> int:
        assert self.direct is not None
        try:
            self.direct.append(data if type(data) is bytes else bytes(data))  # kept: must not change
        except OSError as exc:
            # the spool's disk failed (full?) or refuses direct writes: the part of
            # ``data`` taken is settled, then all of it is written the ordinary way (where
            # a full disk fails again, and the writer gets ENOSPC)
            log.info("direct write to the spool file of %r failed (%s): written through the "
                     "page cache from now on", self.path, exc)
            self.end_direct()
            return os.pwrite(self.fd, data, offset)
        return len(data)

    def truncate(self, source: Source, length: int) -> None:
        with self.lock:
            self.end_direct()
            if length == 0:
                self.loaded = True
            else:
                self.load(source)
            if self.streamer is not None or self.sequential != length:
                self.stop_stream()
            if length == 0:
                self.sequential = 0
            os.ftruncate(self.fd, length)
            self.dirty = True
            self.mtime = time.time()
            self.set_mtime = None

    def chunks(self) -> Iterator[bytes]:
        self.settle()
        pos = 0
        while chunk := os.pread(self.fd, _CHUNK, pos):
            pos += len(chunk)
            yield chunk

    def discard(self) -> None:
        try:
            self.stop_stream()
        except OSError:
            pass  # the file goes anyway
        try:
            os.close(self.fd)
        except OSError:
            pass
        self.local.unlink(missing_ok=True)
        self.manifest.unlink(missing_ok=True)


class Spool:
    """Spool files of one server under ``folder``; uploads through ``source``.

    ``attempts`` uploads at most (``retry_attempts``), waiting ``delay`` seconds, then
    twice that, … between them (``retry_delay_seconds``).
    """

    def __init__(self, folder: Path, source: Source, counters: Counters,
                 attempts: int = 3, delay: float = 1.0, stream: bool = True,
                 thread_init: Callable[[], None] | None = None) -> None:
        """``stream``: upload big files while they are written (streamer.py);
        ``thread_init`` runs first in each upload thread."""
        self.folder = folder
        self.source = source
        self.counters = counters
        self.attempts = max(1, attempts)
        self.delay = delay
        self.nodes: dict[str, SpoolFile] = {}
        self.stream = stream
        self.thread_init = thread_init
        self.lock = threading.RLock()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def node(self, path: str) -> SpoolFile | None:
        with self.lock:
            return self.nodes.get(path)

    def open(self, path: str, *, new: bool, remote_size: int = 0) -> SpoolFile:
        """The spool file of ``path`` (one per path), with one more handle. ``new``: the
        file starts empty (created, or opened with O_TRUNC) and is uploaded even if
        nothing is written."""
        with self.lock:
            node = self.nodes.get(path)
            if node is None:
                node = SpoolFile(self.folder, path, loaded=new, remote_size=remote_size,
                                 start_stream=self._streamer if self.stream else None,
                                 thread_init=self.thread_init)
                self.nodes[path] = node
            if new:
                with node.lock:
                    node.loaded = True
                    node.stop_stream()
                    node.sequential = 0
                    os.ftruncate(node.fd, 0)
                    node.dirty = True
                    node.mtime = time.time()
            node.handles += 1
            return node

    def release(self, node: SpoolFile) -> None:
        """One handle less; a clean spool file with no handles is removed."""
        with self.lock:
            node.handles -= 1
            if node.handles <= 0 and (not node.dirty or node.unlinked):
                if self.nodes.get(node.path) is node:
                    del self.nodes[node.path]
                node.discard()

    def _streamer(self, node: SpoolFile, start: int) -> Streamer:
        return Streamer(self.source, _part(node.path), node.fd, start, self.thread_init)

    def rekey(self, old: str, new: str) -> None:
        """``old`` was renamed to ``new``: its spool file (if any) follows, and so do the
        spool files under it when it is a folder."""
        with self.lock:
            moved = [p for p in self.nodes if p == old or p.startswith(old + "/")]
            for path in moved:
                node = self.nodes.pop(path)
                node.stop_stream()  # it was uploading under the old name
                node.path = new + path[len(old):]
                self.nodes[node.path] = node
                if node.dirty:
                    self._write_manifest(node)

    def forget(self, path: str) -> None:
        """``path`` was deleted: its spool file is never uploaded."""
        with self.lock:
            node = self.nodes.get(path)
            if node is not None:
                node.stop_stream()
                node.unlinked = True
                node.dirty = False
                node.manifest.unlink(missing_ok=True)
                if node.handles <= 0:
                    del self.nodes[path]
                    node.discard()

    def pending(self) -> list[dict[str, object]]:
        """Spool files whose upload failed (or has not succeeded yet)."""
        with self.lock:
            return [{"path": n.path, "size": n.size, "error": n.error}
                    for n in self.nodes.values() if n.dirty and n.error]

    def _write_manifest(self, node: SpoolFile) -> None:
        node.manifest.write_text(json.dumps({"path": node.path}))

    def upload(self, node: SpoolFile) -> Entry | None:
        """Upload ``node`` if it is dirty: ``.part``, size check, rename; with retries.
        Returns the uploaded entry (``None`` if there was nothing to do); raises the
        last error, the spool file kept for a later retry."""
        with node.lock:
            if not node.dirty or node.unlinked:
                return None
            node.settle()  # complete on disk before anything can fail
            self._write_manifest(node)
            size = node.size
            error: ReelhouseError | None = None
            for attempt in range(self.attempts):
                if attempt:
                    time.sleep(self.delay * 2 ** (attempt - 1))
                try:
                    self._put(node, size)
                except NameRewritten as exc:
                    node.dirty = False
                    node.error = None
                    node.manifest.unlink(missing_ok=True)
                    log.warning("%s", exc.message)
                    raise
                except ReelhouseError as exc:
                    error = exc
                    log.warning("upload of %r failed (try %d of %d): %s",
                                node.path, attempt + 1, self.attempts, exc.message)
                    if not isinstance(exc, SourceUnavailable):
                        break  # refused (permission, full, bad name): trying again now will not help
                    continue
                node.dirty = False
                node.error = None
                node.remote_size = size
                node.manifest.unlink(missing_ok=True)
                self.counters.add_written(size)
                self._send_mtime(node)
                return node.entry()
            assert error is not None
            node.error = error.message
            raise error

    def _send_mtime(self, node: SpoolFile) -> None:
        """The time ``utimens`` set while the file was being written, now that the
        server holds the file (MFMT; a server without it keeps the upload's time)."""
        mtime, node.set_mtime = node.set_mtime, None
        setter = getattr(self.source, "set_mtime", None)
        if mtime is None or not callable(setter):
            return
        try:
            setter(node.path, mtime)
        except ReelhouseError as exc:
            log.info("could not set the time of %r: %s", node.path, exc.message)

    def _put(self, node: SpoolFile, size: int) -> None:
        part = _part(node.path)
        streamer, node.streamer = node.streamer, None
        streamed = streamer is not None and node.sequential == size and streamer.finish() \
            and streamer.sent == size
        if streamer is not None and not streamed:
            streamer.cancel()
        if not streamed:
            self.source.write(part, node.chunks())
        got = _remote_size(self.source, part)
        if got != size:
            raise SourceUnavailable(f"upload of {node.path!r} incomplete: the server has {got} "
                                    f"of {size} bytes")
        try:
            self.source.rename(part, node.path)
        except (NotFound, SourceUnavailable):
            raise
        except ReelhouseError:
            # a server that will not rename over an existing file: delete it first
            self.source.delete(node.path)
            self.source.rename(part, node.path)
        if risky_name(node.path):
            try:
                _remote_size(self.source, node.path)
            except NotFound:
                raise NameRewritten(f"the FTP server stored {node.path!r} under another name "
                                    "(it rewrites control characters or a trailing space)") from None

    def recover(self) -> list[str]:
        """Adopt the spool files a previous mount left (failed uploads) and upload them
        now; returns the paths still pending."""
        left = []
        for manifest in sorted(self.folder.glob("*.json")):
            try:
                path = str(json.loads(manifest.read_text())["path"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            ident = manifest.stem
            if not (self.folder / f"{ident}.data").exists():
                manifest.unlink(missing_ok=True)
                continue
            with self.lock:
                if path in self.nodes:
                    continue
                node = SpoolFile(self.folder, path, loaded=True, ident=ident)
                node.dirty = True
                node.error = "left by an earlier mount"
                self.nodes[path] = node
            try:
                self.upload(node)
            except ReelhouseError:
                left.append(path)
                continue
            self.release_clean(node)
        return left

    def release_clean(self, node: SpoolFile) -> None:
        """Drop a spool file with no handles once it is uploaded."""
        with self.lock:
            if node.handles <= 0 and not node.dirty:
                if self.nodes.get(node.path) is node:
                    del self.nodes[node.path]
                node.discard()

    def flush_all(self) -> list[str]:
        """Upload every dirty spool file (at unmount); returns the paths left pending."""
        left = []
        with self.lock:
            nodes = list(self.nodes.values())
        for node in nodes:
            try:
                self.upload(node)
            except ReelhouseError:
                left.append(node.path)
        return left

    def close(self) -> None:
        """Close the spool's files; dirty ones stay on disk with their manifests."""
        with self.lock:
            for node in self.nodes.values():
                try:
                    node.end_direct()
                except OSError as exc:
                    log.warning("spool file of %r: %s", node.path, exc)
                try:
                    os.close(node.fd)
                except OSError:
                    pass
                if not node.dirty:
                    node.local.unlink(missing_ok=True)
            self.nodes.clear()


def _part(path: str) -> str:
    """``name.part`` beside ``path``; for a name too long for the suffix (251–255 bytes)
    ``.<hash of the name>.part`` instead (the server's NAME_MAX is 255 bytes)."""
    folder, _, name = path.rpartition("/")
    part = f"{name}.part"
    if len(part.encode("utf-8", "surrogateescape")) > NAME_MAX:
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:32]
        part = f".{digest}.part"
    return f"{folder}/{part}" if folder else part


def _remote_size(source: Source, path: str) -> int | None:
    size = getattr(source, "size", None)
    if callable(size):
        got = size(path)
        return int(got) if got is not None else None
    return source.stat(path).size
