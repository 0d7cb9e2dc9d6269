"""The folder walk over any :class:`~reelhouse.sources.base.Source`: depth first
(:func:`walk_source`) or several folders at a time (:func:`walk_parallel`), yielding
``(folder, entries)`` per folder and ``(folder, error)`` for a folder it did not list
or go into.

Two guards keep a walk finite: :class:`_LoopGuard` (a folder listed exactly like one
of its ancestors is a :class:`FolderLoop`) and :mod:`reelhouse.sources.linkwalk`'s
links to folders (:class:`LinkedFolderSkipped`). The path and name rules a walk uses
live in :mod:`reelhouse.sources.base`.
"""

from __future__ import annotations

import builtins
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from reelhouse.errors import InvalidInput, ReelhouseError
from reelhouse.sources.base import Entry, Source, normalize_path

__all__ = ["FolderLoop", "LinkedFolderSkipped", "walk_parallel", "walk_source"]


class FolderLoop(InvalidInput):
    """A folder listed exactly as one of its ancestors: a link back up (``loop -> ..``)
    that the server lists as a folder. A walk yields it instead of the listing and does
    not go into it; the scanner names it in its errors, neither adding nor hiding files
    under it."""


class LinkedFolderSkipped(InvalidInput):
    """A link to a folder a walk does not go into (:mod:`reelhouse.sources.linkwalk`):
    it leads to a folder above it (a loop), into the folders the walk lists anyway, to
    one another link led to already, or too many links deep. A walk yields it for the
    link's path; the scanner notes it (not an error), neither adding nor hiding files
    under it."""


class _LoopGuard:
    """What a walk remembers to see :class:`FolderLoop` s: each listed folder's entries
    (name, kind, size, mtime; their paths differ). A server that follows links in its
    listings (pyftpdlib's MLSD, ProFTPD's with links shown as their targets) shows no
    sign of a link: a folder whose listing, holding a folder, equals an ancestor's is
    taken for one, unless ``same(folder, ancestor)`` says they are two folders (the
    source's own identity of a folder: RFC 3659's ``unique`` fact on FTP; None where it
    cannot tell). ``Films/Films/Films``, made in one go, lists each level alike."""

    def __init__(self, same: Callable[[str, str], bool | None] | None = None) -> None:
        self.seen: dict[str, int] = {}
        self.same = same

    @staticmethod
    def key(entries: builtins.list[Entry]) -> int | None:
        """What :meth:`distinct` and :meth:`check` compare of a listing: a hash of its
        entries sorted, or None for a listing without a folder (nothing to go round).
        Made once per folder and handed to both (sorting and hashing a folder's
        entries is the guard's whole cost on a rescan)."""
        if not any(e.is_dir for e in entries):
            return None
        return hash(tuple(sorted((e.name, e.is_dir, e.size or 0, e.mtime or 0.0) for e in entries)))

    def _alike(self, folder: str, key: int) -> Iterator[str]:
        parts = folder.split("/") if folder else []
        for depth in range(len(parts)):
            ancestor = "/".join(parts[:depth])
            if self.seen.get(ancestor) == key:
                yield ancestor

    def distinct(self, folder: str, key: int | None) -> frozenset[str]:
        """The ancestors listed like ``folder`` (its listing's :meth:`key`) that the
        source says are other folders. Asks the source (a round trip each), so call it
        without holding a walk's lock; only a folder listed like an ancestor is asked
        about, and nothing is looked at where the source cannot tell."""
        if key is None or self.same is None:
            return frozenset()
        return frozenset(a for a in self._alike(folder, key) if self.same(folder, a) is False)

    def check(self, folder: str, key: int | None, distinct: frozenset[str] = frozenset()) -> FolderLoop | None:
        """None, and ``folder`` remembered; or the loop it is (not remembered).
        ``key``: :meth:`key` of its listing; ``distinct``: :meth:`distinct` of it."""
        if key is None:
            return None
        for ancestor in self._alike(folder, key):
            if ancestor not in distinct:
                return FolderLoop(f"listed as {ancestor or '/'!r}, a folder above it (a link back up?): "
                                  "not walked")
        self.seen[folder] = key
        return None


def _same_folder(source: Source) -> Callable[[str, str], bool | None] | None:
    """Whether two paths are one folder (None when it cannot tell), for one walk's
    :class:`_LoopGuard`: by the source's ``folder_identity(path)`` where it has one (a
    local disk: device and inode), each folder's asked once a walk (a chain of folders
    listed alike, ``d/d/d/…``, asks each level about every one above it); else its
    ``same_folder(a, b)``, if it has one (FTP asks the server)."""
    identity = getattr(source, "folder_identity", None)
    if callable(identity):
        known: dict[str, object] = {}

        def same(a: str, b: str) -> bool | None:
            for path in (a, b):
                if path not in known:
                    known[path] = identity(path)
            first, second = known[a], known[b]
            return None if first is None or second is None else first == second

        return same
    pairwise = getattr(source, "same_folder", None)
    return pairwise if callable(pairwise) else None


