"""Rate limits of accepted requests (a flood of valid edits, not failed logins: those
are :mod:`.throttle`'s), counted for every node of a cluster.

A limit is ``count`` hits in any window of ``seconds`` seconds: the moving window of the
`limits` package (each hit's time is kept; a hit is refused while ``count`` fall in the
last ``seconds``), so a limit of 20 per 4 s lets a burst of 20 through and 5 a second
on average after it. With a Redis URL the hits live in Redis (`limits`' RedisStorage,
keys ``LIMITS:LIMITER/<name>/<key>/...``), shared by every node and process, so a user
whose requests a proxy spreads over N nodes does not get N times the limit. Without
one, or while Redis is unreachable (a warning once per outage; Redis asked again
after :data:`RETRY_REDIS` seconds), this process counts in its memory (`limits`'
MemoryStorage), as the login throttle falls back to its own counts.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Final

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

__all__ = ["RETRY_REDIS", "RateLimits"]

log = logging.getLogger(__name__)

#: Seconds after a Redis failure before Redis is asked again (meanwhile: memory).
RETRY_REDIS: Final = 10.0


class RateLimits:
    """Moving-window limits per (name, key), in Redis at ``redis_url`` (None: this
    process's memory). Thread-safe; :meth:`hit` blocks on Redis (call it off the event
    loop) and never raises because of Redis."""

    def __init__(self, redis_url: str | None, timeout: float = 0.5) -> None:
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._redis: RedisStorage | None = None
        self._shared: MovingWindowRateLimiter | None = None
        if redis_url:
            self._redis = RedisStorage(redis_url, socket_timeout=timeout, socket_connect_timeout=timeout)
            self._shared = MovingWindowRateLimiter(self._redis)
        self._down_until = 0.0  # monotonic: Redis failed, not asked before then
        self._down = False
        self._lock = threading.Lock()

    def hit(self, name: str, count: int, seconds: int, key: str) -> bool:
        """Count a hit of ``key`` under the limit ``name`` (``count`` hits per
        ``seconds`` s); False (not counted) when the limit is reached."""
        item = RateLimitItemPerSecond(count, seconds)
        if self._shared is not None and time.monotonic() >= self._down_until:
            try:
                allowed = self._shared.hit(item, name, key)
            except Exception as exc:  # redis.exceptions.RedisError, OSError: count here
                with self._lock:
                    self._down_until = time.monotonic() + RETRY_REDIS
                    warn, self._down = not self._down, True
                if warn:
                    log.warning("rate limits: redis unavailable, counting in this process: %s", exc)
            else:
                with self._lock:
                    back, self._down = self._down, False
                if back:
                    log.warning("rate limits: redis answers again, counting there")
                return bool(allowed)
        return bool(self._memory.hit(item, name, key))

    def close(self) -> None:
        """Close the Redis connections (if any)."""
        if self._redis is not None:
            try:
                self._redis.storage.close()
            except Exception:  # already broken: nothing to close cleanly
                log.debug("closing the rate limits' redis failed", exc_info=True)
