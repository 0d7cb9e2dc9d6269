"""The write spool: what is written through the drive lands in a local file first and
is uploaded on close or ``fsync``.

An upload goes to ``name.part`` (STOR), its size is checked against the spool file
(SIZE, else the listing), then it is renamed over ``name`` (RNFR/RNTO): a reader on the
server never sees half a file under the real name. Where ``name.part`` is a file of the
user's (on the server, or being written through the mount: a partial download, a
folder copied in with ``film.mkv`` and ``film.mkv.part``), the upload goes through
``.<hash>.part`` instead, so it never overwrites and renames away that file. An upload whose connection failed
is retried ``attempts`` times with a doubling delay (one the server refused is not).
If it still fails the spool file stays with a manifest (``<id>.json``: the remote
path), ``drive status`` lists it as pending, and the next mount of the same server
retries it (:meth:`Spool.recover`). Nothing written is dropped silently. A mount holds
its spool folder locked; a second live mount of the same server takes ``<folder>.2``
(…), and a recovery adopts only the files of folders whose mount is gone.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reelhouse.drive.names import NAME_MAX, risky_name
from reelhouse.drive.spool_claim import claim_folder as _claim
from reelhouse.drive.spool_claim import release_folder as _release
from reelhouse.drive.spoolfile import SpoolFile
from reelhouse.drive.status import Counters
from reelhouse.drive.streamer import Streamer
from reelhouse.errors import InvalidInput, NotFound, ReelhouseError, SourceUnavailable
from reelhouse.sources.base import Entry, Source

__all__ = ["NameRewritten", "Spool", "SpoolFile"]

log = logging.getLogger(__name__)


class NameRewritten(InvalidInput):
    """The server stored an upload under another name than the one asked for (pure-ftpd
    turns control characters and a trailing space into ``_``): the bytes are on the
    server, the name is not."""


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
        self.base = folder
        self.folder, self._claim = _claim(folder)
        #: ``taken(path)``: is ``path`` a file or folder of the user's (on the server or
        #: being written)? The drive sets it (its listings); an upload's ``.part`` is
        #: never such a name. Not set: only the files being written here are avoided.
        self.taken: Callable[[str], bool] | None = None

    def node(self, path: str) -> SpoolFile | None:
        with self.lock:
            return self.nodes.get(path)

    def open(self, path: str, *, new: bool, remote_size: int = 0) -> SpoolFile:
        """The spool file of ``path`` (one per path), with one more handle. ``new``: the
        file starts empty (created, or opened with O_TRUNC) and is uploaded even if
        nothing is written."""
        claimed: list[SpoolFile] = []
        with self.lock:
            node = self.nodes.get(path)
            if node is None:
                node = SpoolFile(self.folder, path, loaded=new, remote_size=remote_size,
                                 start_stream=self._streamer if self.stream else None)
                self.nodes[path] = node
                claimed = self._claim_name(path)
            node.handles += 1
        self._move_off(claimed)
        if new:
            with self.lock, node.lock:
                node.loaded = True
                node.stop_stream()
                node.sequential = 0
                os.ftruncate(node.fd, 0)
                node.dirty = True
                node.mtime = time.time()
        return node

    def release(self, node: SpoolFile) -> None:
        """One handle less; a clean spool file with no handles is removed."""
        with self.lock:
            node.handles -= 1
            if node.handles <= 0 and (not node.dirty or node.unlinked):
                if self.nodes.get(node.path) is node:
                    del self.nodes[node.path]
                node.discard()

    def _claim_name(self, path: str) -> list[SpoolFile]:
        """``path`` is now a file the user writes (under :attr:`lock`): uploads that
        chose it as their ``.part`` choose another name for their next try; returns
        them, for :meth:`_move_off`."""
        claimed = [n for n in self.nodes.values() if n.part == path and n.path != path]
        for n in claimed:
            n.part = None
        return claimed

    def _move_off(self, claimed: list[SpoolFile]) -> None:
        """Stop the uploads streaming to a name the user now writes (not under
        :attr:`lock`): such a file is uploaded at close, through another ``.part``. An
        upload running now ends with the name; :meth:`upload` of the user's file waits
        for it (:attr:`SpoolFile.sending`)."""
        for n in claimed:
            if n.sending is None:
                try:
                    n.stop_stream()
                except OSError as exc:  # its spool disk failed: what is written stays
                    log.warning("spool file of %r: %s", n.path, exc)

    def _streamer(self, node: SpoolFile, start: int) -> Streamer:
        return Streamer(self.source, self._part_of(node), node.local, node.fd, start, self.thread_init,
                        on_sent=node.add_sent)

    def _part_of(self, node: SpoolFile) -> str:
        """The name ``node`` is uploaded to before its rename: chosen once per path (a
        retry overwrites its own earlier try), ``name.part`` unless that is a name of the
        user's (:attr:`taken`), then ``.<hash>.part`` names. Raises what a listing
        raises."""
        if node.part is not None and node.part.rpartition("/")[0] == node.path.rpartition("/")[0]:
            return node.part
        for n in range(100):
            part = _part(node.path, n)
            if not (part in self.nodes or (self.taken is not None and self.taken(part))):
                break
        node.part = part
        return part

    def rekey(self, old: str, new: str) -> None:
        """``old`` was renamed to ``new``: its spool file (if any) follows, and so do the
        spool files under it when it is a folder."""
        claimed: list[SpoolFile] = []
        with self.lock:
            moved = [p for p in self.nodes if p == old or p.startswith(old + "/")]
            for path in moved:
                node = self.nodes.pop(path)
                node.stop_stream()  # it was uploading under the old name
                node.path = new + path[len(old):]
                node.part = None  # its .part goes beside its new name
                self.nodes[node.path] = node
                claimed += self._claim_name(node.path)
                if node.dirty:
                    self._write_manifest(node)
        self._move_off(claimed)

    def forget(self, path: str) -> None:
        """``path`` was deleted: its spool file is never uploaded."""
        with self.lock:
            node = self.nodes.get(path)
            if node is not None:
                self._drop(node)

    def _drop(self, node: SpoolFile) -> None:
        """``node`` is deleted (under :attr:`lock`): never uploaded; its local copy goes
        with its last handle."""
        node.stop_stream()
        node.unlinked = True
        node.dirty = False
        node.manifest.unlink(missing_ok=True)
        if node.handles <= 0:
            if self.nodes.get(node.path) is node:
                del self.nodes[node.path]
            node.discard()

    def move_unsent(self, node: SpoolFile, new: str, upload: Callable[[SpoolFile], None]) -> None:
        """Rename a file that is only in the spool (the server refused its upload under
        its name, and has no file of that name) to ``new``, and upload it there with
        ``upload`` (which raises what :meth:`upload` raises).

        Nothing written is lost on any path: a file being written at ``new`` is
        replaced (deleted, as a rename over it deletes it) only once the upload is done;
        if the upload fails, ``node`` goes back to its old name, still pending, and the
        error is raised. :class:`NameRewritten` (the bytes are on the server under
        another name) drops ``node``, leaves ``new``'s file alone and is raised."""
        old = node.path
        with self.lock:
            displaced = self.nodes.pop(new, None)
            if displaced is node:
                displaced = None
            self.rekey(old, new)
        try:
            upload(node)
        except NameRewritten:
            with self.lock:
                if self.nodes.get(new) is node:
                    del self.nodes[new]
                if displaced is not None:
                    self.nodes[new] = displaced
            self.release_clean(node)
            raise
        except BaseException:
            with self.lock:
                self.rekey(new, old)
                if displaced is not None:
                    self.nodes[new] = displaced
            raise
        if displaced is not None:
            with self.lock:
                self._drop(displaced)
        self.release_clean(node)

    def pending(self) -> list[dict[str, Any]]:
        """Uploads not done: ``{"path", "state", "sent", "size", "error"}``, ``sent``
        and ``size`` in bytes. ``state``: ``uploading`` (also while a big file is still
        being written and streams to the server: ``size`` then grows), ``retrying`` (a
        try failed; the next one waits or runs), ``failed`` (every try failed: the file
        stays in the spool, uploaded again when the server is back up, at close, fsync or
        the next mount). Never
        waits for a running upload."""
        with self.lock:
            nodes = [n for n in self.nodes.values() if not n.unlinked]
        out: list[dict[str, Any]] = []
        for n in nodes:
            state, streamer = n.upload_state, n.streamer
            if state is not None:
                size = streamer.end if streamer is not None else n.upload_size
                out.append({"path": n.path, "state": state, "sent": n.sent, "size": size, "error": n.error})
            elif n.dirty and n.error:
                out.append({"path": n.path, "state": "failed", "sent": 0, "size": n.size_now(),
                            "error": n.error})
        return out

    def _write_manifest(self, node: SpoolFile) -> None:
        node.manifest.write_text(json.dumps({"path": node.path, "part": node.part}))

    def upload(self, node: SpoolFile) -> Entry | None:
        """Upload ``node`` if it is dirty: ``.part``, size check, rename; with retries.
        Returns the uploaded entry (``None`` if there was nothing to do); raises the
        last error, the spool file kept for a later retry."""
        with self.lock:  # an upload through this name (its .part) ends first
            through = [n for n in self.nodes.values() if n is not node and n.sending == node.path]
        for other in through:
            with other.lock:
                pass
        with node.lock:
            if not node.dirty or node.unlinked:
                return None
            node.settle()  # complete on disk before anything can fail
            self._write_manifest(node)
            try:
                return self._upload(node, node.size)
            finally:
                node.upload_state = None

    def _upload(self, node: SpoolFile, size: int) -> Entry:
        error: ReelhouseError | None = None
        node.upload_size = size
        for attempt in range(self.attempts):
            if attempt or node.error:
                node.upload_state, node.sent = "retrying", 0
            else:
                node.upload_state = "uploading"  # a streamed file's ``sent`` goes on
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
                node.error = exc.message
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
        streamer = node.streamer
        node.sending = streamer.part if streamer is not None else node.part
        try:
            self._send(node, size)
        finally:
            node.sending = None

    def _send(self, node: SpoolFile, size: int) -> None:
        streamer, node.streamer = node.streamer, None
        streamed = streamer is not None and node.sequential == size and streamer.finish() \
            and streamer.sent == size and streamer.part == node.part
        chosen = node.part
        part = node.sending = self._part_of(node)
        if part != chosen:
            self._write_manifest(node)  # with the .part a later mount's retry reuses
        if streamer is not None:
            try:
                streamer.close()  # settled already (upload): nothing left to write
            except OSError as exc:
                raise SourceUnavailable(f"spool file of {node.path!r}: {exc}") from exc
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

    def _adopt(self) -> None:
        """Move into this spool the files of the other spool folders of this server whose
        mount is gone (their lock is free); a live mount's folder is left alone."""
        for other in [self.base, *sorted(self.base.parent.glob(f"{glob.escape(self.base.name)}.*"))]:
            if other == self.folder or not other.is_dir():
                continue
            try:
                _, claim = _claim(other, create=False)
            except BlockingIOError:
                continue  # its mount is alive
            try:
                for data in other.glob("*.data"):
                    manifest = data.with_suffix(".json")
                    if manifest.exists():
                        os.replace(data, self.folder / data.name)
                        os.replace(manifest, self.folder / manifest.name)
            finally:
                _release(claim)
            if other != self.base:
                try:
                    other.rmdir()  # an emptied spare folder
                except OSError:
                    pass

    def recover(self) -> list[str]:
        """Adopt the spool files a previous mount left (failed uploads) and upload them
        now; returns the paths still pending."""
        left = []
        self._adopt()
        for manifest in sorted(self.folder.glob("*.json")):
            try:
                saved = json.loads(manifest.read_text())
                path = str(saved["path"])
                part = saved.get("part")
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                continue
            ident = manifest.stem
            if not (self.folder / f"{ident}.data").exists():
                manifest.unlink(missing_ok=True)
                continue
            with self.lock:
                if path in self.nodes:
                    continue
                node = SpoolFile(self.folder, path, loaded=True, ident=ident)
                node.part = part if isinstance(part, str) else None  # its own, from the last try
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

    def retry_failed(self, stopping: Callable[[], bool]) -> None:
        """Upload again every file whose upload failed and is not running (called when
        the server is back up); stops early once ``stopping()`` is true (unmount)."""
        with self.lock:
            nodes = [n for n in self.nodes.values()
                     if n.dirty and n.error and n.upload_state is None and not n.unlinked]
        for node in nodes:
            if stopping():
                return
            try:
                self.upload(node)
            except ReelhouseError:
                continue
            self.release_clean(node)

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
                    node.stop_stream()
                except OSError as exc:
                    log.warning("spool file of %r: %s", node.path, exc)
                fd, node.fd = node.fd, -1
                try:
                    os.close(fd)
                except OSError:
                    pass
                if not node.dirty:
                    node.local.unlink(missing_ok=True)
            self.nodes.clear()
            _release(self._claim)
            self._claim = None


def _part(path: str, n: int = 0) -> str:
    """``name.part`` beside ``path``; for a name too long for the suffix (251–255 bytes),
    or ``n`` > 0 (the ``n``-th spare, where ``name.part`` is taken), ``.<hash of the name
    and n>.part`` instead (the server's NAME_MAX is 255 bytes)."""
    folder, _, name = path.rpartition("/")
    part = f"{name}.part"
    if n or len(part.encode("utf-8", "surrogateescape")) > NAME_MAX:
        key = name.encode("utf-8", "surrogateescape") + (f"\0{n}".encode() if n > 1 else b"")
        part = f".{hashlib.sha256(key).hexdigest()[:32]}.part"
    return f"{folder}/{part}" if folder else part


def _remote_size(source: Source, path: str) -> int | None:
    size = getattr(source, "size", None)
    if callable(size):
        got = size(path)
        return int(got) if got is not None else None
    return source.stat(path).size
