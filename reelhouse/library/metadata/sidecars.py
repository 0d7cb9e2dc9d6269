"""Which sidecar files belong to a media file: NFOs and local artwork, from the folder
listings the scanner already made. Pure: names in, names out.

Kodi's naming (https://kodi.wiki/view/Artwork_types, .../NFO_files):

- movie: ``<name>.nfo`` or ``movie.nfo``; ``<name>-poster.jpg``, ``poster.jpg``,
  ``folder.jpg``; ``<name>-fanart.jpg``, ``fanart.jpg``. The generic names
  (``movie.nfo``, ``poster.jpg`` …) count only when the folder holds one film.
- show: ``tvshow.nfo``, ``poster.jpg``/``folder.jpg``, ``fanart.jpg`` in the show
  folder (the parent of a ``Season 1`` folder, or the episode's folder);
  ``season01-poster.jpg`` (``season-specials-poster.jpg`` for season 0) there, or
  ``poster.jpg``/``folder.jpg`` in the season folder.
- episode: ``<name>.nfo``, ``<name>-thumb.jpg``.

Extensions: .jpg, .jpeg, .png, .webp (first found wins, in that order).

Names match case-insensitively and whatever their Unicode normal form
(:func:`sidecar_key`): a film copied from a Mac is named in NFD, its NFO or poster made
elsewhere in NFC.
"""

from __future__ import annotations

import posixpath
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from reelhouse.library.naming import is_media_file
from reelhouse.sources.base import Entry

