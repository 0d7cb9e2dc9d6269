"""Transfers (``/api/transfers``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reelhouse.api.schemas.common import RequestBody
from reelhouse.db.limits import INT_MAX

__all__ = ["TransferCreate", "TransferPublic"]


class TransferCreate(RequestBody):
    """A queued operation. ``download``: ``local_path`` is relative to the library store
    (default ``<source name>/<remote_path>``). ``upload`` from the API takes a
    ``local_path`` inside the store (a browser file goes to ``POST /api/transfers/upload``).
    ``rename`` needs ``target_path``."""

    kind: Literal["upload", "download", "delete", "rename", "mkdir"]
    source_id: int = Field(ge=1, le=INT_MAX)
    remote_path: str = Field(min_length=1, max_length=4096)
    local_path: str | None = Field(default=None, max_length=4096)
    target_path: str | None = Field(default=None, max_length=4096)
    priority: int = Field(default=0, ge=-1000, le=1000)


class TransferPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    source_id: int | None
    remote_path: str
    target_path: str | None
    local_path: str | None
    priority: int
    state: str
    bytes_done: int = Field(description="bytes")
    bytes_total: int | None = Field(description="bytes")
    rate: float | None = Field(description="bytes/s over the last seconds")
    eta_seconds: float | None = Field(default=None, description="seconds left at that rate")
    percent: float | None = None
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
