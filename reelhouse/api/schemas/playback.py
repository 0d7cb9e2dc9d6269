"""Opening a playback: the stream URL with its token, and the playback plan (direct |
remux | transcode) for a client's capabilities."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from reelhouse.api.schemas.common import RequestBody
from reelhouse.api.schemas.hls import TrackOut

__all__ = ["ClientCapsIn", "PlanOut", "PlaybackOut"]

_NAME = Field(max_length=32, pattern=r"^[a-z0-9_.-]+$")


class PlaybackOut(BaseModel):
    url: str = Field(description="stream URL with a signed token; works without a cookie")
    token: str
    expires_in: int = Field(description="seconds")
    content_type: str


class ClientCapsIn(RequestBody):
    """What the browser can decode, in FFmpeg names (the web player maps
    ``canPlayType`` / ``MediaSource.isTypeSupported`` answers to them)."""

    containers: list[Annotated[str, _NAME]] = Field(default_factory=list, max_length=32,
                                                   examples=[["mp4", "webm"]])
    video: list[Annotated[str, _NAME]] = Field(default_factory=list, max_length=32,
                                              examples=[["h264", "vp9", "av1"]])
    audio: list[Annotated[str, _NAME]] = Field(default_factory=list, max_length=32,
                                              examples=[["aac", "mp3", "opus"]])
    hls: bool = Field(default=True, description="the client plays HLS (hls.js or natively)")
    video_10bit: list[Annotated[str, _NAME]] = Field(
        default_factory=list, max_length=32, examples=[["hevc"]],
        description="the video codecs of ``video`` it decodes at 10 bits 4:2:0 too (hevc: HEVC Main 10)")


class PlanOut(BaseModel):
    mode: Literal["direct", "remux", "transcode"]
    reason: str = Field(description="why this mode, in a sentence")
    url: str = Field(description="what to load: the stream URL (direct) or the HLS master")
    stream_url: str
    master_url: str
    token: str
    expires_in: int = Field(description="seconds")
    content_type: str = Field(description="of ``url``")
    duration: float | None = Field(description="seconds")
    renditions: list[str]
    audio: list[TrackOut]
    subtitles: list[TrackOut]
    prepared: bool = Field(description="every rendition was made ahead of time")
