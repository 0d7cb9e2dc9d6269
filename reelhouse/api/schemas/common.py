"""Shared shapes: a page of results."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

__all__ = ["Page"]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int
    next_cursor: str | None = Field(
        default=None, description="pass as ?cursor= for the next page (keyset: deep pages "
        "cost what the first does); null on the last page")
