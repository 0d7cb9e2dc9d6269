"""A synthetic library written straight into the database, for the big-library tests
(query plans, the fast read paths of library/views.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from reelhouse.core import Core
from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show, SourceRow, User, WatchProgress

__all__ = ["fill", "fill_with_gaps", "ftp_source", "titled_films"]

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def fill(core: Core, movies: int = 300, shows: int = 12) -> dict[str, int]:
    """A synthetic library straight into the database: ``movies`` films and ``shows``
    shows of 2 seasons x 10 episodes, one file each, on one source; one user who has
    watched some."""
    with core.sessions() as s:
        s.execute(insert(SourceRow), [{"id": 1, "name": "disk", "kind": "local", "path": "/m",
                                       "tls": "none", "verify_tls": True, "created_at": NOW}])
        s.execute(insert(User), [{"id": 1, "name": "u", "password_hash": "x", "is_admin": False,
                                  "created_at": NOW}])
        s.execute(insert(Movie), [{"id": i, "title": f"{chr(65 + i % 26)}ilm {i}", "year": 1950 + i % 70,
                                   "match_key": f"m{i}", "genres": ["Drama"] if i % 3 else ["Comedy"],
                                   "needs_review": False, "locked": False, "created_at": NOW}
                                  for i in range(1, movies + 1)])
        s.execute(insert(Show), [{"id": i, "title": f"{chr(65 + i % 26)}how {i}", "year": 2000 + i,
                                  "match_key": f"s{i}", "needs_review": False, "locked": False,
                                  "created_at": NOW} for i in range(1, shows + 1)])
        s.execute(insert(Season), [{"id": sh * 10 + n, "show_id": sh, "number": n}
                                   for sh in range(1, shows + 1) for n in (1, 2)])
        s.execute(insert(Episode), [{"id": (sh * 10 + n) * 100 + e, "season_id": sh * 10 + n, "number": e}
                                    for sh in range(1, shows + 1) for n in (1, 2) for e in range(1, 11)])
        files = [{"source_id": 1, "path": f"Films/{i}.mkv", "size": 1, "kind": "movie", "movie_id": i,
                  "height": 1080 if i % 2 else 720, "first_seen": NOW, "last_seen": NOW}
                 for i in range(1, movies + 1)]
        files += [{"source_id": 1, "path": f"Shows/{sh}/{n}/{e}.mkv", "size": 1, "kind": "episode",
                   "episode_id": (sh * 10 + n) * 100 + e, "show_id": sh, "height": 720, "first_seen": NOW,
                   "last_seen": NOW}
                  for sh in range(1, shows + 1) for n in (1, 2) for e in range(1, 11)]
        s.execute(insert(MediaFile), files)
        s.execute(insert(WatchProgress), [{"user_id": 1, "media_file_id": i, "position": 10.0,
                                           "watched": i % 4 == 0, "updated_at": NOW} for i in range(1, 60)])
        s.commit()
    return {"movies": movies, "shows": shows, "files": len(files)}


def ftp_source(s: Session, files: Sequence[dict[str, Any]] = (), name: str = "ftp") -> None:
    """Write a second source (id 2, FTP, named ``name``) and ``files`` on it in session
    ``s`` (``MediaFile`` rows, in order; ``source_id`` 2, ``size`` 1 and first and last
    seen :data:`NOW` unless they say otherwise); not committed."""
    s.execute(insert(SourceRow), [{"id": 2, "name": name, "kind": "ftp", "path": "/", "host": "h",
                                   "tls": "none", "verify_tls": True, "created_at": NOW}])
    if files:  # an episode file names its show (db/episode_show.py): episode (sh*10+n)*100+e is show sh's
        s.execute(insert(MediaFile), [{"source_id": 2, "size": 1, "first_seen": NOW, "last_seen": NOW,
                                       **({"show_id": f["episode_id"] // 1000} if f.get("episode_id") else {}), **f}
                                      for f in files])


def titled_films(core: Core, titles: list[str]) -> None:
    """One local source (id 1) and a film a title (ids from 1, in order), written through
    the ORM so that its title event fills the search and sort keys, one file each;
    committed (the title-search tests)."""
    with core.sessions() as s:
        s.add(SourceRow(id=1, name="disk", kind="local", path="/m", created_at=NOW))
        s.flush()
        for i, title in enumerate(titles, start=1):
            s.add(Movie(id=i, title=title, match_key=f"m{i}"))
        s.execute(insert(MediaFile), [{"source_id": 1, "path": f"m/{i}.mkv", "size": 1, "kind": "movie",
                                       "movie_id": i, "first_seen": NOW, "last_seen": NOW}
                                      for i in range(1, len(titles) + 1)])
        s.commit()


def fill_with_gaps(core: Core, movies: int, source_name: str, files: list[dict[str, Any]]) -> None:
    """:func:`fill` (``movies`` films, 4 shows), then a second source (id 2, FTP, named
    ``source_name``) holding ``files`` (:func:`ftp_source`), then
    files gone missing: a whole season of show 3, one episode file of show 2 (episode
    2102), every file of movie 5. Committed (the fast read paths' tests)."""
    fill(core, movies=movies, shows=4)
    with core.sessions() as s:
        ftp_source(s, files, source_name)
        s.execute(update(MediaFile).where(MediaFile.path.like("Shows/3/2/%")).values(missing_since=NOW))
        s.execute(update(MediaFile).where(MediaFile.episode_id == 2102).values(missing_since=NOW))
        s.execute(update(MediaFile).where(MediaFile.movie_id == 5).values(missing_since=NOW))
        s.commit()
