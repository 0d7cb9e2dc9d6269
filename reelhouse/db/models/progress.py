"""A user's marks: watch progress (where they are in a media file) and favourites."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from reelhouse.db.models.base import Base, UTCDateTime, utcnow

__all__ = ["Favorite", "WatchProgress"]


class WatchProgress(Base):
    """Where a user is in a media file. ``position`` and ``duration`` are seconds;
    ``watched`` follows Jellyfin's rule (see library/progress.py)."""

    __tablename__ = "watch_progress"
    __table_args__ = (UniqueConstraint("user_id", "media_file_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    media_file_id: Mapped[int] = mapped_column(ForeignKey("media_files.id", ondelete="CASCADE"), index=True)
    position: Mapped[float] = mapped_column(Float, default=0.0)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    watched: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the audio and subtitle streams (``MediaStream.index``; subtitles -1: off) the
    #: user last played the file with, None: none chosen (Jellyfin's UserItemData
    #: ``AudioStreamIndex``/``SubtitleStreamIndex``)
    audio_stream_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    subtitle_stream_index: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Favorite(Base):
    """A title's favourite mark for a user (Jellyfin's ``IsFavorite``): ``item_kind`` is
    movie | show | season | episode and ``item_id`` that row's id. Unfavouriting keeps
    the row with ``is_favorite`` false, so ``updated_at`` (when the mark was last set or
    cleared) tells a syncing client (``MinDateLastSavedForUser``) of the change."""

    __tablename__ = "favorites"
    __table_args__ = (UniqueConstraint("user_id", "item_kind", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    item_kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_favorite: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
