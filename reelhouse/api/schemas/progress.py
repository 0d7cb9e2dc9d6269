"""Watch progress and "continue watching"."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from reelhouse.api.schemas.common import RequestBody

__all__ = ["ProgressIn", "ProgressPublic", "ResumePublic", "WatchedIn"]


class ProgressIn(RequestBody):
    position: float = Field(ge=0, le=10**7, description="seconds from the start")
    duration: float | None = Field(default=None, gt=0, le=10**7, description="seconds; default: probed")


class WatchedIn(RequestBody):
    watched: bool


class ProgressPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    media_file_id: int
    position: float = Field(description="resume point, seconds (0: start from the beginning)")
    duration: float | None
    watched: bool
    updated_at: datetime | None


class ResumePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    media_file_id: int
    title: str
    subtitle: str | None
    position: float
    duration: float | None
    percent: int
