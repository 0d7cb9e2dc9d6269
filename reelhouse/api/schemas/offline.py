"""Offline copies (``/api/offline``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

__all__ = ["OfflineCopyPublic"]


class OfflineCopyPublic(BaseModel):
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
