"""Placing a media file in the library: its movie (and version), its show, season and
episode, or the film or show it is an extra of — from what naming.parse_media_path
reads in its path. No I/O but the session.

Identity: a movie or show is its title and year (``naming.match_key``), or a provider
id tagged in its folder (``[tmdbid=…]``, ``{tvdb-…}``), so remakes ("Doctor Who (1963)",
"Doctor Who (2005)") stay apart. A file without a year joins the one title of that name
if there is exactly one.

Relinking: every file records the naming rules that placed it (``naming_version``).
When the rules change (``NAMING_VERSION``), a scan places unchanged files again: the
file row keeps its id, so watch progress, parties and offline copies stay; a file of a
title a user fixed by hand (``locked``) stays with that title.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show
from reelhouse.library.naming import Parsed, match_key, parse_media_path, parse_media_paths

__all__ = ["NAMING_VERSION", "link_file", "prune_unlinked_titles", "relink", "unplaced_extras"]

#: The version of the naming rules; files placed by older rules are placed again.
#: 3: release names without guessit, Fahrenheit.451.1080p, H.264 (issue 14); 4: scene releases
#: named by their folder, UTF-8 names read as latin-1 (vsftpd); 5: trailers and samples named
#: after the film, "Vol. N" kept, number-named shows, extras of a release folder, editions;
#: 6: "Friends - 101" in "Season 1" is S01E01 unless the folder's files are absolute numbers
#: 7: double episodes "Friends - 101-102", "101 & 102", "Show.101.102", "1x01 & 1x02", "S01E01 & E02" (S01E01-E02)
NAMING_VERSION = 7


def _same_title(column: InstrumentedAttribute[str], key: str) -> ColumnElement[bool]:
    text = key.rsplit("|", 1)[0]
    return column.like(text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "|%", escape="\\")


_Title = TypeVar("_Title", Movie, Show)


def _tagged(s: Session, model: type[_Title],
            ids: Iterable[tuple[InstrumentedAttribute[Any], object | None]]) -> _Title | None:
    """The first ``model`` row with one of the provider ids a path is tagged with, tried
    in order (``(column, id)``; an untagged id is None)."""
    for column, value in ids:
        if value is not None:
            found = s.scalar(select(model).where(column == value).limit(1))
            if found is not None:
                return found
    return None


def _only_title(s: Session, model: type[_Title], key: str) -> _Title | None:
    """The one ``model`` row whose title is that of ``key`` (any year), if only one."""
    same = list(s.scalars(select(model).where(_same_title(model.match_key, key)).limit(2)))
    return same[0] if len(same) == 1 else None


def _find_movie(s: Session, parsed: Parsed) -> Movie | None:
    found = _tagged(s, Movie, ((Movie.tmdb_id, parsed.tmdb_id), (Movie.imdb_id, parsed.imdb_id)))
    if found is not None:
        return found
    key = match_key(parsed.title, parsed.year)
    found = s.scalar(select(Movie).where(Movie.match_key == key))
    if found is None and parsed.year is None:  # "Heat.mkv": the one "Heat", if only one
        found = _only_title(s, Movie, key)
    if found is not None and parsed.tmdb_id is not None and found.tmdb_id not in (None, parsed.tmdb_id):
        return None  # tagged as another film
    return found


def _find_show(s: Session, parsed: Parsed) -> Show | None:
    found = _tagged(s, Show, ((Show.tvdb_id, parsed.tvdb_id), (Show.tmdb_id, parsed.tmdb_id)))
    if found is not None:
        return found
    key = match_key(parsed.title, parsed.year)
    found = s.scalar(select(Show).where(Show.match_key == key))
    if found is not None:
        return found
    if parsed.year is None:  # "Show/S01E01.mkv": the one show of that name, if only one
        return _only_title(s, Show, key)
    # a show that was found without a year (before: shows were keyed by title alone)
    legacy = s.scalar(select(Show).where(Show.match_key == match_key(parsed.title)))
    if legacy is not None and legacy.year in (None, parsed.year):
        legacy.match_key, legacy.year = key, parsed.year
        return legacy
    return None


def _movie(s: Session, parsed: Parsed) -> Movie:
    movie = _find_movie(s, parsed)
    if movie is None:
        movie = Movie(title=parsed.title, year=parsed.year, match_key=match_key(parsed.title, parsed.year),
                      tmdb_id=parsed.tmdb_id, imdb_id=parsed.imdb_id)
        s.add(movie)
        s.flush()
    elif not movie.locked:  # a tag in a folder name is the user's word
        movie.tmdb_id = movie.tmdb_id or parsed.tmdb_id
        movie.imdb_id = movie.imdb_id or parsed.imdb_id
    return movie


def _show(s: Session, parsed: Parsed) -> Show:
    show = _find_show(s, parsed)
    if show is None:
        show = Show(title=parsed.title, year=parsed.year, match_key=match_key(parsed.title, parsed.year),
                    tmdb_id=parsed.tmdb_id, imdb_id=parsed.imdb_id, tvdb_id=parsed.tvdb_id)
        s.add(show)
        s.flush()
    elif parsed.tvdb_id is not None and show.tvdb_id is None:
        show.tvdb_id = parsed.tvdb_id
    return show


def _episode(s: Session, show: Show, parsed: Parsed) -> Episode:
    assert parsed.season is not None and parsed.episode is not None
    season = s.scalar(select(Season).where(Season.show_id == show.id, Season.number == parsed.season))
    if season is None:
        season = Season(show_id=show.id, number=parsed.season)
        s.add(season)
        s.flush()
    ep = s.scalar(select(Episode).where(Episode.season_id == season.id, Episode.number == parsed.episode))
    if ep is None:
        ep = Episode(season_id=season.id, number=parsed.episode, title=parsed.episode_title)
        s.add(ep)
    if parsed.episode_end is not None:
        ep.last_number = parsed.episode_end
    if parsed.air_date is not None:
        ep.air_date = parsed.air_date
    s.flush()
    return ep


def _locked_owner(s: Session, mf: MediaFile) -> Movie | Show | None:
    """The title a user fixed by hand that ``mf`` belongs to now, if any."""
    if mf.movie_id is not None:
        movie = s.get(Movie, mf.movie_id)
        return movie if movie is not None and movie.locked else None
    if mf.episode_id is not None:
        ep = s.get(Episode, mf.episode_id)
        show = ep.season.show if ep is not None else None
        return show if show is not None and show.locked else None
    if mf.show_id is not None:
        show = s.get(Show, mf.show_id)
        return show if show is not None and show.locked else None
    return None


def link_file(s: Session, mf: MediaFile, parsed: Parsed | None = None) -> None:
    """Place ``mf`` (a row of session ``s``) by its path: set its kind, part, version,
    extra type and its movie, episode or (extra of a) show; create the titles it
    needs. ``parsed``: the path's parse, if the caller has it."""
    parsed = parsed or parse_media_path(mf.path)
    locked = _locked_owner(s, mf)
    mf.kind, mf.part, mf.version = parsed.kind, parsed.part, parsed.version
    mf.extra_type = parsed.extra
    mf.movie_id = mf.episode_id = mf.show_id = None
    mf.naming_version = NAMING_VERSION
    if parsed.kind == "movie":
        mf.movie_id = (locked if isinstance(locked, Movie) else _movie(s, parsed)).id
    elif parsed.kind == "episode" and parsed.season is not None and parsed.episode is not None:
        show = locked if isinstance(locked, Show) else _show(s, parsed)
        mf.episode_id = _episode(s, show, parsed).id
    elif parsed.kind == "extra":
        movie = _find_movie(s, parsed)
        if movie is not None:
            mf.movie_id = movie.id
        elif (owner := _find_show(s, parsed)) is not None:
            mf.show_id = owner.id
        # else: its film or show is not in the library (yet); a later scan places it


