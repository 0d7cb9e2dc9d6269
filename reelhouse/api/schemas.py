"""Request and response bodies (``XCreate``, ``XUpdate``, ``XPublic``)."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    is_admin: bool


class LoginOut(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserPublic


class SourceCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    kind: Literal["local", "ftp"]
    path: str | None = Field(default=None, max_length=4096, description="local folder, or FTP root folder")
    host: str | None = Field(default=None, max_length=255)
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, max_length=1024)
    tls: Literal["none", "explicit", "implicit"] = "none"
    verify_tls: bool = True
    tls_cert: str | None = Field(default=None, max_length=65536,
                                 description="PEM certificate to trust (a self-signed server's)")


class SourceUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=128)
    path: str | None = Field(default=None, max_length=4096)
    host: str | None = Field(default=None, max_length=255)
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, max_length=1024, description="empty string clears it")
    tls: Literal["none", "explicit", "implicit"] | None = None
    verify_tls: bool | None = None
    tls_cert: str | None = Field(default=None, max_length=65536,
                                 description="PEM certificate to trust; empty string clears it")


class SourcePublic(BaseModel):
    """A source as the API shows it: never the password, only whether one is set."""

    id: int
    name: str
    kind: str
    path: str
    host: str | None
    port: int | None
    username: str | None
    has_password: bool
    tls: str
    verify_tls: bool
    has_tls_cert: bool = False
    last_scan_at: datetime | None
    last_error: str | None


class TestResult(BaseModel):
    ok: bool
    message: str
    latency_ms: float | None = None
    entries: int | None = None


class SourceHealth(BaseModel):
    state: Literal["up", "degraded", "down"]
    latency_ms: float | None = Field(description="time to list the root folder, ms")
    error: str | None
    pool: dict[str, int] | None = Field(description="FTP connections: live, idle, in_use, size")


class JobPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    source_id: int | None
    state: str
    progress: dict[str, int]
    message: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class MediaFilePublic(BaseModel):
    id: int
    source_id: int
    source_name: str
    source_kind: str
    path: str
    name: str
    size: int
    mtime: float | None
    kind: str
    container: str | None
    duration: float | None = Field(description="seconds")
    video_codec: str | None
    audio_codec: str | None
    width: int | None
    height: int | None
    bitrate: int | None = Field(description="bits per second")
    probe_error: str | None
    missing: bool
    movie_id: int | None
    episode_id: int | None
    first_seen: datetime
    last_seen: datetime


class MoviePublic(BaseModel):
    id: int
    title: str
    year: int | None
    files: list[MediaFilePublic]


class EpisodePublic(BaseModel):
    id: int
    number: int
    title: str | None
    files: list[MediaFilePublic]


class SeasonPublic(BaseModel):
    id: int
    number: int
    episodes: list[EpisodePublic]


class ShowPublic(BaseModel):
    id: int
    title: str
    year: int | None
    seasons: list[SeasonPublic]


class GridItemPublic(BaseModel):
    type: str
    id: int
    title: str
    year: int | None
    source_kinds: list[str]
    source_ids: list[int]
    file_count: int


class PlaybackOut(BaseModel):
    url: str = Field(description="stream URL with a signed token; works without a cookie")
    token: str
    expires_in: int = Field(description="seconds")
    content_type: str


class ProgressIn(BaseModel):
    position: float = Field(ge=0, le=10**7, description="seconds from the start")
    duration: float | None = Field(default=None, gt=0, le=10**7, description="seconds; default: probed")


class WatchedIn(BaseModel):
    watched: bool


class ProgressPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    media_file_id: int
    position: float = Field(description="resume point, seconds (0: start from the beginning)")
    duration: float | None
    watched: bool
    updated_at: datetime | None


class ResumePublic(BaseModel):
    media_file_id: int
    title: str
    subtitle: str | None
    position: float
    duration: float | None
    percent: int


# -- transfers, offline copies, sync (issue 5) ------------------------------------------
class TransferCreate(BaseModel):
    """A queued operation. ``download``: ``local_path`` is relative to the library store
    (default ``<source name>/<remote_path>``). ``upload`` from the API takes a
    ``local_path`` inside the store (a browser file goes to ``POST /api/transfers/upload``).
    ``rename`` needs ``target_path``."""

    kind: Literal["upload", "download", "delete", "rename", "mkdir"]
    source_id: int = Field(ge=1, le=2**63 - 1)
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
