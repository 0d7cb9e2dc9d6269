"""The ``library`` view: the organised library as a read-only tree.

``Movies/<Title (Year)>/<real file name>`` and
``Shows/<Show>/Season NN/<real file name>``, across every source (FTP and local), read
through the same Source layer as everything else. Files the last scan could not find
(``missing_since``) are left out; two files of one title with the same name get
`` (2)``, `` (3)`` … before the extension, and two films (or shows) of the same title
and year two folders (the later `` (2)``). Every name fits in 255 bytes (a long title
is cut, its year kept) and holds no ``/`` or control character. The tree is rebuilt
from the database when older than ``ttl`` seconds.
"""

from __future__ import annotations

import builtins
import posixpath
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show
from reelhouse.errors import NotFound, PermissionDenied
from reelhouse.sources.base import CONTROL_CHARACTERS, NAME_MAX_BYTES, Entry, Source, normalize_path, walk_source

__all__ = ["LibrarySource", "library_paths", "title_folders"]


#: the longest name (bytes of UTF-8) most file systems take: a name copied off the
#: mount must fit where it goes (statfs says 255 too)
NAME_MAX = NAME_MAX_BYTES


def _fit(stem: str, suffix: str = "") -> str:
    """``stem + suffix`` cut to :data:`NAME_MAX` bytes at the end of ``stem`` (never in
    the middle of a character)."""
    room = NAME_MAX - len(suffix.encode())
    return stem.encode()[:max(room, 1)].decode(errors="ignore").rstrip() + suffix


def _clean(name: str) -> str:
    """A title as one path component: no ``/``, NUL, control characters (a tab or a
    newline in a title is a space) or leading dots."""
    out = CONTROL_CHARACTERS.sub(" ", name.replace("/", "-"))
    return out.strip().lstrip(".").strip() or "Untitled"


def _titled(title: str, year: int | None) -> str:
    return _fit(_clean(title), f" ({year})" if year else "")


def title_folders(items: Iterable[tuple[int, str, int | None]]) -> dict[int, str]:
    """``{id: folder name}`` of ``(id, title, year)`` titles, in the order given (the
    database's: a title keeps its name as others come): two films (or shows) of the
    same title and year get two folders, the later one `` (2)``, `` (3)`` …; pure."""
    out: dict[int, str] = {}
    taken: set[str] = set()
    for ident, title, year in items:
        if ident in out:
            continue
        base = _titled(title, year)
        name, n = base, 1
        while name in taken:
            n += 1
            name = _fit(base, f" ({n})")
        taken.add(name)
        out[ident] = name
    return out


def library_paths(rows: Iterable[tuple[int, str, str]]) -> dict[str, tuple[int, str]]:
    """``{library path: (source id, real path)}`` from ``(source id, real path,
    library folder)`` rows; pure (tested without a database)."""
    out: dict[str, tuple[int, str]] = {}
    for source_id, real, folder in rows:
        name = _fit(_clean(posixpath.basename(real)))
        stem, ext = posixpath.splitext(name)
        candidate, n = f"{folder}/{name}", 1
        while candidate in out:
            n += 1
            candidate = f"{folder}/{_fit(stem, f' ({n}){ext}')}"
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
