"""The show of an episode file, kept on the file: ``media_files.show_id`` of a file with
an ``episode_id`` is its episode's season's ``show_id`` (migration 0024a).

Readers that want a show's episode files (the grid's counts and sources, the show
page) read ``media_files`` by ``show_id`` instead of walking seasons → episodes →
files (issue 14: a page of 20 shows counted ~1,600 files through two joins). An extra
of a show keeps its own ``show_id`` (``kind`` "extra", no ``episode_id``).

The invariant is kept here, for every ORM write, so no writer has to remember it:

- a file inserted or updated with a new ``episode_id`` gets its episode's show; a file
  unlinked from its episode (``episode_id`` set to None) that is not an extra loses
  its show;
- a season moved to another show, or an episode to another season, carries its
  files' ``show_id`` along (one UPDATE in the same flush).

The one writer that is not the ORM, the scanner's batched insert
(:mod:`reelhouse.library.batchlink`), writes ``show_id`` beside ``episode_id`` itself;
``tests/library/test_episode_show.py`` checks the invariant after real scans,
rescans, renames, re-matches and deletions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event, select, update
from sqlalchemy.orm import Mapper, object_session
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.orm.util import identity_key

from reelhouse.db.models.library import Episode, MediaFile, Season

__all__ = ["show_of_episode"]


def show_of_episode(connection: Connection, target: MediaFile, episode_id: int) -> int | None:
    """The show id of episode ``episode_id``: from the session's identity map when the
    episode and its season are loaded there (the scanner's case: no SQL), else one
    SELECT on ``connection``. None: no such episode."""
    session = object_session(target)
    if session is not None:
        ep = session.identity_map.get(identity_key(Episode, episode_id))
        if isinstance(ep, Episode) and ep.season_id is not None:
            season = session.identity_map.get(identity_key(Season, ep.season_id))
            if isinstance(season, Season) and season.show_id is not None:
                return season.show_id
    show_id: int | None = connection.scalar(
        select(Season.show_id).join(Episode, Episode.season_id == Season.id).where(Episode.id == episode_id))
    return show_id


@event.listens_for(MediaFile, "before_insert")
def _file_inserted(_mapper: Mapper[Any], connection: Connection, target: MediaFile) -> None:
    if target.episode_id is not None:
        target.show_id = show_of_episode(connection, target, target.episode_id)


@event.listens_for(MediaFile, "before_update")
def _file_updated(_mapper: Mapper[Any], connection: Connection, target: MediaFile) -> None:
    if not (get_history(target, "episode_id").has_changes() or get_history(target, "show_id").has_changes()):
        return
    if target.episode_id is not None:
        target.show_id = show_of_episode(connection, target, target.episode_id)
    elif target.kind != "extra":
        target.show_id = None


_FILES: Any = MediaFile.__table__


@event.listens_for(Season, "after_update")
def _season_moved(_mapper: Mapper[Any], connection: Connection, target: Season) -> None:
    if get_history(target, "show_id").has_changes():
        connection.execute(update(_FILES).where(_FILES.c.episode_id.in_(
            select(Episode.id).where(Episode.season_id == target.id))).values(show_id=target.show_id))


@event.listens_for(Episode, "after_update")
def _episode_moved(_mapper: Mapper[Any], connection: Connection, target: Episode) -> None:
    if get_history(target, "season_id").has_changes():
        connection.execute(update(_FILES).where(_FILES.c.episode_id == target.id).values(
            show_id=select(Season.show_id).where(Season.id == target.season_id).scalar_subquery()))