__all__ = ["IMAGE_EXTENSIONS", "FolderIndex", "is_sidecar", "show_folder", "sidecar_key"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
_SIDECAR_EXTENSIONS = frozenset((".nfo", *IMAGE_EXTENSIONS))
#: A part marker at the end of a stem: "Film.CD1", "Film - part 2", "Film_disc1", "Film.pt3".
_PART = re.compile(r"[ ._-]*(cd|dvd|part|pt|disc|disk)[ ._-]*\d+$", re.I)
_SEASON_DIR = re.compile(r"^(season|series|saison|staffel|temporada|s)[ ._-]*(\d+)$|^(specials?)$", re.I)


def sidecar_key(name: str) -> str:
    """The key a sidecar's file name is matched by: NFC (Unicode's composed form, so a
    Mac's ``e`` + U+0301 is ``é``), lower case."""
    return unicodedata.normalize("NFC", name).lower()


def is_sidecar(name: str) -> bool:
    """Whether ``name`` may be an NFO or artwork file (by extension)."""
    return posixpath.splitext(name)[1].lower() in _SIDECAR_EXTENSIONS


def show_folder(episode_path: str) -> str | None:
    """The show folder of an episode: the parent of its season folder, else its own
    folder; None for an episode in the source root (no folder is the show's)."""
    folder = posixpath.dirname(episode_path)
    if _SEASON_DIR.match(posixpath.basename(folder)):
        folder = posixpath.dirname(folder)
        return folder or None
    return folder or None


@dataclass
class FolderIndex:
    """Sidecar entries and media-file counts per folder, filled by the scanner while it
    lists (``add``), read by the metadata service. One per scan; ``done`` lets the
    service enrich a show once per scan.

    A folder's listing is indexed when first asked for (:meth:`files`), not when added:
    a rescan of an unchanged library asks for none (issue 14, benchmarks/rescan.py)."""

    sidecars: dict[str, dict[str, Entry]] = field(default_factory=dict)
    media_count: dict[str, int] = field(default_factory=dict)  # distinct films (parts count once)
    done: set[tuple[str, int]] = field(default_factory=set)
    _listed: dict[str, Sequence[Entry]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, folder: str, entries: Iterable[Entry]) -> None:
        """Record the listing of ``folder`` (keeps only sidecar files, by
        :func:`sidecar_key`, once asked for). ``entries`` is kept, not copied, when it is a list or tuple."""
        with self._lock:
            self.sidecars.pop(folder, None)
            self.media_count.pop(folder, None)
            self._listed[folder] = entries if isinstance(entries, list | tuple) else list(entries)

    def files(self, folder: str) -> tuple[dict[str, Entry], int] | None:
        """``(sidecars by :func:`sidecar_key`, media-file count)`` of ``folder``, or None
        when it holds no sidecar (or was not listed)."""
        with self._lock:
            entries = self._listed.pop(folder, None)
            if entries is not None:
                self._index(folder, entries)
            found = self.sidecars.get(folder)
            return None if found is None else (found, self.media_count.get(folder, 0))

    def index_all(self) -> None:
        """Index every listing not asked for yet and drop the listings (keeps only the
        sidecar entries: for an index that outlives the scan's listing, e.g. phase 2)."""
        with self._lock:
            listed, self._listed = self._listed, {}
            for folder, entries in listed.items():
                self._index(folder, entries)

    def _index(self, folder: str, entries: Sequence[Entry]) -> None:
        found: dict[str, Entry] = {}
        others: list[str] = []
        for e in entries:
            if e.is_dir:
                continue
            if is_sidecar(e.name):
                found.setdefault(sidecar_key(e.name), e)
            else:
                others.append(e.name)
        if found:  # the film count matters only where generic sidecars may be (``single``)
            films = {_PART.sub("", posixpath.splitext(sidecar_key(n))[0]).casefold()
                     for n in others if is_media_file(n)}
            self.sidecars[folder] = found
            self.media_count[folder] = len(films)

    def find(self, folder: str, *names: str) -> Entry | None:
        """The first of ``names`` (case-insensitive; a name without extension tries each
        image extension) present in ``folder``."""
        got = self.files(folder)
        if got is None:
            return None
        files = got[0]
        for name in names:
            low = sidecar_key(name)
            if posixpath.splitext(low)[1] in _SIDECAR_EXTENSIONS:
                if low in files:
                    return files[low]
                continue
            for ext in IMAGE_EXTENSIONS:
                if low + ext in files:
                    return files[low + ext]
        return None

    def single(self, folder: str) -> bool:
        """Whether ``folder`` holds at most one film (its parts ``CD1``/``part2`` … count
        once), so generic names (``poster.jpg``, ``movie.nfo``) describe that one."""
        got = self.files(folder)
        return got is None or got[1] <= 1

    # -- what belongs to what ------------------------------------------------------
    def movie_nfo(self, path: str, single: bool | None = None) -> Entry | None:
        folder, stem = _split(path)
        generic = self.single(folder) if single is None else single
        return self.find(folder, stem + ".nfo", *(["movie.nfo"] if generic and folder else []))

    def movie_art(self, path: str, single: bool | None = None) -> tuple[Entry | None, Entry | None]:
        """(poster, fanart) entries for a film at ``path``."""
        folder, stem = _split(path)
        generic = (self.single(folder) if single is None else single) and bool(folder)
        poster = self.find(folder, stem + "-poster", *(["poster", "folder"] if generic else []))
        fanart = self.find(folder, stem + "-fanart", *(["fanart", "backdrop"] if generic else []))
        return poster, fanart

    def show_nfo(self, episode_path: str) -> Entry | None:
        folder = show_folder(episode_path)
        return self.find(folder, "tvshow.nfo") if folder else None

    def show_art(self, episode_path: str) -> tuple[Entry | None, Entry | None]:
        """(poster, fanart) entries of the show of the episode at ``episode_path``."""
        folder = show_folder(episode_path)
        if not folder:
            return None, None
        return self.find(folder, "poster", "folder"), self.find(folder, "fanart", "backdrop")

    def season_poster(self, episode_path: str, season: int) -> Entry | None:
        folder = show_folder(episode_path)
        own = posixpath.dirname(episode_path)
        names = [f"season{season:02d}-poster", f"season{season}-poster"]
        if season == 0:
            names.insert(0, "season-specials-poster")
        found = self.find(folder, *names) if folder else None
        if found is None and folder and own != folder:  # inside a season folder
            found = self.find(own, "poster", "folder")
        return found

    def episode_nfo(self, path: str) -> Entry | None:
        folder, stem = _split(path)
        return self.find(folder, stem + ".nfo")

    def episode_thumb(self, path: str) -> Entry | None:
        folder, stem = _split(path)
        return self.find(folder, stem + "-thumb", stem)


def _split(path: str) -> tuple[str, str]:
    folder, name = posixpath.split(path)
    return folder, posixpath.splitext(name)[0]
