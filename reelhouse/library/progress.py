"""Watch progress per user: where each user is in each file, and what they finished.

The rule is Jellyfin's (its defaults MinResumePct = 5, MaxResumePct = 90): a position
under 5 % of the duration is not worth resuming (start over), one past 90 % counts as
watched (and the resume point is cleared), anything between is resumed.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show, WatchProgress, utcnow
from reelhouse.errors import InvalidInput, NotFound

__all__ = ["MAX_RESUME", "MIN_RESUME", "ProgressService", "ResumeItem", "apply_rule"]

_CONTINUE: dict[bool, Any] = {}  # continue-watching statements, by "all sources" (built on first use)

MIN_RESUME = 0.05
MAX_RESUME = 0.90


def apply_rule(position: float, duration: float | None) -> tuple[float, bool]:
    """``(resume position s, watched)`` for a reported ``position`` of ``duration`` s."""
    if duration is None or duration <= 0:
        return max(position, 0.0), False
    share = position / duration
    if share >= MAX_RESUME:
        return 0.0, True
    if share < MIN_RESUME:
        return 0.0, False
    return position, False


@dataclass(frozen=True, slots=True)
class ResumeItem:
    """One tile of "continue watching": the file, a display title, position/duration s."""

    media_file_id: int
    title: str
    subtitle: str | None
    position: float
    duration: float | None

    @property
    def percent(self) -> int:
        return int(100 * self.position / self.duration) if self.duration else 0


class ProgressService:
    """Save and read watch progress."""

    def __init__(self, sessions: sessionmaker[Session], read_sessions: sessionmaker[Session] | None = None) -> None:
        """``read_sessions``: for :meth:`continue_watching` (see ``Core.read_sessions``)."""
        self.sessions = sessions
        self.read_sessions = read_sessions or sessions

    def save(self, user_id: int, file_id: int, position: float, duration: float | None = None,
             watched: bool | None = None) -> WatchProgress:
        """Record ``position`` (s) in a file for a user; ``duration`` defaults to the
        probed one. ``watched`` forces the flag (marking watched/unwatched by hand).
        Raises NotFound for an unknown file, InvalidInput for a negative position."""
        if position < 0 or position != position:  # NaN != NaN
            raise InvalidInput("position must be a number of seconds >= 0")
        with self.sessions() as s:
            mf = s.get(MediaFile, file_id)
            if mf is None:
                raise NotFound(f"no media file with id {file_id}")
            duration = duration if duration and duration > 0 else mf.duration
            if duration and position > duration * 1.01 + 1:
                raise InvalidInput(f"position {position:.1f} s is past the end ({duration:.1f} s)")
            resume, done = apply_rule(position, duration)
            if watched is not None:
                resume, done = (0.0, True) if watched else (resume, False)
            row = s.scalar(select(WatchProgress).where(
                WatchProgress.user_id == user_id, WatchProgress.media_file_id == file_id))
            if row is None:
                row = WatchProgress(user_id=user_id, media_file_id=file_id)
                s.add(row)
            row.position, row.duration, row.watched, row.updated_at = resume, duration, done, utcnow()
            try:
                s.commit()
            except IntegrityError:  # a concurrent first save: update the row it made
                s.rollback()
                return self.save(user_id, file_id, position, duration, watched)
            return row

    def remember_tracks(self, user_id: int, file_id: int, audio: int | None, subtitle: int | None) -> None:
        """Remember the audio and subtitle streams (``MediaStream.index``; ``subtitle``
        -1: subtitles off) a user plays a file with, for the next play to start with
        them (Jellyfin's SessionManager.UpdatePlaybackSettings with its defaults
        RememberAudioSelections and RememberSubtitleSelections on). None leaves that
        choice as it was; a file with no progress yet gets a row at position 0.
        Raises NotFound for an unknown file."""
        if audio is None and subtitle is None:
            return
        with self.sessions() as s:
            row = s.scalar(select(WatchProgress).where(
                WatchProgress.user_id == user_id, WatchProgress.media_file_id == file_id))
            if row is None:
                mf = s.get(MediaFile, file_id)
                if mf is None:
                    raise NotFound(f"no media file with id {file_id}")
                row = WatchProgress(user_id=user_id, media_file_id=file_id, position=0.0,
                                    duration=mf.duration, watched=False)
                s.add(row)
            audio = row.audio_stream_index if audio is None else audio
            subtitle = row.subtitle_stream_index if subtitle is None else subtitle
            if row.id is not None and (audio, subtitle) == (row.audio_stream_index, row.subtitle_stream_index):
                return  # nothing new: the row (and its time) stays as it is
            row.audio_stream_index, row.subtitle_stream_index, row.updated_at = audio, subtitle, utcnow()
            try:
                s.commit()
            except IntegrityError:  # a concurrent first save made the row: set it there
                s.rollback()
                self.remember_tracks(user_id, file_id, audio, subtitle)

    def get(self, user_id: int, file_id: int) -> WatchProgress | None:
        with self.sessions() as s:
            return s.scalar(select(WatchProgress).where(
                WatchProgress.user_id == user_id, WatchProgress.media_file_id == file_id))

    def continue_watching(self, user_id: int, limit: int = 12,
                          sources: set[int] | None = None) -> list[ResumeItem]:
        """Files the user stopped in the middle of, most recent first (present files
        only, and only on ``sources`` when given: the user's source grants, so a file of
        a source taken away from them is not listed): one query (the user's rows from
        ``ix_watch_progress_user_updated``, the titles by outer joins), no ORM objects;
        the statement is built once (values bound: its cache key cost more than the query)."""
        stmt = _CONTINUE.get(sources is None)
        if stmt is None:
            only: list[Any] = [] if sources is None else [
                MediaFile.source_id.in_(bindparam("sources", expanding=True))]
            stmt = _CONTINUE[sources is None] = (
                select(WatchProgress.media_file_id, WatchProgress.position, WatchProgress.duration,
                       MediaFile.path, Movie.id, Movie.title, Movie.year, Episode.id, Episode.number,
                       Season.number, Show.title)
                .select_from(WatchProgress)
                .join(MediaFile, MediaFile.id == WatchProgress.media_file_id)
                .outerjoin(Movie, Movie.id == MediaFile.movie_id)
                .outerjoin(Episode, Episode.id == MediaFile.episode_id)
                .outerjoin(Season, Season.id == Episode.season_id)
                .outerjoin(Show, Show.id == Season.show_id)
                .where(WatchProgress.user_id == bindparam("user_id", type_=Integer), WatchProgress.position > 0,
                       WatchProgress.watched.is_(False), MediaFile.missing_since.is_(None), *only)
                .order_by(WatchProgress.updated_at.desc())
                .limit(bindparam("lim", type_=Integer))
            )
        params: dict[str, Any] = {"user_id": user_id, "lim": limit}
        if sources is not None:
            params["sources"] = sorted(sources)
        with self.read_sessions() as s:
            rows = s.connection().execute(stmt, params).all()
        out = []
        for file_id, position, duration, path, movie_id, movie_title, year, ep_id, ep_no, season_no, show in rows:
            if movie_id is not None:
                title, subtitle = movie_title, str(year) if year else None
            elif ep_id is not None:
                title, subtitle = show, f"S{season_no:02d}E{ep_no:02d}"
            else:
                title, subtitle = posixpath.basename(path), None
            out.append(ResumeItem(file_id, title, subtitle, position, duration))
        return out
