"""The Items query's narrower filters, one SQL condition per arm (movie, show, season,
episode): ``ExcludeItemIds``, ``ParentIndexNumber``, ``IndexNumber``, ``IsHD``/``Is4K``,
``HasTmdbId``/``HasImdbId``, ``MinCommunityRating``, ``HasSubtitles``, ``HasOverview``,
``MinPremiereDate``/``MaxPremiereDate``, ``MinDateLastSavedForUser``, ``IsPlayed``/``IsUnplayed`` — read as Jellyfin's
BaseItemRepository.TranslateQuery reads them, over what reelhouse stores (a season or
an episode has no provider id or rating of its own: it matches ``HasTmdbId=false`` and
never ``MinCommunityRating``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.orm import aliased

from reelhouse.db.models import Episode, Favorite, MediaFile, MediaStream, Movie, Season, Show, WatchProgress
from reelhouse.errors import InvalidInput, NotFound
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.params import Args
from reelhouse.jellyfin.visible import granted_files, playable_file

__all__ = ["Narrowing", "changed_for_user", "narrowing_conditions", "played_condition", "read_narrowing"]

#: Jellyfin's resolution buckets on a video's size in pixels (TranslateQuery: HDWidth,
#: UHDWidth, UHDHeight): SD under 1200 wide, HD from 1200, 4K from 3800 wide or 2100 high.
HD_WIDTH, UHD_WIDTH, UHD_HEIGHT = 1200, 3800, 2100


@dataclass(frozen=True)
class Narrowing:
    """The filters of the module doc; None or empty: not asked for."""

    exclude: frozenset[tuple[str, int]] = frozenset()  # (kind, row id)
    parent_index: int | None = None
    index: int | None = None
    resolutions: frozenset[str] = frozenset()  # of "sd", "hd", "4k"
    tmdb: bool | None = None
    imdb: bool | None = None
    min_rating: float | None = None
    subtitles: bool | None = None
    overview: bool | None = None
    special_season: bool | None = None  # Shows/{id}/Seasons?IsSpecialSeason=: season 0 or not
    premiered_from: datetime | None = None  # MinPremiereDate
    premiered_until: datetime | None = None  # MaxPremiereDate

    @property
    def asked(self) -> bool:
        return self != Narrowing()


def read_narrowing(args: Args) -> Narrowing:
    """The filters from Jellyfin's arguments; InvalidInput for unreadable values (a
    malformed id in ``ExcludeItemIds`` too; an id of no reelhouse item excludes nothing)."""
    exclude = set()
    for text in args.values("excludeitemids", 1000):
        try:
            ref = ids.decode(text)
        except NotFound:
            continue
        exclude.add((ref.kind, ref.id))
    hd, uhd = args.flag("ishd"), args.flag("is4k")
    resolutions = {"hd" if hd else "sd"} if hd is not None else set()
    if uhd:
        resolutions.add("4k")
    return Narrowing(frozenset(exclude), args.number("parentindexnumber", None, 0, 2**31 - 1),
                     args.number("indexnumber", None, 0, 2**31 - 1), frozenset(resolutions),
                     args.flag("hastmdbid"), args.flag("hasimdbid"), _rating(args.text("mincommunityrating", 32)),
                     args.flag("hassubtitles"), args.flag("hasoverview"), None,
                     args.date("minpremieredate"), args.date("maxpremieredate"))


def _rating(text: str | None) -> float | None:
    """``MinCommunityRating``: a finite number (Jellyfin's ratings run 0..10)."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise InvalidInput(f"MinCommunityRating must be a number, not {text!r}") from exc
    if not math.isfinite(value):
        raise InvalidInput("MinCommunityRating must be a finite number")
    return value


def narrowing_conditions(n: Narrowing, kind: str, id_col: Any, files: Select[Any]) -> list[ColumnElement[bool]]:
    """Conditions on the arm of ``kind`` (``id_col`` its row id; ``files``: the ids of
    its present files the user sees, for the resolution buckets: a title is in a bucket
    when one of its files is; a series or a season when one of its episodes' is)."""
    out: list[ColumnElement[bool]] = []
    excluded = sorted(row for k, row in n.exclude if k == kind)
    if excluded:
        out.append(id_col.not_in(excluded))
    if n.parent_index is not None:
        out.append(Season.number == n.parent_index if kind == "episode" else false())
    if n.index is not None:
        number = {"episode": Episode.number, "season": Season.number}.get(kind)
        out.append(number == n.index if number is not None else false())
    if n.resolutions:
        out.append(exists(files.where(or_(*[_bucket(r) for r in sorted(n.resolutions)]))))
    table: type[Movie] | type[Show] | None = Movie if kind == "movie" else Show if kind == "show" else None
    for wanted, col in ((n.tmdb, "tmdb_id"), (n.imdb, "imdb_id")):
        if wanted is not None:
            if table is None:
                out.append(false() if wanted else true())
            else:
                value = getattr(table, col)
                out.append(value.is_not(None) if wanted else value.is_(None))
    if n.min_rating is not None:
        out.append(table.rating >= n.min_rating if table is not None else false())
    if n.subtitles is not None:  # an embedded subtitle track (files beside it are not listed here)
        subs: ColumnElement[bool] = exists(files.where(exists(select(MediaStream.id).where(
            MediaStream.media_file_id == MediaFile.id, MediaStream.type == "subtitle"))))
        out.append(subs if n.subtitles else ~subs)
    if n.premiered_from is not None or n.premiered_until is not None:
        out.append(_premiered(n, kind))
    if n.special_season is not None:
        special = Season.number == 0
        out.append((special if n.special_season else ~special) if kind == "season" else true())
    if n.overview is not None:
        text = {"movie": Movie.overview, "show": Show.overview, "episode": Episode.overview}.get(kind)
        has = and_(text.is_not(None), text != "") if text is not None else false()
        out.append(has if n.overview else ~has)
    return out


def _bucket(name: str) -> ColumnElement[bool]:
    uhd = or_(MediaFile.width >= UHD_WIDTH, MediaFile.height >= UHD_HEIGHT)
    if name == "4k":
        return uhd
    if name == "hd":
        return and_(MediaFile.width >= HD_WIDTH, ~uhd)
    return and_(MediaFile.width > 0, MediaFile.width < HD_WIDTH)


def changed_for_user(user_id: int, sources: frozenset[int] | None, kind: str, id_col: Any,
                     link: ColumnElement[bool], since: datetime) -> ColumnElement[bool]:
    """``MinDateLastSavedForUser``: one of the title's files (``link``) the user sees
    (``sources``: their granted sources, None: all) was added, or played by the user
    (progress saved, marked played or unplayed), at or after ``since``; or the user
    made the title (``kind``, ``id_col``) a favourite, or no more one, then."""
    played = select(WatchProgress.id).where(WatchProgress.media_file_id == MediaFile.id,
                                            WatchProgress.user_id == user_id,
                                            WatchProgress.updated_at >= since)
    files = select(MediaFile.id).where(link, playable_file(), or_(MediaFile.first_seen >= since, exists(played)))
    if sources is not None:
        files = files.where(granted_files(sources))
    favourite = select(Favorite.id).where(Favorite.user_id == user_id, Favorite.item_kind == kind,
                                          Favorite.item_id == id_col, Favorite.updated_at >= since)
    return or_(exists(files), exists(favourite))


def _visible(user_id: int, sources: frozenset[int] | None, link: ColumnElement[bool]) -> Select[Any]:
    """The ids of the present files joined by ``link`` that the user sees."""
    visible = select(MediaFile.id).where(link, playable_file())
    return visible if sources is None else visible.where(granted_files(sources))


def _watched(user_id: int, sources: frozenset[int] | None, link: ColumnElement[bool]) -> ColumnElement[bool]:
    """EXISTS a file joined by ``link`` that the user sees and watched."""
    return exists(_visible(user_id, sources, link).join(WatchProgress, and_(
        WatchProgress.media_file_id == MediaFile.id, WatchProgress.user_id == user_id,
        WatchProgress.watched.is_(True))))


def played_condition(user_id: int, sources: frozenset[int] | None, kind: str, played: bool) -> ColumnElement[bool]:
    """``IsPlayed``/``IsUnplayed`` on the arm of ``kind`` as the items' ``UserData.Played``
    says (loader.py): a film or an episode is played when the user watched one of its
    files (``sources``: the ones they see, None: all); a series or a season when every
    episode in it with a file they see is (Jellyfin's folders: no unplayed child), so
    one watched episode of three leaves the series unplayed."""
    if kind in ("movie", "episode"):
        link = MediaFile.movie_id == Movie.id if kind == "movie" else MediaFile.episode_id == Episode.id
        watched = _watched(user_id, sources, link)
        return watched if played else ~watched
    ep = aliased(Episode)
    unwatched = select(ep.id).where(exists(_visible(user_id, sources, MediaFile.episode_id == ep.id)),
                                    ~_watched(user_id, sources, MediaFile.episode_id == ep.id))
    if kind == "show":
        season = aliased(Season)
        unwatched = unwatched.join(season, season.id == ep.season_id).where(season.show_id == Show.id)
    else:
        unwatched = unwatched.where(ep.season_id == Season.id)
    return ~exists(unwatched) if played else exists(unwatched)


def _premiered(n: Narrowing, kind: str) -> ColumnElement[bool]:
    """``MinPremiereDate``/``MaxPremiereDate`` on the ``PremiereDate`` the items carry
    (loader.py): a film's or a series' is 1 January of its year, an episode's its air
    date (date-named episodes only); a season has none, nor a title without them."""
    conds: list[ColumnElement[bool]] = []
    if kind in ("movie", "show"):
        year = Movie.year if kind == "movie" else Show.year
        low, high = n.premiered_from, n.premiered_until
        if low is not None:  # 1 January of the year, at midnight UTC, is on or after low
            first = low.year if (low.month, low.day, low.hour, low.minute, low.second) == (1, 1, 0, 0, 0) \
                else low.year + 1
            conds.append(year >= first)
        if high is not None:
            conds.append(year <= high.year)
        return and_(year.is_not(None), *conds)
    if kind == "episode":
        if n.premiered_from is not None:
            conds.append(Episode.air_date >= n.premiered_from.date().isoformat())
        if n.premiered_until is not None:
            conds.append(Episode.air_date <= n.premiered_until.date().isoformat())
        return and_(Episode.air_date.is_not(None), *conds)
    return false()
