"""The ``library`` view: the organised library as a read-only tree.

``Movies/<Title (Year)>/<real file name>`` and
``Shows/<Show>/Season NN/<real file name>``, across every source (FTP and local), read
through the same Source layer as everything else. Files the last scan could not find
(``missing_since``) are left out; two files of one title with the same name get
`` (2)``, `` (3)`` … before the extension, and two films (or shows) of the same title
and year two folders (the later `` (2)``). Every name fits in 255 bytes (a long title
is cut, its year kept) and is portable (:func:`portable`): a folder copied off the mount
to Windows, macOS or Linux keeps its names (no ``<>:"/\\|?*``, control characters,
trailing dots or spaces, or Windows device names; no two names differing only in
case). The tree is rebuilt from the database when older than ``ttl`` seconds.
"""

from __future__ import annotations

import builtins
import posixpath
import re
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show
from reelhouse.errors import NotFound, PermissionDenied
from reelhouse.sources.base import CONTROL_CHARACTERS, NAME_MAX_BYTES, Entry, Source, normalize_path
from reelhouse.sources.walk import walk_source

__all__ = ["LibrarySource", "library_paths", "portable", "title_folders"]


#: the longest name (bytes of UTF-8) most file systems take: a name copied off the
#: mount must fit where it goes (statfs says 255 too)
NAME_MAX = NAME_MAX_BYTES


#: Characters Windows refuses in a name (besides controls), and what stands in for
#: them: ``:`` is ``" -"`` before a space (``Mission: Impossible`` → ``Mission -
#: Impossible``) and ``-`` elsewhere, as Sonarr's and Radarr's "smart" colon
#: replacement names folders for Plex and Jellyfin; ``/`` and ``\`` are ``-``, ``*``
#: is ``-``, ``"`` is ``'``; ``<``, ``>``, ``|`` and ``?`` are dropped (Radarr's
#: ``CleanFileName`` turns ``?`` into ``!``, which reads as another title).
_REPLACE = str.maketrans({"/": "-", "\\": "-", "*": "-", '"': "'", "<": None, ">": None,
                          "|": None, "?": None})
