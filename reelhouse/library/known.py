"""What a scan knows of a source's indexed files before it lists it (library/scanner.py).

A rescan of an unchanged source should cost little more than its listing (issue 14:
≤ 1.2× a bare listing of 20,000 FTP files, benchmarks/rescan.py), so the rows are
loaded in two shapes:

- clean: the files that need nothing when they are listed unchanged — present,
  probed (library/streams.unprobed is false), placed by the current naming rules
  (library/linking.NAMING_VERSION) — as dicts path → id, size, mtime filled by one
  SELECT of those four columns. A listed entry is unchanged when its path is there
  with the same size and mtime: three dict lookups per file, no naming, no ORM object.
- ``other``: every other row (missing, not probed yet, placed by older rules) as a
  :class:`Known`, for the scanner's full comparison.

:meth:`KnownFiles.split` separates the listed unchanged clean files from the rest;
:meth:`KnownFiles.rest` then gives the :class:`Known` of every row the scan still has
to look at (the ``other`` rows and the clean rows not listed unchanged: changed, gone
or in a folder that could not be listed), reading only the clean ones' fingerprints.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from reelhouse.db.models import MediaFile
from reelhouse.library.linking import NAMING_VERSION
from reelhouse.library.naming import is_video_file
from reelhouse.sources.base import Entry

__all__ = ["Known", "KnownFiles", "Listed", "is_gone", "load_known", "same_mtime"]

#: The widest shift of a listed time when a server's zone changes (UTC-12 to UTC+14), s.
_ZONE_SHIFT = 26 * 3600
_DAY = 86400

#: Rows that a scan leaves alone when they are listed with the same size and mtime.
_CLEAN = and_(
    MediaFile.missing_since.is_(None),
    MediaFile.container.is_not(None),
    or_(MediaFile.probe_bytes.is_not(None), MediaFile.probe_error.is_not(None)),
    MediaFile.naming_version >= NAMING_VERSION,  # NOT NULL: ~_CLEAN is every other row
)


@dataclass(frozen=True, slots=True)
class Known:
    """What the scan needs of an indexed file (``size`` in bytes, ``mtime`` in seconds
    since the epoch, as the source listed them last)."""

    id: int
    size: int
    mtime: float | None
    missing: datetime | None
    unprobed: bool  # no probe result yet (see library/streams.unprobed): phase 2 probes it
    content_hash: str | None
    naming_version: int = NAMING_VERSION  # the naming rules that placed it (library/linking.py)


class KnownFiles:
    """The rows of one source, as :func:`load_known` read them (see the module doc). The
    clean rows are three dicts by path (id, size, mtime): their values are not objects
    the garbage collector tracks, so 20,000 rows add no collection work (a full
    collection of the server's heap costs ~0.1 s of CPU)."""

    def __init__(self, other: dict[str, Known] | None = None) -> None:
        self.ids: dict[str, int] = {}
        self.sizes: dict[str, int] = {}
        self.mtimes: dict[str, float | None] = {}
        self.other = other if other is not None else {}

    def add_clean(self, rows: Iterable[tuple[str, int, float | None, int]]) -> None:
        """Add clean rows ``(path, size, mtime, id)``."""
        ids, sizes, mtimes = self.ids, self.sizes, self.mtimes
        for path, size, mtime, i in rows:
            ids[path], sizes[path], mtimes[path] = i, size, mtime

    def __len__(self) -> int:
        return len(self.ids) + len(self.other)

    def split(self, listings: Iterable[list[Entry]]) -> tuple[list[int], list[Entry]]:
        """``(ids, rest)``: the ids of the clean rows listed unchanged in ``listings``
        (lists of entries of folders whose files are indexed), and the other video files
        listed (library/naming.is_video_file: new, changed, or rows of ``other``)."""
        seen: list[int] = []
        rest: list[Entry] = []
        ids, sizes, mtimes = self.ids, self.sizes, self.mtimes
        for entries in listings:
            for e in entries:
                i = ids.get(e.path)
                if i is not None and sizes[e.path] == (e.size or 0) and mtimes[e.path] == e.mtime:
                    seen.append(i)
                elif not e.is_dir and is_video_file(e.name):
                    rest.append(e)
        return seen, rest

    def rest(self, sessions: sessionmaker[Session], seen: list[int]) -> dict[str, Known]:
        """By path, every row but the clean ones whose ids are in ``seen`` (the first
        result of :meth:`split`)."""
        known = dict(self.other)
        taken = set(seen)
        if len(taken) == len(self.ids):  # every clean row was listed unchanged
            return known
        left = {i: path for path, i in self.ids.items() if i not in taken}
        ids = list(left)
        with sessions() as s:
            for start in range(0, len(ids), 500):
                for i, digest in s.execute(select(MediaFile.id, MediaFile.content_hash)
                                           .where(MediaFile.id.in_(ids[start:start + 500]))):
                    path = left[i]
                    known[path] = Known(i, self.sizes[path], self.mtimes[path], None, False, digest)
        return known


def load_known(sessions: sessionmaker[Session], source_id: int) -> KnownFiles:
    """The rows of ``source_id``: two SELECTs, the clean rows' of four columns only."""
    with sessions() as s:
        files = KnownFiles()
        files.add_clean(_driver_rows(s, select(MediaFile.path, MediaFile.size, MediaFile.mtime, MediaFile.id)
                                     .where(MediaFile.source_id == source_id, _CLEAN)))
        other = {
            row.path: Known(row.id, row.size, row.mtime, row.missing_since,
                            row.container is None or (row.probe_bytes is None and row.probe_error is None),
                            row.content_hash, row.naming_version)
            for row in s.execute(
                select(MediaFile.id, MediaFile.path, MediaFile.size, MediaFile.mtime, MediaFile.missing_since,
                       MediaFile.container, MediaFile.probe_bytes, MediaFile.probe_error,
                       MediaFile.content_hash, MediaFile.naming_version)
                .where(MediaFile.source_id == source_id, ~_CLEAN)
            )
        }
        files.other = other
    return files


def _driver_rows(s: Session, stmt: ClauseElement) -> Iterator[Any]:
    """The rows of ``stmt`` as the DB-API driver returns them, one at a time (tuples; no
    SQLAlchemy row objects or result processing: for plain int, float and text columns
    only). 20,000 rows: ~20 ms of CPU rather than ~27 ms."""
    conn = s.connection()
    compiled = cast(SQLCompiler, stmt.compile(dialect=conn.dialect))
    params: Any = ([compiled.params[k] for k in compiled.positiontup] if compiled.positiontup is not None
                   else compiled.params)  # qmark (sqlite3) or pyformat (psycopg)
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        cursor.execute(str(compiled), params)
        yield from iter(cursor.fetchone, None)  # one row at a time (DBAPICursor is typed without __iter__)
    finally:
        cursor.close()


class Listed:
    """The names in each folder a scan listed, each with whether it is a folder, made
    from its listings when first asked for (a rescan in which no file went asks for none)."""

    def __init__(self, listings: dict[str, list[Entry]]) -> None:
        self.listings = listings
        self._names: dict[str, dict[str, bool]] = {}

    def get(self, folder: str) -> dict[str, bool] | None:
        """The names listed in ``folder``, each mapped to whether it is a folder; None
        when ``folder`` was not listed."""
        names = self._names.get(folder)
        if names is None:
            entries = self.listings.get(folder)
            if entries is None:
                return None
            names = self._names[folder] = {e.name: e.is_dir for e in entries}
        return names


def is_gone(path: str, listed: Listed) -> bool:
    """True if a complete listing proves the file ``path`` is no longer there: its folder
    was listed without it or with a folder of its name, or the nearest listed ancestor
    lacks the next path component or lists it as a file (a folder replaced by a file)."""
    parts = path.split("/")
    last = len(parts) - 1
    for depth in range(last, -1, -1):
        folder = "/".join(parts[:depth])
        names = listed.get(folder)
        if names is not None:
            is_dir = names.get(parts[depth])
            return is_dir is None or is_dir != (depth < last)
    return False


def same_mtime(stored: float | None, listed: float | None) -> bool:
    """Whether ``listed`` (seconds since the epoch, as a listing gives them) is the time
    ``stored`` of a file of unchanged size, read another way. LIST has no time zone: a
    server that prints its local time (vsftpd ``use_localtime``, IIS) moves every time by
    whole quarter hours when its zone changes (daylight saving, a moved server), up to
    26 h (UTC-12 to UTC+14); and ``ls -l`` prints the time of day for six months only,
    then the date alone (GNU coreutils ``ls.c``), read as that day's midnight; and LIST
    gives minutes where MLSD gives seconds (RFC 3659 §2.3: a pure-ftpd walk lists by
    ``LIST -R``, :mod:`reelhouse.sources.ftp.treelist`, and by MLSD where that cannot be
    trusted). Each was a change of every file before: probe results dropped, the
    library probed again."""
    if stored == listed:
        return True
    if stored is None or listed is None:
        return False
    shift = listed - stored
    if abs(shift) <= _ZONE_SHIFT and shift % 900 == 0:
        return True
    for day, exact in ((listed, stored), (stored, listed)):  # one of them lost its time of day
        if day % _DAY == 0 and -_ZONE_SHIFT < exact - day < _DAY + _ZONE_SHIFT:
            return True
    for minute, exact in ((listed, stored), (stored, listed)):  # one of them lost its seconds
        if minute % 60 == 0:
            moved = minute - (exact - exact % 60)
            if abs(moved) <= _ZONE_SHIFT and moved % 900 == 0:
                return True
    return False
