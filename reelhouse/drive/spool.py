"""The write spool: what is written through the drive lands in a local file first and
is uploaded on close or ``fsync`` (:mod:`reelhouse.drive.uploader`: ``.part``, size
check, rename, retries).

The spool chooses each upload's ``.part``: ``name.part``, or where that is a file of
the user's (on the server, or being written through the mount: a partial download, a
folder copied in with ``film.mkv`` and ``film.mkv.part``) ``.<hash>.part``, so an
upload never overwrites and renames away that file. An upload that still fails after
its retries leaves the spool file with a manifest (``<id>.json``: the remote path and
its ``.part``: :mod:`~reelhouse.drive.manifest`), ``drive status`` lists it as
pending, and the next mount of the same server retries it (:mod:`~reelhouse.drive.recovery`).

A file the server refused for good (:func:`~reelhouse.drive.uploader.refusal`:
permission, a name it does not allow, a STOR answered "not found") is kept too, with
the server's reply: ``drive status`` lists it as ``refused``, and nothing sends it again
by itself (not a close that wrote nothing, not the server coming back, not the unmount
or the next mount); the user's next write, ``mv`` or ``fsync`` of it, or ``reelhouse
drive spool retry``, tries again, and ``rm`` on the mount drops it (the server not asked
when it has no such file, so also where it refuses every write), as does ``reelhouse
drive spool discard`` (:mod:`~reelhouse.drive.control`, :mod:`~reelhouse.drive.spools`).
Only a refused file holding no byte is dropped at its last close (nothing written is
lost; it never reached the server).

Nothing written is dropped silently: a file is dropped only once the server deleted
it, once it was replaced, or as said above. A mount holds its spool folder locked; a
second live mount of the same server takes ``<folder>.2`` (…), and a recovery adopts
only the files of folders whose mount is gone (:mod:`~reelhouse.drive.recovery`). A
file deleted through the drive is never uploaded once the server deleted it
(:mod:`~reelhouse.drive.spool_deletes`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reelhouse.drive import manifest
from reelhouse.drive.manifest import kept_uploads
from reelhouse.drive.parts import part_name, remove_part
from reelhouse.drive.spool_claim import claim_folder as _claim
from reelhouse.drive.spool_claim import release_folder as _release
from reelhouse.drive.spool_deletes import SpoolDeletes
from reelhouse.drive.spoolfile import SpoolFile
from reelhouse.drive.status import Counters
from reelhouse.drive.streamer import Streamer
from reelhouse.drive.uploader import NameRewritten, Uploader
from reelhouse.errors import ReelhouseError
from reelhouse.sources.base import Entry, Source

__all__ = ["NameRewritten", "Spool", "SpoolFile", "kept_uploads"]

log = logging.getLogger(__name__)


class Spool(SpoolDeletes):
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
        self.uploader = Uploader(source, counters, attempts, delay, self._part_of, manifest.save)
        self.nodes: dict[str, SpoolFile] = {}
        self.stream = stream
        self.thread_init = thread_init
        self.lock = threading.RLock()
        self.base = folder
        self.folder, self._claim = _claim(folder)
        manifest.tidy(self.folder)  # before any file of ours is open
        #: ``taken(path)``: is ``path`` a file or folder of the user's (on the server or
        #: being written)? The drive sets it (its listings); an upload's ``.part`` is
        #: never such a name. Not set: only the files being written here are avoided.
        self.taken: Callable[[str], bool] | None = None

    def node(self, path: str) -> SpoolFile | None:
        with self.lock:
            return self.nodes.get(path)

    def open(self, path: str, *, new: bool, remote_size: int = 0,
             remote_mtime: float | None = None, absent: bool = False) -> SpoolFile:
        """The spool file of ``path`` (one per path), with one more handle. ``new``: the
        file starts empty (created, or opened with O_TRUNC) and is uploaded even if
        nothing is written. ``remote_size`` (bytes) and ``remote_mtime`` (seconds since
        the epoch) are the server's file's: what the mount shows until it is changed.
        ``absent``: the server has no file ``path`` (a create without O_TRUNC): the
        upload does not replace one another client makes meanwhile
        (:attr:`SpoolFile.absent`)."""
        claimed: list[SpoolFile] = []
        with self.lock:
            node = self.nodes.get(path)
            if node is None:
                node = SpoolFile(self.folder, path, loaded=new, remote_size=remote_size, mtime=remote_mtime,
                                 start_stream=self._streamer if self.stream else None,
                                 on_unsettled=self.unsettled)
                node.absent = absent
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
                node.changed()
        return node

    def release(self, node: SpoolFile) -> bool:
        """One handle less. With no handles left, a clean spool file is removed, and so
        is one the server refused that holds no byte (a ``touch`` of a new name where
        the server takes no writes: nothing written is lost); True for the latter, which
        is then gone from the mount too."""
        with self.lock:
            node.handles -= 1
            if node.handles > 0:
                return False
            empty = node.dirty and node.refused is not None and not node.unlinked and node.size_now() == 0
            if not node.dirty or node.unlinked or empty:
                if self.nodes.get(node.path) is node:
                    del self.nodes[node.path]
                node.discard()
            return empty

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

    def unsettled(self, node: SpoolFile) -> None:
        """``node`` was changed, for the first time since it was opened or an upload of
        it began: its manifest says so (a mount that ends without an unmount leaves it
        as :data:`~reelhouse.drive.manifest.INTERRUPTED`, not as an upload to send)."""
        try:
            manifest.save(node)
        except OSError as exc:  # the write itself says it if the disk is gone
            log.warning("spool file of %r: %s", node.path, exc)

    def _streamer(self, node: SpoolFile, start: int) -> Streamer:
        part = self._part_of(node)
        self.unsettled(node)  # with its .part: a later mount removes what it sent
        return Streamer(self.source, part, node.local, node.fd, start, self.thread_init,
                        on_sent=node.add_sent)

    def _part_of(self, node: SpoolFile) -> str:
        """The name ``node`` is uploaded to before its rename: chosen once per path (a
        retry overwrites its own earlier try), ``name.part`` unless that is a name of the
        user's (:attr:`taken`), then ``.<hash>.part`` names. Raises what a listing
        raises."""
        if node.part is not None and node.part.rpartition("/")[0] == node.path.rpartition("/")[0]:
            return node.part
        for n in range(100):
            part = part_name(node.path, n)
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
                    manifest.save(node)
        self._move_off(claimed)

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
        stays in the spool, uploaded again when the server is back up, at fsync or the
        next mount), ``refused`` (the server refused it for good, ``error`` its reply:
        kept, not sent again until the user writes, moves or removes it), ``conflict``
        (another client made the file meanwhile, ``error`` says so: kept, not sent over
        theirs until ``drive spool retry`` or a ``mv``). Never waits for a running
        upload."""
        with self.lock:
            nodes = [n for n in self.nodes.values() if not n.unlinked]
        out: list[dict[str, Any]] = []
        for n in nodes:
            state, streamer = n.upload_state, n.streamer
            if state is not None:
                size = streamer.end if streamer is not None else n.upload_size
                out.append({"path": n.path, "state": state, "sent": n.sent, "size": size, "error": n.error})
            elif n.dirty and n.refused is not None:
                out.append({"path": n.path, "state": "conflict" if n.conflict else "refused",
                            "sent": 0, "size": n.size_now(),
                            "error": n.refused})
            elif n.dirty and n.error:
                out.append({"path": n.path, "state": "failed", "sent": 0, "size": n.size_now(),
                            "error": n.error})
        return out

    def refused(self) -> dict[str, str]:
        """The files the server refused for good (kept, not retried): path → its reply."""
        with self.lock:
            return {n.path: n.refused for n in self.nodes.values()
                    if n.refused is not None and n.dirty and not n.unlinked}

    def conflicts(self) -> set[str]:
        """Of :meth:`refused`, the files kept as a conflict with one another client made
        (uploader.CreatedElsewhere)."""
        with self.lock:
            return {n.path for n in self.nodes.values() if n.conflict and n.dirty and not n.unlinked}

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
            if not node.dirty or node.unlinked or node.deleting:
                return None
            node.settle()  # complete on disk before anything can fail
            node.unsettled = False  # its writer closed or synced it: sent by a later mount
            manifest.save(node)
            try:
                return self.uploader.send(node, node.size)
            finally:
                node.upload_state = None

    def remove_part(self, node: SpoolFile, size: int | None = None) -> bool:
        """Delete from the server the ``.part`` an earlier try of ``node``'s upload left
        there (the server killed or full mid-upload), now that the file will not be sent
        through it (deleted, discarded, or left by a mount that was killed): at most the
        spool file's size (:func:`~reelhouse.drive.parts.remove_part`). A server away or
        refusing keeps it (a later upload through it starts at byte 0). ``size``: the
        spool file's (bytes), given when it is already dropped. True when ``node`` has
        no ``.part`` on the server any more (it forgets it then)."""
        part = node.part
        if part is None or node.error is None:
            return True  # no try, or the last one renamed its .part away
        try:
            remove_part(self.source, part, node.size_now() if size is None else size, node.path)
        except ReelhouseError:
            return False
        node.part = None
        return True

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
                     if n.dirty and n.error and n.refused is None and n.upload_state is None
                     and not n.unlinked and not n.deleting]
        for node in nodes:
            if stopping():
                return
            try:
                self.upload(node)
            except ReelhouseError:
                continue
            self.release_clean(node)

    def progress(self) -> int:
        """A number that changes while uploads make progress (bytes sent and uploads
        done): the unmount watches it to tell a slow upload from a hung server. Takes
        no lock (one may be held by a thread waiting for that server)."""
        nodes = list(self.nodes.values())  # one step under the GIL
        return self.counters.bytes_written + sum(n.sent for n in nodes)

    def stop(self) -> None:
        """The mount is ending and waits no longer: uploads under way end after their
        current try and no new one starts (:meth:`Uploader.stop
        <reelhouse.drive.uploader.Uploader.stop>`); their files stay, sent by the next
        mount."""
        self.uploader.stop()

    def flush_all(self) -> list[str]:
        """Upload every dirty spool file (at unmount) but those the server refused for
        good; returns the paths left in the spool (those too)."""
        left = []
        with self.lock:
            nodes = list(self.nodes.values())
        for node in nodes:
            if node.dirty and node.refused is not None and not node.unlinked:
                left.append(node.path)
                continue
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
                # a clean file goes, and a refused one holding no byte (nothing written)
                gone = not node.dirty or (node.refused is not None and node.size_now() == 0)
                fd, node.fd = node.fd, -1
                try:
                    os.close(fd)
                except OSError:
                    pass
                if gone:
                    node.local.unlink(missing_ok=True)
                    node.manifest.unlink(missing_ok=True)
            self.nodes.clear()
            _release(self._claim)
            self._claim = None

