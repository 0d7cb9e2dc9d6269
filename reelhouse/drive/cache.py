"""The drive's caches: folder listings and attributes with a time to live, and a
bounded on-disk LRU cache of file blocks.

Time is passed in (``now``, seconds, monotonic) so the TTL logic is testable without
sleeping. Our own writes update these caches at once (see ``fs``); what other clients
change on the server shows after the TTL.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reelhouse.sources.base import Entry

__all__ = ["BlockCache", "ListingCache"]


@dataclass
class _Listing:
    entries: dict[str, Entry]
    expires: float
    fetched: float  # when the server gave it (our own changes are laid over it since)


class ListingCache:
    """Folder listings (``directory_ttl`` seconds) and single attributes
    (``metadata_ttl`` seconds), keyed by source-relative path. Thread-safe.

    An entry found in a fresh listing of its folder is fresh for ``metadata_ttl``; a
    name missing from a fresh listing does not exist (a negative answer without a round
    trip: editors and git stat many names that are not there).

    A listing asked for before one of our own changes to its folder (or above it) and
    answered after it is not kept (``put_listing(..., since=mark())``): it may not show
    the change, and our changes show at once.
    """

    def __init__(self, directory_ttl: float, metadata_ttl: float,
                 clock: Callable[[], float] | None = None) -> None:
        import time

        self.directory_ttl = directory_ttl
        self.metadata_ttl = metadata_ttl
        self._clock = clock or time.monotonic
        self._dirs: dict[str, _Listing] = {}
        self._attrs: dict[str, tuple[Entry, float]] = {}
        self._lock = threading.Lock()
        self._tick = 0
        self._changed: dict[str, int] = {}  # folder → tick of our last change in it
        self._gone: dict[str, int] = {}  # path → tick it was removed (and all under it)
        self._floor = 0  # listings asked for before this tick are stale (ticks forgotten)

    def mark(self) -> int:
        """Now, for :meth:`put_listing`'s ``since``: take it before asking the server."""
        with self._lock:
            return self._tick

    def _change(self, folder: str, gone: str | None = None) -> None:
        self._tick += 1
        if len(self._changed) + len(self._gone) > 4096:
            self._changed.clear()
            self._gone.clear()
            self._floor = self._tick
        self._changed[folder] = self._tick
        if gone is not None:
            self._gone[gone] = self._tick

    def _stale(self, folder: str, since: int) -> bool:
        if since < self._floor or self._changed.get(folder, -1) > since:
            return True
        path = folder
        while path:
            if self._gone.get(path, -1) > since:
                return True
            path = path.rpartition("/")[0]
        return False

    def put_listing(self, folder: str, entries: list[Entry], since: int | None = None) -> None:
        """Keep the listing of ``folder``; ``since``: the :meth:`mark` taken before it
        was asked for (it is dropped if we changed the folder since)."""
        now = self._clock()
        with self._lock:
            if since is not None and self._stale(folder, since):
                return
            self._dirs[folder] = _Listing({x.name: x for x in entries}, now + self.directory_ttl, now)
            for x in entries:
                self._attrs[x.path] = (x, now + self.metadata_ttl)

    def listing(self, folder: str) -> list[Entry] | None:
        """The cached entries of ``folder`` while fresh, else ``None``."""
        with self._lock:
            got = self._dirs.get(folder)
            if got is None or got.expires <= self._clock():
                return None
            return list(got.entries.values())

    def listed_within(self, folder: str, seconds: float) -> bool:
        """Was the cached listing of ``folder`` given by the server less than ``seconds``
        ago (and is it still fresh)? Our own changes since are in it; another client's
        are not."""
        now = self._clock()
        with self._lock:
            got = self._dirs.get(folder)
            return got is not None and got.expires > now and now - got.fetched < seconds

    def lookup(self, path: str) -> Entry | bool | None:
        """``Entry`` if known and fresh; ``False`` if a fresh listing of the parent
        proves it absent; ``None`` if unknown (ask the server)."""
        now = self._clock()
        with self._lock:
            attr = self._attrs.get(path)
            if attr is not None and attr[1] > now:
                return attr[0]
            folder, _, name = path.rpartition("/")
            listing = self._dirs.get(folder)
            if listing is not None and listing.expires > now:
                return listing.entries.get(name, False)
            return None

    def put(self, entry: Entry) -> None:
        """Record ``entry`` (our own write made it): its attributes, and its name in
        its folder's listing if that is cached."""
        now = self._clock()
        folder = entry.path.rpartition("/")[0]
        with self._lock:
            self._change(folder)
            self._attrs[entry.path] = (entry, now + self.metadata_ttl)
            listing = self._dirs.get(folder)
            if listing is not None:
                listing.entries[entry.name] = entry

    def remove(self, path: str) -> None:
        """Forget ``path`` (deleted or renamed away), and everything under it."""
        folder, _, name = path.rpartition("/")
        prefix = path + "/"
        with self._lock:
            self._change(folder, gone=path)
            self._attrs.pop(path, None)
            listing = self._dirs.get(folder)
            if listing is not None:
                listing.entries.pop(name, None)
            for key in [k for k in self._dirs if k.startswith(prefix) or k == path]:
                del self._dirs[key]
            for key in [k for k in self._attrs if k.startswith(prefix)]:
                del self._attrs[key]

    def invalidate(self, folder: str) -> None:
        with self._lock:
            self._change(folder)
            self._dirs.pop(folder, None)

    def clear(self) -> None:
        with self._lock:
            self._tick += 1
            self._floor = self._tick
            self._dirs.clear()
            self._attrs.clear()


