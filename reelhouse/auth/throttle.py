"""Login throttling: per account and per client address, exponential backoff.

After ``free`` failed attempts for a key (``user:<name>`` or ``addr:<ip>``), each
further attempt must wait ``2 ** (failures - free)`` seconds (1, 2, 4, … capped at
``max_wait``) after the previous failure; an attempt made too early is refused with
the wait left (HTTP 429 with ``Retry-After``, RFC 6585 §4) without checking the
password, so guessing costs time and no argon2 work. A success clears the account's
count (the address keeps its count, so one address cannot reset its budget by
logging into its own account). Counts fade: a key unused for ``forget_after``
seconds starts again from zero (the OWASP Authentication Cheat Sheet's "account
lockout" advice, as a delay rather than a lock, so nobody can lock a user out for long).

The counts live in memory, per process, or with a Redis URL (:class:`RedisCounts`) in
Redis, shared by every node and process of a cluster, so N nodes do not give a guesser
N times the attempts. If Redis cannot be reached, the process falls back to its own
counts for that call (logged) rather than refusing every login.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reelhouse.errors import TooManyRequests

__all__ = ["LoginThrottle", "RedisCounts", "TooManyAttempts"]

log = logging.getLogger(__name__)


def TooManyAttempts(retry_after: int, what: str = "failed logins") -> TooManyRequests:
    """The error of :meth:`LoginThrottle.check`; ``retry_after`` is whole seconds,
    ``what`` names the failures counted (the throttle's ``what``)."""
    return TooManyRequests(f"too many {what}; try again in {retry_after} s", retry_after)


@dataclass
class _Count:
    failures: int
    last: float


class RedisCounts:
    """Failure counts in Redis at ``url`` (``redis://host:port/db``), one hash per key
    (``reelhouse:login:<key>``: ``failures``, ``last`` in Unix seconds) that expires
    ``forget_after`` seconds after its last failure. Times are wall-clock
    (``time.time``): nodes on several machines share them (keep their clocks in NTP
    sync). Raises redis.exceptions.RedisError / OSError when Redis is away."""

    PREFIX = "reelhouse:login:"

    def __init__(self, url: str, forget_after: float, timeout: float = 0.5) -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._ttl = max(1, math.ceil(forget_after))

    def get(self, key: str) -> _Count | None:
        got = self._redis.hmget(self.PREFIX + key, "failures", "last")
        if got[0] is None or got[1] is None:
            return None
        return _Count(int(got[0]), float(got[1]))

    def add(self, keys: list[str], now: float) -> None:
        pipe = self._redis.pipeline(transaction=True)
        for key in keys:
            pipe.hincrby(self.PREFIX + key, "failures", 1)
            pipe.hset(self.PREFIX + key, "last", repr(now))
            pipe.expire(self.PREFIX + key, self._ttl)
        pipe.execute()

    def clear(self, key: str) -> None:
        self._redis.delete(self.PREFIX + key)

    def close(self) -> None:
        self._redis.close()


class LoginThrottle:
    """Count failures and say how long to wait (times from ``clock``, seconds).
    ``redis_url``: keep the counts in Redis for every node (:class:`RedisCounts`; the
    clock is then ``time.time``); None keeps them in this process's memory. ``what``
    names the failures in the refusal ("too many failed logins; try again in 4 s")."""

    def __init__(self, free: int = 5, max_wait: float = 900.0, forget_after: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000,
                 redis_url: str | None = None, what: str = "failed logins") -> None:
        self.what = what
        self.free = free
        self.max_wait = max_wait
        self.forget_after = max(forget_after, max_wait)
        self._clock = time.time if redis_url else clock
        self._max_keys = max_keys
        self._counts: dict[str, _Count] = {}
        self._lock = threading.Lock()
        self._shared = RedisCounts(redis_url, self.forget_after) if redis_url else None

    def _shared_get(self, key: str) -> tuple[bool, _Count | None]:
        """(True, count) from Redis, or (False, None) when Redis failed (logged)."""
        if self._shared is None:
            return False, None
        try:
            return True, self._shared.get(key)
        except Exception as exc:  # redis.exceptions.RedisError, OSError
            log.warning("login throttle: redis unavailable, using this process's counts: %s", exc)
            return False, None

    @staticmethod
    def keys(user_name: str, address: str) -> list[str]:
        # one count per user whatever the spelling: letter case, and NFC/NFD (users.user_name)
        return [f"user:{unicodedata.normalize('NFC', user_name).lower()}", f"addr:{address}"]

    def wait(self, key: str) -> float:
        """Seconds ``key`` must still wait before its next attempt (0: go ahead)."""
        now = self._clock()
        shared, c = self._shared_get(key)
        with self._lock:
            if not shared:
                c = self._counts.get(key)
            if c is None or now - c.last > self.forget_after:
                return 0.0
            if c.failures < self.free:
                return 0.0
            delay = min(self.max_wait, 2.0 ** (c.failures - self.free))
            return max(0.0, c.last + delay - now)

    def check(self, user_name: str, address: str) -> None:
        """Raise :class:`TooManyAttempts` if the account or the address must wait."""
        left = max(self.wait(k) for k in self.keys(user_name, address))
        if left > 0:
            raise TooManyAttempts(max(1, math.ceil(left)), self.what)

    def failed(self, user_name: str, address: str) -> None:
        now = self._clock()
        if self._shared is not None:
            try:
                self._shared.add(self.keys(user_name, address), now)
                return
            except Exception as exc:  # redis.exceptions.RedisError, OSError
                log.warning("login throttle: redis unavailable, counting in this process: %s", exc)
        with self._lock:
            if len(self._counts) >= self._max_keys:
                self._expire(now)
            for key in self.keys(user_name, address):
                c = self._counts.get(key)
                if c is None or now - c.last > self.forget_after:
                    self._counts[key] = _Count(1, now)
                else:
                    c.failures += 1
                    c.last = now

    def succeeded(self, user_name: str) -> None:
        if self._shared is not None:
            try:
                self._shared.clear(self.keys(user_name, "")[0])
            except Exception as exc:  # redis.exceptions.RedisError, OSError
                log.warning("login throttle: redis unavailable: %s", exc)
        with self._lock:
            self._counts.pop(self.keys(user_name, "")[0], None)

    def close(self) -> None:
        if self._shared is not None:
            self._shared.close()

    def _expire(self, now: float) -> None:
        for key in [k for k, c in self._counts.items() if now - c.last > self.forget_after]:
            del self._counts[key]
        if len(self._counts) >= self._max_keys:  # still full: forget the oldest half
            for key in sorted(self._counts, key=lambda k: self._counts[k].last)[: self._max_keys // 2]:
                del self._counts[key]
