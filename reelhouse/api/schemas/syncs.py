"""Sync runs (``/api/syncs``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SyncRunPublic"]


class SyncRunPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    source_id: int
    state: str
    added: int
    updated: int
    deleted: int = Field(description="files marked missing (soft delete)")
    restored: int
    unchanged: int
    errors: list[str]
    started_at: datetime
    finished_at: datetime | None