class BlockCache:
    """File blocks of ``block_size`` bytes kept on disk under ``folder``, at most
    ``capacity`` bytes in all, the least recently used dropped first. Thread-safe.

    A block is keyed by the file's path, size and mtime, so a file changed on the server
    never serves stale bytes. ``capacity`` 0 disables the cache. ``folder`` is emptied
    at start and removed by :meth:`close` unless ``keep`` is set.
    """

    def __init__(self, folder: Path, capacity: int, block_size: int = 1024 * 1024,
                 keep: bool = False) -> None:
        self.folder = folder
        self.capacity = capacity
        self.block_size = block_size
        self.keep = keep
        self.used = 0
        self.hits = 0
        self.misses = 0
        self._lru: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()
        if capacity > 0:
            if folder.exists() and not keep:
                shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True, exist_ok=True)
            if keep:
                for block in folder.iterdir():
                    self._lru[block.name] = block.stat().st_size
                    self.used += block.stat().st_size

    @staticmethod
    def _key(path: str, size: int, mtime: float | None, index: int) -> str:
        ident = f"{path}\x00{size}\x00{mtime}".encode("utf-8", "surrogateescape")
        return f"{hashlib.sha1(ident).hexdigest()}.{index}"

    def get(self, path: str, size: int, mtime: float | None, index: int) -> bytes | None:
        """Block ``index`` of the file, or ``None``."""
        if self.capacity <= 0:
            return None
        key = self._key(path, size, mtime, index)
        with self._lock:
            if key not in self._lru:
                self.misses += 1
                return None
            self._lru.move_to_end(key)
            self.hits += 1
        try:
            return (self.folder / key).read_bytes()
        except OSError:
            with self._lock:
                self.used -= self._lru.pop(key, 0)
            return None

    def put(self, path: str, size: int, mtime: float | None, index: int, data: bytes) -> None:
        """Keep block ``index`` (a whole block, or the file's last one)."""
        if self.capacity <= 0 or len(data) > self.capacity:
            return
        key = self._key(path, size, mtime, index)
        with self._lock:
            if key in self._lru:
                self._lru.move_to_end(key)
                return
        tmp = self.folder / f"{key}.{threading.get_ident()}.tmp"
        try:
            tmp.write_bytes(data)
            os.replace(tmp, self.folder / key)
        except OSError:
            tmp.unlink(missing_ok=True)
            return
        drop: list[str] = []
        with self._lock:
            self._lru[key] = len(data)
            self.used += len(data)
            while self.used > self.capacity and self._lru:
                old, n = self._lru.popitem(last=False)
                self.used -= n
                drop.append(old)
        for old in drop:
            (self.folder / old).unlink(missing_ok=True)

    def close(self) -> None:
        if self.capacity > 0 and not self.keep:
            shutil.rmtree(self.folder, ignore_errors=True)
