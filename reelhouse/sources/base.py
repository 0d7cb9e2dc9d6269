"""The Source protocol: what reelhouse needs of a place that holds files.

A Source knows bytes and directory entries, nothing of the database. Paths are
source-relative POSIX strings ("" or "/" is the root, "Films/Sintel.mkv"), always
normalised with :func:`normalize_path`, which refuses ``..`` so no path can leave the
root.
"""

from __future__ import annotations

import builtins
import hashlib
import posixpath
import re
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from reelhouse.errors import InvalidInput, NotFound

__all__ = [
    "CONTROL_CHARACTERS",
    "NAME_MAX_BYTES",
    "TEMP_SUFFIX",
    "UNREAD_KEPT",
    "Entry",
    "FolderLoop",
    "LinkNotFollowed",
    "LinkedFolderSkipped",
    "Listing",
    "Source",
    "bad_name_characters",
    "check_new_path",
    "join",
    "normalize_path",
    "parent_of",
    "temp_name",
]

#: Default chunk size for range reads, bytes. Large chunks keep the per-chunk overhead
#: (syscalls, ASGI sends) low; 256 KiB measured best in benchmarks/stream_throughput.py.
DEFAULT_CHUNK = 256 * 1024


@dataclass(frozen=True, slots=True)
class Entry:
    """One directory entry.

    ``path`` is source-relative (no leading slash); ``size`` is in bytes (``None`` when
    the server did not say); ``mtime`` is seconds since the epoch, UTC (or ``None``).
    ``link``: a symbolic link as an FTP server listed it (LIST ``l``, MLSD
    ``OS.unix=slink``), whose listed size and time are the link's own; the FTP source
    hands out such an entry only with its target's size and time (sources/ftp/client.py).
    """

    name: str
    path: str
    is_dir: bool
    size: int | None = None
    mtime: float | None = None
    link: bool = False


#: Most unread lines a :class:`Listing` keeps: enough to name them.
UNREAD_KEPT = 5


class Listing(builtins.list[Entry]):
    """A folder's entries (a list, as :meth:`Source.list` returns) read from a listing
    that also held ``unread`` lines: lines that are no entry the reader knows and no
    line that holds none by design (an FTP server's name with a line break, which
    splits its line, or a listing format reelhouse cannot read). Entries may be behind
    them: the scanner names the folder in its errors and marks nothing in it missing."""

    def __init__(self, entries: Iterable[Entry] = (), unread: Sequence[str] = ()) -> None:
        super().__init__(entries)
        self.unread: tuple[str, ...] = tuple(unread)


def normalize_path(path: str) -> str:
    """Return ``path`` as a clean source-relative path ('' for the root).

    Backslashes are not separators (they are legal in FTP names). Raises
    :class:`InvalidInput` for ``..`` components or NUL bytes: a client can never name a
    file outside the source root.
    """
    if "\x00" in path:
        raise InvalidInput("path contains a NUL byte")
    parts = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            raise InvalidInput(f"path may not contain '..': {path!r}")
        parts.append(part)
    return "/".join(parts)


#: The longest name (one path component) a new file or folder may have, in UTF-8
#: bytes: NAME_MAX of Linux file systems (ext4, XFS, btrfs) and of most FTP servers'
#: disks; a longer one fails on most sources with an error that does not say why.
NAME_MAX_BYTES = 255
#: What reelhouse adds to a file's name while it writes it (an upload on a source, a
#: download or offline copy in the store), renamed away once the file is whole and its
#: size checked: ``Film.mkv.reelhouse.part``. A suffix of its own, not ``.part``: a
#: user's ``Film.mkv.part`` (a browser's or torrent client's partial download) was
#: overwritten by an upload of ``Film.mkv`` and then renamed over it.
#: :func:`check_new_path` refuses new names that end with it.
TEMP_SUFFIX = ".reelhouse.part"
#: C0 control characters and DEL (see :func:`bad_name_characters`).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def bad_name_characters(path: str, *, line_breaks_only: bool = False) -> str | None:
    """The characters that keep ``path`` from naming a new file or folder, in words for
    an error message ("control characters (tab, CR, LF …)", "CR or LF"), else None: the
    one rule every door asks, each raising its own error (a 400, an errno …).

    Names reelhouse makes itself (:func:`check_new_path`: the API, the transfer queue):
    no control character (:data:`CONTROL_CHARACTERS`; a file manager shows them as
    nothing). ``line_breaks_only``, for paths that programs name (the drive) and for
    every path the FTP layer sends: no CR or LF, which end an FTP command (RFC 959
    §4.1.3) and which a local source would take into its names; a tab is a valid POSIX
    name that most servers keep (``drive/names.py`` catches one that rewrites it)."""
    if line_breaks_only:
        return "CR or LF" if "\r" in path or "\n" in path else None
    return "control characters (tab, CR, LF …)" if CONTROL_CHARACTERS.search(path) else None


