"""Background jobs with persistent progress."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy import (
    false as sa_false,
)
from sqlalchemy.orm import Mapped, mapped_column

from reelhouse.db.models.base import Base, UTCDateTime, utcnow

__all__ = ["Job"]


def _new_key() -> str:
    return uuid.uuid4().hex


class Job(Base):
    """A background job (scan, sync, transfer, HLS prepare…) with persistent progress;
    the queue and the leases of reelhouse/jobs keep ``owner``/``lease_until`` (see there)."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL"), nullable=True
    )
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|failed|cancelled
    progress: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    #: the job's identity in queue messages (a uuid4, never reused, unlike ids SQLite frees)
    key: Mapped[str] = mapped_column(String(32), unique=True, index=True, default=_new_key)
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # higher first
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # the task's arguments
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True)  # process running it
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # times claimed
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # retry wait
