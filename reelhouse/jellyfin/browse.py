"""What the item routes need beyond the Items query: one item, the resume list, the
latest additions, next up, and marking played / favourite (over the progress service,
so an app's "played" is the web player's "watched")."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reelhouse.core import Core
from reelhouse.db.models import Episode, Favorite, MediaFile, Movie, Season, Show, WatchProgress
from reelhouse.db.models.base import utcnow
from reelhouse.errors import NotFound, ReelhouseError
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.loader import VIEWS, Ctx, Loader
from reelhouse.jellyfin.visible import granted_files, playable_file
from reelhouse.library.title_search import literal_like, title_condition
from reelhouse.playback.hls.subtitles import SubtitleInfo

__all__ = ["files_of", "item", "mark_favorite", "mark_played", "next_up", "resume", "sidecars"]

log = logging.getLogger(__name__)


def sidecars(core: Core, file_id: int) -> list[SubtitleInfo]:
    """The subtitle files beside a file (a folder listing by the HLS service; no probe:
    direct play needs none); none when the source cannot list them now."""
    try:
        return core.hls.sidecar_subtitles(file_id)
    except ReelhouseError as exc:
        log.warning("subtitle files of media file %d not listed: %s", file_id, exc)
        return []


def item(s: Session, ctx: Ctx, ref: ids.Ref) -> dict[str, Any]:
    """One item with its MediaSources; raises NotFound (also for a title with no file
    on a source the user may see)."""
    if ref.kind == "view" and ref.id not in VIEWS:
        raise NotFound("no such view")
    if ctx.granted is not None and ref.kind != "view" and not files_of(s, ref, ctx.granted):
        raise NotFound(f"no item with id {ids.encode(ref.kind, ref.id)}")
    found = Loader(s, ctx).load([ref])
    if not found:
        raise NotFound(f"no item with id {ids.encode(ref.kind, ref.id)}")
    return found[0]


def season_numbered(s: Session, show_id: int, number: int) -> ids.Ref | None:
    """The season numbered ``number`` of show row ``show_id`` (None: it has none), as
    ``Shows/{id}/Episodes?Season=n`` reads it (Jellyfin's TvShowsController: a missing
    season gives an empty list, not an error)."""
    row = s.scalar(select(Season.id).where(Season.show_id == show_id, Season.number == number))
    return None if row is None else ids.Ref("season", row)


def files_of(s: Session, ref: ids.Ref, granted: frozenset[int] | None = None) -> list[int]:
    """Present media file ids of an item (a show or season: of all its episodes), on
    ``granted`` sources only when given."""
    stmt = select(MediaFile.id).where(MediaFile.missing_since.is_(None))
    if granted is not None:
        stmt = stmt.where(granted_files(granted))
    if ref.kind == "movie":
        stmt = stmt.where(MediaFile.movie_id == ref.id)
    elif ref.kind == "episode":
        stmt = stmt.where(MediaFile.episode_id == ref.id)
    elif ref.kind == "season":
        stmt = stmt.join(Episode, Episode.id == MediaFile.episode_id).where(Episode.season_id == ref.id)
    elif ref.kind == "show":  # an episode file names its show (db/episode_show.py)
        stmt = stmt.where(MediaFile.show_id == ref.id, MediaFile.episode_id.is_not(None))
    elif ref.kind == "file":
        stmt = stmt.where(MediaFile.id == ref.id)
    else:
        return []
    return list(s.scalars(stmt.order_by(MediaFile.id)))


def mark_played(core: Core, ctx: Ctx, ref: ids.Ref, played: bool) -> dict[str, Any]:
    """Mark every file of the item watched / unwatched; returns the item's UserData."""
    with core.sessions() as s:
        item(s, ctx, ref)  # NotFound first
        fids = files_of(s, ref, ctx.granted)
    for fid in fids:
        core.progress.save(ctx.user_id, fid, 0.0, None, played)
    with core.sessions() as s:
        data: dict[str, Any] = item(s, ctx, ref)["UserData"]
        return data


def mark_favorite(core: Core, ctx: Ctx, ref: ids.Ref, favorite: bool) -> dict[str, Any]:
    """Add or remove a favourite; returns the item's UserData. Removing keeps the row
    (``is_favorite`` false) with the time, as Jellyfin keeps its UserData: a client
    syncing with ``MinDateLastSavedForUser`` sees the item changed."""
    with core.sessions() as s:
        item(s, ctx, ref)
        row = s.scalar(select(Favorite).where(Favorite.user_id == ctx.user_id,
                                              Favorite.item_kind == ref.kind, Favorite.item_id == ref.id))
        if row is None and favorite:
            s.add(Favorite(user_id=ctx.user_id, item_kind=ref.kind, item_id=ref.id))
        elif row is not None and row.is_favorite != favorite:
            row.is_favorite, row.updated_at = favorite, utcnow()
        try:
            s.commit()
        except IntegrityError:  # a concurrent first mark made the row: it stands
            s.rollback()
        data: dict[str, Any] = item(s, ctx, ref)["UserData"]
        return data


