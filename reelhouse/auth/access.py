"""Who may see what: per-user source grants applied to sources, media files and the
titles made of them, and what of a source a non-admin is shown.

A user with ``restrict_sources`` sees only the sources an admin granted; anything on
another source answers 404 (as if it did not exist), so ids do not leak. Non-admins
never see where a source lives: host, port, user name, root folder, the server's
error messages (they name hosts and paths).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.auth.users import UserService
from reelhouse.db.models import MediaFile, User
from reelhouse.errors import NotFound

__all__ = ["SourceAccess"]


class SourceAccess:
    """Checks of a user's source grants (admins and unrestricted users pass all)."""

    def __init__(self, sessions: sessionmaker[Session], users: UserService) -> None:
        self.db = sessions
        self.users = users

    def allowed(self, user: User) -> set[int] | None:
        """Source ids ``user`` may see, or None for all."""
        return self.users.allowed_sources(user)

    def may_see_source(self, user: User, source_id: int | None) -> bool:
        allowed = self.allowed(user)
        return allowed is None or (source_id is not None and source_id in allowed)

    def check_source(self, user: User, source_id: int) -> None:
        """NotFound unless ``user`` may see the source."""
        if not self.may_see_source(user, source_id):
            raise NotFound(f"no source with id {source_id}")

    def check_file(self, user: User, file_id: int) -> None:
        """NotFound unless ``user`` may see the media file (its source is granted)."""
        allowed = self.allowed(user)
        if allowed is None:
            return
        with self.db() as s:
            sid = s.scalar(select(MediaFile.source_id).where(MediaFile.id == file_id))
        if sid is None or sid not in allowed:
            raise NotFound(f"no media file with id {file_id}")
