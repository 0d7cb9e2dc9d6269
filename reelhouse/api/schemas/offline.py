"""Offline copies (``/api/offline``): a user's view (their claims) and an admin's
(every copy with who claims it)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

__all__ = ["OfflineClaimPublic", "OfflineCopyAdmin", "OfflineCopyPublic"]


class OfflineCopyPublic(BaseModel):
    """A copy the caller keeps offline: the copy (shared by everyone who keeps the file)
    and the caller's claim on it. ``transfer_id``: the copy's download when it is the
    caller's transfer (another user's is not shown)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    media_file_id: int
    scope: str
    size: int
    state: str
    transfer_id: int | None
    error: str | None
    created_at: datetime
    ready_at: datetime | None
    claim_id: int | None = None
    claimed_at: datetime | None = None


class OfflineClaimPublic(BaseModel):
    """One user's claim on a copy."""

    id: int
    user_id: int
    user_name: str
    created_at: datetime


class OfflineCopyAdmin(OfflineCopyPublic):
    """A copy with every claim on it (admins): empty ``claims`` for a copy whose owner
    was deleted before copies had several owners."""

    claims: list[OfflineClaimPublic]
