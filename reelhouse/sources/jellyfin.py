"""A Jellyfin server as a source (an adapter: it imports only ``errors`` and
``sources``; the registry gets it from the core): the catalogue :class:`Remote` of
:mod:`reelhouse.sources.catalog`, spoken over Jellyfin's HTTP API with httpx.

- log in with ``Users/AuthenticateByName`` (again once when a token is refused);
- the catalogue: ``Users/{id}/Items?Recursive=true&IncludeItemTypes=Movie,Episode``
  with ``Fields=MediaSources,Overview,Genres,ProviderIds,DateCreated``, pages of 1000;
  later calls ask only for ``MinDateLastSaved`` = the last call's start (minus a
  minute of clock slack) and take the full id list (``Fields`` none: cheap) to drop
  what the server no longer has;
- streams: ``Videos/{id}/stream?static=true&MediaSourceId=…`` with a Range header
  (the server's own file, byte for byte); images: ``Items/{id}/Images/{type}``.

httpx errors become SourceUnavailable, 401 SourceLoginRefused, 404 NotFound.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import AsyncGenerator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx

from reelhouse.errors import (
    InvalidInput,
    NotFound,
    SourceLoginRefused,
    SourceTimeout,
    SourceUnavailable,
    SourceUnreachable,
)
from reelhouse.sources.catalog import CatalogItem, CatalogSource

__all__ = ["JellyfinRemote", "jellyfin_source"]

_VERSION = "1.0"  # of this client, as Jellyfin's session list shows it
_FIELDS = "MediaSources,Overview,Genres,ProviderIds,DateCreated,PremiereDate"
_PAGE = 1000
_CHUNK = 256 * 1024


def _failed(message: str, exc: httpx.HTTPError) -> SourceUnavailable:
    """An httpx failure as our error: a timeout → SourceTimeout, a connection that
    failed or broke → SourceUnreachable, anything else → SourceUnavailable."""
    if isinstance(exc, httpx.TimeoutException):
        return SourceTimeout(message)
    if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
        return SourceUnreachable(message)
    return SourceUnavailable(message)


def _stamp(text: str | None) -> float | None:
    """Epoch seconds of a Jellyfin date (``2024-05-01T12:00:00.0000000Z``, UTC)."""
    if not text:
        return None
    try:
        return datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def item_of(dto: dict[str, Any], series: dict[str, dict[str, Any]]) -> CatalogItem | None:
    """A CatalogItem from a BaseItemDto (Movie or Episode with a MediaSource), else
    None (pure)."""
    kind = {"Movie": "movie", "Episode": "episode"}.get(str(dto.get("Type")))
    sources = dto.get("MediaSources") or []
    if kind is None or not sources or not isinstance(sources[0], dict):
        return None
    src = sources[0]
    item_id = str(dto.get("Id", ""))
    ids = dto.get("ProviderIds") or {}
    tags = dto.get("ImageTags") or {}
    images = {}
    if "Primary" in tags:
        images["thumb" if kind == "episode" else "poster"] = f"{item_id}/Primary"
    if dto.get("BackdropImageTags"):
        images["fanart"] = f"{item_id}/Backdrop"
    series_id = dto.get("SeriesId")
    show = series.get(str(series_id), {}) if series_id else {}
    series_images = {}
    if series_id and (dto.get("SeriesPrimaryImageTag") or (show.get("ImageTags") or {}).get("Primary")):
        series_images["poster"] = f"{series_id}/Primary"
    if series_id and (dto.get("ParentBackdropImageTags") or show.get("BackdropImageTags")):
        series_images["fanart"] = f"{series_id}/Backdrop"
    return CatalogItem(
        key=f"{item_id}:{src.get('Id') or item_id}",
        kind=kind,
        title=str(dto.get("Name") or "Untitled"),
        container=str(src.get("Container") or "mkv"),
        size=int(src.get("Size") or 0),
        mtime=_stamp(dto.get("DateCreated")),
        year=dto.get("ProductionYear"),
        overview=dto.get("Overview"),
        genres=tuple(str(g) for g in dto.get("Genres") or ()),
        rating=dto.get("CommunityRating"),
        tmdb_id=ids.get("Tmdb"),
        imdb_id=ids.get("Imdb"),
        images=images,
        series=dto.get("SeriesName"),
        series_key=str(series_id) if series_id else None,
        series_year=show.get("ProductionYear"),
        series_images=series_images,
        season=dto.get("ParentIndexNumber"),
        episode=dto.get("IndexNumber"),
    )


class JellyfinRemote:
    """One Jellyfin server, logged in as one user (thread-safe)."""

    kind = "jellyfin"

    def __init__(self, url: str, user: str, password: str, *, device_id: str, timeout: float = 30.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise InvalidInput("a Jellyfin source needs an http:// or https:// address")
        self.url = url.rstrip("/")
        self.user = user
        self._password = password
        self.device_id = device_id
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self._http = httpx.Client(base_url=self.url, timeout=self.timeout, follow_redirects=True)
        self._token: str | None = None
        self._user_id: str | None = None
        self._items: dict[str, dict[str, Any]] = {}
        self._series: dict[str, dict[str, Any]] = {}
        self._since: datetime | None = None
        self._lock = threading.Lock()

    def _auth(self, token: str | None) -> str:
        value = (f'MediaBrowser Client="reelhouse", Device="reelhouse", DeviceId="{self.device_id}", '
                 f'Version="{_VERSION}"')
        return value + (f', Token="{token}"' if token else "")

    def _login(self) -> str:
        try:
            r = self._http.post("/Users/AuthenticateByName", json={"Username": self.user, "Pw": self._password},
                                headers={"Authorization": self._auth(None)})
        except httpx.HTTPError as exc:
            raise _failed(f"Jellyfin server {self.url} unreachable: {exc}", exc) from exc
        if r.status_code in (401, 403):
            raise SourceLoginRefused(f"Jellyfin server {self.url} refused user {self.user!r}")
        if r.status_code != 200:
            raise SourceUnavailable(f"Jellyfin login at {self.url} failed: HTTP {r.status_code}")
        body = r.json()
        self._token, self._user_id = str(body["AccessToken"]), str(body["User"]["Id"])
        return self._token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": self._auth(self._token or self._login())}

    def _get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        for attempt in (0, 1):
            try:
                r = self._http.get(path, params=params, headers=self._headers())
            except httpx.HTTPError as exc:
                raise _failed(f"Jellyfin server {self.url}: {exc}", exc) from exc
            if r.status_code == 401 and attempt == 0:
                self._token = None  # expired or revoked: log in again once
                continue
            if r.status_code == 404:
                raise NotFound(f"Jellyfin server {self.url}: {path} not found")
            if r.status_code >= 400:
                raise SourceUnavailable(f"Jellyfin server {self.url}: {path}: HTTP {r.status_code}")
            return r
        raise SourceLoginRefused(f"Jellyfin server {self.url} refused the token")

    def _paged(self, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        start = 0
        while True:
            body = self._get(f"/Users/{self._user_id}/Items",
                             {**params, "StartIndex": start, "Limit": _PAGE}).json()
            items = body.get("Items") or []
            yield from items
            start += len(items)
            if not items or start >= int(body.get("TotalRecordCount") or 0):
                return

    def catalog(self) -> builtins.list[CatalogItem]:
        """Every film and episode; after the first call only what changed since."""
        with self._lock:
            if self._token is None:
                self._login()
            started = datetime.now(UTC)
            # films and episodes asked for apart: each is one sorted list the server
            # pages by offset, where a mixed list costs it a merge per page
            bases = [{"Recursive": "true", "IncludeItemTypes": kind, "EnableUserData": "false",
                      "SortBy": "SortName"} for kind in ("Movie", "Episode")]
            changed = {"Fields": _FIELDS, "EnableImageTypes": "Primary,Backdrop", "ImageTypeLimit": 1}
            if self._since is not None:
                changed["MinDateLastSaved"] = (self._since - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
                present = {str(i["Id"]) for base in bases
                           for i in self._paged({**base, "Fields": "", "EnableImages": "false"})}
                self._items = {k: v for k, v in self._items.items() if k in present}
            for base in bases:
                for dto in self._paged({**base, **changed}):
                    self._items[str(dto["Id"])] = dto
            wanted = {str(d["SeriesId"]) for d in self._items.values() if d.get("SeriesId")} - set(self._series)
            for chunk in range(0, len(wanted), 200):
                ids = sorted(wanted)[chunk:chunk + 200]
                for dto in self._paged({"Ids": ",".join(ids), "Fields": "ProductionYear"}):
                    self._series[str(dto["Id"])] = dto
            self._since = started
            out = [item_of(dto, self._series) for dto in self._items.values()]
            return [i for i in out if i is not None]

    def _stream_request(self, key: str, offset: int, length: int) -> tuple[str, dict[str, str], dict[str, str]]:
        item_id, _, source_id = key.partition(":")
        params = {"static": "true", "MediaSourceId": source_id or item_id}
        headers = {**self._headers(), "Range": f"bytes={offset}-{offset + length - 1}"}
        return f"/Videos/{item_id}/stream", params, headers

    def read(self, key: str, offset: int, length: int) -> Iterator[bytes]:
        if length <= 0:
            return
        path, params, headers = self._stream_request(key, offset, length)
        try:
            with self._http.stream("GET", path, params=params, headers=headers) as r:
                self._check_stream(r, offset)
                yield from r.iter_bytes(_CHUNK)
        except httpx.HTTPError as exc:
            raise _failed(f"Jellyfin stream {key}: {exc}", exc) from exc

    async def aread(self, key: str, offset: int, length: int) -> AsyncGenerator[bytes, None]:
        if length <= 0:
            return
        # the token may need a login first (blocking HTTP): not on the event loop
        path, params, headers = await anyio.to_thread.run_sync(self._stream_request, key, offset, length)
        try:
            async with httpx.AsyncClient(base_url=self.url, timeout=self.timeout) as client, \
                    client.stream("GET", path, params=params, headers=headers) as r:
                self._check_stream(r, offset)
                async for chunk in r.aiter_bytes(_CHUNK):
                    yield chunk
        except httpx.HTTPError as exc:
            raise _failed(f"Jellyfin stream {key}: {exc}", exc) from exc

    def _check_stream(self, r: httpx.Response, offset: int) -> None:
        if r.status_code == 404:
            raise NotFound("the Jellyfin server no longer has this item")
        if r.status_code in (401, 403):
            self._token = None
            raise SourceLoginRefused("the Jellyfin server refused the token; retry")
        if r.status_code == 200 and offset > 0:
            raise SourceUnavailable("the Jellyfin server ignored the Range header")
        if r.status_code not in (200, 206):
            raise SourceUnavailable(f"Jellyfin stream: HTTP {r.status_code}")

    def image(self, key: str) -> bytes:
        item_id, _, kind = key.partition("/")
        return self._get(f"/Items/{item_id}/Images/{kind}", {"maxWidth": 1280}).content

    def close(self) -> None:
        self._http.close()


def jellyfin_source(url: str, user: str, password: str, device_id: str, timeout: float = 30.0) -> CatalogSource:
    """A read-only Source over a Jellyfin server's films and episodes."""
    return CatalogSource(JellyfinRemote(url, user, password, device_id=device_id, timeout=timeout))
