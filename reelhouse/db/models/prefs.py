"""Settings a client app keeps on the server: Jellyfin's display preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reelhouse.db.models.base import Base, UTCDateTime, utcnow

__all__ = ["DisplayPrefs"]


class DisplayPrefs(Base):
    """One ``DisplayPreferencesDto`` a Jellyfin app saved (``POST
    DisplayPreferences/{id}?client=…``): per user, client name (``emby``, ``Kodi``)
    and preferences id (a library's, ``usersettings``, ``home``). ``data`` holds the
    fields the app may set (see jellyfin/prefs.py), as JSON."""

    __tablename__ = "display_prefs"
    __table_args__ = (UniqueConstraint("user_id", "client", "pref_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client: Mapped[str] = mapped_column(String(64))
    pref_id: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
