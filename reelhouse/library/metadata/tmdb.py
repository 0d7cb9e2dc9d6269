"""A small TMDB v3 client (https://developer.themoviedb.org/reference): search and
details of movies and shows, season details, image bytes.

Polite and robust:

- responses (status 200) are cached in the ``tmdb_cache`` table, keyed by the URL
  without the API key, for ``tmdb_cache_ttl`` seconds;
- requests pass a token bucket (``tmdb_rate_limit`` per 10 s; TMDB's documented soft
  limit is ~40–50 per second per IP, the older hard limit was 40 per 10 s);
- a 429 waits ``Retry-After`` seconds (RFC 9110 §10.2.3; capped at 60 s) and retries;
  5xx answers, timeouts and connection errors retry with exponential backoff; after
  ``tmdb_retries`` retries the client gives up with :class:`SourceUnavailable` and
  answers at once with the same error for ``cooldown`` seconds, so a scan with TMDB
  down does not wait on every file.

Every error is a :class:`ReelhouseError` (``SourceUnavailable``, ``NotFound``); callers
at scan time catch them and go on without TMDB.
"""

from __future__ import annotations

import email.utils
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.config import Settings
from reelhouse.db.limits import storable_int
from reelhouse.db.models import TmdbCache, utcnow
from reelhouse.errors import NotFound, SourceUnavailable
from reelhouse.library.metadata.matcher import Candidate
from reelhouse.library.metadata.ratelimit import TokenBucket

__all__ = ["Details", "EpisodeInfo", "SeasonInfo", "TmdbClient"]

log = logging.getLogger(__name__)

#: Largest image we download, bytes (TMDB originals are a few MiB at most).
MAX_IMAGE_BYTES = 20 * 1024 * 1024
_MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class Details:
    """A movie's or show's details. ``rating``: TMDB's vote average, 0..10."""

    tmdb_id: int
    title: str
    year: int | None = None
    original_title: str | None = None
    overview: str | None = None
    genres: list[str] = field(default_factory=list)
    rating: float | None = None
    poster_path: str | None = None
    backdrop_path: str | None = None
    imdb_id: str | None = None


@dataclass(frozen=True)
class EpisodeInfo:
    title: str | None
    overview: str | None
    still_path: str | None


@dataclass(frozen=True)
class SeasonInfo:
    poster_path: str | None
    episodes: dict[int, EpisodeInfo]


def _year(date: Any) -> int | None:
    if isinstance(date, str) and len(date) >= 4 and date[:4].isdigit():
        return int(date[:4])
    return None


