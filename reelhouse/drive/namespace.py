"""Changes of names and times on the server: unlink, mkdir, rmdir, rename, utimens.

Each updates the listing cache at once (a name just made, moved or removed shows as
such) and the spool (a file being written follows its rename, or is never uploaded once
deleted). Failures are ``OSError(errno)`` (:class:`~reelhouse.drive.guard.Guard`).
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable

from reelhouse.drive.errnos import os_error
from reelhouse.drive.guard import Guard
from reelhouse.drive.handles import Handles
from reelhouse.drive.names import risky_name
from reelhouse.drive.spoolfile import SpoolFile
from reelhouse.drive.tree import Tree
from reelhouse.drive.uploader import CreatedElsewhere, NameRewritten
from reelhouse.errors import NotFound, PermissionDenied, ReelhouseError, SourceUnavailable
from reelhouse.sources.base import Entry, normalize_path

__all__ = ["Namespace"]

#: the names libfuse gives a file unlinked while open, until its last close
#: (lib/fuse.c ``hide_node``: ``.fuse_hidden%08x%08x``)
_HIDDEN = ".fuse_hidden"


class Namespace:
    """Name and time changes over ``tree``; ``upload`` puts a file being written on
    the server (before it can be moved there). Thread-safe."""

    def __init__(self, tree: Tree, guard: Guard, handles: Handles,
                 upload: Callable[[SpoolFile], None]) -> None:
        self.tree = tree
        self.guard = guard
        self.handles = handles
        self.upload = upload
        self.source = tree.source
        self.spool = tree.spool
        self.listings = tree.listings

    def _stored_as_asked(self, rel: str, path: str) -> None:
        """After a folder or rename was made under a :func:`risky_name`: EINVAL if the
        server stored it as another name (that name shows from now on)."""
        if not risky_name(rel):
            return
        try:
            self.source.stat(rel)
        except NotFound:
            self.guard.names_rewritten = True
            self.listings.remove(rel)
            self.listings.invalidate(rel.rpartition("/")[0])
            raise os_error(errno.EINVAL, path) from None

    def unlink(self, path: str) -> None:
        """Delete file ``path``. A file being written is dropped from the spool only
        once the server deleted it (or never had it: a file only in the spool); when
        the server refuses (EACCES) it stays with its unsent writes, still pending."""
        rel = normalize_path(path)
        if self._drop_refused(rel, path):
            return
        self.guard.writable(path)
        with self.guard.errors(path, write=True):
            entry = self.tree.entry(rel)
            if entry.is_dir:
                raise os_error(errno.EISDIR, path)
            node = self.spool.deleting(rel)  # first: an upload must not bring it back
            try:
                try:
                    self.source.delete(rel)
                except NotFound as exc:
                    refused = self._refused_if_there(exc, rel)
                    if node is None or refused is not exc:
                        raise refused from exc
                    # a file only in the spool was never on the server: deleted
            except BaseException:
                if node is not None:
                    self.spool.kept(node)
                raise
            if node is not None:
                size = node.size_now()
                self.spool.deleted(node)
                self.spool.remove_part(node, size)  # a failed try's, never to be renamed now
            self.listings.remove(rel)

    def _drop_refused(self, rel: str, path: str) -> bool:
        """``rm`` of a file the server refused for good (kept in the spool, listed as
        refused) that the server has no file of, or of a conflict (the server's file is
        another client's, which stays and shows): dropped here, without a DELE (which a
        server refusing writes refuses too, pyftpdlib even for a name it has not), so
        also on a server that refuses every write. False for anything else."""
        if not self._refused_only_here(rel, path):
            return False
        node = self.spool.node(rel)
        self.spool.forget(rel)
        self.listings.remove(rel)
        if node is not None and node.conflict:  # the other client's file shows now
            self.listings.invalidate(rel.rpartition("/")[0])
        return True

    def _refused_only_here(self, rel: str, path: str) -> bool:
        """Is ``rel`` a file the server refused for good and has no file of (asked), or
        one kept as a conflict (the server's file of that name is another client's,
        which an ``rm`` of ours leaves alone)?"""
        node = self.spool.node(rel)
        if node is None or node.refused is None or node.unlinked:
            return False
        if node.conflict:
            return True
        with self.guard.errors(path):
            try:
                self.source.stat(rel)
            except NotFound:
                return True
        return False

    def mkdir(self, path: str) -> None:
        rel = normalize_path(path)
        self.guard.writable(path)
        with self.guard.errors(path, write=True):
            try:
                self.tree.entry(rel)
            except NotFound:
                pass
            else:
                raise os_error(errno.EEXIST, path)
            if not self.tree.entry(rel.rpartition("/")[0]).is_dir:
                raise os_error(errno.ENOTDIR, path)
            self.guard.new_name(rel, path)
            try:  # the server's own answer: the source's mkdir takes an existing folder as done,
                self.source.stat(rel)  # and another client may have made it within the listing TTL
            except NotFound:
                pass
            else:
                self.listings.invalidate(rel.rpartition("/")[0])
                raise os_error(errno.EEXIST, path)
            try:
                self.source.mkdir(rel)
            except NotFound as exc:  # its folder is there (above): refused, said as vsftpd says it
                raise self._refused_if_there(exc, rel.rpartition("/")[0]) from exc
            self._stored_as_asked(rel, path)
            self.listings.put(Entry(rel.rpartition("/")[2], rel, True, None, time.time()))
            self.listings.put_listing(rel, [])

    def rmdir(self, path: str) -> None:
        rel = normalize_path(path)
        self.guard.writable(path)
        with self.guard.errors(path, write=True):
            if not rel:
                raise os_error(errno.EBUSY, path)
            if not self.tree.entry(rel).is_dir:
                raise os_error(errno.ENOTDIR, path)
            if self.source.list(rel) or self.tree.has_written_under(rel):
                raise os_error(errno.ENOTEMPTY, path)
            try:
                self.source.delete(rel)
            except NotFound as exc:
                raise self._refused_if_there(exc, rel) from exc
            self.listings.remove(rel)

    def rename(self, old: str, new: str, *, noreplace: bool = False) -> None:
        """Move ``old`` to ``new``, over an existing file (or empty folder) there unless
        ``noreplace`` (Linux ``RENAME_NOREPLACE``: EEXIST). The check is ours, asked of
        the server itself for ``noreplace``: another client creating ``new`` between that
        check and RNTO is not seen (FTP has no exclusive rename)."""
        src, dst = normalize_path(old), normalize_path(new)
        if dst.rpartition("/")[2].startswith(_HIDDEN) and self._refused_only_here(src, old):
            # libfuse hides a file removed while open (``rm`` of a refused file a program
            # holds): moved here only, never sent; its last close removes it (unlink)
            self.spool.rekey(src, dst)
            self.handles.moved(src, dst)
            self.listings.remove(src)
            return
        self.guard.writable(old)
        with self.guard.errors(old, write=True):
            entry = self.tree.entry(src)
            if not dst or not src:
                raise os_error(errno.EBUSY, old)
            node = self.spool.node(src)
            unsent = node is not None and not self._upload_before_move(node, src)
            try:
                target: Entry | None = self.tree.entry(dst)
            except NotFound:
                target = None
                self.guard.new_name(dst, new)
                if noreplace:  # the server's own answer: another client may have made it
                    try:  # within the listing TTL
                        self.source.stat(dst)
                    except NotFound:
                        pass
                    else:
                        self.listings.invalidate(dst.rpartition("/")[0])
                        raise os_error(errno.EEXIST, new) from None
            if target is not None:
                if noreplace:
                    raise os_error(errno.EEXIST, new)
                if target.is_dir and not entry.is_dir:
                    raise os_error(errno.EISDIR, new)
                if entry.is_dir and not target.is_dir:
                    raise os_error(errno.ENOTDIR, new)
                if target.is_dir and self.source.list(dst):
                    raise os_error(errno.ENOTEMPTY, new)
            if unsent:
                assert node is not None
                # sent over what is at ``dst`` as a rename replaces it, unless a file
                # appears at a name that was free (uploader.CreatedElsewhere)
                was = node.absent, node.conflict, node.refused
                node.absent, node.conflict = target is None, False
                try:
                    self.spool.move_unsent(node, dst, self.upload)
                except BaseException:
                    if node.path == src and not node.conflict:  # back at its old name, as it was
                        node.absent, node.conflict, node.refused = was
                    raise
                self.handles.moved(src, dst)
                self.listings.remove(src)
                return
            try:
                self.source.rename(src, dst)
            except NotFound as exc:
                refused = self._refused_if_there(exc, src)
                if refused is not exc and self._refused_if_there(exc, dst.rpartition("/")[0]) is exc:
                    self.listings.remove(dst.rpartition("/")[0])  # its folder went away meanwhile
                    raise exc from None
                raise refused from exc
            except SourceUnavailable:
                raise
            except ReelhouseError:
                if target is None:
                    raise
                self.source.delete(dst)  # a server that will not rename over a file
                self.source.rename(src, dst)
            if self.spool.node(dst) is not node:
                self.spool.forget(dst)  # whatever was written to the old target is gone
            self.spool.rekey(src, dst)
            self.handles.moved(src, dst)
            self.listings.remove(src)
            self.listings.remove(dst)
            self._stored_as_asked(dst, new)
            self.listings.put(Entry(dst.rpartition("/")[2], dst, entry.is_dir, entry.size, entry.mtime))

    def _refused_if_there(self, exc: NotFound, rel: str) -> ReelhouseError:
        """The error of a change the server answered with "not found" (550) about
        ``rel``, a name it listed: ``exc`` if ``rel`` is gone from the server indeed,
        else PermissionDenied. vsftpd answers a refused change exactly like a change
        of a name that does not exist ("550 Delete operation failed.", "550 Rename
        failed.", "550 Create directory operation failed.": postlogin.c), so a folder
        without write permission gave ENOENT for a file still listed. The root is
        always there."""
        try:
            if rel:
                self.source.stat(rel)
        except NotFound:
            return exc
        return PermissionDenied(f"the FTP server refused the change ({exc.message}), and {rel or '/'!r} is there")

    def _upload_before_move(self, node: SpoolFile, src: str) -> bool:
        """Put ``node`` (being written at ``src``) on the server before it moves there.
        False when the server refused it (permission, full, bad name) and has no file
        ``src``: the file is then only in the spool, and moves there
        (:meth:`Spool.move_unsent <reelhouse.drive.spool.Spool.move_unsent>`). Raises a
        connection failure, a refusal of a file the server has (its old bytes would
        move, the new ones stay pending), and :class:`NameRewritten`."""
        try:
            self.upload(node)
            return True
        except CreatedElsewhere:
            return False  # theirs stays at ``src``; ours moves on, sent under its new name
        except (SourceUnavailable, NameRewritten):
            raise
        except ReelhouseError:
            try:
                self.source.stat(src)
            except NotFound:
                return False
            raise

    def utimens(self, path: str, mtime: float) -> None:
        """Set the modification time (MFMT where the server has it, else only here)."""
        rel = normalize_path(path)
        self.guard.writable(path)
        with self.guard.errors(path, write=True):
            entry = self.tree.entry(rel)
            node = self.spool.node(rel)
            if node is not None:
                node.mtime = mtime
                if node.dirty:
                    node.set_mtime = mtime  # sent once uploaded (spool.py)
            setter = getattr(self.source, "set_mtime", None)
            if callable(setter) and (node is None or not node.dirty):
                try:
                    setter(rel, mtime)
                except NotFound:
                    if not entry.is_dir:
                        raise
                    # a server whose MFMT takes files only (pyftpdlib: "550 … is not
                    # retrievable", read as not found): the folder's time stays here
                except SourceUnavailable:
                    raise
                except ReelhouseError:
                    pass  # the server refuses MFMT here: the time is kept in the cache
            self.listings.put(Entry(entry.name, rel, entry.is_dir, entry.size, mtime))
