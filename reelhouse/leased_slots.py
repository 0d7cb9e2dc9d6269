"""Counting limits shared by every node of a cluster through Redis (issue 14, "Two nodes
and workers"): a per-process counter lets a user behind a proxy that spreads requests
over N nodes hold N times the limit.

:class:`LeasedSlots` keeps, per limit key, the Redis sorted set ``reelhouse:slots:<key>``
of the slots taken (a random token each) by the time their lease ends (Redis server
time, seconds: one clock for every node). Taking a slot is one script (drop the run-out
leases, count, add), so two nodes never both take the last one. The process renews its
leases every ``ttl / 3`` seconds from a daemon thread; a process that dies renews
nothing, and its slots free themselves within ``ttl`` seconds.

A refused taker may leave word that it waits (``take(..., want=seconds)``: the key
``reelhouse:wanted:<key>`` for that long), so holders that keep slots they do not need
(idle FTP connections) can give them up at once (:meth:`LeasedSlots.wanted`).

News of a key goes out on the pub/sub channel ``reelhouse:slotnews:<key>``: ``freed``
when a slot is given back, ``wanted`` when a taker is refused with ``want``. A process
that listens (:meth:`LeasedSlots.listen`) hears it at once (one subscriber connection and
thread per process), so a waiter need not poll; pub/sub loses messages while a
subscriber reconnects, so listeners keep a slow poll as well.
"""

from __future__ import annotations

import logging
import secrets
import signal
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["LeasedSlots"]

log = logging.getLogger(__name__)

_PREFIX = "reelhouse:slots:"
_WANTED = "reelhouse:wanted:"
_NEWS = "reelhouse:slotnews:"

_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  if tonumber(ARGV[4]) > 0 then redis.call('SET', KEYS[2], '1', 'PX', ARGV[4]) end
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return 1
"""

_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + tonumber(ARGV[1]), ARGV[i + 1])
  redis.call('EXPIRE', key, math.ceil(tonumber(ARGV[1])) + 1)
end
return #KEYS
"""


class LeasedSlots:
    """Slots in Redis at ``url`` whose leases last ``ttl`` seconds unless renewed.
    Thread-safe; :meth:`take` and :meth:`give_back` block on Redis (call them off the
    event loop) and raise what redis-py raises when Redis is unreachable."""

    def __init__(self, url: str, ttl: float) -> None:
        import redis

        self.ttl = ttl
        self._redis: Any = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._take: Any = self._redis.register_script(_TAKE)
        self._renew: Any = self._redis.register_script(_RENEW)
        self._held: dict[str, str] = {}  # token → key
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: dict[str, list[Callable[[str], None]]] = {}
        self._listening: threading.Thread | None = None

    def take(self, key: str, limit: int, want: float = 0.0) -> str | None:
        """A slot of ``key`` (a token for :meth:`give_back`), or None when ``limit``
        slots of it are taken in the whole cluster; then, with ``want`` > 0, holders
        see :meth:`wanted` true for ``want`` seconds."""
        token = secrets.token_hex(8)
        if not self._take(keys=[_PREFIX + key, _WANTED + key],
                          args=[limit, self.ttl, token, max(0, round(want * 1000))]):
            if want > 0:
                self._redis.publish(_NEWS + key, "wanted")
            return None
        with self._lock:
            self._held[token] = key
            if self._thread is None:
                self._thread = threading.Thread(target=self._keep, name="leased-slots", daemon=True)
                self._thread.start()
        return token

    def give_back(self, token: str) -> None:
        """Free a slot taken by :meth:`take` (once)."""
        with self._lock:
            key = self._held.get(token)
        if key is None:
            return
        pipe = self._redis.pipeline(transaction=False)
        pipe.zrem(_PREFIX + key, token)
        pipe.publish(_NEWS + key, "freed")
        pipe.execute()
        with self._lock:  # held until gone from Redis: a close() meanwhile gives it back too
            self._held.pop(token, None)

    def listen(self, key: str, callback: Callable[[str], None]) -> None:
        """Call ``callback("freed")`` when a slot of ``key`` is given back anywhere in
        the cluster, ``callback("wanted")`` when a taker of it is refused with
        ``want``; from this object's subscriber thread (keep it short). Messages sent
        while Redis is unreachable are lost: poll as well, slowly."""
        with self._lock:
            self._listeners.setdefault(key, []).append(callback)
            if self._listening is None:
                self._listening = threading.Thread(target=self._subscribe, name="leased-slots-news",
                                                   daemon=True)
                self._listening.start()

    def unlisten(self, key: str, callback: Callable[[str], None]) -> None:
        """Stop calling ``callback`` for ``key`` (:meth:`listen`)."""
        with self._lock:
            callbacks = self._listeners.get(key, [])
            if callback in callbacks:
                callbacks.remove(callback)
            if not callbacks:
                self._listeners.pop(key, None)

    def _subscribe(self) -> None:
        _quiet()
        warned = False
        while not self._stop.is_set():
            pubsub: Any = None
            try:
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(_NEWS + "*")
                warned = False
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is None or message.get("type") != "pmessage":
                        continue
                    key = message["channel"].decode()[len(_NEWS):]
                    with self._lock:
                        callbacks = list(self._listeners.get(key, ()))
                    for callback in callbacks:
                        try:
                            callback(message["data"].decode())
                        except Exception:
                            log.exception("a listener of shared slot news failed")
            except Exception:  # Redis unreachable (its users warn): listeners poll meanwhile
                if not warned and not self._stop.is_set():
                    warned = True
                    log.info("listening to shared slot news failed; trying again", exc_info=True)
                self._stop.wait(1.0)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:  # already broken: nothing to close cleanly
                        log.debug("closing the slot news subscriber failed", exc_info=True)

    def wanted(self, key: str) -> bool:
        """Whether a taker of ``key`` was refused within its ``want`` seconds."""
        return bool(self._redis.exists(_WANTED + key))

    def renew(self) -> None:
        """Extend every slot this process holds by ``ttl`` seconds."""
        with self._lock:
            held = list(self._held.items())
        if held:
            self._renew(keys=[_PREFIX + key for _, key in held], args=[self.ttl, *(t for t, _ in held)])

    def _keep(self) -> None:
        _quiet()
        while not self._stop.wait(self.ttl / 3):
            try:
                self.renew()
            except Exception:  # Redis unreachable: the next round tries again
                log.warning("renewing shared slots failed", exc_info=True)

    def close(self) -> None:
        """Give every slot back, stop renewing and listening."""
        self._stop.set()  # the subscriber ends within a second (or as its connection closes)
        with self._lock:
            held, self._held = list(self._held.items()), {}
        try:
            for token, key in held:
                self._redis.zrem(_PREFIX + key, token)
        except Exception:  # Redis unreachable: the leases run out by themselves
            log.warning("giving back shared slots failed", exc_info=True)
        self._redis.close()


def _quiet() -> None:
    """Leave the process's stop signals to the threads that wait for them (the main
    thread; libfuse's loop in a drive mount): a helper thread that took SIGTERM would
    leave that loop waiting (the thread inherits its creator's signal mask)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM,
                                                  *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ())})
