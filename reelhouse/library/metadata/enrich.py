"""Scan-time enrichment: after the scanner indexed a new or changed file, fill its
movie, or its show, season and episode, from NFO sidecars, local artwork and TMDB.

Precedence, field by field: the NFO, then TMDB, then what the row has (the title and
year from the file name). Local artwork wins over TMDB images. An item a user fixed
(``locked``) is left alone. A TMDB match under ``match_threshold`` is not applied; the
item is marked ``needs_review`` with the confidence found. TMDB being down or not
configured only means no TMDB data: nothing here raises into the scan.

Network and source reads happen outside database transactions; each item is written
in one short transaction at the end.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from reelhouse.config import Settings
from reelhouse.db.limits import fit_text
from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show
from reelhouse.errors import ReelhouseError
from reelhouse.library.metadata.images import ImageStore
from reelhouse.library.metadata.matcher import best_match
from reelhouse.library.metadata.nfo import MAX_NFO_BYTES, NfoInfo, parse_nfo
from reelhouse.library.metadata.sidecars import FolderIndex
from reelhouse.library.metadata.tmdb import MAX_IMAGE_BYTES, Details, SeasonInfo, TmdbClient
from reelhouse.library.naming import parse_media_path
from reelhouse.library.naming.parsed import IMDB_MAX, TITLE_MAX
from reelhouse.sources.base import Entry, Source

__all__ = ["Enricher", "ItemFields"]

log = logging.getLogger(__name__)

#: TMDB image sizes we download (https://developer.themoviedb.org/docs/image-basics).
POSTER_SIZE, BACKDROP_SIZE, STILL_SIZE = "w780", "w1280", "w780"
_Item = TypeVar("_Item", Movie, Show)
#: A show title with a country, as naming.py writes it: "The Office (US)".
_COUNTRY = re.compile(r"^(.+?)\s*\(([A-Za-z]{2})\)$")


@dataclass
class ItemFields:
    """Values to write on a movie or show; None leaves a column as it is."""

    title: str | None = None
    year: int | None = None
    overview: str | None = None
    genres: list[str] | None = None
    rating: float | None = None
    tmdb_id: int | None = None
    imdb_id: str | None = None
    poster_image_id: int | None = None
    backdrop_image_id: int | None = None
    match_confidence: float | None = None
    needs_review: bool | None = None

    def apply(self, row: Movie | Show) -> None:
        self.title = fit_text(self.title, TITLE_MAX, "a title from an NFO or TMDB")
        if self.imdb_id is not None and len(self.imdb_id) > IMDB_MAX:
            self.imdb_id = None  # no IMDb id: tt and 7-10 digits
        for name in ("title", "year", "overview", "genres", "rating", "tmdb_id", "imdb_id",
                     "poster_image_id", "backdrop_image_id", "match_confidence", "needs_review"):
            value = getattr(self, name)
            if value is not None:
                setattr(row, name, value)


def merge(nfo: NfoInfo | None, details: Details | None) -> ItemFields:
    """NFO values over TMDB values (None where neither has one)."""
    n = nfo or NfoInfo()
    d = details
    return ItemFields(
        title=n.title or (d.title if d and d.title else None),
        year=n.year or (d.year if d else None),
        overview=n.overview or (d.overview if d else None),
        genres=n.genres or (d.genres if d and d.genres else None),
        rating=n.rating if n.rating is not None else (d.rating if d else None),
        tmdb_id=n.tmdb_id or (d.tmdb_id if d else None),
        imdb_id=n.imdb_id or (d.imdb_id if d else None),
    )


class Enricher:
    """Fills library rows from sidecars and TMDB. :meth:`enrich_file` never raises."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], tmdb: TmdbClient,
                 images: ImageStore) -> None:
        self.settings = settings
        self.sessions = sessions
        self.tmdb = tmdb
        self.images = images

    # -- entry point -----------------------------------------------------------------
    def enrich_file(self, source: Source, source_id: int, file_id: int, index: FolderIndex) -> None:
        """Enrich the movie or episode (and its show/season) of media file ``file_id``,
        at most once per item per scan (``index.done``)."""
        try:
            with self.sessions() as s:
                mf = s.get(MediaFile, file_id)
                if mf is None:
                    return
                path, movie_id, episode_id = mf.path, mf.movie_id, mf.episode_id
                ids = None
                if episode_id is not None:
                    ep = s.get(Episode, episode_id)
                    assert ep is not None
                    ids = (ep.season.show_id, ep.season_id, ep.season.number, ep.number)
            if movie_id is not None and ("movie", movie_id) not in index.done:
                index.done.add(("movie", movie_id))
                self._movie(source, source_id, path, movie_id, index)
            if episode_id is not None and ids is not None:
                show_id, season_id, season_no, episode_no = ids
                if ("show", show_id) not in index.done:
                    index.done.add(("show", show_id))
                    self._show(source, source_id, path, show_id, index)
                season = None
                if ("season", season_id) not in index.done:
                    index.done.add(("season", season_id))
                    season = self._season(source, source_id, path, show_id, season_id, season_no, index)
                self._episode(source, source_id, path, show_id, season_no, episode_no, episode_id, index,
                              season)
        except ReelhouseError as exc:
            log.warning("metadata of media file %s: %s", file_id, exc.message)
        except Exception:  # metadata must never break a scan
            log.exception("metadata of media file %s failed", file_id)

    # -- items -------------------------------------------------------------------------
    def _movie(self, source: Source, source_id: int, path: str, movie_id: int, index: FolderIndex) -> None:
        self._item(Movie, movie_id, "movie", source, source_id, path, index.movie_nfo(path), index.movie_art(path))

    def _show(self, source: Source, source_id: int, path: str, show_id: int, index: FolderIndex) -> None:
        self._item(Show, show_id, "tv", source, source_id, path, index.show_nfo(path), index.show_art(path))

    def _item(self, model: type[_Item], item_id: int, kind: str, source: Source, source_id: int,
              path: str, nfo_entry: Entry | None, art: tuple[Entry | None, Entry | None]) -> None:
        """Fill a movie (``kind`` "movie") or show ("tv") from its NFO, artwork, TMDB."""
        with self.sessions() as s:
            row = s.get(model, item_id)
            if row is None or row.locked:
                return
        nfo = self._nfo(source, nfo_entry)
        details, confidence, tried = self._lookup(kind, path, nfo)
        fields = merge(nfo, details)
        if tried:
            fields.match_confidence = confidence
            fields.needs_review = details is None and not (nfo and (nfo.title or nfo.tmdb_id))
        poster, fanart = art
        fields.poster_image_id = self._art(source, source_id, poster) or self._tmdb_image(
            details.poster_path if details else None, POSTER_SIZE)
        fields.backdrop_image_id = self._art(source, source_id, fanart) or self._tmdb_image(
            details.backdrop_path if details else None, BACKDROP_SIZE)
        with self.sessions() as s:
            row = s.get(model, item_id)
            if row is not None and not row.locked:  # a user may have fixed it meanwhile
                fields.apply(row)
                s.commit()

    def _season(self, source: Source, source_id: int, path: str, show_id: int, season_id: int,
                number: int, index: FolderIndex) -> SeasonInfo | None:
        info = self._season_info(show_id, number)
        poster = self._art(source, source_id, index.season_poster(path, number)) or self._tmdb_image(
            info.poster_path if info else None, POSTER_SIZE)
        if poster is not None:
            with self.sessions() as s:
                row = s.get(Season, season_id)
                if row is not None:
                    row.poster_image_id = poster
                    s.commit()
        return info

    def _episode(self, source: Source, source_id: int, path: str, show_id: int, season_no: int,
                 episode_no: int, episode_id: int, index: FolderIndex, season: SeasonInfo | None) -> None:
        nfo = self._nfo(source, index.episode_nfo(path))
        if season is None:
            season = self._season_info(show_id, season_no)
        tmdb_ep = season.episodes.get(episode_no) if season else None
        still = self._art(source, source_id, index.episode_thumb(path)) or self._tmdb_image(
            tmdb_ep.still_path if tmdb_ep else None, STILL_SIZE)
        title = (nfo.title if nfo else None) or (tmdb_ep.title if tmdb_ep else None)
        overview = (nfo.overview if nfo else None) or (tmdb_ep.overview if tmdb_ep else None)
        if title is None and overview is None and still is None:
            return
        with self.sessions() as s:
            row = s.get(Episode, episode_id)
            if row is None:
                return
            row.title = fit_text(title, TITLE_MAX, "an episode title from an NFO or TMDB") or row.title
            row.overview = overview or row.overview
            row.still_image_id = still or row.still_image_id
            s.commit()

    # -- sources of data ---------------------------------------------------------------
    def _lookup(self, kind: str, path: str,
                nfo: NfoInfo | None) -> tuple[Details | None, float | None, bool]:
        """(details, confidence, whether TMDB answered). The NFO's TMDB id is trusted
        (confidence 1); else a search by the NFO's or the file name's title and year."""
        if not self.tmdb.enabled:
            return None, None, False
        title = path
        try:
            if nfo is not None and nfo.tmdb_id:
                return self.details(kind, nfo.tmdb_id), 1.0, True
            parsed = parse_media_path(path)  # guessit: only when a search is needed
            title = parsed.title
            query = (nfo.title if nfo and nfo.title else None) or parsed.title
            query_year = (nfo.year if nfo else None) or parsed.year
            country = _COUNTRY.match(query) if kind == "tv" else None
            if country:  # "The Office (US)": search "The Office", prefer shows from the US
                query = country.group(1)
            search = self.tmdb.search_movie if kind == "movie" else self.tmdb.search_tv
            candidates = search(query, query_year)
            if not candidates and query_year:
                candidates = search(query, None)
            if country:
                local = [c for c in candidates if country.group(2).upper() in c.countries]
                candidates = local or candidates
            best, confidence = best_match(query, query_year, candidates)
            if best is None or confidence < self.settings.match_threshold:
                return None, confidence, True
            return self.details(kind, best.tmdb_id), confidence, True
        except ReelhouseError as exc:
            log.warning("TMDB lookup of %r: %s (keeping what we have)", title, exc.message)
            return None, None, False

    def details(self, kind: str, tmdb_id: int) -> Details:
        """Movie (``kind`` "movie") or show ("tv") details; raises like TmdbClient."""
        return self.tmdb.movie(tmdb_id) if kind == "movie" else self.tmdb.tv(tmdb_id)

    def _season_info(self, show_id: int, number: int) -> SeasonInfo | None:
        with self.sessions() as s:
            show = s.get(Show, show_id)
            tmdb_id = show.tmdb_id if show is not None else None
        if tmdb_id is None or not self.tmdb.enabled:
            return None
        try:
            return self.tmdb.season(tmdb_id, number)
        except ReelhouseError as exc:
            log.info("TMDB season %s of show %s: %s", number, tmdb_id, exc.message)
            return None

    def _read(self, source: Source, entry: Entry, limit: int, what: str) -> bytes | None:
        """The first ``limit`` bytes of sidecar ``entry``; None (logged as ``what``) when
        the source cannot read it."""
        length = min(entry.size if entry.size is not None else limit, limit)
        try:
            return b"".join(source.read_range(entry.path, 0, length))
        except ReelhouseError as exc:
            log.warning("cannot read %s %s: %s", what, entry.path, exc.message)
            return None

    def _nfo(self, source: Source, entry: Entry | None) -> NfoInfo | None:
        if entry is None:
            return None
        data = self._read(source, entry, MAX_NFO_BYTES, "NFO")
        return parse_nfo(data, entry.path) if data is not None else None

    def _art(self, source: Source, source_id: int, entry: Entry | None) -> int | None:
        """The image id of artwork file ``entry`` (read only when new or changed)."""
        if entry is None:
            return None
        ref = f"{source_id}:{entry.path}"
        found = self.images.find("source", ref, entry.size, entry.mtime)
        if found is not None:
            return found
        data = self._read(source, entry, MAX_IMAGE_BYTES, "artwork")
        return self.images.put("source", ref, data, entry.size, entry.mtime) if data is not None else None

    def tmdb_image(self, path: str | None, size: str) -> int | None:
        """The image id of TMDB image ``path`` at ``size``, downloaded once."""
        return self._tmdb_image(path, size)

    def _tmdb_image(self, path: str | None, size: str) -> int | None:
        if not path or not self.tmdb.enabled:
            return None
        ref = f"{size}{path}"
        found = self.images.find("tmdb", ref)
        if found is not None:
            return found
        try:
            data = self.tmdb.image(path, size)
        except ReelhouseError as exc:
            log.warning("TMDB image %s: %s", ref, exc.message)
            return None
        return self.images.put("tmdb", ref, data)
