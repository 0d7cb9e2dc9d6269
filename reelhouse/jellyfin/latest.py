"""``Items/Latest``: the newest titles, with new episodes grouped as Jellyfin groups them.

Jellyfin (BaseItemRepository.GetLatestTvShowItems, 10.11) shows one card per series
with new episodes, the series with the newest episode first. An episode is new when
added within 24 hours of the series' newest one; the card is

- the episode itself when one episode is new (and it is not its whole season);
- the season when several (or all) episodes of one season are new and the series has
  more seasons;
- the series when its one season got several (or all) new episodes, or the new
  episodes span seasons.

Films are cards of their own; with no library (``ParentId``) both are merged newest
first. ``GroupItems=false`` lists new episodes one by one. When an episode was added is
the first sighting of its first file (as its ``DateCreated``). The episodes are read
newest first from an index and only until the cards are known: the row costs what
its new episodes cost, not the library's size.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.filters import played_condition
from reelhouse.jellyfin.loader import Ctx, Loader
from reelhouse.jellyfin.paging import page
from reelhouse.jellyfin.query import ItemQuery
from reelhouse.jellyfin.visible import granted_files, playable_file

__all__ = ["RECENT_WINDOW", "latest"]

#: Episodes added this close to a series' newest one were "added together" (Jellyfin's
#: RecentAdditionWindowHours).
RECENT_WINDOW = timedelta(hours=24)
_BATCH = 256


def latest(s: Session, ctx: Ctx, parent: ids.Ref | None, limit: int, wanted: set[str] | None = None,
           played: bool | None = None, group: bool = True) -> list[dict[str, Any]]:
    """The newest ``limit`` cards under ``parent`` (a library view, series or season;
    None: both libraries). ``wanted``: our kinds from ``IncludeItemTypes`` (``show``:
    series by when they were added; ``episode``: new episodes, grouped unless
    ``group`` is false); ``played`` (None: all) keeps played or unplayed titles only."""
    kinds = _kinds(parent, wanted)
    cards: list[tuple[datetime, ids.Ref]] = []  # (added, card)
    flat = {k for k in kinds if k != "episode" or not group}
    if flat:
        q = ItemQuery(user_id=ctx.user_id, kinds=flat, parent=parent, recursive=True, sort="datecreated",
                      descending=True, limit=limit, sources=ctx.granted, played=played)
        refs = list(page(s, q))
        added = _added(s, refs)
        cards += [(added.get(r, datetime.min), r) for r in refs]
    if "episode" in kinds and group:
        cards += _series_cards(s, ctx, parent, limit, played)
    cards.sort(key=lambda c: (_naive(c[0]), c[1].id), reverse=True)
    return Loader(s, ctx).load([ref for _at, ref in cards[:limit]])


def _kinds(parent: ids.Ref | None, wanted: set[str] | None) -> set[str]:
    """Films and episodes by default (a library: its own); ``wanted`` within what the
    parent holds; under a series or season its episodes."""
    if parent is None:
        return {"movie", "episode"} if wanted is None else set(wanted)
    if parent.kind == "view":
        held = {"movie"} if parent.id == 1 else {"show", "episode"}
        return ({"movie"} if parent.id == 1 else {"episode"}) if wanted is None else set(wanted) & held
    return {"episode"}


def _naive(at: datetime) -> datetime:
    return at.replace(tzinfo=None)


def _added(s: Session, refs: list[ids.Ref]) -> dict[ids.Ref, datetime]:
    """When each film, series or episode of ``refs`` was added (its ``DateCreated``)."""
    out: dict[ids.Ref, datetime] = {}
    movies = [r.id for r in refs if r.kind == "movie"]
    if movies:
        out.update((ids.Ref("movie", i), at) for i, at in s.execute(
            select(Movie.id, Movie.created_at).where(Movie.id.in_(movies))))
    episodes = [r.id for r in refs if r.kind == "episode"]
    if episodes:
        out.update((ids.Ref("episode", i), at) for i, at in s.execute(
            select(MediaFile.episode_id, func.min(MediaFile.first_seen))
            .where(MediaFile.episode_id.in_(episodes)).group_by(MediaFile.episode_id))
            if i is not None and at is not None)
    shows = [r.id for r in refs if r.kind == "show"]
    if shows:
        out.update((ids.Ref("show", i), at) for i, at in s.execute(
            select(Show.id, Show.created_at).where(Show.id.in_(shows))))
    return out


def _conditions(ctx: Ctx, parent: ids.Ref | None, played: bool | None) -> list[ColumnElement[bool]]:
    """Episode files (joined to their episode) the user sees under ``parent``, played
    or not as ``played`` asks, each episode's first one only (a file whose episode
    has an older one the user sees is skipped: an episode was added when its first
    file was)."""
    conds: list[ColumnElement[bool]] = [MediaFile.episode_id.is_not(None), playable_file()]
    if ctx.granted is not None:
        conds.append(granted_files(ctx.granted))
    older = aliased(MediaFile)
    earlier = select(older.id).where(older.episode_id == MediaFile.episode_id, older.missing_since.is_(None),
                                     older.first_seen < MediaFile.first_seen)
    if ctx.granted is not None:
        earlier = earlier.where(older.source_id.in_(sorted(ctx.granted)))
    conds.append(~exists(earlier))
    if parent is not None and parent.kind == "show":
        conds.append(MediaFile.show_id == parent.id)
    elif parent is not None and parent.kind == "season":
        conds.append(Episode.season_id == parent.id)
    if played is not None:
        conds.append(played_condition(ctx.user_id, ctx.granted, "episode", played))
    return conds


def _newest_episodes(ctx: Ctx, parent: ids.Ref | None,
                     played: bool | None) -> Select[int, int, int | None, datetime]:
    """(episode, season, series, added) of the episodes (:func:`_conditions`), newest
    first, read from ``ix_media_files_episode_added``."""
    return (select(Episode.id, Episode.season_id, MediaFile.show_id, MediaFile.first_seen)
            .select_from(MediaFile).join(Episode, Episode.id == MediaFile.episode_id)
            .where(*_conditions(ctx, parent, played))
            .order_by(MediaFile.first_seen.desc(), MediaFile.id.desc()))


def _series_cards(s: Session, ctx: Ctx, parent: ids.Ref | None, limit: int,
                  played: bool | None) -> list[tuple[datetime, ids.Ref]]:
    """One card per series with new episodes (see the module doc), the ``limit``
    series with the newest ones: found by reading the episodes newest first until
    there are ``limit`` series; then each one's new episodes are counted (its files by
    its own index)."""
    newest: dict[int, tuple[datetime, int, int]] = {}  # series → (added, episode, season) of its newest
    result = s.execute(_newest_episodes(ctx, parent, played).execution_options(yield_per=_BATCH))
    try:
        for ep_id, season_id, show_id, at in result:
            if show_id is not None and at is not None and show_id not in newest:
                newest[show_id] = (at, ep_id, season_id)
                if len(newest) >= limit:
                    break
    finally:
        result.close()
    if not newest:
        return []
    conds = _conditions(ctx, parent, played)
    new: dict[int, tuple[int, int]] = {}  # series → (new episodes, their seasons)
    for show_id, (at, _ep, _season) in newest.items():
        row = s.execute(select(func.count(func.distinct(Episode.id)), func.count(func.distinct(Episode.season_id)))
                        .select_from(MediaFile).join(Episode, Episode.id == MediaFile.episode_id)
                        .where(MediaFile.show_id == show_id, MediaFile.first_seen >= at - RECENT_WINDOW,
                               *conds)).one()
        new[show_id] = (int(row[0]), int(row[1]))
    seasons = {season for _at, _ep, season in newest.values()}
    in_season = dict(s.execute(select(Episode.season_id, func.count(Episode.id))
                               .where(Episode.season_id.in_(seasons)).group_by(Episode.season_id)).all())
    of_series = dict(s.execute(select(Season.show_id, func.count(Season.id))
                               .where(Season.show_id.in_(list(newest))).group_by(Season.show_id)).all())
    cards = []
    for show_id, (at, ep_id, season_id) in newest.items():
        count, spread = new[show_id]
        card = ids.Ref("episode", ep_id)
        if spread > 1:
            card = ids.Ref("show", show_id)
        elif count > 1 or count == in_season.get(season_id, 0):
            card = ids.Ref("season", season_id) if of_series.get(show_id, 1) > 1 else ids.Ref("show", show_id)
        cards.append((at, card))
    return cards
