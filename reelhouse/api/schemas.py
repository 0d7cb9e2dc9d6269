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
    scan_interval: int | None = Field(
        default=None, ge=0, le=525600,
        description="minutes between scheduled rescans (0: never; unset: the server's scan_interval_minutes)",
    )
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
    scan_interval: int | None = Field(default=None, ge=0, le=525600, description="minutes; 0: never")
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
    scan_interval: int | None
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
    show_id: int | None = Field(default=None, description="the show this file is an extra of")
    extra_type: str | None = Field(
        default=None, description="an extra: trailer, featurette, deleted, behindthescenes, interview, scene, "
                                  "short, clip, themevideo or other")
    version: str | None = Field(default=None, description="label of this version of the movie: 1080p, "
                                                          "Director's Cut, …")
    part: int | None = Field(default=None, description="part of a film split in files (cd1, part2)")
    first_seen: datetime
    last_seen: datetime


class MediaStreamPublic(BaseModel):
    """One stream of a media file; fields that do not apply to its type are null."""

    model_config = ConfigDict(from_attributes=True)
    index: int
    type: Literal["video", "audio", "subtitle", "attachment", "data"]
    codec: str | None = Field(description="FFmpeg codec name: h264, hevc, aac, subrip …")
    profile: str | None = Field(description="codec profile: Main 10, High, LC, DTS-HD MA …")
    width: int | None = Field(description="pixels")
    height: int | None = Field(description="pixels")
    fps: float | None = Field(description="average frames per second")
    pixel_format: str | None = Field(description="FFmpeg pixel format: yuv420p10le …")
    bit_depth: int | None = Field(description="bits per sample of the video")
    color_transfer: str | None = Field(description="smpte2084 (PQ), arib-std-b67 (HLG), bt709 …")
    color_primaries: str | None = Field(description="bt2020, bt709 …")
    hdr: str | None = Field(description="HDR10, HLG, Dolby Vision; null for SDR")
    channels: int | None
    channel_layout: str | None = Field(description="stereo, 5.1(side) …")
    sample_rate: int | None = Field(description="Hz")
    language: str | None = Field(description="as tagged (ISO 639-2, e.g. eng, ger); null if undetermined")
    title: str | None
    is_default: bool
    is_forced: bool
    subtitle_format: Literal["text", "image"] | None = Field(
        description="text (subrip, ass, mov_text, webvtt) or image (PGS, VobSub)")


class MediaFileDetail(MediaFilePublic):
    """A media file with every stream its probe found."""

    probe_bytes: int | None = Field(description="bytes the last probe read from the source")
    streams: list[MediaStreamPublic]


class TitlePublic(BaseModel):
    """What movies and shows share: the title and its metadata (NFO / TMDB / manual)."""

    id: int
    title: str
    year: int | None
    overview: str | None = None
    genres: list[str] = Field(default_factory=list)
    rating: float | None = Field(default=None, description="0..10 (TMDB vote average or the NFO's)")
    tmdb_id: int | None = None
    imdb_id: str | None = None
    poster_url: str | None = Field(default=None, description="/api/images/{id}; add ?w=200|400|800")
    backdrop_url: str | None = None
    match_confidence: float | None = Field(default=None, description="0..1, of the TMDB match")
    needs_review: bool = Field(default=False, description="the TMDB match was too unsure to apply")
    locked: bool = Field(default=False, description="fixed by a user: scans keep it")


class VersionPublic(BaseModel):
    """One version of a movie: its label and its files (several when the film is split
    in parts, in part order)."""

    label: str
    files: list[MediaFilePublic]


class MoviePublic(TitlePublic):
    files: list[MediaFilePublic] = Field(description="the film's own files (all versions and parts)")
    versions: list[VersionPublic] = Field(default_factory=list, description="the files grouped by version")
    extras: list[MediaFilePublic] = Field(default_factory=list, description="trailers, featurettes, …")


class EpisodePublic(BaseModel):
    id: int
    number: int
    title: str | None
    last_number: int | None = Field(default=None, description="multi-episode file: its last episode number")
    air_date: str | None = Field(default=None, description="date-based episode: YYYY-MM-DD")
    files: list[MediaFilePublic]
    overview: str | None = None
    still_url: str | None = None


class SeasonPublic(BaseModel):
    id: int
    number: int
    episodes: list[EpisodePublic]
    poster_url: str | None = None


class ShowPublic(TitlePublic):
    seasons: list[SeasonPublic]
    extras: list[MediaFilePublic] = Field(default_factory=list, description="trailers, featurettes, …")


class GridItemPublic(BaseModel):
    type: str
    id: int
    title: str
    year: int | None
    source_kinds: list[str]
    source_ids: list[int]
    file_count: int
    poster_url: str | None = None
    needs_review: bool = False


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


class MatchCandidatePublic(BaseModel):
    """A TMDB search result for the "fix match" dialog."""

    tmdb_id: int
    title: str
    original_title: str | None
    year: int | None
    overview: str | None
    poster_url: str | None = Field(description="TMDB's own small poster URL (w200)")
    confidence: float = Field(description="0..1 against the query")


class MatchPick(BaseModel):
    tmdb_id: int = Field(ge=1, le=2**31 - 1)


class ItemUpdate(BaseModel):
    """PATCH body: fields to set by hand (``year: null`` clears the year)."""

    title: str | None = Field(default=None, min_length=1, max_length=512)
    year: int | None = Field(default=None, ge=1870, le=2200)


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
