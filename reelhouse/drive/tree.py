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

__all__ = ["EXCLUSIVE_FRESH", "ROOT", "Attr", "Tree"]

#: the mount's root folder
ROOT = Entry("", "", True)
#: An ``O_EXCL`` create trusts a listing of its folder the server gave at most this many
#: seconds ago, else lists the folder again first (:meth:`Tree.made_elsewhere`): a
#: name another client made longer ago than this is EEXIST, whatever the cache's TTL.
EXCLUSIVE_FRESH = 0.5


@dataclass(frozen=True, slots=True)
class Attr:
    """What ``stat`` shows: a folder or a file of ``size`` bytes, ``mtime`` in seconds
    since the epoch; ``writable`` is false on a read-only mount."""

    is_dir: bool
    size: int
    mtime: float
    writable: bool


class Tree:
    """Entries and listings of ``source`` as the mount shows them, and the server's own
    entry of a name where a create must not trust the cache (:meth:`made_elsewhere`,
    :meth:`there_now`, :meth:`as_on_server`). Thread-safe. A listing answered by the
    server marks it healthy in ``health``."""

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

    def made_elsewhere(self, rel: str) -> Entry | None:
        """The server's entry of ``rel`` (which the listing cache says does not exist)
        from a listing of its folder no older than :data:`EXCLUSIVE_FRESH` seconds: an
        ``O_EXCL`` create (lock files of shell scripts, editors' swap files, git's
        ``index.lock``) fails with EEXIST when another client made the name more than
        that long ago, instead of trusting a listing up to ``directory_ttl`` old. None
        when the listing has no such name.

        One listing of the folder, not one ``MLST`` per create: GNU ``cp`` creates every
        new file with ``O_EXCL``, and a round trip per copied file cost a copy of 1,000
        small files 13–46 % (commit adb8e23); a copy into one folder lists it again at
        most every :data:`EXCLUSIVE_FRESH` seconds. FTP has no exclusive create: a name
        made between this check and the upload is checked for once more just before the
        upload's rename (:class:`~reelhouse.drive.uploader.CreatedElsewhere`)."""
        folder, _, name = rel.rpartition("/")
        for entry in self.recent(folder, EXCLUSIVE_FRESH):
            if entry.name == name:
                return entry
        return None

    def as_on_server(self, rel: str) -> Entry:
        """The server's entry of ``rel`` now (MLST, or SIZE and MDTM, or a listing),
        kept in the cache: an open for writing that keeps the file's bytes (no O_TRUNC)
        starts from the file as it is on the server, not as a listing up to
        ``metadata_ttl`` old had it. Its edits were laid over the cached size: a line
        another client had appended meanwhile was cut off by the upload at close (a
        ``>>``, ``dd conv=notrunc``, a database file). One round trip per such open, which
        copies and saves do not make (they create, or truncate). Raises NotFound."""
        entry = self.source.stat(rel)
        self.listings.put(entry)
        return entry

    def there_now(self, rel: str) -> Entry | None:
        """The server's entry of ``rel`` (which the listing cache says does not exist),
        asked of the server itself (MLST; SIZE and MDTM, or a listing of the folder where
        it has no MLST), for a create that neither truncates nor is exclusive (``touch``,
        a shell's ``>>``, Python's ``open(name, "a")``): such a create of a name another
        client made within the listing TTL opens that client's file (its bytes kept;
        appended to), where trusting the cache uploaded an empty file over it at close.
        One round trip per such create, which programs make one file at a time (``cp``,
        editors and ``git`` create with O_EXCL or O_TRUNC). None when the server has no
        such name. FTP has no exclusive create: a name made between this check and the
        upload at close is checked for once more just before the upload's rename, and not
        replaced (:class:`~reelhouse.drive.uploader.CreatedElsewhere`: EEXIST at close,
        the bytes kept in the spool as a conflict)."""
        try:
            entry = self.source.stat(rel)
        except NotFound:
            return None
        self.listings.invalidate(rel.rpartition("/")[0])  # its listing missed it
        self.listings.put(entry)
        return entry
