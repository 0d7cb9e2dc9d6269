"""ORM rows of the auth layer: server-side sessions, API keys, per-user source grants
and the audit log. Data only (the services in :mod:`reelhouse.auth` own the rules)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reelhouse.db.models.base import Base, UTCDateTime, utcnow

__all__ = ["ApiKey", "AuditEvent", "AuthSession", "UserSource"]


class AuthSession(Base):
    """One login (browser cookie, bearer token, Jellyfin client). Only the SHA-256 of the
    token is stored; deleting the row revokes it on every process at once.
    ``expires_at`` is the absolute end; ``last_seen_at`` drives the idle timeout."""

    __tablename__ = "auth_sessions"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused (migration 0021h)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="web")  # web | api | jellyfin
    device: Mapped[str] = mapped_column(String(128), default="")
    client: Mapped[str] = mapped_column(String(128), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiKey(Base):
    """A long-lived key for automation (``Authorization: Bearer rhk_…``); only its
    SHA-256 is stored, ``prefix`` (the first characters) identifies it in lists."""

    __tablename__ = "api_keys"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused (migration 0021h)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class UserSource(Base):
    """A source a user with ``restrict_sources`` may see."""

    __tablename__ = "user_sources"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)


class AuditEvent(Base):
    """Who did what from where: ``action`` such as ``login``, ``user.create``,
    ``source.update``, ``transfer.create``; ``ok`` false for a refused attempt."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    user_name: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(48))
    target: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    ok: Mapped[bool] = mapped_column(Boolean, default=True)
