"""News of shared slots over the cluster (:class:`~reelhouse.leased_slots.LeasedSlots`):
what a process hears of the keys it listens to.

News of a key goes out on the pub/sub channel ``reelhouse:slotnews:<key>`` (:data:`NEWS`):
``freed`` when a slot is given back, ``wanted`` when a taker is refused with ``want``,
``shares`` when a grant is given back or a waiter leaves (:mod:`reelhouse.leased_shares`).
A process that listens (:meth:`SlotNews.listen`) hears it at once (one subscriber
connection and thread per process), so a waiter need not poll; pub/sub loses messages
while a subscriber reconnects, so listeners keep a slow poll as well.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["NEWS", "SlotNews", "quiet"]

log = logging.getLogger(__name__)

#: the prefix of the news channels, one per key
NEWS = "reelhouse:slotnews:"


class SlotNews:
    """The listeners of one process to the news of its keys, through the redis-py
    client ``redis``: one subscriber connection and thread, started at the first
    :meth:`listen`, ended once ``stop`` is set (within a second). Thread-safe."""

    def __init__(self, redis: Any, stop: threading.Event) -> None:
        self._redis = redis
        self._stop = stop
        self._lock = threading.Lock()
        self._listeners: dict[str, list[Callable[[str], None]]] = {}
        self._listening: threading.Thread | None = None

    def listen(self, key: str, callback: Callable[[str], None]) -> None:
        """Call ``callback(news)`` for each piece of news of ``key`` (module
        docstring), from the subscriber thread (keep it short)."""
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

    def callbacks(self, key: str) -> list[Callable[[str], None]]:
        """The callbacks listening to ``key`` now (a copy)."""
        with self._lock:
            return list(self._listeners.get(key, ()))

    def _subscribe(self) -> None:
        quiet()
        warned = False
        while not self._stop.is_set():
            pubsub: Any = None
            try:
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(NEWS + "*")
                warned = False
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is None or message.get("type") != "pmessage":
                        continue
                    key = message["channel"].decode()[len(NEWS):]
                    for callback in self.callbacks(key):
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


def quiet() -> None:
    """Leave the process's stop signals to the threads that wait for them (the main
    thread; libfuse's loop in a drive mount): a helper thread that took SIGTERM would
    leave that loop waiting (the thread inherits its creator's signal mask)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM,
                                                  *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ())})
