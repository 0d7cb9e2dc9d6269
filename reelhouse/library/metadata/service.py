"""``MetadataService``: the one object the rest of reelhouse uses for metadata — scan
time enrichment (:meth:`enrich_file`, called by the scanner), manual correction (search
TMDB, pick a match, edit title/year: the item is then ``locked`` and scans leave it
alone) and cached images."""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.config import Settings
from reelhouse.db.models import MediaFile, Movie, Show
from reelhouse.errors import Conflict, InvalidInput, NotFound, ReelhouseError
from reelhouse.library.metadata.enrich import BACKDROP_SIZE, POSTER_SIZE, Enricher, merge
from reelhouse.library.metadata.images import ImageStore
from reelhouse.library.metadata.matcher import Candidate, confidence
from reelhouse.library.metadata.sidecars import FolderIndex, show_folder
from reelhouse.library.metadata.tmdb import TmdbClient
from reelhouse.sources.base import Source

__all__ = ["ItemKind", "MatchCandidate", "MetadataService"]

ItemKind = Literal["movie", "show"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MatchCandidate:
    """A TMDB search result with its confidence (0..1) against the query."""

    candidate: Candidate
    confidence: float
    poster_url: str | None


class MetadataService:
    """Enrichment, manual fixes and the image store of one process."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], tmdb: TmdbClient | None = None) -> None:
        self.settings = settings
        self.sessions = sessions
        self.tmdb = tmdb or TmdbClient(settings, sessions)
        self.tmdb.prune()  # expired TMDB answers go at start-up, so the cache cannot only grow
        self.images = ImageStore(settings.ensure_data_dir() / "images", sessions)
        self.enricher = Enricher(settings, sessions, self.tmdb, self.images)

    def close(self) -> None:
        self.tmdb.close()

    def enrich_file(self, source: Source, source_id: int, file_id: int, index: FolderIndex) -> None:
        """Scan hook: fill the item of a new or changed media file (never raises)."""
        self.enricher.enrich_file(source, source_id, file_id, index)

    # -- manual correction -----------------------------------------------------------
    def _get(self, s: Session, kind: ItemKind, item_id: int) -> Movie | Show:
        row: Movie | Show | None = s.get(Movie, item_id) if kind == "movie" else s.get(Show, item_id)
        if row is None:
            raise NotFound(f"no {kind} with id {item_id}")
        return row

    def search(self, kind: ItemKind, item_id: int, query: str | None = None,
               year: int | None = None) -> list[MatchCandidate]:
        """TMDB candidates for item ``item_id``, best first. ``query`` defaults to the
        item's title, ``year`` to its year. Raises NotFound, SourceUnavailable (TMDB
        off or down), InvalidInput (an empty query)."""
        with self.sessions() as s:
            row = self._get(s, kind, item_id)
            title = (query or "").strip() or row.title
            year = year if query else (year or row.year)
        if not title:
            raise InvalidInput("the search needs a title")
        self.tmdb.reset()  # a user asks: try TMDB even if it failed a moment ago
        search = self.tmdb.search_movie if kind == "movie" else self.tmdb.search_tv
        found = search(title, year) or (search(title, None) if year else [])
        scored = [MatchCandidate(c, confidence(title, year, c),
                                 f"{self.tmdb.image_base}/w200{c.poster_path}" if c.poster_path else None)
                  for c in found]
        return sorted(scored, key=lambda m: -m.confidence)

    def pick(self, kind: ItemKind, item_id: int, tmdb_id: int,
             source_for: Callable[[int], Source] | None = None) -> None:
        """Match item ``item_id`` to TMDB id ``tmdb_id`` by hand: its details and
        images replace the item's, and the item is locked (scans keep the choice).
        For a show, with ``source_for``, its seasons and episodes are filled again
        from the new match. Raises NotFound (item or TMDB id), SourceUnavailable."""
        with self.sessions() as s:
            self._get(s, kind, item_id)
        self.tmdb.reset()  # a user asks: try TMDB even if it failed a moment ago
        details = self.enricher.details("movie" if kind == "movie" else "tv", tmdb_id)
        fields = merge(None, details)
        fields.match_confidence = 1.0
        fields.needs_review = False
        fields.poster_image_id = self.enricher.tmdb_image(details.poster_path, POSTER_SIZE)
        fields.backdrop_image_id = self.enricher.tmdb_image(details.backdrop_path, BACKDROP_SIZE)
        with self.sessions() as s:
            row = self._get(s, kind, item_id)
            fields.apply(row)
            row.tmdb_id = details.tmdb_id
            row.locked = True
            s.commit()
        if kind == "show" and source_for is not None:
            self._reenrich(kind, item_id, source_for)  # the show is locked: seasons and episodes only

    def edit(self, kind: ItemKind, item_id: int, title: str | None, year: int | None,
             clear_year: bool = False) -> None:
        """Set the title and/or year by hand and lock the item. Raises NotFound."""
        with self.sessions() as s:
            row = self._get(s, kind, item_id)
            if title is not None:
                row.title = title.strip() or row.title
            if year is not None or clear_year:
                row.year = year
            row.locked = True
            row.needs_review = False
            s.commit()

    def unlock(self, kind: ItemKind, item_id: int) -> None:
        """Let scans and refreshes change the item again. Raises NotFound."""
        with self.sessions() as s:
            self._get(s, kind, item_id).locked = False
            s.commit()

    def refresh(self, kind: ItemKind, item_id: int, source_for: Callable[[int], Source]) -> None:
        """Read the item's NFO and artwork again and ask TMDB again (through its cache),
        as a scan does for a changed file: for when TMDB was down during the scan, or
        sidecars were added. ``source_for(source_id)`` gives the live Source. Raises
        NotFound, Conflict (the item is locked: unlock it first). Folders that cannot be
        listed are skipped (their sidecars are then not seen)."""
        with self.sessions() as s:
            if self._get(s, kind, item_id).locked:
                raise Conflict(f"this {kind} was fixed by hand; unlock it first")
        self.tmdb.reset()  # asked for by a user: try TMDB even if it failed a moment ago
        self._reenrich(kind, item_id, source_for)

    def _reenrich(self, kind: ItemKind, item_id: int, source_for: Callable[[int], Source]) -> None:
        """Run the scan-time enrichment for every present file of the item."""
        with self.sessions() as s:
            stmt = select(MediaFile.id, MediaFile.source_id, MediaFile.path).where(MediaFile.missing_since.is_(None))
            if kind == "movie":
                stmt = stmt.where(MediaFile.movie_id == item_id)
            else:
                # an episode file names its show (db/episode_show.py)
                stmt = stmt.where(MediaFile.show_id == item_id, MediaFile.episode_id.is_not(None))
            files = list(s.execute(stmt.order_by(MediaFile.path)))
        index = FolderIndex()
        listed: set[tuple[int, str]] = set()
        for file_id, source_id, path in files:
            try:
                source = source_for(source_id)
            except ReelhouseError as exc:
                log.warning("refresh of %s %s: source %s: %s", kind, item_id, source_id, exc.message)
                continue
            for folder in {posixpath.dirname(path), show_folder(path) if kind == "show" else None}:
                if folder is None or (source_id, folder) in listed:
                    continue
                listed.add((source_id, folder))
                try:
                    index.add(folder, source.list(folder))
                except ReelhouseError as exc:
                    log.warning("refresh of %s %s: cannot list %r: %s", kind, item_id, folder, exc.message)
            self.enricher.enrich_file(source, source_id, file_id, index)
