"""Per-connection WebSocket limits: a token bucket on client messages and the close
codes for a client that breaks the rules (RFC 6455 §7.4.1)."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["CLOSE_POLICY", "CLOSE_TOO_BIG", "CLOSE_UNSUPPORTED", "MessageRate"]

CLOSE_POLICY = 1008  # policy violation: too many messages
CLOSE_UNSUPPORTED = 1003  # a binary frame on a text protocol
CLOSE_TOO_BIG = 1009  # a message over the size limit


class MessageRate:
    """A token bucket: ``rate`` messages per second on average, bursts of ``burst``."""

    def __init__(self, rate: float, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, 2 * rate)
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()

    def allow(self) -> bool:
        """Take a token; False when the bucket is empty (the client is too fast)."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True
