"""WebSocket limits: a token bucket on client messages, shared by all the sockets of
one user in this process together with a cap on how many they hold (:class:`UserLimits`),
and the close codes for a client that breaks the rules (RFC 6455 §7.4.1)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["CLOSE_POLICY", "CLOSE_TOO_BIG", "CLOSE_UNSUPPORTED", "CONNECTS_PER_SECOND", "MessageRate", "UserLimits"]

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


#: New sockets a second one user may open on average once the burst (twice the
#: connection cap) is spent: a page reload or a network change is one.
CONNECTS_PER_SECOND = 1.0
#: Users whose reconnect budget is kept before the idle ones are forgotten.
_KEPT_BUDGETS = 10_000


class UserLimits:
    """What all the WebSockets of one user in this process share: at most
    ``max_connections`` open at once, one :class:`MessageRate` (``rate`` messages a
    second, bursts of twice that) for their messages together — per-connection limits
    alone let one user multiply them by opening more sockets — and a budget of new
    sockets (:meth:`admit`): each socket that opens or closes is news to every other
    member of its party, and a user reconnecting in a loop (24 a second) sent each of
    them 48 messages a second."""

    def __init__(self, rate: float, max_connections: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.max_connections = max_connections
        self._clock = clock
        self._users: dict[int, tuple[int, MessageRate]] = {}  # user id → (open sockets, bucket)
        self._connects: dict[int, MessageRate] = {}  # user id → budget of new sockets
        self._lock = threading.Lock()  # test clients run each socket on its own thread

    def admit(self, user_id: int) -> bool:
        """Count a new socket of ``user_id`` against their reconnect budget
        (``2 × max_connections`` at once, then :data:`CONNECTS_PER_SECOND`); False when
        it is spent (the socket must then close, before it is news to anyone)."""
        with self._lock:
            bucket = self._connects.get(user_id)
            if bucket is None:
                if len(self._connects) >= _KEPT_BUDGETS:  # forget those with no socket open
                    self._connects = {u: b for u, b in self._connects.items() if u in self._users}
                bucket = MessageRate(CONNECTS_PER_SECOND, 2.0 * self.max_connections, clock=self._clock)
                self._connects[user_id] = bucket
            return bucket.allow()

    def open(self, user_id: int) -> MessageRate | None:
        """Count a new socket of ``user_id``; its bucket, or None when the user already
        holds ``max_connections`` (the socket must then close). Pair with :meth:`close`."""
        with self._lock:
            count, bucket = self._users.get(user_id, (0, None))
            if count >= self.max_connections:
                return None
            if bucket is None:
                bucket = MessageRate(self.rate, clock=self._clock)
            self._users[user_id] = (count + 1, bucket)
            return bucket

    def close(self, user_id: int) -> None:
        """A socket of ``user_id`` counted by :meth:`open` closed."""
        with self._lock:
            count, bucket = self._users.get(user_id, (1, None))
            if count <= 1 or bucket is None:
                self._users.pop(user_id, None)
            else:
                self._users[user_id] = (count - 1, bucket)
