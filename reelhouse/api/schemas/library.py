"""The library (``/api/library``): media files and their streams, movies, shows, the grid.

Every ``…Public`` model reads an ORM row directly (``Model.model_validate(row)``,
pydantic's ``from_attributes``): the few fields that are not plain copies say where
they come from (``validation_alias``) and how they are derived (a ``before`` validator).
Only files still on their source (``missing_since`` unset) are listed under a title.
"""

from __future__ import annotations

import posixpath
from datetime import datetime
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    AliasPath,
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_validator,
)

from reelhouse.library.versions import group_versions

__all__ = [
    "EpisodePublic",
    "GridItemPublic",
    "MediaFileDetail",
    "MediaFilePublic",
    "MediaStreamPublic",
    "MoviePublic",
    "SeasonPublic",
    "ShowPublic",
    "TitlePublic",
    "VersionPublic",
    "files_unplayable_reason",
    "image_url",
]

_FROM_ROWS = ConfigDict(from_attributes=True, populate_by_name=True)


def image_url(image_id: int | None) -> str | None:
    """The API URL of a cached image (None for no image)."""
    return f"/api/images/{image_id}" if image_id is not None else None


def _image_url(value: object) -> object:
    return image_url(value) if isinstance(value, int) else value


def _get(obj: Any, name: str, default: Any = None) -> Any:
    """``obj.name`` of an ORM row or ``obj[name]`` of a plain dict (the fast read paths
    of :mod:`reelhouse.library.views` hand dicts)."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _present(files: Any) -> Any:
    """The files of a title still on their source (ORM rows or dicts)."""
    if files is None:
        return []
    return [f for f in files if _get(f, "missing_since") is None and _get(f, "missing") is not True]


_PLAYABLE = ("false when every file of the title on its source failed its probe (FFmpeg cannot read it: "
             "garbled, cut short, not a video, empty), or none is on its source: a player would fail")
_REASON = "why playable is false: the probe_error of its first file, or that no file is on its source"
_NO_FILE = "none of its files is on its source"


def files_unplayable_reason(files: list[Any]) -> str | None:
    """None when one of ``files`` (a title's present files) did not fail its probe (a
    file not probed yet counts as playable); else why the title cannot be played: the
    first file's ``probe_error``, or ``_NO_FILE`` for no file."""
    if not files:
        return _NO_FILE
    if any(_get(f, "probe_error") is None for f in files):
        return None
    return str(_get(files[0], "probe_error"))


def _has_present_file(episode: Any) -> bool:
    return any(_get(f, "missing_since") is None and _get(f, "missing") is not True
               for f in _get(episode, "files", ()))


class MediaFilePublic(BaseModel):
    """A media file; ``name`` is the last part of ``path``, ``missing`` says that a
    complete listing of its folder no longer showed it."""

    model_config = _FROM_ROWS
    id: int
    source_id: int
    source_name: str = Field(validation_alias=AliasPath("source", "name"))
    source_kind: str = Field(validation_alias=AliasPath("source", "kind"))
    path: str
    name: str = Field(validation_alias=AliasPath("path"))  # its last part: see _base_name
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
    missing: bool = Field(validation_alias="missing_since")
    movie_id: int | None
    episode_id: int | None
    show_id: int | None = Field(default=None, description="the show of this episode file or extra")
    extra_type: str | None = Field(
        default=None, description="an extra: trailer, featurette, deleted, behindthescenes, interview, scene, "
                                  "short, clip, themevideo or other")
    version: str | None = Field(default=None, description="label of this version of the movie: 1080p, "
                                                          "Director's Cut, …")
    part: int | None = Field(default=None, description="part of a film split in files (cd1, part2)")
    first_seen: datetime
    last_seen: datetime = Field(validation_alias=AliasChoices("seen", "last_seen"),
                                description="when a scan last listed the file")

    @field_validator("name", mode="before")
    @classmethod
    def _base_name(cls, value: object) -> object:
        return posixpath.basename(value) if isinstance(value, str) else value

    @field_validator("missing", mode="before")
    @classmethod
    def _missing(cls, value: object) -> object:
        return value if isinstance(value, bool) else value is not None


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

    model_config = _FROM_ROWS
    id: int
    title: str
    year: int | None
    overview: str | None = None
    genres: list[str] = Field(default_factory=list)
    rating: float | None = Field(default=None, description="0..10 (TMDB vote average or the NFO's)")
    tmdb_id: int | None = None
    imdb_id: str | None = None
    poster_url: str | None = Field(default=None, validation_alias="poster_image_id",
                                   description="/api/images/{id}; add ?w=200|400|800")
    backdrop_url: str | None = Field(default=None, validation_alias="backdrop_image_id")
    match_confidence: float | None = Field(default=None, description="0..1, of the TMDB match")
    needs_review: bool = Field(default=False, description="the TMDB match was too unsure to apply")
    locked: bool = Field(default=False, description="fixed by a user: scans keep it")

    _urls = field_validator("poster_url", "backdrop_url", mode="before")(_image_url)

    @field_validator("genres", mode="before")
    @classmethod
    def _genres(cls, value: object) -> object:
        return [] if value is None else value

    @field_validator("needs_review", "locked", mode="before")
    @classmethod
    def _flag(cls, value: object) -> object:
        return bool(value)

    def playable_files(self) -> list[MediaFilePublic]:
        """The files that decide :attr:`playable` (a film's own, a show's episodes')."""
        raise NotImplementedError

    @computed_field(description=_PLAYABLE)  # type: ignore[prop-decorator]
    @property
    def playable(self) -> bool:
        return self.unplayable_reason is None

    @computed_field(description=_REASON)  # type: ignore[prop-decorator]
    @property
    def unplayable_reason(self) -> str | None:
        return files_unplayable_reason(self.playable_files())


