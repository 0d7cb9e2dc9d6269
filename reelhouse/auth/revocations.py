"""Revocations told to every node at once, over Redis pub/sub.

Each process trusts a token it resolved for a short window
(:data:`~reelhouse.auth.identity.IDENTITY_CACHE_SECONDS`) and a playback grant for
:data:`~reelhouse.auth.sessions.LIVE_CACHE_SECONDS`. A revocation (logout, "sign out
elsewhere", a user disabled, deleted or changed, an API key revoked) empties this
process's caches at once; with ``redis_url`` set, :class:`RevocationBus` also publishes
it on one channel, and every other node (and a CLI command's change) empties its caches
when the message arrives — about a millisecond on a LAN instead of the window. Without
Redis, or while it is away, the window still bounds how long another node trusts a
revoked token. Messages carry only the sender's random id (its own are ignored), never
a token or a user.

Redis pub/sub: https://redis.io/docs/latest/develop/interact/pubsub/ (at-most-once
delivery: a message lost while a node is disconnected leaves the window as the bound).
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["CHANNEL", "RevocationBus"]

log = logging.getLogger(__name__)

#: The pub/sub channel every node listens on.
CHANNEL = "reelhouse:auth:changed"
#: Seconds between reconnection attempts while Redis is away.
RETRY_SECONDS = 1.0


class RevocationBus:
    """Publish this process's revocations and apply other processes' ones.

    ``url``: ``redis://host:port/db``. ``on_remote``: called (no arguments, in the
    bus's reader thread) when another process revoked something; it must only drop
    caches. ``listen=False``: publish only (a one-shot CLI command). Never raises for
    an unreachable Redis: failures are logged and retried."""

    def __init__(self, url: str, on_remote: Callable[[], None], listen: bool = True) -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._on_remote = on_remote
        self._me = secrets.token_hex(8)
        self._out: queue.SimpleQueue[bool] = queue.SimpleQueue()  # True: publish; False: stop
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._writer = threading.Thread(target=self._write, name="revocations-publish", daemon=True)
        self._writer.start()
        self._reader: threading.Thread | None = None
        if listen:
            self._reader = threading.Thread(target=self._read, name="revocations-listen", daemon=True)
            self._reader.start()

    def changed(self) -> None:
        """Tell every other node (no I/O here: the writer thread publishes)."""
        self._out.put(True)

    def wait_subscribed(self, timeout: float) -> bool:
        """Whether the reader is subscribed within ``timeout`` seconds (tests, start-up)."""
        return self._subscribed.wait(timeout)

    def _write(self) -> None:
        while self._out.get():
            try:
                self._redis.publish(CHANNEL, self._me)
            except Exception as exc:  # redis.exceptions.RedisError, OSError
                log.warning("revocations: publish failed (other nodes see it within the cache window): %s", exc)

    def _read(self) -> None:
        while not self._stop.is_set():
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(CHANNEL)
                self._subscribed.set()
                self._on_remote()  # anything missed while away
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is not None and message.get("data") != self._me.encode():
                        self._on_remote()
            except Exception as exc:  # connection lost: retry
                self._subscribed.clear()
                log.warning("revocations: redis unreachable, retrying: %s", exc)
                self._stop.wait(RETRY_SECONDS)
            finally:
                try:
                    pubsub.close()
                except Exception:  # noqa: S110 - closing a broken connection
                    pass

    def close(self, timeout: float = 2.0) -> None:
        """Publish what is queued (up to ``timeout`` seconds), then stop both threads."""
        self._out.put(False)
        self._writer.join(timeout)
        self._stop.set()
        if self._reader is not None:
            self._reader.join(timeout)
        self._redis.close()
