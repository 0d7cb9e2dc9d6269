"""Placing many new files at once (phase 1 of a scan, issue 14: 100,000 files): the same
places as :func:`~reelhouse.library.linking.link_file`, found with a few queries per
batch instead of a few per file.

The common forms take the batched path: a film with a year and no provider id (its
movie is its ``match_key``: one ``IN`` query per batch, the missing movies inserted
together) and an episode (its show found once per scan by ``linking``'s own rules,
its seasons and episodes loaded once per show and season, the missing ones inserted
together). Everything else — films without a year or tagged with an id, extras,
"other" files — is placed one by one by ``link_file``, after the batched ones, so an
extra finds the film placed in the same batch. A new file has no title a user locked
yet, so ``link_file``'s lock rule does not apply to it.

The memos live for one scan; a title deleted meanwhile by someone else makes the
batch's insert fail on its foreign key, and the scanner places that batch again one
file at a time (:meth:`BatchLinker.forget`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from reelhouse.db.models import Episode, MediaFile, Movie, Season, utcnow
from reelhouse.library.linking import NAMING_VERSION, _show, link_file
from reelhouse.library.naming import Parsed, match_key

__all__ = ["BatchLinker", "NewFile"]

_IN = 500  # ids/keys per IN (…) list
_FILES: Table = MediaFile.__table__  # type: ignore[assignment]
_MOVIES: Table = Movie.__table__  # type: ignore[assignment]
_EPISODES: Table = Episode.__table__  # type: ignore[assignment]


@dataclass(slots=True)
class NewFile:
    """A file to insert: its column values (``source_id``, ``path``, ``size``, ``mtime``,
    ``first_seen``, ``last_seen`` …) and the parse of its path."""

    values: dict[str, object]
    parsed: Parsed


@dataclass
class BatchLinker:
    """Insert and place new files in batches (see the module doc); one per scan."""

    movies: dict[str, int] = field(default_factory=dict)  # match_key → movie id
    shows: dict[tuple[object, ...], int] = field(default_factory=dict)  # show identity → id
    seasons: dict[tuple[int, int], int] = field(default_factory=dict)  # (show id, number) → id
    episodes: dict[tuple[int, int], int] = field(default_factory=dict)  # (season id, number) → id
    loaded_shows: set[int] = field(default_factory=set)  # shows whose seasons are in the memo
    loaded_seasons: set[int] = field(default_factory=set)  # seasons whose episodes are

    def forget(self) -> None:
        """Drop the memos (after a failed batch: a title may have been deleted)."""
        for memo in (self.movies, self.shows, self.seasons, self.episodes, self.loaded_shows,
                     self.loaded_seasons):
            memo.clear()

    @staticmethod
    def batched(p: Parsed) -> bool:
        """Whether ``p`` takes the batched path."""
        if p.kind == "movie":
            return p.year is not None and p.tmdb_id is None and p.imdb_id is None
        return p.kind == "episode" and p.season is not None and p.episode is not None

    def insert(self, s: Session, files: list[NewFile]) -> dict[str, int]:
        """Insert and place ``files`` in session ``s`` (not committed); returns path → id."""
        fast = [f for f in files if self.batched(f.parsed)]
        slow = [f for f in files if not self.batched(f.parsed)]
        self._movies(s, [f.parsed for f in fast if f.parsed.kind == "movie"])
        episodes = [f.parsed for f in fast if f.parsed.kind == "episode"]
        self._episodes(s, episodes)
        rows = []
        for f in fast:
            p = f.parsed
            row = dict(f.values, kind=p.kind, part=p.part, version=p.version, extra_type=p.extra,
                       naming_version=NAMING_VERSION, movie_id=None, episode_id=None, show_id=None)
            if p.kind == "movie":
                row["movie_id"] = self.movies[match_key(p.title, p.year)]
            else:
                show = self.shows[_identity(p)]
                season = self.seasons[(show, p.season or 0)]
                # the episode's show beside it (db/episode_show.py keeps it for ORM writes)
                row["episode_id"], row["show_id"] = self.episodes[(season, p.episode or 0)], show
            rows.append(row)
        ids: dict[str, int] = {}
        if rows:  # Core, not the ORM: no objects for 100,000 rows; rows come back in any order
            stmt = _FILES.insert().returning(_FILES.c.id, _FILES.c.path)
            for file_id, path in s.connection().execute(stmt, rows):
                ids[path] = file_id
        for f in slow:  # one by one, after the batched titles exist
            mf = MediaFile(**f.values)
            s.add(mf)
            link_file(s, mf, f.parsed)
            s.flush()
            ids[mf.path] = mf.id
        return ids

    # -- films ---------------------------------------------------------------------------
    def _movies(self, s: Session, parsed: list[Parsed]) -> None:
        wanted: dict[str, Parsed] = {}
        for p in parsed:
            wanted.setdefault(match_key(p.title, p.year), p)
        unknown = [k for k in wanted if k not in self.movies]
        for start in range(0, len(unknown), _IN):
            for movie_id, key in s.execute(select(Movie.id, Movie.match_key)
                                           .where(Movie.match_key.in_(unknown[start:start + _IN]))):
                self.movies[key] = movie_id
        new = [{"title": wanted[k].title, "year": wanted[k].year, "match_key": k, "created_at": utcnow(),
                "needs_review": False, "locked": False} for k in unknown if k not in self.movies]
        if new:
            stmt = _MOVIES.insert().returning(_MOVIES.c.id, _MOVIES.c.match_key)
            self.movies.update((key, movie_id) for movie_id, key in s.connection().execute(stmt, new))

    # -- episodes ------------------------------------------------------------------------
    def _episodes(self, s: Session, parsed: list[Parsed]) -> None:
        for p in parsed:  # shows: few, found by linking's own rules once each
            ident = _identity(p)
            if ident not in self.shows:
                self.shows[ident] = _show(s, p).id
        show_ids = {self.shows[_identity(p)] for p in parsed} - self.loaded_shows
        for sid in show_ids:
            for season_id, number in s.execute(select(Season.id, Season.number).where(Season.show_id == sid)):
                self.seasons[(sid, number)] = season_id
            self.loaded_shows.add(sid)
        new_seasons: dict[tuple[int, int], Season] = {}
        for p in parsed:
            key = (self.shows[_identity(p)], p.season or 0)
            if key not in self.seasons and key not in new_seasons:
                new_seasons[key] = Season(show_id=key[0], number=key[1])
        if new_seasons:
            s.add_all(new_seasons.values())
            s.flush()
            for key, season in new_seasons.items():
                self.seasons[key] = season.id
                self.loaded_seasons.add(season.id)  # new: it has no episodes yet
        season_ids = {self.seasons[(self.shows[_identity(p)], p.season or 0)] for p in parsed}
        for season_id in season_ids - self.loaded_seasons:
            for ep_id, number in s.execute(select(Episode.id, Episode.number).where(Episode.season_id == season_id)):
                self.episodes[(season_id, number)] = ep_id
            self.loaded_seasons.add(season_id)
        new_eps: dict[tuple[int, int], dict[str, object]] = {}
        for p in parsed:
            season_id = self.seasons[(self.shows[_identity(p)], p.season or 0)]
            key = (season_id, p.episode or 0)
            values = new_eps.get(key)
            if key not in self.episodes and values is None:
                values = new_eps[key] = {"season_id": season_id, "number": key[1], "title": p.episode_title,
                                         "last_number": None, "air_date": None}
            if p.episode_end is None and p.air_date is None:
                continue
            if values is None:  # an episode already there: as link_file's _episode does
                ep = s.get(Episode, self.episodes[key])
                assert ep is not None
                ep.last_number = p.episode_end if p.episode_end is not None else ep.last_number
                ep.air_date = p.air_date if p.air_date is not None else ep.air_date
                continue
            if p.episode_end is not None:
                values["last_number"] = p.episode_end
            if p.air_date is not None:
                values["air_date"] = p.air_date
        s.flush()
        if new_eps:
            stmt = _EPISODES.insert().returning(_EPISODES.c.id, _EPISODES.c.season_id, _EPISODES.c.number)
            for ep_id, season_id, number in s.connection().execute(stmt, list(new_eps.values())):
                self.episodes[(season_id, number)] = ep_id


def _identity(p: Parsed) -> tuple[object, ...]:
    """What ``linking._find_show`` looks a show up by."""
    return (p.title, p.year, p.tvdb_id, p.tmdb_id, p.imdb_id)
