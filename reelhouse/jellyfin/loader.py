"""Titles as Jellyfin ``BaseItemDto`` objects, loaded in bulk for a page of refs.

A page of 100 costs a handful of ``IN (…)`` queries whatever the library's size: the
rows of each kind, their present files (with streams only when ``MediaSources`` is
asked for), the user's progress on those files, favourites and, for series and
seasons, episode counts. ``UserData`` follows one rule everywhere (library/progress.py):
a file's resume point, watched flag; a title's is its most recently played file's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, selectinload

from reelhouse.db.models import Episode, Favorite, MediaFile, Movie, Season, Show, WatchProgress
from reelhouse.db.search_key import sort_key
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.media import choose_streams, container_of, media_source, offered, sidecar_streams, ticks
from reelhouse.jellyfin.visible import granted_files, playable_file
from reelhouse.playback.hls.subtitles import SubtitleInfo

__all__ = ["VIEWS", "Ctx", "Loader", "view_dto"]

#: The user's views (Jellyfin "CollectionFolder"s): row id → (name, CollectionType).
VIEWS = {1: ("Films", "movies"), 2: ("Shows", "tvshows")}


@dataclass
class Ctx:
    """Whose view (user row id), the server id, lowercase ``Fields`` and the token
    (for subtitle DeliveryUrls)."""

    user_id: int
    server_id: str
    fields: set[str] = field(default_factory=set)
    token: str | None = None
    sources: bool = False  # MediaSources on every item (single-item answers)
    granted: frozenset[int] | None = None  # source ids the user may see (None: all)
    image_key: bytes = b""  # keys the image tags (ids.image_tag): an image URL's capability
    #: file id → the subtitle files beside it (single-item answers: a folder listing
    #: per file is too dear for a page of 100)
    sidecars: Callable[[int], list[SubtitleInfo]] | None = None

    @property
    def want_sources(self) -> bool:
        return self.sources or bool({"mediasources", "mediastreams"} & self.fields)


def _date(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return f"{value}T00:00:00.0000000Z"
    return value.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def _year_date(year: int | None) -> str | None:
    return f"{year:04d}-01-01T00:00:00.0000000Z" if year else None


def _tag(image_id: int | None, key: bytes) -> str | None:
    return ids.image_tag(key, image_id) if image_id else None


def view_dto(view_id: int, server_id: str) -> dict[str, Any]:
    name, collection = VIEWS[view_id]
    return {"Name": name, "ServerId": server_id, "Id": ids.encode("view", view_id),
            "Etag": f"view{view_id}", "DateCreated": "2020-01-01T00:00:00.0000000Z",
            "CanDelete": False, "CanDownload": False, "SortName": name.lower(),
            "ExternalUrls": [], "Path": "", "EnableMediaSourceDisplay": True, "Taglines": [],
            "Genres": [], "PlayAccess": "Full", "RemoteTrailers": [], "ProviderIds": {},
            "IsFolder": True, "ParentId": None, "Type": "CollectionFolder", "People": [],
            "Studios": [], "GenreItems": [], "LocalTrailerCount": 0,
            "UserData": {"PlaybackPositionTicks": 0, "PlayCount": 0, "IsFavorite": False,
                         "Played": False, "Key": ids.encode("view", view_id),
                         "ItemId": ids.encode("view", view_id)},
            "ChildCount": None, "SpecialFeatureCount": 0, "DisplayPreferencesId": collection,
            "Tags": [], "CollectionType": collection, "ImageTags": {}, "BackdropImageTags": [],
            "LocationType": "FileSystem", "MediaType": "Unknown", "LockedFields": [],
            "LockData": False}


class Loader:
    """Builds DTOs for refs with one session (see the module doc)."""

    def __init__(self, s: Session, ctx: Ctx) -> None:
        self.s = s
        self.ctx = ctx

    def load(self, refs: Iterable[ids.Ref]) -> list[dict[str, Any]]:
        """DTOs in the order of ``refs`` (refs to rows that vanished are skipped)."""
        refs = list(refs)
        by_kind: dict[str, list[int]] = defaultdict(list)
        for r in refs:
            by_kind[r.kind].append(r.id)
        built: dict[tuple[str, int], dict[str, Any]] = {}
        for view_id in by_kind.get("view", []):
            if view_id in VIEWS:
                built["view", view_id] = view_dto(view_id, self.ctx.server_id)
        if by_kind.get("movie"):
            built.update(self._movies(by_kind["movie"]))
        if by_kind.get("show"):
            built.update(self._shows(by_kind["show"]))
        if by_kind.get("season"):
            built.update(self._seasons(by_kind["season"]))
        if by_kind.get("episode"):
            built.update(self._episodes(by_kind["episode"]))
        return [built[r.kind, r.id] for r in refs if (r.kind, r.id) in built]

    # -- shared --------------------------------------------------------------------------
    def _files(self, col: Any, keys: list[int]) -> dict[int, list[MediaFile]]:
        stmt = select(MediaFile).where(col.in_(keys), MediaFile.missing_since.is_(None)).order_by(
            MediaFile.part.nulls_first(), MediaFile.id)
        if self.ctx.granted is not None:
            stmt = stmt.where(granted_files(self.ctx.granted))
        if self.ctx.want_sources:
            stmt = stmt.options(selectinload(MediaFile.streams))
        out: dict[int, list[MediaFile]] = defaultdict(list)
        for mf in self.s.scalars(stmt):
            out[getattr(mf, col.key)].append(mf)
        return out

    def _progress(self, files: Iterable[MediaFile]) -> dict[int, WatchProgress]:
        fids = [mf.id for mf in files]
        if not fids:
            return {}
        rows = self.s.scalars(select(WatchProgress).where(
            WatchProgress.user_id == self.ctx.user_id, WatchProgress.media_file_id.in_(fids)))
        return {wp.media_file_id: wp for wp in rows}

    def _favorites(self, kind: str, keys: list[int]) -> set[int]:
        return set(self.s.scalars(select(Favorite.item_id).where(
            Favorite.user_id == self.ctx.user_id, Favorite.item_kind == kind,
            Favorite.item_id.in_(keys), Favorite.is_favorite.is_(True))))

    def _user_data(self, item_id: str, files: list[MediaFile], progress: dict[int, WatchProgress],
                   favorite: bool) -> dict[str, Any]:
        rows = [progress[mf.id] for mf in files if mf.id in progress]
        latest = max(rows, key=lambda wp: wp.updated_at) if rows else None
        played = any(wp.watched for wp in rows)
        out: dict[str, Any] = {
            "PlaybackPositionTicks": ticks(latest.position) if latest and not latest.watched else 0,
            "PlayCount": 1 if played else 0,
            "IsFavorite": favorite,
            "Played": played,
            "Key": item_id,
            "ItemId": item_id,
        }
        if latest is not None:
            out["LastPlayedDate"] = _date(latest.updated_at)
            if latest.duration and not latest.watched and latest.position > 0:
                out["PlayedPercentage"] = round(100 * latest.position / latest.duration, 2)
        return out

    def _base(self, kind: str, row_id: int, name: str, jf_type: str) -> dict[str, Any]:
        item_id = ids.encode(kind, row_id)  # type: ignore[arg-type]
        return {"Name": name, "ServerId": self.ctx.server_id, "Id": item_id, "Type": jf_type,
                "CanDelete": False, "CanDownload": True,
                "SortName": sort_key(name) if kind in ("movie", "show") else name.lower(),
                "LocationType": "FileSystem", "PlayAccess": "Full", "LockData": False,
                "ExternalUrls": [], "Taglines": [], "RemoteTrailers": [], "People": [],
                "Studios": [], "Tags": [], "LockedFields": [], "EnableMediaSourceDisplay": True,
                "LocalTrailerCount": 0, "SpecialFeatureCount": 0}

    def _video(self, dto: dict[str, Any], files: list[MediaFile]) -> None:
        files = offered(files)  # a version that cannot be played is not offered (media.py)
        main = files[0] if files else None
        dto.update({"IsFolder": False, "MediaType": "Video", "VideoType": "VideoFile",
                    "MediaSourceCount": len(files) or None,
                    "RunTimeTicks": ticks(main.duration) if main else None,
                    "Container": main and container_of(main),
                    "HasSubtitles": any(st.type == "subtitle" for mf in files for st in mf.streams)
                    if self.ctx.want_sources else None,
                    "DateCreated": _date(min(mf.first_seen for mf in files)) if files else None})
        if main is not None and main.width and main.height:
            dto.update({"Width": main.width, "Height": main.height, "IsHD": main.height >= 720})
        if self.ctx.want_sources:
            dto["MediaSources"] = [media_source(mf, dto["Id"], self.ctx.token) for mf in files]
            if self.ctx.sidecars is not None:
                for mf, src in zip(files, dto["MediaSources"], strict=True):
                    src["MediaStreams"] += sidecar_streams(mf, self.ctx.sidecars(mf.id), dto["Id"],
                                                           self.ctx.token)
                dto["HasSubtitles"] = any(st["Type"] == "Subtitle" for src in dto["MediaSources"]
                                          for st in src["MediaStreams"])
            for src in dto["MediaSources"]:
                choose_streams(src)
            dto["MediaStreams"] = dto["MediaSources"][0]["MediaStreams"] if files else []

    @staticmethod
    def _meta(dto: dict[str, Any], row: Movie | Show) -> None:
        genres = [g for g in row.genres or [] if isinstance(g, str) and g.strip()]
        dto.update({"Overview": row.overview, "Genres": genres,
                    "GenreItems": [{"Name": g, "Id": ids.genre_id(g)} for g in genres],
                    "CommunityRating": row.rating, "ProductionYear": row.year,
                    "PremiereDate": _year_date(row.year),
                    "ProviderIds": {k: v for k, v in (("Tmdb", str(row.tmdb_id) if row.tmdb_id else None),
                                                      ("Imdb", row.imdb_id)) if v}})

    def _images(self, dto: dict[str, Any], primary: int | None, backdrop: int | None) -> None:
        key = self.ctx.image_key
        tags = {}
        if primary:
            tags["Primary"] = _tag(primary, key)
            dto["PrimaryImageAspectRatio"] = 2 / 3
        if backdrop:
            tags["Thumb"] = _tag(backdrop, key)
        dto["ImageTags"] = tags
        dto["BackdropImageTags"] = [_tag(backdrop, key)] if backdrop else []

    # -- kinds ---------------------------------------------------------------------------
    def _movies(self, keys: list[int]) -> dict[tuple[str, int], dict[str, Any]]:
        files = self._files(MediaFile.movie_id, keys)
        progress = self._progress(f for fs in files.values() for f in fs)
        favs = self._favorites("movie", keys)
        out = {}
        for m in self.s.scalars(select(Movie).where(Movie.id.in_(keys))):
            dto = self._base("movie", m.id, m.title, "Movie")
            self._meta(dto, m)
            dto["ParentId"] = ids.encode("view", 1)
            fs = files.get(m.id, [])
            self._video(dto, fs)
            if not dto.get("DateCreated"):
                dto["DateCreated"] = _date(m.created_at)
            self._images(dto, m.poster_image_id, m.backdrop_image_id)
            dto["UserData"] = self._user_data(dto["Id"], fs, progress, m.id in favs)
            out["movie", m.id] = _clean(dto)
        return out

    def _episode_counts(self, col: Any, keys: list[int]) -> dict[int, tuple[int, int]]:
        """Per show/season id: (episodes Items lists, of which the user watched)."""
        watched = select(WatchProgress.media_file_id).where(
            WatchProgress.user_id == self.ctx.user_id, WatchProgress.watched.is_(True))
        stmt = (select(col, func.count(func.distinct(Episode.id)),
                       func.count(func.distinct(case((MediaFile.id.in_(watched), Episode.id)))))
                .select_from(Episode).join(Season, Season.id == Episode.season_id)
                .join(MediaFile, and_(MediaFile.episode_id == Episode.id, playable_file()))
                .where(col.in_(keys), *self._granted()).group_by(col))
        return {row[0]: (int(row[1]), int(row[2])) for row in self.s.execute(stmt)}

    def _season_counts(self, keys: list[int]) -> dict[int, int]:
        """Per show id: its seasons that Items lists (an episode with a file the user
        sees that is no failed probe: :mod:`.visible`)."""
        stmt = (select(Season.show_id, func.count(func.distinct(Season.id))).select_from(Episode)
                .join(Season, Season.id == Episode.season_id)
                .join(MediaFile, and_(MediaFile.episode_id == Episode.id, playable_file()))
                .where(Season.show_id.in_(keys), *self._granted()).group_by(Season.show_id))
        return {row[0]: int(row[1]) for row in self.s.execute(stmt)}

    def _granted(self) -> list[Any]:
        g = self.ctx.granted
        return [] if g is None else [granted_files(g)]

    def _folder_user_data(self, item_id: str, counts: tuple[int, int], favorite: bool) -> dict[str, Any]:
        total, seen = counts
        return {"PlaybackPositionTicks": 0, "PlayCount": 0, "IsFavorite": favorite,
                "Played": total > 0 and seen >= total, "UnplayedItemCount": max(total - seen, 0),
                "PlayedPercentage": round(100 * seen / total, 2) if total else 0.0, "Key": item_id,
                "ItemId": item_id}

    def _shows(self, keys: list[int]) -> dict[tuple[str, int], dict[str, Any]]:
        counts = self._episode_counts(Season.show_id, keys)
        seasons = self._season_counts(keys)
        favs = self._favorites("show", keys)
        out = {}
        for sh in self.s.scalars(select(Show).where(Show.id.in_(keys))):
            dto = self._base("show", sh.id, sh.title, "Series")
            self._meta(dto, sh)
            c = counts.get(sh.id, (0, 0))
            dto.update({"ParentId": ids.encode("view", 2), "IsFolder": True, "MediaType": "Unknown",
                        "DateCreated": _date(sh.created_at), "ChildCount": seasons.get(sh.id, 0),
                        "RecursiveItemCount": c[0], "Status": "Continuing",
                        "DisplayPreferencesId": dto["Id"], "AirDays": []})
            self._images(dto, sh.poster_image_id, sh.backdrop_image_id)
            dto["UserData"] = self._folder_user_data(dto["Id"], c, sh.id in favs)
            out["show", sh.id] = _clean(dto)
        return out

    def _seasons(self, keys: list[int]) -> dict[tuple[str, int], dict[str, Any]]:
        counts = self._episode_counts(Season.id, keys)
        favs = self._favorites("season", keys)
        out = {}
        rows = self.s.execute(select(Season, Show).join(Show, Show.id == Season.show_id)
                              .where(Season.id.in_(keys)))
        for se, sh in rows:
            name = "Specials" if se.number == 0 else f"Season {se.number}"
            dto = self._base("season", se.id, name, "Season")
            series_id = ids.encode("show", sh.id)
            c = counts.get(se.id, (0, 0))
            dto.update({"ParentId": series_id, "SeriesId": series_id, "SeriesName": sh.title,
                        "IndexNumber": se.number, "IsFolder": True, "MediaType": "Unknown",
                        "DateCreated": _date(sh.created_at), "ChildCount": c[0],
                        "RecursiveItemCount": c[0], "ProductionYear": sh.year,
                        "SeriesPrimaryImageTag": _tag(sh.poster_image_id, self.ctx.image_key),
                        "ParentBackdropItemId": series_id if sh.backdrop_image_id else None,
                        "ParentBackdropImageTags": [_tag(sh.backdrop_image_id, self.ctx.image_key)]
                        if sh.backdrop_image_id else None})
            self._images(dto, se.poster_image_id or sh.poster_image_id, None)
            dto["UserData"] = self._folder_user_data(dto["Id"], c, se.id in favs)
            out["season", se.id] = _clean(dto)
        return out

    def _episodes(self, keys: list[int]) -> dict[tuple[str, int], dict[str, Any]]:
        files = self._files(MediaFile.episode_id, keys)
        progress = self._progress(f for fs in files.values() for f in fs)
        favs = self._favorites("episode", keys)
        out = {}
        rows = self.s.execute(select(Episode, Season, Show).join(Season, Season.id == Episode.season_id)
                              .join(Show, Show.id == Season.show_id).where(Episode.id.in_(keys)))
        for ep, se, sh in rows:
            name = ep.title or f"Episode {ep.number}"
            dto = self._base("episode", ep.id, name, "Episode")
            series_id, season_id = ids.encode("show", sh.id), ids.encode("season", se.id)
            fs = files.get(ep.id, [])
            self._video(dto, fs)
            dto.update({"ParentId": season_id, "SeasonId": season_id, "SeriesId": series_id,
                        "SeriesName": sh.title, "SeasonName": "Specials" if se.number == 0 else f"Season {se.number}",
                        "IndexNumber": ep.number, "IndexNumberEnd": ep.last_number,
                        "ParentIndexNumber": se.number, "Overview": ep.overview,
                        "PremiereDate": _date(ep.air_date), "ProductionYear": sh.year,
                        "SortName": f"{se.number:03d} - {ep.number:04d} - {name}".lower(),
                        "SeriesPrimaryImageTag": _tag(sh.poster_image_id, self.ctx.image_key),
                        "ParentBackdropItemId": series_id if sh.backdrop_image_id else None,
                        "ParentBackdropImageTags": [_tag(sh.backdrop_image_id, self.ctx.image_key)]
                        if sh.backdrop_image_id else None})
            if not dto.get("DateCreated"):
                dto["DateCreated"] = _date(sh.created_at)
            self._images(dto, ep.still_image_id, None)
            if ep.still_image_id:
                dto["PrimaryImageAspectRatio"] = 16 / 9
            dto["UserData"] = self._user_data(dto["Id"], fs, progress, ep.id in favs)
            out["episode", ep.id] = _clean(dto)
        return out


def _clean(dto: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in dto.items() if v is not None}