def _id(value: Any) -> int | None:
    """A TMDB id from a reply if an ``Integer`` column holds it (1 .. 2**31-1), else None."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        return None
    return storable_int(int(value), "TMDB id", 1)


def _with_ids(data: dict[str, Any]) -> list[tuple[dict[str, Any], int]]:
    """The ``results`` of a search reply with their ids; results without a storable id
    are left out."""
    found = []
    for r in data.get("results", []):
        if isinstance(r, dict) and (tmdb_id := _id(r.get("id"))) is not None:
            found.append((r, tmdb_id))
    return found


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a Retry-After header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), _MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, min(when.timestamp() - now, _MAX_RETRY_AFTER))


class TmdbClient:
    """TMDB over httpx. ``enabled`` is False without an API key: every call then raises
    :class:`SourceUnavailable` at once, making no request. ``requests`` counts the
    HTTP requests sent (cache hits are free)."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        *,
        backoff: float = 0.5,
        cooldown: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``backoff``: first retry delay, seconds (doubles each retry); ``cooldown``:
        seconds to stay quiet after giving up."""
        self.settings = settings
        self.sessions = sessions
        self.key = settings.tmdb_api_key or None
        self.base = settings.tmdb_base_url.rstrip("/")
        self.image_base = settings.tmdb_image_base_url.rstrip("/")
        self.backoff = backoff
        self.cooldown = cooldown
        self._clock = clock
        self._sleep = sleep
        self.bucket = TokenBucket(settings.tmdb_rate_limit, 10.0, clock, sleep)
        self.requests = 0
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=settings.tmdb_timeout, follow_redirects=True,
                                  headers={"accept": "application/json", "user-agent": "reelhouse"})

    @property
    def enabled(self) -> bool:
        return self.key is not None

    def close(self) -> None:
        self._http.close()

    def prune(self) -> int:
        """Delete cached answers older than ``tmdb_cache_ttl``; returns how many."""
        cutoff = utcnow() - timedelta(seconds=self.settings.tmdb_cache_ttl)
        with self.sessions() as s:
            result = s.execute(delete(TmdbCache).where(TmdbCache.fetched_at < cutoff))
            s.commit()
            return int(getattr(result, "rowcount", 0) or 0)

    def reset(self) -> None:
        """Forget a recent failure: the next call asks TMDB again (a user asked)."""
        self._down_until = 0.0

    # -- public calls --------------------------------------------------------------
    def search_movie(self, title: str, year: int | None = None) -> list[Candidate]:
        """Movies matching ``title`` (and ``year`` when given), TMDB's order."""
        params: dict[str, Any] = {"query": title, "include_adult": "false"}
        if year:
            params["year"] = year
        data = self.get("/search/movie", params)
        return [Candidate(tmdb_id, str(r.get("title") or ""), _year(r.get("release_date")),
                          _str(r.get("original_title")), _str(r.get("overview")), _str(r.get("poster_path")))
                for r, tmdb_id in _with_ids(data)]

    def search_tv(self, title: str, year: int | None = None) -> list[Candidate]:
        """Shows matching ``title`` (and first-air ``year`` when given)."""
        params: dict[str, Any] = {"query": title, "include_adult": "false"}
        if year:
            params["first_air_date_year"] = year
        data = self.get("/search/tv", params)
        return [Candidate(tmdb_id, str(r.get("name") or ""), _year(r.get("first_air_date")),
                          _str(r.get("original_name")), _str(r.get("overview")), _str(r.get("poster_path")),
                          tuple(c for c in r.get("origin_country") or [] if isinstance(c, str)))
                for r, tmdb_id in _with_ids(data)]

    def movie(self, tmdb_id: int) -> Details:
        """A movie's details; raises NotFound for an unknown id."""
        r = self.get(f"/movie/{int(tmdb_id)}", {})
        return Details(
            tmdb_id=_id(r.get("id")) or tmdb_id, title=str(r.get("title") or ""),
            year=_year(r.get("release_date")), original_title=_str(r.get("original_title")),
            overview=_str(r.get("overview")), genres=self._genres(r), rating=self._rating(r),
            poster_path=_str(r.get("poster_path")), backdrop_path=_str(r.get("backdrop_path")),
            imdb_id=_str(r.get("imdb_id")),
        )

    def tv(self, tmdb_id: int) -> Details:
        """A show's details (with its IMDb id); raises NotFound for an unknown id."""
        r = self.get(f"/tv/{int(tmdb_id)}", {"append_to_response": "external_ids"})
        raw = r.get("external_ids")
        external: dict[str, Any] = raw if isinstance(raw, dict) else {}
        return Details(
            tmdb_id=_id(r.get("id")) or tmdb_id, title=str(r.get("name") or ""),
            year=_year(r.get("first_air_date")), original_title=_str(r.get("original_name")),
            overview=_str(r.get("overview")), genres=self._genres(r), rating=self._rating(r),
            poster_path=_str(r.get("poster_path")), backdrop_path=_str(r.get("backdrop_path")),
            imdb_id=_str(external.get("imdb_id")),
        )

    def season(self, tv_id: int, number: int) -> SeasonInfo:
        """A season's poster and its episodes by number; raises NotFound."""
        r = self.get(f"/tv/{int(tv_id)}/season/{int(number)}", {})
        episodes = {}
        for ep in r.get("episodes", []):
            if isinstance(ep, dict) and isinstance(ep.get("episode_number"), int):
                episodes[ep["episode_number"]] = EpisodeInfo(
                    _str(ep.get("name")), _str(ep.get("overview")), _str(ep.get("still_path")))
        return SeasonInfo(_str(r.get("poster_path")), episodes)

    def image(self, path: str, size: str = "original") -> bytes:
        """The bytes of TMDB image ``path`` (e.g. "/abc.jpg") at ``size`` ("w500",
        "w1280", "original"); not rate-limited (the image CDN is not), not cached here."""
        if not path.startswith("/") or ".." in path:
            raise NotFound(f"not a TMDB image path: {path!r}")
        response = self._send(f"{self.image_base}/{size}{path}", {}, limited=False)
        if len(response.content) > MAX_IMAGE_BYTES:
            raise SourceUnavailable(f"TMDB image {path} is larger than {MAX_IMAGE_BYTES} bytes")
        return response.content

    # -- plumbing ----------------------------------------------------------------------
    @staticmethod
    def _genres(r: dict[str, Any]) -> list[str]:
        return [str(g["name"]) for g in r.get("genres", []) if isinstance(g, dict) and g.get("name")]

    @staticmethod
    def _rating(r: dict[str, Any]) -> float | None:
        value = r.get("vote_average")
        return round(float(value), 2) if isinstance(value, int | float) and r.get("vote_count", 1) else None

    def get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """GET ``path`` (JSON object) through the cache, the rate limit and the retries."""
        if not self.enabled:
            raise SourceUnavailable("TMDB is not configured (set REELHOUSE_TMDB_API_KEY)")
        params = {"language": self.settings.tmdb_language, **params}
        key = f"{path}?{urlencode(sorted(params.items()))}"
        cached = self._cache_get(key)
        if cached is not None:
            return cached
        response = self._send(self.base + path, params, limited=True)
        try:
            data = response.json()
        except ValueError as exc:
            raise SourceUnavailable(f"TMDB sent something that is not JSON for {path}") from exc
        if not isinstance(data, dict):
            raise SourceUnavailable(f"TMDB sent an unexpected answer for {path}")
        self._cache_put(key, response.text)
        return data

    def _auth(self, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        assert self.key is not None
        if len(self.key) > 60 and self.key.count(".") == 2:  # a v4 read access token (JWT)
            return params, {"authorization": f"Bearer {self.key}"}
        return {**params, "api_key": self.key}, {}

    def _send(self, url: str, params: dict[str, Any], limited: bool) -> httpx.Response:
        if self._clock() < self._down_until:
            raise SourceUnavailable("TMDB is unavailable (it failed a moment ago); not asking again yet")
        attempt = 0
        while True:
            if limited:
                self.bucket.acquire()
                params, headers = self._auth(params)
            else:
                headers = {}
            with self._lock:
                self.requests += 1
            wait: float | None = None
            try:
                response = self._http.get(url, params=params, headers=headers)
            except httpx.TimeoutException:
                problem = f"timed out after {self.settings.tmdb_timeout} s"
            except httpx.HTTPError as exc:
                problem = f"connection failed ({type(exc).__name__})"
            else:
                code = response.status_code
                if code == 200:
                    return response
                if code == 429:
                    problem = "rate limited (429)"
                    wait = _retry_after(response.headers.get("retry-after"), time.time())
                elif code >= 500:
                    problem = f"server error {code}"
                elif code == 404:
                    raise NotFound(f"TMDB has no {url.removeprefix(self.base)}")
                elif code == 401:
                    raise SourceUnavailable("TMDB refused the API key (401)")
                else:
                    raise SourceUnavailable(f"TMDB answered {code} for {url.removeprefix(self.base)}")
            attempt += 1
            if attempt > self.settings.tmdb_retries:
                self._down_until = self._clock() + self.cooldown
                log.warning("TMDB gave up after %d tries: %s", attempt, problem)
                raise SourceUnavailable(f"TMDB is unavailable: {problem}")
            delay = wait if wait is not None else self.backoff * 2 ** (attempt - 1)
            log.info("TMDB %s; retry %d in %.2f s", problem, attempt, delay)
            self._sleep(delay)

    def _cache_get(self, key: str) -> dict[str, Any] | None:
        with self.sessions() as s:
            row = s.get(TmdbCache, key)
            if row is None:
                return None
            if utcnow() - row.fetched_at > timedelta(seconds=self.settings.tmdb_cache_ttl):
                return None
            try:
                data = json.loads(row.body)
            except ValueError:
                return None
            return data if isinstance(data, dict) else None

    def _cache_put(self, key: str, body: str) -> None:
        with self.sessions() as s:
            s.merge(TmdbCache(key=key, body=body, fetched_at=utcnow()))
            try:
                s.commit()
            except IntegrityError:  # another scan thread stored it first
                s.rollback()
