"""ORM models. Models hold data only: no I/O, no business rules (services own those)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import (
    false as sa_false,
)
from sqlalchemy import (
    func as sa_func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "Base",
    "Episode",
    "Favorite",
    "Image",
    "Job",
    "MediaFile",
    "MediaStream",
    "Movie",
    "OfflineCopy",
    "Season",
    "Show",
    "SourceRow",
    "SyncRun",
    "TmdbCache",
    "Transfer",
    "User",
    "WatchParticipant",
    "WatchProgress",
    "WatchSession",
    "utcnow",
]


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every engine. SQLite stores datetimes without a
    zone, so values read back get UTC attached (they were written as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SourceRow(Base):
    """A configured source. ``password_enc`` is Fernet ciphertext, never returned."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "local" | "ftp"
    path: Mapped[str] = mapped_column(Text, default="/")  # local folder or FTP root folder
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    port: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str | None] = mapped_column(String(255), nullable=True)
    password_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    tls: Mapped[str] = mapped_column(String(16), default="none")
    verify_tls: Mapped[bool] = mapped_column(Boolean, default=True)
    tls_cert_pem: Mapped[str | None] = mapped_column(Text, nullable=True)  # trusted cert
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_scan_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    scan_interval: Mapped[int | None] = mapped_column(Integer, nullable=True)  # minutes; None: settings

    files: Mapped[list[MediaFile]] = relationship(
        back_populates="source", cascade="all, delete-orphan", passive_deletes=True
    )


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    files: Mapped[list[MediaFile]] = relationship(back_populates="movie")


