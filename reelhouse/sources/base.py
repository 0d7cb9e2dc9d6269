"""The Source protocol: what reelhouse needs of a place that holds files.

A Source knows bytes and directory entries, nothing of the database. Paths are
source-relative POSIX strings ("" or "/" is the root, "Films/Sintel.mkv"), always
normalised with :func:`normalize_path`, which refuses ``..`` so no path can leave the
root. The rules for new names (:func:`check_new_path`, :func:`temp_name`) live here
too; the folder walk a source's ``walk`` runs is :mod:`reelhouse.sources.walk`.
"""

from __future__ import annotations

import builtins
import hashlib
import posixpath
import re
from collections.abc import AsyncGenerator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from reelhouse.errors import InvalidInput, NotFound

__all__ = [
    "CONTROL_CHARACTERS",
    "NAME_MAX_BYTES",
    "TEMP_SUFFIX",
    "UNREAD_KEPT",
    "Entry",
    "LinkNotFollowed",
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
        """Depth-first walk from ``path``: yields ``(folder, entries)`` per folder
        (:func:`reelhouse.sources.walk.walk_source` for most sources).

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


class LinkNotFollowed(NotFound):
    """A link the server lists but will not follow: pyftpdlib lists a link to a folder
    outside its root as a folder, then answers its listing (or a read of a file behind
    such a link) with "550 … points to a path which is outside the user's root
    directory". No retry or other client changes that: the scanner names the folder in
    its errors as skipped, not as a folder that failed, neither adding nor hiding files
    under it."""
