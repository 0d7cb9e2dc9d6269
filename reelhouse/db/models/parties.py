"""Watch parties and their participants."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reelhouse.db.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from reelhouse.db.models.users import User

__all__ = ["SyncPlayMember", "SyncPlayQueue", "WatchParticipant", "WatchSession"]


class WatchSession(Base):
    """A watch party (see reelhouse/party/state.py for the rules). ``position`` (s) holds
    at server time ``position_at`` (epoch s) and advances at ``rate`` while ``state`` is
    ``playing``. ``version`` guards concurrent writers (optimistic locking)."""

    __tablename__ = "watch_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    media_file_id: Mapped[int] = mapped_column(ForeignKey("media_files.id", ondelete="CASCADE"), index=True)
    host_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    mode: Mapped[str] = mapped_column(String(16), default="host")  # host | collaborative
    state: Mapped[str] = mapped_column(String(16), default="idle")  # idle|waiting|paused|playing|ended
    position: Mapped[float] = mapped_column(Float, default=0.0)
    position_at: Mapped[float] = mapped_column(Float, default=0.0)
    rate: Mapped[float] = mapped_column(Float, default=1.0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    participants: Mapped[list[WatchParticipant]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True,
        order_by="WatchParticipant.joined_at",
    )


class WatchParticipant(Base):
    """A member of a party: ``joined_at`` (epoch s) orders host succession;
    ``buffering_since`` (epoch s) is set while their player cannot play."""

    __tablename__ = "watch_participants"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("watch_sessions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[float] = mapped_column(Float)
    connected: Mapped[bool] = mapped_column(Boolean, default=False)
    buffering_since: Mapped[float | None] = mapped_column(Float, nullable=True)

    session: Mapped[WatchSession] = relationship(back_populates="participants")
    user: Mapped[User] = relationship()


class SyncPlayMember(Base):
    """A Jellyfin app's session in a SyncPlay group (reelhouse/jellyfin/syncplay_groups.py):
    ``grant`` names the session or API key (``s:<id>``, ``k:<id>``: one group each, as
    Jellyfin keeps one group per session); ``party_id`` is the watch party the group is,
    NULL while the group has no item yet (Jellyfin's ``SyncPlay/New`` before a queue);
    ``name`` is the group name asked for then."""

    __tablename__ = "syncplay_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant: Mapped[str] = mapped_column(String(40), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int | None] = mapped_column(
        ForeignKey("watch_sessions.id", ondelete="CASCADE"), nullable=True, index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncPlayQueue(Base):
    """The play queue of the SyncPlay group a watch party is
    (reelhouse/jellyfin/syncplay_queue.py: ``data`` is ``PlayQueue.to_json()``); the
    party's file is the playing entry's. ``version`` guards concurrent writers
    (optimistic locking). A party without a row (made in the browser) plays a queue
    of its one file."""

    __tablename__ = "syncplay_queues"

    party_id: Mapped[int] = mapped_column(ForeignKey("watch_sessions.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=0)
