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
import math
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


#: Largest file size, bytes (signed 64-bit: off_t, SQLite INTEGER, PostgreSQL bigint).
_MAX_SIZE = 2**63 - 1
#: Largest year and season/episode number taken (the database's ``integer``: 32-bit).
_MAX_YEAR, _MAX_NUMBER = 9999, 2**31 - 1


def _size(value: Any) -> int:
    """A MediaSource's ``Size`` in bytes; 0 (unknown) for anything but a whole number
    from 0 to :data:`_MAX_SIZE` (a server's junk: text, ``1e300``, ``10**30``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if isinstance(value, float) and not value.is_integer():
        return 0
    return int(value) if 0 <= value <= _MAX_SIZE else 0


def _whole(value: Any, most: int) -> int | None:
    """A whole number from 0 to ``most`` (a year, a season or episode number), else None
    (absent: text, ``true``, a fraction, a number past the column)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value) if 0 <= value <= most else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _stamp(text: Any) -> float | None:
    """Epoch seconds of a Jellyfin date (``2024-05-01T12:00:00.0000000Z``, UTC); None
    for anything else."""
    if not text or not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def item_of(dto: dict[str, Any], series: dict[str, dict[str, Any]]) -> CatalogItem | None:
    """A CatalogItem from a BaseItemDto (Movie or Episode with a MediaSource), else
    None (pure). A value of the wrong type or out of range (a broken or hostile server)
    is absent, never an error that stops the scan."""
    kind = {"Movie": "movie", "Episode": "episode"}.get(str(dto.get("Type")))
    sources = dto.get("MediaSources")
    if kind is None or not isinstance(sources, builtins.list) or not sources or not isinstance(sources[0], dict):
        return None
    src = sources[0]
    item_id = str(dto.get("Id", ""))
    ids, tags = _mapping(dto.get("ProviderIds")), _mapping(dto.get("ImageTags"))
    rating = dto.get("CommunityRating")
    images = {}
    if "Primary" in tags:
        images["thumb" if kind == "episode" else "poster"] = f"{item_id}/Primary"
    if dto.get("BackdropImageTags"):
        images["fanart"] = f"{item_id}/Backdrop"
    series_id = dto.get("SeriesId")
    show = _mapping(series.get(str(series_id))) if series_id else {}
    series_images = {}
    if series_id and (dto.get("SeriesPrimaryImageTag") or _mapping(show.get("ImageTags")).get("Primary")):
        series_images["poster"] = f"{series_id}/Primary"
    if series_id and (dto.get("ParentBackdropImageTags") or show.get("BackdropImageTags")):
        series_images["fanart"] = f"{series_id}/Backdrop"
    return CatalogItem(
        key=f"{item_id}:{src.get('Id') or item_id}",
        kind=kind,
        title=str(dto.get("Name") or "Untitled"),
        container=str(src.get("Container") or "mkv"),
        size=_size(src.get("Size")),
        mtime=_stamp(dto.get("DateCreated")),
        year=_whole(dto.get("ProductionYear"), _MAX_YEAR),
        overview=_text(dto.get("Overview")),
        genres=tuple(str(g) for g in genres) if isinstance(genres := dto.get("Genres"), builtins.list) else (),
        rating=rating if isinstance(rating, int | float) and not isinstance(rating, bool)
        and math.isfinite(rating) else None,
        tmdb_id=_text(ids.get("Tmdb")),
        imdb_id=_text(ids.get("Imdb")),
        images=images,
        series=_text(dto.get("SeriesName")),
        series_key=str(series_id) if series_id else None,
        series_year=_whole(show.get("ProductionYear"), _MAX_YEAR),
        series_images=series_images,
        season=_whole(dto.get("ParentIndexNumber"), _MAX_NUMBER),
        episode=_whole(dto.get("IndexNumber"), _MAX_NUMBER),
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
        body = self._body(r, "its login")
        user = body.get("User")
        token, user_id = body.get("AccessToken"), user.get("Id") if isinstance(user, dict) else None
        if not isinstance(token, str) or not token or not isinstance(user_id, str | int):
            raise SourceUnavailable(f"{self.url} does not answer as a Jellyfin server "
                                    "(its login gave no AccessToken and User.Id)")
        self._token, self._user_id = token, str(user_id)
        return self._token

    def _body(self, r: httpx.Response, what: str) -> dict[str, Any]:
        """The JSON object of a 200 answer; raises SourceUnavailable when it is none
        (the address is another web server's: a page, a proxy's login form)."""
        try:
            body = r.json()
        except ValueError:  # json.JSONDecodeError, UnicodeDecodeError
            body = None
        if not isinstance(body, dict):
            raise SourceUnavailable(f"{self.url} does not answer as a Jellyfin server ({what} is not a JSON object)")
        return body

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
            body = self._body(self._get(f"/Users/{self._user_id}/Items",
                                        {**params, "StartIndex": start, "Limit": _PAGE}), "its item list")
            items = body.get("Items")
            if not isinstance(items, builtins.list):
                raise SourceUnavailable(f"{self.url} does not answer as a Jellyfin server (its item list has no Items)")
            # an item without an id is not one (nothing could stream it): left out
            yield from (i for i in items if isinstance(i, dict) and isinstance(i.get("Id"), str | int))
            start += len(items)
            total = body.get("TotalRecordCount")
            if not items or not isinstance(total, int) or start >= total:
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
