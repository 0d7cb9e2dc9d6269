"""A mount taking over what earlier mounts of the same server kept in their spools
(:mod:`~reelhouse.drive.manifest`): the spool files of folders whose mount has ended
are adopted, and each is shown on the mount again and sent now, but those the server
refused for good, those kept as a conflict with another client's file, and those a
killed mount was still writing (kept as refused: :data:`~reelhouse.drive.manifest.INTERRUPTED`,
their partial ``.part`` removed). A file made here that the server may have taken
already (the mount killed between its rename and noting it) is sent only if the server
does not hold exactly its bytes (:attr:`~reelhouse.drive.spoolfile.SpoolFile.maybe_sent`:
no false conflict with the mount's own upload). The ``.part`` of a kept upload discarded while no
mount could reach the server (``drive spool discard``: its note
:func:`~reelhouse.drive.manifest.discarded`) is removed from the server too.
"""

from __future__ import annotations

import logging

from reelhouse.drive import manifest
from reelhouse.drive.parts import remove_part
from reelhouse.drive.spool import Spool
from reelhouse.drive.spoolfile import SpoolFile
from reelhouse.errors import ReelhouseError

__all__ = ["recover"]

log = logging.getLogger(__name__)


def recover(spool: Spool) -> list[str]:
    """Adopt into ``spool`` the spool files a previous mount of its server left (failed
    uploads) and upload them now; returns the paths still pending. Files the server
    refused for good (and conflicts) are adopted (shown on the mount, listed as refused
    or conflict) but not sent; one holding no byte is dropped. Raises nothing of the
    server's: a failed upload stays pending."""
    left = []
    manifest.adopt(spool.base, spool.folder)
    _remove_discarded(spool)
    for kept in manifest.kept(spool.folder, tidy=True):
        with spool.lock:
            if kept.path in spool.nodes:
                continue
            node = SpoolFile(spool.folder, kept.path, loaded=True, ident=kept.ident,
                             on_unsettled=spool.unsettled)
            node.part = kept.part  # its own, from the last try
            node.dirty = True
            node.refused = kept.refused
            node.absent, node.conflict = kept.absent, kept.conflict
            node.maybe_sent = kept.refused is None  # renamed before the mount ended? (uploader)
            node.error = kept.refused or "left by an earlier mount"
            if node.refused is not None and node.size_now() == 0:
                node.discard()  # refused and empty: nothing written to keep
                continue
            spool.nodes[kept.path] = node
        if node.refused == manifest.INTERRUPTED:
            _drop_part(spool, node)
        if node.refused is not None:
            continue
        try:
            spool.upload(node)
        except ReelhouseError:
            left.append(kept.path)
            continue
        spool.release_clean(node)
    return left


def _drop_part(spool: Spool, node: SpoolFile) -> None:
    """Delete the ``.part`` an upload during the writes of ``node`` left on the server
    when its mount ended (killed) mid-file (:meth:`Spool.remove_part`)."""
    if spool.remove_part(node):
        try:
            manifest.save(node)
        except OSError as exc:
            log.warning("spool file of %r: %s", node.path, exc)


def _remove_discarded(spool: Spool) -> None:
    """Remove the ``.part`` files of uploads discarded while the server could not be
    reached (their notes); a note stays while the server is away or refuses."""
    for gone in manifest.discarded(spool.folder):
        try:
            remove_part(spool.source, gone.part, gone.size, gone.path)
        except ReelhouseError as exc:
            log.info("could not remove %r (a discarded upload's) yet: %s", gone.part, exc.message)
            continue
        manifest.forget_discarded(spool.folder, gone.ident)
