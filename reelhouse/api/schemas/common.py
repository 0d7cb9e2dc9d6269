"""Shared shapes: a page of results, and the base of every JSON request body."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Page", "RequestBody"]

T = TypeVar("T")


class RequestBody(BaseModel):
    """A JSON request body: a field the route does not take is a 422 naming it
    ("pasword: unknown field"), never dropped without a word (a typo in a PATCH read
    as a 200 that changed nothing)."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int
    next_cursor: str | None = Field(
        default=None, description="pass as ?cursor= for the next page (keyset: deep pages "
        "cost what the first does); null on the last page")
