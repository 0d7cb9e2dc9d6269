"""Users (accounts; see reelhouse/auth/ for hashing and sessions)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Integer,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from reelhouse.db.models.base import Base, UTCDateTime, utcnow

__all__ = ["User"]


class User(Base):
    __tablename__ = "users"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused (migration 0021h)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    restrict_sources: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