class Show(_TitleMetadata, Base):
    __tablename__ = "shows"
    __table_args__ = (UniqueConstraint("match_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(512))
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    match_key: Mapped[str] = mapped_column(String(600))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    seasons: Mapped[list[Season]] = relationship(
        back_populates="show", cascade="all, delete-orphan", order_by="Season.number"
    )


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
    __table_args__ = (UniqueConstraint("source_id", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime: Mapped[float | None] = mapped_column(Float, nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="other")  # movie | episode | other
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
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    missing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    movie_id: Mapped[int | None] = mapped_column(
        ForeignKey("movies.id", ondelete="SET NULL"), nullable=True, index=True
    )
    episode_id: Mapped[int | None] = mapped_column(
        ForeignKey("episodes.id", ondelete="SET NULL"), nullable=True, index=True
    )

    source: Mapped[SourceRow] = relationship(back_populates="files")
    movie: Mapped[Movie | None] = relationship(back_populates="files")
    episode: Mapped[Episode | None] = relationship(back_populates="files")
    streams: Mapped[list[MediaStream]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="MediaStream.index"
    )


class WatchProgress(Base):
    """Where a user is in a media file. ``position`` and ``duration`` are seconds;
    ``watched`` follows Jellyfin's rule (see library/progress.py)."""

    __tablename__ = "watch_progress"
    __table_args__ = (UniqueConstraint("user_id", "media_file_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    media_file_id: Mapped[int] = mapped_column(ForeignKey("media_files.id", ondelete="CASCADE"), index=True)
    position: Mapped[float] = mapped_column(Float, default=0.0)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    watched: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Job(Base):
    """A background job (a scan) with persistent progress."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL"), nullable=True
    )
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|failed|cancelled
    progress: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


class MediaStream(Base):
    """One stream of a probed media file (see library/probe_normalise.py for the
    meaning of each field). Replaced as a whole when the file is probed again.
    ``fps`` is frames per second, ``sample_rate`` Hz, ``bit_depth`` bits per sample."""

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


class Image(Base):
    """A picture cached under ``<data_dir>/images`` (``file`` is relative to it).

    ``origin`` is "tmdb" (``ref`` = the TMDB image path, e.g. "/abc.jpg") or "source"
    (``ref`` = "<source id>:<path>"); ``width``/``height`` in pixels of the cached file."""

    __tablename__ = "images"
    __table_args__ = (UniqueConstraint("origin", "ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    origin: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(Text)
    file: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # bytes at the origin
    mtime: Mapped[float | None] = mapped_column(Float, nullable=True)  # at the origin (source files)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TmdbCache(Base):
    """One cached TMDB response (status 200), keyed by its URL without the API key."""

    __tablename__ = "tmdb_cache"

    key: Mapped[str] = mapped_column(String(1024), primary_key=True)
    body: Mapped[str] = mapped_column(Text)  # JSON
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Transfer(Base):
    """One queued file operation on a source: upload | download | delete | rename |
    mkdir. ``bytes_done``/``bytes_total`` are bytes, ``rate`` bytes/s; ``not_before``
    holds a retry back until then. State: queued | running | done | failed | cancelled."""

    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), nullable=True, index=True
    )
    remote_path: Mapped[str] = mapped_column(Text)
    target_path: Mapped[str | None] = mapped_column(Text, nullable=True)  # rename target
    local_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)  # higher runs first
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_total: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    remove_local: Mapped[bool] = mapped_column(Boolean, default=False)  # spooled upload
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SyncRun(Base):
    """One comparison of a source with the library: counts of added / updated /
    deleted (soft: marked missing) / restored files and the errors met.
    State: running | done | failed (failed: the source could not be listed; nothing
    was marked deleted)."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="running")
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    restored: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OfflineCopy(Base):
    """A media file kept in the local store so it plays when its source is down.
    ``local_path`` is relative to the store; ``size``/``mtime`` are the source file's
    signature when the copy was made (a copy of an older version is not served).
    ``scope`` says what the user marked ("movie:3", "season:7"). State: pending |
    ready | failed."""

    __tablename__ = "offline_copies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_file_id: Mapped[int] = mapped_column(
        ForeignKey("media_files.id", ondelete="CASCADE"), unique=True
    )
    scope: Mapped[str] = mapped_column(String(64), index=True)
    local_path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime: Mapped[float | None] = mapped_column(Float, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    transfer_id: Mapped[int | None] = mapped_column(
        ForeignKey("transfers.id", ondelete="SET NULL"), nullable=True
    )
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WatchSession(Base):
    """A watch party (see reelhouse/party/state.py for the rules). ``position`` (s) holds
    at server time ``position_at`` (epoch s) and advances at ``rate`` while ``state`` is
    ``playing``. ``version`` guards concurrent writers (optimistic locking)."""

    __tablename__ = "watch_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    media_file_id: Mapped[int] = mapped_column(ForeignKey("media_files.id", ondelete="CASCADE"), index=True)
    host_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    mode: Mapped[str] = mapped_column(String(16), default="host")  # host | collaborative
    state: Mapped[str] = mapped_column(String(16), default="idle")  # idle|waiting|paused|playing|ended
    position: Mapped[float] = mapped_column(Float, default=0.0)
    position_at: Mapped[float] = mapped_column(Float, default=0.0)
    rate: Mapped[float] = mapped_column(Float, default=1.0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    participants: Mapped[list[WatchParticipant]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True,
        order_by="WatchParticipant.joined_at",
    )


class WatchParticipant(Base):
    """A member of a party: ``joined_at`` (epoch s) orders host succession;
    ``buffering_since`` (epoch s) is set while their player cannot play."""

    __tablename__ = "watch_participants"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("watch_sessions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[float] = mapped_column(Float)
    connected: Mapped[bool] = mapped_column(Boolean, default=False)
    buffering_since: Mapped[float | None] = mapped_column(Float, nullable=True)

    session: Mapped[WatchSession] = relationship(back_populates="participants")
    user: Mapped[User] = relationship()


class Favorite(Base):
    """A title a user marked as favourite (Jellyfin's ``IsFavorite``): ``item_kind`` is
    movie | show | season | episode and ``item_id`` that row's id."""

    __tablename__ = "favorites"
    __table_args__ = (UniqueConstraint("user_id", "item_kind", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    item_kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Indexes of the Jellyfin items queries (reelhouse/jellyfin/query.py): titles in sort
# order, and "has a present file" answered from the index alone.
Index("ix_movies_sort_title", sa_func.lower(Movie.title), Movie.id)
Index("ix_shows_sort_title", sa_func.lower(Show.title), Show.id)
Index("ix_movies_created_at", Movie.created_at)
Index("ix_shows_created_at", Show.created_at)
Index("ix_media_files_movie_present", MediaFile.movie_id, MediaFile.missing_since)
Index("ix_media_files_episode_present", MediaFile.episode_id, MediaFile.missing_since)
