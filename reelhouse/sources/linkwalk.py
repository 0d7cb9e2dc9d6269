"""Which links to folders a walk goes into: a seedbox's ``Films -> /mnt/disk/Films``
is walked, a link loop is not.

A source lists a link to a folder as a folder with ``link`` set (FTP: a link ``SIZE``
refuses and ``CWD`` takes, :meth:`~reelhouse.sources.ftp.client.FtpClient.resolve_links`).
Where the source can name the folder a path really leads to (``folder_place(path)``:
on FTP the server's ``PWD`` after a ``CWD``, which vsftpd and pure-ftpd give with links
resolved, as getcwd(3) does), a link is not walked when its folder is

* the folder it is listed in, or one above it (``loop -> ..``, ``self -> .``): a loop;
* the walk's own folder or one under it: its files are walked there already;
* the folder of a link walked already, or one under it: walked through that link
  (the first link to reach it wins: a walk's order decides between two such links);

and no link is walked past :data:`MAX_LINK_DEPTH` links in one path. Each of these
is a :class:`~reelhouse.sources.walk.LinkedFolderSkipped` the walk yields for the
link's path: a note, not an error (the scanner neither adds nor hides files under it).
Where the source cannot say (``folder_place`` None, or absent), links are walked and the
walk's guard against listings equal to an ancestor's (:class:`~reelhouse.sources.walk.FolderLoop`)
and the depth bound stop loops.

A mount shows a folder's links to folders but those that are loops
(:func:`without_loops`): a program walking it (``find``, ``du``, a file manager's
search) sees folders, not links, and would go round for ever.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Final

from reelhouse.errors import ReelhouseError
from reelhouse.sources.base import Entry, Listing, parent_of
from reelhouse.sources.walk import LinkedFolderSkipped

__all__ = ["MAX_LINK_DEPTH", "LinkGuard", "without_loops"]

#: Most links to folders one path of a walk goes through (a chain of links to new
#: folders each is no loop, but nothing a library needs: 8 as Linux's SYMLOOP_MAX is
#: 40 for one path's resolution, a walk needs far fewer).
MAX_LINK_DEPTH: Final = 8

_UNKNOWN: Final = "\0unknown"  # folder_place not asked yet


def _within(place: str, folder: str) -> bool:
    """Whether ``place`` is ``folder`` or under it (absolute server paths)."""
    folder = folder.rstrip("/")
    return place == folder or place.startswith(folder + "/") or folder == ""


class LinkGuard:
    """The links to folders of one walk from ``root`` over ``source``. Thread-safe
    (a parallel walk's workers ask it at once; the source is asked outside its lock)."""

    def __init__(self, source: object, root: str) -> None:
        place = getattr(source, "folder_place", None)
        self._place: Callable[[str], str | None] | None = place if callable(place) else None
        self._root = root
        self._root_place = _UNKNOWN
        self._lock = threading.Lock()
        self._followed: dict[str, str | None] = {}  # link path walked -> its place (None: unknown)
        self._places: dict[str, str | None] = {}  # folder path -> its place, asked once

    def _where(self, path: str) -> str | None:
        with self._lock:
            if path in self._places:
                return self._places[path]
        assert self._place is not None
        try:
            got = self._place(path)
        except ReelhouseError:
            got = None
        with self._lock:
            self._places[path] = got
        return got

    def _depth(self, path: str) -> int:
        """Links followed on the way to ``path`` (with the lock held)."""
        depth = 0
        while path:
            path = parent_of(path)
            if path in self._followed:
                depth += 1
        return depth

    def check(self, folder: str, entries: list[Entry]) -> dict[str, LinkedFolderSkipped]:
        """The links to folders among ``entries`` (the listing of ``folder``) that are
        not to be walked, by path, with why; the others are remembered as walked."""
        links = sorted((e for e in entries if e.is_dir and e.link), key=lambda e: e.name)  # one order each walk
        if not links:
            return {}
        skipped: dict[str, LinkedFolderSkipped] = {}
        with self._lock:
            deep = self._depth(links[0].path) >= MAX_LINK_DEPTH
        if deep:
            return {e.path: LinkedFolderSkipped(f"a link to a folder {MAX_LINK_DEPTH} links deep: not walked")
                    for e in links}
        if self._place is None:
            with self._lock:
                self._followed.update((e.path, None) for e in links)
            return {}
        here = self._where(folder)
        if self._root_place == _UNKNOWN:
            self._root_place = self._where(self._root) or ""
        for e in links:
            target = self._where(e.path)
            why = self._why(target, here) if target is not None else None
            with self._lock:
                if why is None and target is not None:
                    for other, place in self._followed.items():
                        if place is not None and _within(target, place):
                            why = f"leads to {target!r}, walked already through {other!r}"
                            break
                if why is None:
                    self._followed[e.path] = target
            if why is not None:
                skipped[e.path] = LinkedFolderSkipped(f"a link to a folder not walked: it {why}")
        return skipped

    def _why(self, target: str, here: str | None) -> str | None:
        """Why a link listed in the folder at ``here`` to ``target`` is not walked."""
        if here is not None and _within(here, target):
            return f"leads to {target!r}, a folder it is in (a link loop)"
        if self._root_place and _within(target, self._root_place):
            return f"leads to {target!r}, a folder the walk lists anyway"
        return None


def without_loops(source: object, folder: str, entries: list[Entry]) -> list[Entry]:
    """``entries`` (the listing of ``folder``) without the links to folders that lead to
    ``folder`` itself or a folder above it, where ``source`` can tell
    (``folder_place``); every other entry stays (a :class:`Listing` stays one). Asks
    the source only when the listing has a link to a folder."""
    links = [e for e in entries if e.is_dir and e.link]
    place = getattr(source, "folder_place", None)
    if not links or not callable(place):
        return entries
    try:
        here = place(folder)
        loops = {e.path for e in links if here is not None and (target := place(e.path)) is not None
                 and _within(here, target)}
    except ReelhouseError:
        return entries
    if not loops:
        return entries
    kept = [e for e in entries if e.path not in loops]
    return Listing(kept, entries.unread) if isinstance(entries, Listing) else kept
