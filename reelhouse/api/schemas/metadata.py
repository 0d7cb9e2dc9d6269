"""Manual metadata correction: TMDB candidates, a pick, a hand edit."""

from __future__ import annotations

from pydantic import BaseModel, Field

from reelhouse.api.schemas.common import RequestBody

__all__ = ["ItemUpdate", "MatchCandidatePublic", "MatchPick"]


class MatchCandidatePublic(BaseModel):
    """A TMDB search result for the "fix match" dialog."""

    tmdb_id: int
    title: str
    original_title: str | None
    year: int | None
    overview: str | None
    poster_url: str | None = Field(description="TMDB's own small poster URL (w200)")
    confidence: float = Field(description="0..1 against the query")


class MatchPick(RequestBody):
    tmdb_id: int = Field(ge=1, le=2**31 - 1)


class ItemUpdate(RequestBody):
    """PATCH body: fields to set by hand (``year: null`` clears the year)."""

    title: str | None = Field(default=None, min_length=1, max_length=512)
    year: int | None = Field(default=None, ge=1870, le=2200)
