"""Configured sources (see reelhouse/sources/registry.py for the service)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reelhouse.db.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from reelhouse.db.models.library import MediaFile

__all__ = ["SourceRow"]


class SourceRow(Base):
    """A configured source. ``password_enc`` is Fernet ciphertext, never returned."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "local" | "ftp"
    path: Mapped[str] = mapped_column(Text, default="/")  # local folder or FTP root folder
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    port: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str | None] = mapped_column(String(255), nullable=True)
    password_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    tls: Mapped[str] = mapped_column(String(16), default="none")
    verify_tls: Mapped[bool] = mapped_column(Boolean, default=True)
    tls_cert_pem: Mapped[str | None] = mapped_column(Text, nullable=True)  # trusted cert
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_scan_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # the start of the latest scan that reached its end: every present file of the source
    # not marked ``unlisted`` was listed by it (MediaFile.last_seen)
    last_listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    scan_interval: Mapped[int | None] = mapped_column(Integer, nullable=True)  # minutes; None: settings

    files: Mapped[list[MediaFile]] = relationship(
        back_populates="source", cascade="all, delete-orphan", passive_deletes=True
    )
