"""Which links to folders a walk goes into: a seedbox's ``Films -> /mnt/disk/Films``
is walked, a link loop is not.

A source lists a link to a folder as a folder with ``link`` set (FTP: a link ``SIZE``
refuses and ``CWD`` takes, :meth:`~reelhouse.sources.ftp.client.FtpClient.resolve_links`).
Where the source can name the folder a path really leads to (``folder_place(path)``:
on FTP the server's ``PWD`` after a ``CWD``, which vsftpd and pure-ftpd give with links
resolved, as getcwd(3) does), a link is not walked when its folder is

* the folder it is listed in, or one above it (``loop -> ..``, ``self -> .``): a loop;
* the walk's own folder or one under it: its files are walked there already;
* the folder of a link walked already, or one under it: walked through that link;

and no link is walked past :data:`MAX_LINK_DEPTH` links in one path. Which of two links
to one folder is walked does not hang on the order the listings come back in (a
parallel walk's, which changes from scan to scan, so a scan would move the files from
one path to the other): links to folders are held (:meth:`LinkGuard.check`) until
the walk has listed every other folder, then decided together
(:meth:`LinkGuard.release`), a link to a folder holding another's first, then by path
(``A/Films`` before ``B/Films``), and the folders of the links walked are listed in
turn, their own links held the same way. Each of these
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
from collections.abc import Callable, Iterable
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
        self._held: dict[str, str] = {}  # link path -> its place: decided at release()

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

    def check(self, folder: str, entries: list[Entry]) -> dict[str, LinkedFolderSkipped | None]:
        """The links to folders among ``entries`` (the listing of ``folder``) that are
        not to be walked now, by path: each with why it is not walked at all, or None
        for one held until :meth:`release` (where the source names the folders links
        lead to); the others are remembered as walked."""
        links = sorted((e for e in entries if e.is_dir and e.link), key=lambda e: e.name)  # one order each walk
        if not links:
            return {}
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
        verdicts: dict[str, LinkedFolderSkipped | None] = {}
        for e in links:
            target = self._where(e.path)
            why = self._why(target, here) if target is not None else None
            with self._lock:
                if why is not None:
                    verdicts[e.path] = LinkedFolderSkipped(f"a link to a folder not walked: it {why}")
                elif target is None:
                    self._followed[e.path] = None  # nowhere known: walked (the loop guards stop loops)
                else:
                    self._held[e.path] = target
                    verdicts[e.path] = None
        return verdicts

    def drop(self, paths: Iterable[str]) -> None:
        """Forget the links of ``paths`` held by :meth:`check` (their folder is not
        walked after all: a loop)."""
        with self._lock:
            for path in paths:
                self._held.pop(path, None)

    def release(self) -> tuple[list[str], dict[str, LinkedFolderSkipped]]:
        """Decide the links held by :meth:`check` (call it when the walk has no other
        folder to list): the paths to walk now, and the links not walked with why.
        A link whose folder holds another's (or is it) goes first, then by path, and
        a link to a folder walked already, or to one under it, is not walked."""
        with self._lock:
            held, self._held = self._held, {}
            follow: list[str] = []
            skipped: dict[str, LinkedFolderSkipped] = {}
            for path in sorted(held, key=lambda p: (held[p].rstrip("/").count("/"), held[p], p)):
                target = held[path]
                other = next((o for o, place in self._followed.items()
                              if place is not None and _within(target, place)), None)
                if other is not None:
                    skipped[path] = LinkedFolderSkipped(
                        f"a link to a folder not walked: it leads to {target!r}, walked already through {other!r}")
                else:
                    self._followed[path] = target
                    follow.append(path)
            return follow, skipped

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
