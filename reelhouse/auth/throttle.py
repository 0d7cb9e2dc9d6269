"""Login throttling: per account and address, exponential backoff.

After ``free`` failed attempts for a key, each further attempt must wait
``2 ** (failures - free)`` seconds (1, 2, 4, … capped at ``max_wait``) after the
previous failure; an attempt made too early is refused with the wait left (HTTP 429
with ``Retry-After``, RFC 6585 §4) without checking the password, so guessing costs
time and no argon2 work. Counts fade: a key unused for ``forget_after`` seconds starts
again from zero (the OWASP Authentication Cheat Sheet's "account lockout" advice, as a
delay rather than a lock, so nobody can lock a user out for long).

The keys of an attempt (:meth:`LoginThrottle.keys`), with ``shared_free`` set (logins):

- ``pair:<ip>|<name>``: one account guessed from one address, ``free`` failures;
- ``addr:<ip>``: every account from one address, ``shared_free`` (looser): behind a
  household router, or a proxy that forwards no client address, everybody shares one
  address, and one friend guessing at one account made everybody there wait; now that
  friend waits after ``free`` misses while the others log in, until the address as a
  whole has missed ``shared_free`` times (guessing at many accounts from one address);
- ``user:<name>``: one account from every address, ``shared_free``: many addresses
  guessing at one account (from one address, the pair's backoff makes reaching it take
  hours);
- ``device:<id>`` instead of ``user:<name>`` when the attempt comes from a *known
  device* of the account (a browser carrying a signed device cookie of an earlier
  successful login, :mod:`.devices`; a Jellyfin app whose DeviceId holds a session of
  the account), with ``free``: OWASP's "Slow Down Online Guessing Attacks with Device
  Cookies". A friend failing at the admin's account every time the wait ends keeps
  the account key at ``max_wait`` for ever; the admin's own browser does not count
  under it, only under its own device key (and the pair and address keys).

Without ``shared_free`` (the party-code throttle) the keys are ``user:<name>`` and
``addr:<ip>``, each with ``free``. A success clears the account's keys (the pair and
the account; the address keeps its count, so one address cannot reset its budget by
logging into its own account). Names count in any letter case and Unicode form.

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
                 redis_url: str | None = None, what: str = "failed logins",
                 shared_free: int | None = None) -> None:
        self.what = what
        self.free = free
        self.shared_free = shared_free
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

    def keys(self, user_name: str, address: str, device: str | None = None) -> list[tuple[str, int]]:
        """The keys an attempt of ``user_name`` from ``address`` counts under, each with
        its free failures (module docstring); the account's (or the known ``device``'s,
        an opaque id of at most 128 characters) first."""
        # one count per user whatever the spelling: letter case, and NFC/NFD (users.user_name)
        user = unicodedata.normalize("NFC", user_name).casefold()
        if self.shared_free is None:
            return [(f"user:{user}", self.free), (f"addr:{address}", self.free)]
        first = (f"device:{device[:128]}", self.free) if device else (f"user:{user}", self.shared_free)
        return [first, (f"pair:{address}|{user}", self.free), (f"addr:{address}", self.shared_free)]

    def wait(self, key: str, free: int | None = None) -> float:
        """Seconds ``key`` must still wait before its next attempt (0: go ahead), after
        ``free`` failures without a wait (None: ``self.free``)."""
        free = self.free if free is None else free
        now = self._clock()
        shared, c = self._shared_get(key)
        with self._lock:
            if not shared:
                c = self._counts.get(key)
            if c is None or now - c.last > self.forget_after:
                return 0.0
            if c.failures < free:
                return 0.0
            delay = min(self.max_wait, 2.0 ** (c.failures - free))
            return max(0.0, c.last + delay - now)

    def check(self, user_name: str, address: str, device: str | None = None) -> None:
        """Raise :class:`TooManyAttempts` if the account (or the known ``device``) or the
        address must wait."""
        left = max(self.wait(k, free) for k, free in self.keys(user_name, address, device))
        if left > 0:
            raise TooManyAttempts(max(1, math.ceil(left)), self.what)

    def failed(self, user_name: str, address: str, device: str | None = None) -> None:
        """Count a failure under the keys of :meth:`keys`."""
        now = self._clock()
        if self._shared is not None:
            try:
                self._shared.add([k for k, _ in self.keys(user_name, address, device)], now)
                return
            except Exception as exc:  # redis.exceptions.RedisError, OSError
                log.warning("login throttle: redis unavailable, counting in this process: %s", exc)
        with self._lock:
            if len(self._counts) >= self._max_keys:
                self._expire(now)
            for key, _ in self.keys(user_name, address, device):
                c = self._counts.get(key)
                if c is None or now - c.last > self.forget_after:
                    self._counts[key] = _Count(1, now)
                else:
                    c.failures += 1
                    c.last = now

    def succeeded(self, user_name: str, address: str = "", device: str | None = None) -> None:
        """Clear the counts of the account (over every address, and from ``address``)
        and of ``device``; the address's own count stays."""
        cleared = [k for k, _ in self.keys(user_name, address, device) if not k.startswith("addr:")]
        if device and self.shared_free is not None:
            cleared.append(self.keys(user_name, address)[0][0])
        if self._shared is not None:
            try:
                for key in cleared:
                    self._shared.clear(key)
            except Exception as exc:  # redis.exceptions.RedisError, OSError
                log.warning("login throttle: redis unavailable: %s", exc)
        with self._lock:
            for key in cleared:
                self._counts.pop(key, None)

    def close(self) -> None:
        if self._shared is not None:
            self._shared.close()

    def _expire(self, now: float) -> None:
        for key in [k for k, c in self._counts.items() if now - c.last > self.forget_after]:
            del self._counts[key]
        if len(self._counts) >= self._max_keys:  # still full: forget the oldest half
            for key in sorted(self._counts, key=lambda k: self._counts[k].last)[: self._max_keys // 2]:
                del self._counts[key]
