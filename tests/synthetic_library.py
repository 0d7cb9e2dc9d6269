"""A synthetic library written straight into the database, for the big-library tests
(query plans, the fast read paths of library/views.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert

from reelhouse.core import Core
from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show, SourceRow, User, WatchProgress

__all__ = ["fill"]

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
                   "episode_id": (sh * 10 + n) * 100 + e, "height": 720, "first_seen": NOW, "last_seen": NOW}
                  for sh in range(1, shows + 1) for n in (1, 2) for e in range(1, 11)]
        s.execute(insert(MediaFile), files)
        s.execute(insert(WatchProgress), [{"user_id": 1, "media_file_id": i, "position": 10.0,
                                           "watched": i % 4 == 0, "updated_at": NOW} for i in range(1, 60)])
        s.commit()
    return {"movies": movies, "shows": shows, "files": len(files)}
