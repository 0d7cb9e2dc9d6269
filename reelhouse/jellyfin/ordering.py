"""The Items query's order: ``SortBy``/``SortOrder`` read as Jellyfin reads them, sort
keys taken from a title's files, and the key that merges the query's arms (movies,
series, seasons, episodes: each sorted by the database) into one order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, select

from reelhouse.db.models import MediaFile, WatchProgress
from reelhouse.jellyfin.params import Args
from reelhouse.jellyfin.visible import playable_file

__all__ = ["SORTS", "MergeKey", "file_keys", "order_by"]

#: The ``SortBy`` keys reelhouse sorts by (lowercase).
SORTS = frozenset({"sortname", "name", "datecreated", "productionyear", "premieredate", "communityrating",
                   "random", "indexnumber", "dateplayed", "runtime", "playcount", "datelastcontentadded",
                   "seriessortname", "parentindexnumber"})
#: Every ``ItemSortBy`` Jellyfin knows (Jellyfin.Data/Enums/ItemSortBy.cs): a known key
#: takes its place in the ``SortOrder`` list even when reelhouse cannot sort by it.
_JELLYFIN_SORTS = frozenset({
    "default", "airedepisodeorder", "album", "albumartist", "artist", "datecreated", "officialrating",
    "dateplayed", "premieredate", "startdate", "sortname", "name", "random", "runtime", "communityrating",
    "productionyear", "playcount", "criticrating", "isfolder", "isunplayed", "isplayed", "seriessortname",
    "videobitrate", "airtime", "studio", "isfavoriteorliked", "datelastcontentadded", "seriesdateplayed",
    "parentindexnumber", "indexnumber"})


def order_by(args: Args) -> tuple[list[tuple[str, bool]], bool]:
    """``SortBy`` with ``SortOrder`` as (key, descending) pairs, and the first order.

    As Jellyfin's RequestHelpers.GetOrderBy: the n-th order goes with the n-th key, keys
    past the orders take the first order (ascending when none is given); a value that
    is no ``ItemSortBy``/``SortOrder`` is dropped first, as its model binder drops what
    it cannot convert. Keys reelhouse cannot sort by (``CriticRating``,
    ``OfficialRating`` …: not stored) are then left out, and ``Random`` only counts as
    the first key. InvalidInput for over 30 keys or orders."""
    keys = [k for k in (v.lower() for v in args.values("sortby", 30)) if k in _JELLYFIN_SORTS]
    orders = [o == "descending" for o in (v.lower() for v in args.values("sortorder", 30))
              if o in ("ascending", "descending")]
    first = orders[0] if orders else False
    pairs = [(key, orders[n] if n < len(orders) else first) for n, key in enumerate(keys)]
    known = [(key, desc) for key, desc in pairs if key in SORTS]
    return [pair for n, pair in enumerate(known) if n == 0 or pair[0] != "random"], first


def file_keys(user_id: int, link: ColumnElement[bool]) -> dict[str, list[Any]]:
    """Sort keys from a title's files (``link`` joins them to the title), as scalar
    subqueries: ``DatePlayed`` (the user's last progress on one), ``PlayCount`` (how
    many the user watched), ``Runtime`` (the longest, seconds) and
    ``DateLastContentAdded`` (the newest)."""
    mine = and_(WatchProgress.media_file_id == MediaFile.id, WatchProgress.user_id == user_id)
    played = select(func.max(WatchProgress.updated_at)).select_from(MediaFile).join(WatchProgress, mine)
    watched = select(func.count(WatchProgress.id)).select_from(MediaFile).join(
        WatchProgress, and_(mine, WatchProgress.watched.is_(True)))
    return {"dateplayed": [played.where(link).scalar_subquery()],
            "playcount": [watched.where(link).scalar_subquery()],
            "runtime": [select(func.max(MediaFile.duration)).where(link, playable_file()).scalar_subquery()],
            "datelastcontentadded": [select(func.max(MediaFile.first_seen)).where(link, playable_file())
                                     .scalar_subquery()]}


class MergeKey:
    """A row's sort key, each column ascending or descending (``descs``), that compares
    None lowest in either direction (as SQLite orders NULLs)."""

    __slots__ = ("descs", "values")

    def __init__(self, values: tuple[Any, ...], descs: tuple[bool, ...]) -> None:
        self.values = tuple((v is not None, v if v is not None else 0) for v in values)
        self.descs = descs

    def __lt__(self, other: MergeKey) -> bool:
        for mine, theirs, desc in zip(self.values, other.values, self.descs, strict=False):
            try:
                if mine == theirs:
                    continue
                return bool(mine > theirs) if desc else bool(mine < theirs)
            except TypeError:
                return str(mine) < str(theirs)
        return len(self.values) < len(other.values)
