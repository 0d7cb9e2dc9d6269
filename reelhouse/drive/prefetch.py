"""Listing folders before they are asked for: a walk (``os.walk``, ``find``, ``ls -R``,
a file manager) reads the subfolders of what it just read, so those are listed in the
background, a few at a time on pooled connections, and the walk finds them cached.

Bounded: the subfolders of a folder the user read (``depth`` 1; with ``depth`` 2 theirs
too, off by default: benchmarks/README.md, Drive), at most ``fanout`` of each folder and
``bound`` waiting in all (the guesses a walk would reach last are dropped).

Listed in the order a depth-first walk (``os.walk``, ``find``) enters them: each queued
folder has a key, the indices of its path in the listings from the folder
the user read (``(-n, 3, 0)``: the first subfolder of the fourth subfolder of the n-th
folder the user read), and the smallest key goes first (preorder; the latest read
first). A folder the user asks for while it still waits in the queue is taken out and
listed by the caller at once (it never waits behind guesses).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future

from reelhouse.drive.cache import ListingCache
from reelhouse.errors import ReelhouseError, SourceBusy, SourceUnavailable
from reelhouse.sources.base import Entry, Source
from reelhouse.sources.linkwalk import without_loops

__all__ = ["Prefetcher"]

log = logging.getLogger(__name__)

_Key = tuple[int, ...]
_Job = tuple[_Key, str, "Future[list[Entry]]", int]  # order, folder, its listing, depth
#: Most folder keys remembered (queued or listed here); beyond, the oldest are forgotten.
_KEYS = 8192


class Prefetcher:
    """Background listing of ``source`` folders into ``listings`` by ``workers`` threads
    (none: :meth:`queue` does nothing); ``thread_init`` runs first in each. Thread-safe."""

    def __init__(self, source: Source, listings: ListingCache, workers: int,
                 thread_init: Callable[[], None] | None = None, *, depth: int = 1,
                 fanout: int = 64, bound: int = 1024) -> None:
        self.source = source
        self.listings = listings
        self.depth = depth
        self.fanout = fanout
        self.bound = bound
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._inflight: dict[str, Future[list[Entry]]] = {}  # queued or being listed
        self._heap: list[_Job] = []  # queued, smallest key first
        self._keys: dict[str, _Key] = {}
        self._reads = itertools.count(1)
        self._closing = False
        self._threads = [threading.Thread(target=self._work, args=(thread_init,), daemon=True,
                                          name=f"drive-prefetch-{i}") for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def queue(self, folder: str, entries: list[Entry], depth: int = 1) -> None:
        """Queue the subfolders among ``entries`` (``folder`` just listed) that are
        neither cached nor queued; ``depth`` 1 for a folder the user read."""
        if not self._threads or depth > self.depth:
            return
        folders = [e.path for e in entries if e.is_dir][:self.fanout]
        dropped: list[_Job] = []
        with self._lock:
            if self._closing or not folders:
                return
            base = self._keys.get(folder) or (-next(self._reads),)
            if len(self._keys) > _KEYS:
                self._keys.clear()
            for i, path in enumerate(folders):
                if path in self._inflight or self.listings.listing(path) is not None:
                    continue
                future: Future[list[Entry]] = Future()
                self._inflight[path] = future
                self._keys[path] = key = (*base, i)
                heapq.heappush(self._heap, (key, path, future, depth))
            if len(self._heap) > self.bound:
                self._heap.sort()
                dropped = self._heap[self.bound:]
                del self._heap[self.bound:]  # a sorted list is a heap
                dropped = [job for job in dropped if not job[2].running()]  # not those taken
                for _, path, _, _ in dropped:
                    self._inflight.pop(path, None)
            self._wake.notify(len(folders))
        for _, path, future, _ in dropped:  # a caller waiting on one lists it itself
            future.set_exception(SourceBusy(f"the background listing of {path!r} was dropped"))

    def take(self, folder: str) -> list[Entry] | None:
        """The listing of ``folder`` if it is queued (listed here and now) or being
        listed (waited for); ``None`` if not, or if the background listing failed (the
        caller asks the server itself and reports its own error)."""
        with self._lock:
            future = self._inflight.get(folder)
            if future is None:
                return None
            queued = not future.running() and not future.done()
            if queued:  # its job stays in the heap: the workers skip a running future
                future.set_running_or_notify_cancel()
        if queued:
            return self._list(folder, future, 0)
        try:
            return future.result()
        except ReelhouseError:
            return None

    def _list(self, folder: str, future: Future[list[Entry]], depth: int) -> list[Entry]:
        try:
            since = self.listings.mark()
            entries = without_loops(self.source, folder, self.source.list(folder))
            self.listings.put_listing(folder, entries, since)
            future.set_result(entries)
        except BaseException as exc:
            future.set_exception(exc)
            raise
        finally:
            with self._lock:
                self._inflight.pop(folder, None)
        self.queue(folder, entries, depth + 1)
        return entries

    def _work(self, thread_init: Callable[[], None] | None) -> None:
        if thread_init is not None:
            thread_init()
        while True:
            with self._lock:
                while not self._heap and not self._closing:
                    self._wake.wait()
                if self._closing:
                    return
                _, folder, future, depth = heapq.heappop(self._heap)
                if future.running() or future.done():  # a caller took it
                    continue
                future.set_running_or_notify_cancel()
            try:
                self._list(folder, future, depth)
            except Exception as exc:  # the caller that wants it asks again
                log.debug("background listing of %r failed: %s", folder, exc)

    def close(self) -> None:
        """Stop: queued listings fail (their callers ask the server themselves), the
        workers end after their current listing."""
        with self._lock:
            self._closing = True
            dropped = [job for job in self._heap if not job[2].running() and not job[2].done()]
            self._heap = []
            for _, path, _, _ in dropped:
                self._inflight.pop(path, None)
            self._wake.notify_all()
        for _, _, future, _ in dropped:
            future.set_exception(SourceUnavailable("the drive is unmounting"))
        for thread in self._threads:
            thread.join(timeout=10)