def resume(s: Session, ctx: Ctx, kinds: set[str], limit: int, start: int = 0,
           within: ids.Ref | None = None, search: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Titles the user stopped in the middle of, most recently played first; with
    ``within`` (a show or season: ``ParentId``) only its episodes; with ``search``
    (``SearchTerm``) only films, series or episodes whose title has it, as Items'
    ``SearchTerm`` matches (library/title_search.py)."""
    inside: list[ColumnElement[bool]] = []
    if within is not None:
        inside = ([MediaFile.show_id == within.id, MediaFile.episode_id.is_not(None)] if within.kind == "show"
                  else [MediaFile.episode_id.in_(select(Episode.id).where(Episode.season_id == within.id))])
    if search:
        episodes = (select(Episode.id).join(Season, Season.id == Episode.season_id)
                    .join(Show, Show.id == Season.show_id)
                    .where(or_(func.lower(Episode.title).like(literal_like(search), escape="\\"),
                               title_condition(Show, search, phrase=True))))
        inside.append(or_(MediaFile.movie_id.in_(select(Movie.id).where(title_condition(Movie, search, phrase=True))),
                          MediaFile.episode_id.in_(episodes)))
    rows = s.execute(
        select(MediaFile.movie_id, MediaFile.episode_id)
        .join(WatchProgress, and_(WatchProgress.media_file_id == MediaFile.id,
                                  WatchProgress.user_id == ctx.user_id))
        .where(WatchProgress.position > 0, WatchProgress.watched.is_(False),
               playable_file(), *inside,
               *([] if ctx.granted is None else [granted_files(ctx.granted)]))
        .order_by(WatchProgress.updated_at.desc()).limit(2000))
    refs: list[ids.Ref] = []
    seen = set()
    for movie_id, episode_id in rows:
        ref = (ids.Ref("movie", movie_id) if movie_id is not None else
               ids.Ref("episode", episode_id) if episode_id is not None else None)
        if ref is None or ref in seen or ref.kind not in kinds:
            continue
        seen.add(ref)
        refs.append(ref)
    return Loader(s, ctx).load(refs[start:start + limit]), len(refs)


def next_up(s: Session, ctx: Ctx, series: ids.Ref | None, start: int = 0, limit: int | None = None,
            cutoff: datetime | None = None, resumable: bool = True,
            parent: ids.Ref | None = None) -> tuple[list[dict[str, Any]], int]:
    """Next up, one page (``start``, ``limit``; None: all) and how many there are.

    As Jellyfin's TVSeriesManager/NextUpService: the series are those the user played
    anything of (a progress row on one of their episodes' files), most recently played
    first, not before ``cutoff`` (``NextUpDateCutoff``); with ``series`` (``SeriesId``)
    that one alone, played or not. Per series: the first present, unwatched regular (not
    season 0) episode after the last watched regular one, a multi-episode file counting
    to its last number, or the first regular one when none is watched; left out, when
    ``resumable`` is false (``EnableResumable=false``), if the user stopped in it.
    ``parent`` (``ParentId``) keeps the series inside it: none in the films library,
    all in the series library, the one of a series or season."""
    only: int | None = None  # the one series the parent holds
    if parent is not None and parent.kind == "view" and parent.id != 2:
        return [], 0  # the films library: no series in it
    if parent is not None and parent.kind != "view":
        only = parent.id if parent.kind == "show" else s.scalar(
            select(Season.show_id).where(Season.id == parent.id))
        if only is None or (series is not None and series.id != only):
            return [], 0
    reached = func.coalesce(Episode.last_number, Episode.number)  # S01E01E02 reaches E02
    granted = [] if ctx.granted is None else [granted_files(ctx.granted)]
    played = (select(Season.show_id, Season.number, reached, WatchProgress.watched, WatchProgress.updated_at)
              .select_from(WatchProgress)
              .join(MediaFile, MediaFile.id == WatchProgress.media_file_id)
              .join(Episode, Episode.id == MediaFile.episode_id)
              .join(Season, Season.id == Episode.season_id)
              .where(WatchProgress.user_id == ctx.user_id))
    if series is not None or only is not None:
        played = played.where(Season.show_id == (series.id if series is not None else only))
    last: dict[int, tuple[int, int]] = {}  # show id → (season, episode) last watched
    when: dict[int, datetime] = {}  # show id → last played
    for show_id, season_no, ep_no, watched, at in s.execute(played):
        when[show_id] = max(at, when.get(show_id, at))
        if watched and season_no > 0 and (season_no, ep_no) > last.get(show_id, (0, 0)):
            last[show_id] = (season_no, ep_no)
    if series is not None:
        when.setdefault(series.id, datetime.min.replace(tzinfo=UTC))
    elif cutoff is not None:
        when = {show: at for show, at in when.items() if at >= cutoff}
    seen = select(WatchProgress.media_file_id).where(WatchProgress.user_id == ctx.user_id,
                                                     WatchProgress.watched.is_(True))
    stopped_in = select(WatchProgress.media_file_id).where(WatchProgress.user_id == ctx.user_id,
                                                           WatchProgress.position > 0)
    refs = []
    for show_id in sorted(when, key=lambda show: when[show], reverse=True):
        season_no, ep_no = last.get(show_id, (0, 0))
        nxt = s.execute(
            select(Episode.id, MediaFile.id.in_(stopped_in)).join(Season, Season.id == Episode.season_id)
            .join(MediaFile, and_(MediaFile.episode_id == Episode.id, playable_file()))
            .where(Season.show_id == show_id, Season.number > 0,
                   (Season.number > season_no) | ((Season.number == season_no) & (Episode.number > ep_no)),
                   MediaFile.id.not_in(seen), *granted)
            .order_by(Season.number, Episode.number).limit(1)).first()
        if nxt is not None and (resumable or not nxt[1]):
            refs.append(ids.Ref("episode", nxt[0]))
    chosen = refs[start:] if limit is None else refs[start:start + limit]
    return Loader(s, ctx).load(chosen), len(refs)