def unplaced_extras(s: Session, source_id: int) -> list[int]:
    """Ids of the extras of ``source_id`` whose film or show was not found when they
    were placed."""
    return list(s.scalars(select(MediaFile.id).where(
        MediaFile.source_id == source_id, MediaFile.kind == "extra", MediaFile.missing_since.is_(None),
        MediaFile.movie_id.is_(None), MediaFile.show_id.is_(None))))


def prune_unlinked_titles(s: Session) -> None:
    """Delete the titles no file points at any more after files were placed again —
    but not those a user fixed by hand (``locked``)."""
    s.execute(delete(Movie).where(~Movie.files.any(), Movie.locked.is_(False)))
    s.execute(delete(Episode).where(~Episode.files.any()))
    s.execute(delete(Season).where(~Season.episodes.any()))
    s.execute(delete(Show).where(~Show.seasons.any(), ~Show.extras.any(), Show.locked.is_(False)))


def relink(s: Session, file_ids: list[int]) -> list[int]:
    """Place files ``file_ids`` again (rules changed, or extras whose film was missing);
    returns the ids whose title changed. Prunes the titles left without files."""
    changed: list[int] = []
    paths = [path for start in range(0, len(file_ids), 500)
             for path in s.scalars(select(MediaFile.path).where(MediaFile.id.in_(file_ids[start:start + 500])))]
    parsed = dict(zip(paths, parse_media_paths(paths), strict=True))  # a season folder's files read together
    for start in range(0, len(file_ids), 500):
        for mf in s.scalars(select(MediaFile).where(MediaFile.id.in_(file_ids[start:start + 500]))):
            before = (mf.movie_id, mf.episode_id, mf.show_id)
            link_file(s, mf, parsed.get(mf.path))
            if (mf.movie_id, mf.episode_id, mf.show_id) != before:
                changed.append(mf.id)
    s.flush()
    prune_unlinked_titles(s)
    return changed
