"""Manual metadata correction: TMDB candidates, a pick, a hand edit."""

from __future__ import annotations

import unicodedata

from pydantic import BaseModel, Field, field_validator

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


#: Unicode categories a title may not hold (after the trim): control characters (Cc:
#: C0, DEL, C1 such as NEL), line and paragraph separators. A title is one line of
#: text that grids, apps and file names show.
_NOT_IN_TITLES = frozenset({"Cc", "Zl", "Zp"})
#: Categories that show nothing: a title of only these is empty.
_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


class ItemUpdate(RequestBody):
    """PATCH body: fields to set by hand (``year: null`` clears the year). The title
    is trimmed of surrounding whitespace; empty after that (spaces, NBSPs, zero-width
    characters only) or holding control characters or line breaks, it is a 422 that
    says which."""

    title: str | None = Field(default=None, min_length=1, max_length=512)
    year: int | None = Field(default=None, ge=1870, le=2200)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        if value is None:
            return None
        trimmed = value.strip()
        if all(unicodedata.category(c) in _INVISIBLE for c in trimmed):
            raise ValueError("the title is empty: it has only spaces or invisible characters")
        if any(unicodedata.category(c) in _NOT_IN_TITLES for c in trimmed):
            raise ValueError("the title has control characters (line breaks, tabs, NUL, ESC …): "
                             "a title is one line of text")
        return trimmed
