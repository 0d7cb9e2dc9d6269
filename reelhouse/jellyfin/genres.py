"""Genres as Jellyfin items: the names in the titles' metadata (NFO or TMDB), each
with an id (:func:`ids.genre_id`) and its counts of films and series.

Only titles the user may see count: a title with a present file on a source they are
granted (or any, for a user without grants). So a genre that only a hidden source's
titles have does not exist for that user: not listed, ``Genres/{name}`` is 404 and
its id filters nothing. Names are compared in lower case (``Drama`` and ``drama`` are
one genre, shown as most titles spell it; on a tie, the spelling that sorts first:
``Drama`` before ``drama``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show
from reelhouse.jellyfin import ids

__all__ = ["Genre", "genre_dto", "visible_genres"]


@dataclass
class Genre:
    """A genre's name (as first met) and how many visible films and series have it."""

    name: str
    movies: int = 0
    series: int = 0

    @property
    def id(self) -> str:
        return ids.genre_id(self.name)


def visible_genres(s: Session, granted: frozenset[int] | None, kinds: Iterable[str] = ("movie", "show"),
                   show_id: int | None = None) -> list[Genre]:
    """The genres of the visible films (``movie`` in ``kinds``) and series (``show``),
    of one series only with ``show_id``; sorted by name, case-insensitively."""
    wanted = set(kinds)
    found: dict[str, Genre] = {}
    spellings: dict[str, Counter[str]] = {}
    arms: list[tuple[type[Movie] | type[Show], ColumnElement[bool]]] = []
    if "movie" in wanted and show_id is None:
        arms.append((Movie, MediaFile.movie_id == Movie.id))
    if "show" in wanted:
        arms.append((Show, (MediaFile.episode_id == Episode.id) & (Episode.season_id == Season.id)
                     & (Season.show_id == Show.id)))
    for table, link in arms:
        present = select(MediaFile.id).where(link, MediaFile.missing_since.is_(None))
        if granted is not None:
            present = present.where(MediaFile.source_id.in_(sorted(granted)))
        stmt = select(table.genres).where(present.exists())
        if table is Show and show_id is not None:
            stmt = stmt.where(Show.id == show_id)
        for (names,) in s.execute(stmt):
            seen: set[str] = set()
            for name in names or []:
                if not isinstance(name, str) or not name.strip() or name.strip().lower() in seen:
                    continue
                key = name.strip().lower()
                seen.add(key)
                genre = found.setdefault(key, Genre(name.strip()))
                spellings.setdefault(key, Counter())[name.strip()] += 1
                if table is Movie:
                    genre.movies += 1
                else:
                    genre.series += 1
    for key, genre in found.items():
        genre.name = min(spellings[key].items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return sorted(found.values(), key=lambda g: g.name.lower())


def genre_dto(genre: Genre, server_id: str, counts: bool = False) -> dict[str, object]:
    """A ``BaseItemDto`` of type ``Genre`` (``MovieCount``/``SeriesCount``/``ChildCount``
    with ``counts``: the ``ItemCounts`` field)."""
    out: dict[str, object] = {
        "Name": genre.name, "ServerId": server_id, "Id": genre.id, "Type": "Genre",
        "SortName": genre.name.lower(), "IsFolder": True, "LocationType": "FileSystem",
        "MediaType": "Unknown", "ImageTags": {}, "BackdropImageTags": [], "ImageBlurHashes": {},
        "ChannelId": None}
    if counts:
        out.update({"MovieCount": genre.movies, "SeriesCount": genre.series,
                    "ChildCount": genre.movies + genre.series})
    return out
