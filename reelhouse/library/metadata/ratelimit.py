"""A thread-safe token bucket (TMDB allows about 40 requests per 10 s).

The clock and the sleep are passed in, so tests run without waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """``capacity`` tokens, refilled at ``capacity / period`` tokens per second.

    :meth:`acquire` takes one token, sleeping until one is there; :meth:`delay` says how
    long that would take (seconds) without taking it.
    """

    def __init__(
        self,
        capacity: int,
        period: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if capacity < 1 or period <= 0:
            raise ValueError("capacity must be ≥ 1 and period > 0")
        self.capacity = float(capacity)
        self.rate = capacity / period  # tokens per second
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(capacity)
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def delay(self) -> float:
        """Seconds until a token is free (0 if one is free now)."""
        with self._lock:
            self._refill()
            return max(0.0, (1.0 - self._tokens) / self.rate)

    def acquire(self) -> float:
        """Take a token, sleeping as long as needed; returns the seconds slept."""
        with self._lock:
            self._refill()
            self._tokens -= 1.0  # reserve now; a negative balance is the queue
            wait = max(0.0, -self._tokens / self.rate)
        if wait > 0:
            self._sleep(wait)
        return wait