def walk_source(
    source: Source, path: str = ""
) -> Iterator[tuple[str, builtins.list[Entry] | Exception]]:
    """Generic depth-first walk over ``source.list`` (see :meth:`Source.walk`); links to
    folders as :mod:`reelhouse.sources.linkwalk` says."""
    from reelhouse.sources.linkwalk import LinkGuard  # it imports LinkedFolderSkipped from here

    stack = [normalize_path(path)]
    loops = _LoopGuard(_same_folder(source))
    links = LinkGuard(source, stack[0])
    while stack:
        folder = stack.pop()
        try:
            entries = source.list(folder)
        except ReelhouseError as exc:
            yield folder, exc
            continue
        key = loops.key(entries)
        if (loop := loops.check(folder, key, loops.distinct(folder, key))) is not None:
            yield folder, loop
            continue
        yield folder, entries
        skipped = links.check(folder, entries)  # None: a link held until the rest is walked
        yield from ((p, why) for p, why in skipped.items() if why is not None)
        stack.extend(e.path for e in sorted(entries, key=lambda e: e.name, reverse=True)
                     if e.is_dir and e.path not in skipped)
        if not stack:
            follow, not_walked = links.release()
            yield from not_walked.items()
            stack.extend(sorted(follow, reverse=True))


def walk_parallel(
    source: Source,
    path: str = "",
    workers: int = 4,
    list_many: Callable[[builtins.list[str]], Sequence[builtins.list[Entry] | Exception]] | None = None,
    batch: int = 16,
) -> Iterator[tuple[str, builtins.list[Entry] | Exception]]:
    """Walk like :func:`walk_source`, listing up to ``workers`` folders (or batches) at once.

    For a source whose ``list`` costs a network round trip per folder (FTP: PASV, MLSD,
    226), the walk is bound by latency, not bandwidth; listing several folders at a time
    over a connection pool divides the time by about ``workers`` (benchmarks/listing.py).
    ``list_many``: lists up to ``batch`` folders in one go and returns the results of a
    leading part of them, at least the first (the worker goes on with the rest); a
    raised error is the first folder's. Each worker takes an even share of the folders
    waiting, so batches fill up as the tree widens. Folders come out in completion order.
    Closing the generator early (a cancelled scan) drops the folders not yet listed; the
    ones being listed finish in the background.
    """
    from reelhouse.sources.linkwalk import LinkGuard  # it imports LinkedFolderSkipped from here

    if workers <= 1 and list_many is None:
        yield from walk_source(source, path)
        return
    many = list_many or (lambda folders: [source.list(folders[0])])
    if list_many is None:
        batch = 1
    Listed = tuple[str, builtins.list[Entry] | Exception]
    # The workers take their next folders themselves, so a slow caller (a scan comparing
    # each folder with its rows) never leaves them idle. Completions arrive on a queue
    # (O(1) each); None says the walk is over.
    done: queue.SimpleQueue[Listed | None] = queue.SimpleQueue()
    lock = threading.Lock()
    todo: deque[str] = deque([normalize_path(path)])
    loops = _LoopGuard(_same_folder(source))  # with the lock held, but for distinct()
    links = LinkGuard(source, todo[0])  # links to folders: asked outside the lock
    running = 0
    stop = False
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="walk")

    def _start() -> None:  # with the lock held
        nonlocal running
        while todo and running < workers and not stop:
            running += 1
            pool.submit(_work)

    def _work() -> None:
        nonlocal running
        while True:
            with lock:
                if not stop and not todo and running == 1:  # the rest is walked: the links held
                    follow, not_walked = links.release()
                    todo.extend(follow)
                    for link, reason in not_walked.items():
                        done.put((link, reason))
                    _start()
                if stop or not todo:
                    running -= 1
                    if not running:
                        done.put(None)
                    return
                take = min(batch, len(todo), -(-len(todo) // running))  # an even share
                rest = [todo.popleft() for _ in range(take)]
            while rest:
                results: Sequence[builtins.list[Entry] | Exception]
                try:
                    results = many(rest)[: len(rest)] or [AssertionError("list_many listed nothing")]
                except Exception as exc:  # a non-ReelhouseError is a bug: re-raised in the caller
                    results = [exc]
                listed = builtins.list(zip(rest, results, strict=False))
                rest = rest[len(results):]
                # a listing like an ancestor's asks the source, outside the lock (no
                # worker waits on it while this one waits for a connection)
                keys = [None if isinstance(result, Exception) else loops.key(result) for _, result in listed]
                distinct = [loops.distinct(folder, keys[i]) for i, (folder, _) in enumerate(listed)]
                skips = [{} if isinstance(result, Exception) else links.check(folder, result)
                         for folder, result in listed]
                with lock:
                    for i, (folder, result) in enumerate(listed):
                        if not isinstance(result, Exception):
                            if (loop := loops.check(folder, keys[i], distinct[i])) is not None:
                                listed[i] = (folder, loop)
                                links.drop(skips[i])  # its links are not walked either
                                skips[i] = {}
                                continue
                            todo.extend(e.path for e in result if e.is_dir and e.path not in skips[i])
                    _start()
                for i, item in enumerate(listed):
                    done.put(item)
                    for link, why in skips[i].items():
                        if why is not None:  # None: held (LinkGuard.release)
                            done.put((link, why))

    try:
        with lock:
            _start()
        while (item := done.get()) is not None:
            result = item[1]
            if isinstance(result, Exception) and not isinstance(result, ReelhouseError):
                raise result
            yield item
    finally:
        with lock:
            stop = True
        pool.shutdown(wait=False, cancel_futures=True)
