"""The library: titles (movies, shows, seasons, episodes), media files and their streams."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reelhouse.db.models.base import Base, UTCDateTime, utcnow
from reelhouse.db.search_key import search_key, sort_key

if TYPE_CHECKING:
    from reelhouse.db.models.sources import SourceRow

__all__ = ["Episode", "MediaFile", "MediaStream", "Movie", "Season", "Show"]


def _title_key(context: Any) -> str:
    """The search key of a row inserted without one (Core inserts: library.batchlink)."""
    return search_key(context.get_current_parameters().get("title"))


def _title_sort(context: Any) -> str:
    """The sort key of a row inserted without one."""
    return sort_key(context.get_current_parameters().get("title"))


_EXTRA_OF_SHOW = "and_(foreign(MediaFile.show_id) == Show.id, MediaFile.kind == 'extra')"


class _TitleMetadata:
    """Metadata columns shared by movies and shows (NFO / TMDB / manual);
    ``locked``: a user's choice that scans keep."""

    overview: Mapped[str | None] = mapped_column(Text, nullable=True)
    genres: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    rating: Mapped[float | None] = mapped_column(Float, nullable=True)  # 0..10
    tmdb_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    imdb_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    poster_image_id: Mapped[int | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL"), nullable=True)
    backdrop_image_id: Mapped[int | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL"), nullable=True)
    match_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)  # 0..1
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)


