"""Adaptive HLS: an audio or subtitle track as the API lists it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["TrackOut"]


class TrackOut(BaseModel):
    """An audio or subtitle track: ``key`` names it in HLS URLs (``audio1``, ``e0``, ``x0``)."""

    model_config = ConfigDict(from_attributes=True)
    key: str
    language: str | None
    name: str
    codec: str
    text: bool = True
    forced: bool = False
