"""Who may see what: per-user source grants applied to sources, media files and the
titles made of them, and what of a source a non-admin is shown.

A user with ``restrict_sources`` sees only the sources an admin granted; anything on
another source answers 404 (as if it did not exist), so ids do not leak. Non-admins
never see where a source lives: host, port, user name, root folder, the server's
error messages (they name hosts and paths).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.auth.users import UserService
from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show, User
from reelhouse.errors import NotFound

__all__ = ["SourceAccess", "sees_all"]


def sees_all(user: User) -> bool:
    """Whether ``user`` sees every source: an admin, or a user without
    ``restrict_sources`` (the one statement of that rule). Reads the user row only,
    never the database: the cheap test for a cache shared by such users
    (api/page_cache.py) or a read process told so (api/read_processes.py)."""
    return bool(user.is_admin or not user.restrict_sources)


class SourceAccess:
    """Checks of a user's source grants (admins and unrestricted users pass all)."""

    def __init__(self, sessions: sessionmaker[Session], users: UserService) -> None:
        self.db = sessions
        self.users = users

    def allowed(self, user: User) -> set[int] | None:
        """Source ids ``user`` may see, or None for all (:func:`sees_all`: then without
        reading the database; else their grants, one query)."""
        return None if sees_all(user) else set(self.users.granted_sources(user.id))

    def may_see_source(self, user: User, source_id: int | None) -> bool:
        allowed = self.allowed(user)
        return allowed is None or (source_id is not None and source_id in allowed)

    def check_source(self, user: User, source_id: int) -> None:
        """NotFound unless ``user`` may see the source."""
        if not self.may_see_source(user, source_id):
            raise NotFound(f"no source with id {source_id}")

    def may_play(self, user_id: int, file_id: int) -> bool:
        """Whether user ``user_id`` (still there) may see media file ``file_id``: the
        check behind playback tokens (reads the database only for a restricted user)."""
        with self.db() as s:
            user = s.get(User, user_id)
            if user is None:
                return False
            allowed = self.allowed(user)
            if allowed is None:
                return True
            sid = s.scalar(select(MediaFile.source_id).where(MediaFile.id == file_id))
        return sid is not None and sid in allowed

    def check_file(self, user: User, file_id: int) -> None:
        """NotFound unless ``user`` may see the media file (its source is granted)."""
        allowed = self.allowed(user)
        if allowed is None:
            return
        with self.db() as s:
            sid = s.scalar(select(MediaFile.source_id).where(MediaFile.id == file_id))
        if sid is None or sid not in allowed:
            raise NotFound(f"no media file with id {file_id}")

    def sees_files(self, user: User, file_ids: Iterable[int]) -> bool:
        """Whether ``user`` may see every media file of ``file_ids`` that still exists
        (one query for a restricted user; a file gone with its source counts for none):
        a watch party's files (party/service.py ``files_of``), each of which the party
        shows to its members by title."""
        allowed = self.allowed(user)
        if allowed is None:
            return True
        with self.db() as s:
            sources = set(s.scalars(select(MediaFile.source_id).where(MediaFile.id.in_(sorted(set(file_ids))))))
        return sources <= allowed

    def check_title(self, user: User, kind: str, item_id: int) -> None:
        """NotFound unless ``user`` may see movie (``kind`` "movie") or show ("show")
        ``item_id``: one of its files (a show: an episode's) is on a granted source."""
        allowed = self.allowed(user)
        if allowed is None:
            return
        granted = (MediaFile.source_id + 0).in_(sorted(allowed))  # off its index: see grid._file_filter
        if kind == "movie":
            stmt = select(MediaFile.id).where(MediaFile.movie_id == item_id, granted)
        else:
            stmt = select(MediaFile.id).where(  # an episode file names its show (db/episode_show.py)
                MediaFile.show_id == item_id, MediaFile.episode_id.is_not(None), granted)
        with self.db() as s:
            if s.execute(stmt.limit(1)).first() is None:
                raise NotFound(f"no {kind} with id {item_id}")

    def check_image(self, user: User, image_id: int) -> None:
        """NotFound unless ``user`` may see a title that shows the picture: a movie
        (poster, backdrop) with a file on a granted source, or a show (poster,
        backdrop), season (poster) or episode (still) with an episode file on one —
        the titles :mod:`reelhouse.api.visibility` lets them see; a poster names its
        film as well as its title does."""
        allowed = self.allowed(user)
        if allowed is None:
            return
        granted = (MediaFile.source_id + 0).in_(sorted(allowed))  # off its index: see grid._file_filter
        movies = (select(Movie.id).join(MediaFile, MediaFile.movie_id == Movie.id)
                  .where(or_(Movie.poster_image_id == image_id, Movie.backdrop_image_id == image_id), granted))
        episodes = (select(Episode.id).join(Season, Season.id == Episode.season_id)
                    .join(Show, Show.id == Season.show_id).join(MediaFile, MediaFile.episode_id == Episode.id)
                    .where(or_(Show.poster_image_id == image_id, Show.backdrop_image_id == image_id,
                               Season.poster_image_id == image_id, Episode.still_image_id == image_id), granted))
        with self.db() as s:
            seen = any(s.execute(stmt.limit(1)).first() is not None for stmt in (movies, episodes))
        if not seen:
            raise NotFound(f"no image with id {image_id}")