class Movie(_TitleMetadata, Base):
    __tablename__ = "movies"
    __table_args__ = (UniqueConstraint("match_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(512))
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    match_key: Mapped[str] = mapped_column(String(600))
    search_key: Mapped[str | None] = mapped_column(String(1100), nullable=True, default=_title_key)
    sort_title: Mapped[str | None] = mapped_column(String(1100), nullable=True, default=_title_sort)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    files: Mapped[list[MediaFile]] = relationship(back_populates="movie")


class Show(_TitleMetadata, Base):
    __tablename__ = "shows"
    __table_args__ = (UniqueConstraint("match_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(512))
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    match_key: Mapped[str] = mapped_column(String(600))  # naming.match_key(title, year)
    search_key: Mapped[str | None] = mapped_column(String(1100), nullable=True, default=_title_key)
    sort_title: Mapped[str | None] = mapped_column(String(1100), nullable=True, default=_title_sort)
    tvdb_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    seasons: Mapped[list[Season]] = relationship(
        back_populates="show", cascade="all, delete-orphan", order_by="Season.number"
    )
    # the files of kind "extra" naming the show (its episode files name it too: db/episode_show.py)
    extras: Mapped[list[MediaFile]] = relationship(
        back_populates="show", primaryjoin=_EXTRA_OF_SHOW, order_by="MediaFile.path")


@event.listens_for(Movie.title, "set")
@event.listens_for(Show.title, "set")
def _keep_search_key(target: Movie | Show, value: str | None, _old: object, _initiator: object) -> None:
    """Every ORM write of a title (created, renamed by an NFO, TMDB or a user) updates
    its search and sort keys; a Core insert gets them from the column defaults."""
    target.search_key = search_key(value)
    target.sort_title = sort_key(value)


class Season(Base):
    __tablename__ = "seasons"
    __table_args__ = (UniqueConstraint("show_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    show_id: Mapped[int] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    poster_image_id: Mapped[int | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL"), nullable=True)

    show: Mapped[Show] = relationship(back_populates="seasons")
    episodes: Mapped[list[Episode]] = relationship(
        back_populates="season", cascade="all, delete-orphan", order_by="Episode.number"
    )


class Episode(Base):
    __tablename__ = "episodes"
    __table_args__ = (UniqueConstraint("season_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("seasons.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(String(512), nullable=True)
    last_number: Mapped[int | None] = mapped_column(Integer, nullable=True)  # multi-episode file: E02E03 → 3
    air_date: Mapped[str | None] = mapped_column(String(10), nullable=True)  # date-based episodes, YYYY-MM-DD
    overview: Mapped[str | None] = mapped_column(Text, nullable=True)
    still_image_id: Mapped[int | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL"), nullable=True)

    season: Mapped[Season] = relationship(back_populates="episodes")
    files: Mapped[list[MediaFile]] = relationship(back_populates="episode")


class MediaFile(Base):
    """One file on one source, keyed by (source, path), with its (size, mtime) signature
    and basic technical metadata. ``missing_since`` is set only after a complete listing
    of its folder no longer showed it."""

    __tablename__ = "media_files"
    # ids never reused (migration 0021h): playback tokens and URLs name them
    __table_args__ = (UniqueConstraint("source_id", "path"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime: Mapped[float | None] = mapped_column(Float, nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="other")  # movie | episode | extra | other
    container: Mapped[str | None] = mapped_column(String(64), nullable=True)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)  # seconds
    video_codec: Mapped[str | None] = mapped_column(String(64), nullable=True)
    audio_codec: Mapped[str | None] = mapped_column(String(64), nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bitrate: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # bits/s
    probe_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # blake2b of size + first and last 64 KiB (library/fingerprint.py): finds moved files
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    part: Mapped[int | None] = mapped_column(Integer, nullable=True)  # CD1/part2 of a multi-part film
    probe_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # read by the last probe
    # an extra (kind "extra") of its movie (movie_id) or show (show_id): trailer, featurette,
    # deleted, behindthescenes, interview, scene, short, clip, themevideo, other
    extra_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # the label of one version of a movie: "1080p", "Director's Cut" (naming.Parsed.version)
    version: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # the naming rules (library/linking.NAMING_VERSION) that placed this file; older → relinked
    naming_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # when a scan last listed the file: ``last_seen`` itself only for a file the latest
    # scan did not list (``unlisted``: its folder failed) or a missing one, else the
    # later of it and the source's ``last_listed_at`` (:attr:`seen`, library/views.py),
    # so an unchanged rescan writes no row (library/scanner.py)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    unlisted: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    missing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    movie_id: Mapped[int | None] = mapped_column(
        ForeignKey("movies.id", ondelete="SET NULL"), nullable=True, index=True
    )
    episode_id: Mapped[int | None] = mapped_column(
        ForeignKey("episodes.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # the show this file is an extra of (kind "extra"), or the show of its episode (kept
    # by db/episode_show.py for every ORM write; migration 0024a). No FOREIGN KEY: SQLite
    # can add one only by copying media_files, which would empty the tables pointing at
    # it (migration 0012); shows are deleted only when no file names them
    # (linking.prune_unlinked_titles, registry.prune_orphans)
    # (indexed by ix_media_files_show_present, db/indexes.py)
    show_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    source: Mapped[SourceRow] = relationship(back_populates="files")

    @property
    def seen(self) -> datetime:
        """When a scan last listed this file (see ``last_seen``)."""
        listed = self.source.last_listed_at
        if self.missing_since is None and not self.unlisted and listed is not None and listed > self.last_seen:
            return listed
        return self.last_seen
    movie: Mapped[Movie | None] = relationship(back_populates="files")
    episode: Mapped[Episode | None] = relationship(back_populates="files")
    show: Mapped[Show | None] = relationship(  # the show of an extra (not of an episode file)
        back_populates="extras", primaryjoin=_EXTRA_OF_SHOW)
    streams: Mapped[list[MediaStream]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="MediaStream.index"
    )


class MediaStream(Base):
    """One stream of a probed media file (see library/probe_normalise.py for the
    meaning of each field). Replaced as a whole when the file is probed again.
    ``fps`` is frames per second, ``sample_rate`` Hz, ``bit_depth`` bits per sample,
    ``level`` the codec's level as FFmpeg gives it (H.264 4.1 is 41; HEVC 4.1 is 123)."""

    __tablename__ = "media_streams"
    __table_args__ = (UniqueConstraint("media_file_id", "index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_file_id: Mapped[int] = mapped_column(
        ForeignKey("media_files.id", ondelete="CASCADE"), index=True
    )
    index: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))  # video|audio|subtitle|attachment|data
    codec: Mapped[str | None] = mapped_column(String(64), nullable=True)
    profile: Mapped[str | None] = mapped_column(String(64), nullable=True)
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fps: Mapped[float | None] = mapped_column(Float, nullable=True)
    pixel_format: Mapped[str | None] = mapped_column(String(32), nullable=True)
    bit_depth: Mapped[int | None] = mapped_column(Integer, nullable=True)
    color_transfer: Mapped[str | None] = mapped_column(String(32), nullable=True)
    color_primaries: Mapped[str | None] = mapped_column(String(32), nullable=True)
    hdr: Mapped[str | None] = mapped_column(String(32), nullable=True)  # HDR10 | HLG | Dolby Vision
    channels: Mapped[int | None] = mapped_column(Integer, nullable=True)
    channel_layout: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sample_rate: Mapped[int | None] = mapped_column(Integer, nullable=True)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    is_forced: Mapped[bool] = mapped_column(Boolean, default=False)
    subtitle_format: Mapped[str | None] = mapped_column(String(8), nullable=True)  # text | image
    #: degrees the display matrix turns a video (-90: a phone held upright), None: none
    rotation: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: a video's sample (pixel) aspect ratio "num:den" ("64:45": a 720x576 DVD shown
    #: 16:9), None: unknown (square pixels assumed)
    sample_aspect_ratio: Mapped[str | None] = mapped_column(String(16), nullable=True)