def check_new_path(path: str, reserve: int = 0) -> str:
    """Return ``path`` normalized (:func:`normalize_path`) when it may name a file or
    folder reelhouse creates on a source; raise :class:`InvalidInput` saying why not.

    Refused, the same way for every source kind: control characters
    (:func:`bad_name_characters`), a component that ends with a space (pure-ftpd
    stores ``"Film.mkv "`` as ``"Film.mkv_"`` and Windows drops the space: the upload
    said "done" for a name that was not there and left the other behind), and a
    component longer than :data:`NAME_MAX_BYTES` UTF-8 bytes.
    ``reserve``: bytes the last name must leave free for a suffix written first (an
    upload's ``.part``). Names already on a source are read as they are
    (:func:`normalize_path` only)."""
    clean = normalize_path(path)
    if why := bad_name_characters(clean):
        raise InvalidInput(f"a new file name may not contain {why}")
    parts = clean.split("/")
    for i, part in enumerate(parts):
        if part.endswith(" "):
            raise InvalidInput(f"a new name may not end with a space: {part!r} (some FTP servers and "
                               "Windows store it under another name)")
        if part.endswith(TEMP_SUFFIX):
            raise InvalidInput(f"a new name may not end with {TEMP_SUFFIX!r}: reelhouse writes files under "
                               f"such names until they are whole ({part!r})")
        limit = NAME_MAX_BYTES - (reserve if i == len(parts) - 1 else 0)
        if len(part.encode("utf-8", "surrogateescape")) > limit:
            raise InvalidInput(f"a name in the path is longer than {limit} bytes: {part[:40]!r}…")
    return clean


def temp_name(name: str, hidden: bool = False) -> str:
    """The name reelhouse writes ``name`` (one path component) under until it is whole:
    ``name`` + :data:`TEMP_SUFFIX`, or for a name too long for the suffix (NAME_MAX is
    255 bytes) ``<hash of name>`` + the suffix, a dot-file when ``hidden`` (not on FTP:
    vsftpd's LIST hides dot-files, and an upload reads its temporary file's size)."""
    part = f"{name}{TEMP_SUFFIX}"
    if len(part.encode("utf-8", "surrogateescape")) > NAME_MAX_BYTES:
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:24]
        part = f"{'.' if hidden else ''}{digest}{TEMP_SUFFIX}"
    return part


def join(folder: str, name: str) -> str:
    """Join a folder path and an entry name into a source-relative path."""
    return normalize_path(posixpath.join(folder, name) if folder else name)


def parent_of(path: str) -> str:
    """The folder holding ``path`` ('' for entries in the root)."""
    return posixpath.dirname(normalize_path(path))


@runtime_checkable
class Source(Protocol):
    """A place that holds files: a local folder, an FTP server, a test double.

    Errors are from :mod:`reelhouse.errors`: ``NotFound``, ``PermissionDenied``,
    ``SourceUnavailable`` (``SourceBusy``), ``AuthenticationFailed``, ``InvalidInput``.
    """

    kind: str

    def list(self, path: str) -> list[Entry]:
        """The entries of folder ``path`` (complete, or an error: never a partial list)."""
        ...

    def stat(self, path: str) -> Entry:
        """The entry for ``path``; raises ``NotFound``."""
        ...

    def read_range(self, path: str, offset: int, length: int) -> Iterator[bytes]:
        """Yield exactly ``length`` bytes of ``path`` from byte ``offset`` in chunks.

        Fewer bytes only if the file ends first. Closing the iterator early releases
        every resource (an FTP transfer is aborted) at once.
        """
        ...

    def aread_range(self, path: str, offset: int, length: int) -> AsyncGenerator[bytes, None]:
        """Async twin of :meth:`read_range` for the event loop (streaming endpoints)."""
        ...

    def walk(self, path: str = "") -> Iterator[tuple[str, builtins.list[Entry] | Exception]]:
        """Depth-first walk from ``path``: yields ``(folder, entries)`` per folder.

        A folder whose listing failed yields ``(folder, error)`` and is not descended
        into; the walk goes on with its siblings, so a caller can tell a complete listing
        from a failed one (the scanner never marks files missing under a failure).
        """
        ...

    def test(self) -> None:
        """Check that the source is reachable and its root listable; raises on failure."""
        ...

    # -- writing ---------------------------------------------------------------------
    def write(self, path: str, chunks: Iterable[bytes], offset: int = 0) -> int:
        """Write the bytes of ``chunks`` to file ``path`` from byte ``offset``; returns
        the number of bytes written.

        ``offset`` 0 creates (or truncates) the file; ``offset`` > 0 resumes an upload:
        the file must hold at least ``offset`` bytes, whatever follows is replaced (FTP:
        ``APPE`` when the file is exactly ``offset`` long, else ``REST`` + ``STOR``, RFC
        3659 §5). The parent folder must exist (see :meth:`mkdir`). Raises
        ``StorageFull`` (FTP 452/552, ENOSPC), ``InvalidInput`` (FTP 553, a bad name or
        an offset past the end), ``NotFound``/``PermissionDenied`` (FTP 550),
        ``SourceUnavailable`` when the connection breaks (bytes already sent stay).
        """
        ...

    def mkdir(self, path: str) -> None:
        """Create folder ``path`` and any missing parents (``mkdir -p``); an existing
        folder is fine, an existing file of that name is ``Conflict``."""
        ...

    def rename(self, old: str, new: str) -> None:
        """Move ``old`` to ``new`` (same source; a file or a folder). ``NotFound`` when
        ``old`` is missing; the target is replaced if the server allows it."""
        ...

    def delete(self, path: str) -> None:
        """Delete a file, or an empty folder. ``NotFound`` when it is missing."""
        ...

    def close(self) -> None:
        """Release every connection and resource."""
        ...


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


class LinkNotFollowed(NotFound):
    """A link the server lists but will not follow: pyftpdlib lists a link to a folder
    outside its root as a folder, then answers its listing (or a read of a file behind
    such a link) with "550 … points to a path which is outside the user's root
    directory". No retry or other client changes that: the scanner names the folder in
    its errors as skipped, not as a folder that failed, neither adding nor hiding files
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
    from reelhouse.errors import ReelhouseError
    from reelhouse.sources.linkwalk import LinkGuard

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
    import queue
    import threading
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    from reelhouse.errors import ReelhouseError
    from reelhouse.sources.linkwalk import LinkGuard

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
