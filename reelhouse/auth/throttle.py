"""Login throttling: per account and per client address, exponential backoff.

After ``free`` failed attempts for a key (``user:<name>`` or ``addr:<ip>``), each
further attempt must wait ``2 ** (failures - free)`` seconds (1, 2, 4, … capped at
``max_wait``) after the previous failure; an attempt made too early is refused with
the wait left (HTTP 429 with ``Retry-After``, RFC 6585 §4) without checking the
password, so guessing costs time and no argon2 work. A success clears the account's
count (the address keeps its count, so one address cannot reset its budget by
logging into its own account). Counts fade: a key unused for ``forget_after``
seconds starts again from zero. In memory, per process (the OWASP Authentication
Cheat Sheet's "account lockout" advice, as a delay rather than a lock, so nobody can
lock a user out for long).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from reelhouse.errors import TooManyRequests

__all__ = ["LoginThrottle", "TooManyAttempts"]


def TooManyAttempts(retry_after: int) -> TooManyRequests:
    """The error of :meth:`LoginThrottle.check`; ``retry_after`` is whole seconds."""
    return TooManyRequests(f"too many failed logins; try again in {retry_after} s", retry_after)


@dataclass
class _Count:
    failures: int
    last: float


class LoginThrottle:
    """Count failures and say how long to wait (times from ``clock``, seconds)."""

    def __init__(self, free: int = 5, max_wait: float = 900.0, forget_after: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self.free = free
        self.max_wait = max_wait
        self.forget_after = max(forget_after, max_wait)
        self._clock = clock
        self._max_keys = max_keys
        self._counts: dict[str, _Count] = {}
        self._lock = threading.Lock()

    @staticmethod
    def keys(user_name: str, address: str) -> list[str]:
        return [f"user:{user_name.lower()}", f"addr:{address}"]

    def wait(self, key: str) -> float:
        """Seconds ``key`` must still wait before its next attempt (0: go ahead)."""
        now = self._clock()
        with self._lock:
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
            raise TooManyAttempts(max(1, math.ceil(left)))

    def failed(self, user_name: str, address: str) -> None:
        now = self._clock()
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
        with self._lock:
            self._counts.pop(self.keys(user_name, "")[0], None)

    def _expire(self, now: float) -> None:
        for key in [k for k, c in self._counts.items() if now - c.last > self.forget_after]:
            del self._counts[key]
        if len(self._counts) >= self._max_keys:  # still full: forget the oldest half
            for key in sorted(self._counts, key=lambda k: self._counts[k].last)[: self._max_keys // 2]:
                del self._counts[key]
