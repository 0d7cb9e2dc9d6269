"""Indexes for big libraries (issue 14: 100,000 files), attached to the model tables.

- ``ix_movies_sort`` / ``ix_shows_sort``: the library grid's order, ``sort_title,
  coalesce(year, 0), id`` (``sort_title``: :func:`reelhouse.db.search_key.sort_key`;
  expression indexes: SQLite ≥ 3.9, PostgreSQL), so a page — also a deep one, by
  keyset — and the A-Z jump read the index in order; then ``search_key``, so a title
  search tests each entry in the index and reads the table row of matches only
  (SQLite, 20,000 films: 1.3–2.9 ms a search instead of 5–12 ms).
- ``ix_media_files_movie_present`` / ``ix_media_files_episode_present`` /
  ``ix_media_files_show_present``: "has a file that is not missing" answered from the
  index alone; the last also a show's files (episodes and extras, db/episode_show.py)
  without seasons and episodes, and a page's per-show, per-source counts from the
  index alone (its source_id, episode_id, probe_error: grid._sources_statement;
  migration 0024a).
- ``ix_watch_progress_user_updated``: a user's continue-watching row, newest first.
- ``ix_movies_created_at`` / ``ix_shows_created_at``: newest first (Jellyfin's
  ``Items/Latest`` and ``SortBy=DateCreated``, jellyfin/query.py).
- ``ix_media_files_episode_added``: episode files, newest first (partial: films' files
  are not in it), so ``Items/Latest`` of the series reads the newest episodes and stops
  (jellyfin/latest.py; migration 0025a).

``tests/library/test_query_plans.py`` shows the query plans use them.
"""

from __future__ import annotations

from sqlalchemy import Index, func

from reelhouse.db.models import MediaFile, Movie, Show, WatchProgress

__all__ = ["INDEXES"]

INDEXES = (
    Index("ix_movies_sort", Movie.sort_title, func.coalesce(Movie.year, 0), Movie.id, Movie.search_key),
    Index("ix_shows_sort", Show.sort_title, func.coalesce(Show.year, 0), Show.id, Show.search_key),
    Index("ix_media_files_movie_present", MediaFile.movie_id, MediaFile.missing_since),
    Index("ix_media_files_episode_present", MediaFile.episode_id, MediaFile.missing_since),
    Index("ix_media_files_show_present", MediaFile.show_id, MediaFile.missing_since, MediaFile.source_id,
          MediaFile.episode_id, MediaFile.probe_error),
    Index("ix_watch_progress_user_updated", WatchProgress.user_id, WatchProgress.updated_at),
    Index("ix_movies_created_at", Movie.created_at),
    Index("ix_shows_created_at", Show.created_at),
    Index("ix_media_files_episode_added", MediaFile.first_seen, MediaFile.id,
          sqlite_where=MediaFile.episode_id.is_not(None), postgresql_where=MediaFile.episode_id.is_not(None)),
)
