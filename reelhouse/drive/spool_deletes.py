"""The deletes of the write spool (:class:`~reelhouse.drive.spool.Spool` takes them
in): a file deleted through the drive is never uploaded after the server deleted it.

A delete goes in two steps around the server's DELE (:mod:`~reelhouse.drive.namespace`):
:meth:`SpoolDeletes.deleting` stops the file's uploads first (one under way ends, none
starts, so none brings the file back after the delete), then :meth:`~SpoolDeletes.deleted`
(the server deleted it: the spool file goes with its last handle) or
:meth:`~SpoolDeletes.kept` (the server refused: the file and its unsent writes stay,
pending as before, with a manifest for a later mount). :meth:`~SpoolDeletes.forget` is
the one step for a file the server has no copy of.
"""

from __future__ import annotations

import logging
import threading

from reelhouse.drive import manifest
from reelhouse.drive.spoolfile import SpoolFile

__all__ = ["SpoolDeletes"]

log = logging.getLogger(__name__)


class SpoolDeletes:
    """The delete bookkeeping of a spool: its files by path (:attr:`nodes`) under
    :attr:`lock`, both the spool's."""

    lock: threading.RLock
    nodes: dict[str, SpoolFile]

    def forget(self, path: str) -> None:
        """``path`` was deleted: its spool file is never uploaded."""
        with self.lock:
            node = self.nodes.get(path)
            if node is not None:
                self._drop(node)

    def deleting(self, path: str) -> SpoolFile | None:
        """``path`` is about to be deleted on the server: its upload during the writes
        stops, an upload under way ends first, and none starts (an upload must not
        bring the file back after the delete). Its bytes stay until :meth:`deleted`
        (the server deleted it) or :meth:`kept` (the server refused: the file and its
        unsent writes stay, pending as before). Returns its spool file, if any; raises
        OSError when the upload during the writes cannot be stopped (a full disk)."""
        with self.lock:
            node = self.nodes.get(path)
            if node is None:
                return None
            node.deleting = True
        try:
            node.stop_stream()  # under its lock: an upload running now ends first
        except BaseException:
            self.kept(node)
            raise
        return node

    def deleted(self, node: SpoolFile) -> None:
        """The server deleted the file of ``node`` (:meth:`deleting`): never uploaded."""
        with self.lock:
            node.deleting = False
            self._drop(node)

    def kept(self, node: SpoolFile) -> None:
        """The server refused to delete the file of ``node`` (:meth:`deleting`): it stays
        as it was; unsent writes are pending (listed, retried when the server is back
        up, at close, fsync or the next mount)."""
        with self.lock:
            node.deleting = False
            if not node.dirty or node.unlinked:
                return
            if node.error is None and node.handles <= 0:
                node.error = "not uploaded yet (its last handle closed while it was being deleted)"
        try:
            manifest.save(node)  # kept by a later mount too, whatever happens next
        except OSError as exc:
            log.warning("spool file of %r: %s", node.path, exc)

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
