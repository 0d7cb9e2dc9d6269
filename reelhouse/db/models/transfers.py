"""Transfers, sync runs and offline copies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from reelhouse.db.models.base import Base, UTCDateTime, utcnow

__all__ = ["OfflineClaim", "OfflineCopy", "SyncRun", "Transfer"]


class Transfer(Base):
    """One queued file operation on a source: upload | download | delete | rename |
    mkdir. ``bytes_done``/``bytes_total`` are bytes, ``rate`` bytes/s; ``not_before``
    holds a retry back until then. State: queued | running | done | failed | cancelled."""

    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), nullable=True, index=True
    )
    remote_path: Mapped[str] = mapped_column(Text)
    target_path: Mapped[str | None] = mapped_column(Text, nullable=True)  # rename target
    local_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)  # higher runs first
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_total: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    remove_local: Mapped[bool] = mapped_column(Boolean, default=False)  # spooled upload
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)  # the job running it


class SyncRun(Base):
    """One comparison of a source with the library: counts of added / updated /
    deleted (soft: marked missing) / restored files and the errors met.
    State: running | done | partial | failed (partial: some folders could not be listed;
    failed: the source, or too many folders, could not be listed; nothing
    was marked deleted)."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="running")
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    restored: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)  # the job running it


class OfflineCopy(Base):
    """A media file kept in the local store so it plays when its source is down.
    ``local_path`` is relative to the store; ``size``/``mtime`` are the source file's
    signature when the copy was made (a copy of an older version is not served).
    ``scope`` says what was marked ("movie:3", "season:7"). State: pending | ready |
    failed. One copy per file, shared by every user who keeps it: who wants it are its
    :class:`OfflineClaim` rows; the copy goes with the last of them."""

    __tablename__ = "offline_copies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_file_id: Mapped[int] = mapped_column(
        ForeignKey("media_files.id", ondelete="CASCADE"), unique=True
    )
    scope: Mapped[str] = mapped_column(String(64), index=True)
    local_path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime: Mapped[float | None] = mapped_column(Float, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    transfer_id: Mapped[int | None] = mapped_column(
        ForeignKey("transfers.id", ondelete="SET NULL"), nullable=True
    )
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OfflineClaim(Base):
    """One user's wish to keep an offline copy: "keep offline" adds the user's claim
    (the copy is made once), "release" removes it; the copy is removed with its last
    claim. A user sees and releases only their own claims; admins all."""

    __tablename__ = "offline_claims"
    __table_args__ = (UniqueConstraint("copy_id", "user_id", name="uq_offline_claims_copy_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    copy_id: Mapped[int] = mapped_column(ForeignKey("offline_copies.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