#: Names Windows keeps for devices, with or without an extension, in any case
#: (Microsoft, "Naming Files, Paths, and Namespaces"): ``NUL.mkv`` is the device too.
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL",
                       *(f"{d}{n}" for d in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³"))})


def _trim(name: str) -> str:
    """No leading spaces or dots (hidden files on Unix), no trailing ones (Windows drops
    them: ``Se7en.`` and ``Se7en`` would be one name)."""
    return name.strip(" .")


def _fit(stem: str, suffix: str = "") -> str:
    """``stem + suffix`` cut to :data:`NAME_MAX` bytes at the end of ``stem`` (never in
    the middle of a character), without spaces or dots left at the cut."""
    room = NAME_MAX - len(suffix.encode())
    cut = stem.encode()[:max(room, 1)].decode(errors="ignore")
    return _trim(cut) + suffix


def portable(name: str) -> str:
    """``name`` as one path component every platform's file system takes (a folder
    copied off the mount to Windows, macOS or Linux keeps its names): no control
    characters (a tab or a newline is a space), none of ``<>:"/\\|?*`` (see
    :data:`_REPLACE`), no leading or trailing dots or spaces, not a Windows device
    name (``CON`` → ``CON_``, ``nul.mkv`` → ``nul_.mkv``); ``Untitled`` when nothing is
    left. Pure; the length is :func:`_fit`'s."""
    out = CONTROL_CHARACTERS.sub(" ", name).replace(": ", " - ").replace(":", "-").translate(_REPLACE)
    out = _trim(re.sub(" {2,}", " ", out)) or "Untitled"
    stem, dot, rest = out.partition(".")
    if stem.rstrip(" ").upper() in _RESERVED:
        out = f"{stem.rstrip(' ')}_{dot}{rest}"
    return out


def _titled(title: str, year: int | None) -> str:
    return _fit(portable(title), f" ({year})" if year else "")


def title_folders(items: Iterable[tuple[int, str, int | None]]) -> dict[int, str]:
    """``{id: folder name}`` of ``(id, title, year)`` titles, in the order given (the
    database's: a title keeps its name as others come): two films (or shows) of the
    same title and year get two folders, the later one `` (2)``, `` (3)`` …; names
    that differ only in case count as the same (Windows and macOS do not tell them
    apart); pure."""
    out: dict[int, str] = {}
    taken: set[str] = set()
    for ident, title, year in items:
        if ident in out:
            continue
        base = _titled(title, year)
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            name = _fit(base, f" ({n})")
        taken.add(name.casefold())
        out[ident] = name
    return out


def library_paths(rows: Iterable[tuple[int, str, str]]) -> dict[str, tuple[int, str]]:
    """``{library path: (source id, real path)}`` from ``(source id, real path,
    library folder)`` rows; the real file name made :func:`portable`, and numbered
    `` (2)`` … where two would be one name (also when they differ only in case); pure
    (tested without a database)."""
    out: dict[str, tuple[int, str]] = {}
    taken: set[str] = set()
    for source_id, real, folder in rows:
        name = _fit(portable(posixpath.basename(real)))
        stem, ext = posixpath.splitext(name)
        candidate, n = f"{folder}/{name}", 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{folder}/{_fit(stem, f' ({n}){ext}')}"
        taken.add(candidate.casefold())
        out[candidate] = (source_id, real)
    return out


class LibrarySource:
    """A read-only Source over the library database; ``source_for(id)`` gives the live
    Source of a configured source (the registry's shared ones)."""

    kind = "library"

    def __init__(self, sessions: sessionmaker[Session], source_for: Callable[[int], Source],
                 ttl: float = 30.0) -> None:
        self.sessions = sessions
        self.source_for = source_for
        self.ttl = ttl
        self._lock = threading.Lock()
        self._built = -1e9
        self._files: dict[str, tuple[int, str, int, float | None]] = {}
        self._dirs: dict[str, dict[str, Entry]] = {}

    def _rows(self) -> list[tuple[int, str, str, int, float | None]]:
        with self.sessions() as s:
            movies = s.execute(
                select(MediaFile.source_id, MediaFile.path, MediaFile.size, MediaFile.mtime,
                       Movie.title, Movie.year, Movie.id)
                .join(Movie, MediaFile.movie_id == Movie.id)
                .where(MediaFile.missing_since.is_(None))
                .order_by(MediaFile.id)).all()
            episodes = s.execute(
                select(MediaFile.source_id, MediaFile.path, MediaFile.size, MediaFile.mtime,
                       Show.title, Show.year, Season.number, Show.id)
                .join(Episode, MediaFile.episode_id == Episode.id)
                .join(Season, Episode.season_id == Season.id)
                .join(Show, Season.show_id == Show.id)
                .where(MediaFile.missing_since.is_(None))
                .order_by(MediaFile.id)).all()
        films = title_folders(sorted((m[6], m[4], m[5]) for m in movies))
        shows = title_folders(sorted((e[7], e[4], e[5]) for e in episodes))
        rows = [(m[0], m[1], f"Movies/{films[m[6]]}", m[2], m[3]) for m in movies]
        rows += [(e[0], e[1], f"Shows/{shows[e[7]]}/Season {e[6]:02d}", e[2], e[3])
                 for e in episodes]
        return rows

    def _tree(self) -> None:
        with self._lock:
            if time.monotonic() - self._built < self.ttl:
                return
            rows = self._rows()
            meta = {(r[0], r[1]): (r[3], r[4]) for r in rows}
            paths = library_paths((r[0], r[1], r[2]) for r in rows)
            files = {p: (sid, real, *meta[(sid, real)]) for p, (sid, real) in paths.items()}
            dirs: dict[str, dict[str, Entry]] = {"": {}, "Movies": {}, "Shows": {}}
            for top in ("Movies", "Shows"):
                dirs[""][top] = Entry(top, top, True)
            for path, (_, _, size, mtime) in files.items():
                folder, _, name = path.rpartition("/")
                dirs.setdefault(folder, {})[name] = Entry(name, path, False, size, mtime)
                while folder not in ("", "Movies", "Shows"):
                    parent, _, fname = folder.rpartition("/")
                    dirs.setdefault(parent, {})[fname] = Entry(fname, folder, True)
                    folder = parent
            self._files, self._dirs, self._built = files, dirs, time.monotonic()

    def list(self, path: str) -> list[Entry]:
        self._tree()
        folder = normalize_path(path)
        if folder not in self._dirs:
            raise NotFound(f"no such folder in the library: {folder!r}")
        return builtins.list(self._dirs[folder].values())

    def stat(self, path: str) -> Entry:
        rel = normalize_path(path)
        if not rel:
            return Entry("", "", True)
        folder, _, name = rel.rpartition("/")
        for entry in self.list(folder):
            if entry.name == name:
                return entry
        raise NotFound(f"no such file in the library: {rel!r}")

    def _real(self, path: str) -> tuple[Source, str]:
        self._tree()
        found = self._files.get(normalize_path(path))
        if found is None:
            raise NotFound(f"no such file in the library: {path!r}")
        return self.source_for(found[0]), found[1]

    def read_range(self, path: str, offset: int, length: int) -> Iterator[bytes]:
        source, real = self._real(path)
        return source.read_range(real, offset, length)

    async def aread_range(self, path: str, offset: int, length: int) -> AsyncGenerator[bytes, None]:
        source, real = self._real(path)
        async for chunk in source.aread_range(real, offset, length):
            yield chunk

    def walk(self, path: str = "") -> Iterator[tuple[str, builtins.list[Entry] | Exception]]:
        return walk_source(self, path)

    def test(self) -> None:
        self.list("")

    def _refuse(self, *_: Any, **__: Any) -> Any:
        raise PermissionDenied("the library view is read-only")

    def write(self, path: str, chunks: Iterable[bytes], offset: int = 0) -> int:
        return int(self._refuse())

    def mkdir(self, path: str) -> None:
        self._refuse()

    def rename(self, old: str, new: str) -> None:
        self._refuse()

    def delete(self, path: str) -> None:
        self._refuse()

    def close(self) -> None:
        """The live sources belong to the registry, which closes them."""