def _own(files: Any) -> Any:
    """The film's own files (not its extras) still on their source."""
    return [f for f in _present(files) if _get(f, "kind") != "extra"]


def _extras(files: Any) -> Any:
    """The extras still on their source, by type then path."""
    extras = [f for f in _present(files) if _get(f, "kind") == "extra"]
    return sorted(extras, key=lambda f: (_get(f, "extra_type") or "", _get(f, "path", "")))


class VersionPublic(BaseModel):
    """One version of a movie: its label and its files (several when the film is split
    in parts, in part order); see library/versions.py."""

    label: str
    files: list[MediaFilePublic]


class MoviePublic(TitlePublic):
    files: list[MediaFilePublic] = Field(description="the film's own files (every version and part)")
    versions: list[VersionPublic] = Field(default_factory=list, description="the files grouped by version")
    extras: list[MediaFilePublic] = Field(default_factory=list, validation_alias=AliasPath("files"),
                                          description="trailers, featurettes, deleted scenes, …")

    _files = field_validator("files", mode="before")(_own)
    _extra_files = field_validator("extras", mode="before")(_extras)

    def playable_files(self) -> list[MediaFilePublic]:
        return self.files

    @model_validator(mode="after")
    def _versions(self) -> MoviePublic:
        if not self.versions:
            self.versions = [VersionPublic(label=label, files=members)
                             for label, members in group_versions(self.files)]
        return self


class EpisodePublic(BaseModel):
    model_config = _FROM_ROWS
    id: int
    number: int
    title: str | None
    last_number: int | None = Field(default=None, description="multi-episode file: its last episode number")
    air_date: str | None = Field(default=None, description="date-based episode: YYYY-MM-DD")
    files: list[MediaFilePublic]
    overview: str | None = None
    still_url: str | None = Field(default=None, validation_alias="still_image_id")

    _files = field_validator("files", mode="before")(_present)
    _url = field_validator("still_url", mode="before")(_image_url)


class SeasonPublic(BaseModel):
    """A season with its episodes that have a file on their source."""

    model_config = _FROM_ROWS
    id: int
    number: int
    episodes: list[EpisodePublic]
    poster_url: str | None = Field(default=None, validation_alias="poster_image_id")

    _url = field_validator("poster_url", mode="before")(_image_url)

    @field_validator("episodes", mode="before")
    @classmethod
    def _present_episodes(cls, value: Any) -> Any:
        return [ep for ep in value if _has_present_file(ep)] if value is not None else []


class ShowPublic(TitlePublic):
    """A show with its seasons that have an episode file on their source, and its extras."""

    seasons: list[SeasonPublic]
    extras: list[MediaFilePublic] = Field(default_factory=list, description="trailers, featurettes, …")

    _extra_files = field_validator("extras", mode="before")(_extras)

    def playable_files(self) -> list[MediaFilePublic]:
        return [f for season in self.seasons for ep in season.episodes for f in ep.files]

    @field_validator("seasons", mode="before")
    @classmethod
    def _present_seasons(cls, value: Any) -> Any:
        if value is None:
            return []
        return [season for season in value
                if any(_has_present_file(ep) for ep in _get(season, "episodes", ()))]


class GridItemPublic(BaseModel):
    """One tile of the grid (from :class:`reelhouse.library.queries.GridItem`)."""

    model_config = _FROM_ROWS
    type: str
    id: int
    title: str
    year: int | None
    source_kinds: list[str]
    source_ids: list[int]
    file_count: int
    poster_url: str | None = Field(default=None, validation_alias="poster_image_id")
    needs_review: bool = False
    playable: bool = Field(default=True, description=_PLAYABLE)
    unplayable_reason: str | None = Field(default=None, description=_REASON)

    _url = field_validator("poster_url", mode="before")(_image_url)
