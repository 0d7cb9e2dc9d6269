"""Metadata caches: cached pictures and TMDB responses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from reelhouse.db.models.base import Base, UTCDateTime, utcnow

__all__ = ["Image", "TmdbCache"]


class Image(Base):
    """A picture cached under ``<data_dir>/images`` (``file`` is relative to it).

    ``origin`` is "tmdb" (``ref`` = the TMDB image path, e.g. "/abc.jpg") or "source"
    (``ref`` = "<source id>:<path>"); ``width``/``height`` in pixels of the cached file."""

    __tablename__ = "images"
    __table_args__ = (UniqueConstraint("origin", "ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    origin: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(Text)
    file: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # bytes at the origin
    mtime: Mapped[float | None] = mapped_column(Float, nullable=True)  # at the origin (source files)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TmdbCache(Base):
    """One cached TMDB response (status 200), keyed by its URL without the API key."""

    __tablename__ = "tmdb_cache"

    key: Mapped[str] = mapped_column(String(1024), primary_key=True)
    body: Mapped[str] = mapped_column(Text)  # JSON
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
