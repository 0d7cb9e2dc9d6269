"""The tree as the mount shows it: the server's listings (cached, prefetched) with the
files being written in the spool laid over them.
"""

from __future__ import annotations

import builtins
import time
from dataclasses import dataclass

from reelhouse.drive.cache import ListingCache
from reelhouse.drive.prefetch import Prefetcher
from reelhouse.drive.spool import Spool
from reelhouse.drive.spoolfile import SpoolFileGone
from reelhouse.drive.status import Health
from reelhouse.errors import NotFound
from reelhouse.sources.base import Entry, Source
from reelhouse.sources.linkwalk import without_loops

__all__ = ["ROOT", "Attr", "Tree"]

#: the mount's root folder
ROOT = Entry("", "", True)


@dataclass(frozen=True, slots=True)
class Attr:
    """What ``stat`` shows: a folder or a file of ``size`` bytes, ``mtime`` in seconds
    since the epoch; ``writable`` is false on a read-only mount."""

    is_dir: bool
    size: int
    mtime: float
    writable: bool


class Tree:
    """Entries and listings of ``source`` as the mount shows them. Thread-safe. A
    listing answered by the server marks it healthy in ``health``."""

    def __init__(self, source: Source, listings: ListingCache, spool: Spool, prefetch: Prefetcher,
                 health: Health) -> None:
        self.source = source
        self.listings = listings
        self.spool = spool
        self.prefetch = prefetch
        self.health = health
        #: the time shown for entries the server gives none (seconds since the epoch)
        self.started = time.time()

    def attr(self, entry: Entry, writable: bool) -> Attr:
        return Attr(entry.is_dir, entry.size or 0, entry.mtime or self.started, writable)

    def entry(self, rel: str) -> Entry:
        """The entry of ``rel``: an open spool file, the cache, else the parent's
        listing. Raises NotFound."""
        if not rel:
            return ROOT
        node = self.spool.node(rel)
        if node is not None and not node.unlinked:
            try:
                return node.entry()
            except SpoolFileGone:
                pass  # uploaded and dropped meanwhile: the cache has the server's entry
        known = self.listings.lookup(rel)
        if known is False:
            raise NotFound(f"no such file: {rel!r}")
        if isinstance(known, Entry):
            return known
        folder, _, name = rel.rpartition("/")
        for entry in self.list(folder):
            if entry.name == name:
                return entry
        raise NotFound(f"no such file: {rel!r}")

    def list(self, folder: str) -> list[Entry]:
        """The server's listing of ``folder``: cached, prefetched, else asked now."""
        cached = self.listings.listing(folder)
        if cached is not None:
            return cached
        got = self.prefetch.take(folder)
        if got is not None:
            return got
        since = self.listings.mark()
        entries = without_loops(self.source, folder, self.source.list(folder))
        self.health.ok()
        self.listings.put_listing(folder, entries, since)
        return entries

    def recent(self, folder: str, within: float) -> builtins.list[Entry]:
        """The server's listing of ``folder`` as it was at most ``within`` seconds ago:
        the cached one if the server gave it that recently, else asked now (and
        cached). Raises what a listing raises."""
        if self.listings.listed_within(folder, within):
            cached = self.listings.listing(folder)
            if cached is not None:
                return cached
        since = self.listings.mark()
        entries = without_loops(self.source, folder, self.source.list(folder))
        self.health.ok()
        self.listings.put_listing(folder, entries, since)
        return entries

    def children(self, folder: str) -> dict[str, Entry]:
        """The entries of ``folder`` by name: its listing (whose subfolders are queued
        for prefetching) with the files being written there laid over it."""
        listed = self.list(folder)
        self.prefetch.queue(folder, listed)
        entries = {e.name: e for e in listed}
        with self.spool.lock:
            for node in self.spool.nodes.values():
                if node.path.rpartition("/")[0] == folder and not node.unlinked:
                    entries[node.path.rpartition("/")[2]] = node.entry()
        return entries

    def has_written_under(self, folder: str) -> bool:
        """A file being written somewhere under ``folder``."""
        return any(n.path.startswith(folder + "/") and not n.unlinked
                   for n in list(self.spool.nodes.values()))
