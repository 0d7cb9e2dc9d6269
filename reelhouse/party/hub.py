"""Fan-out of party messages to every connection of a party.

:class:`MemoryHub` serves one process. :class:`RedisHub` serves several processes behind
one party: each publishes to the Redis channel ``reelhouse:party:<code>`` and keeps one
subscriber connection whose messages it hands to its local connections (Redis pub/sub,
https://redis.io/docs/latest/develop/interact/pubsub/). Messages are JSON text, already
rendered once by the publisher, so a broadcast to N connections costs N queue puts.

A connection too slow to take its messages (``QUEUE_SIZE`` waiting) loses the oldest:
every state message carries the whole playback state, so the newest is all a client
needs of it; but members travel as changes (only those that changed), so a lost
message that carried some marks the queue (:attr:`PartyQueue.lost_members`) and the
connection sends a whole member list next (:meth:`reelhouse.party.connection.LiveConnection.messages`).
A lost ``queue`` message (the play queue changed; it carries nothing but that) marks
the queue too (:attr:`PartyQueue.lost_queue`): the connection sends one next.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from reelhouse.errors import SourceUnavailable
from reelhouse.party.protocol import QUEUE_CHANGED

__all__ = ["PUBLISH_ATTEMPTS", "QUEUE_SIZE", "Hub", "MemoryHub", "PartyQueue", "RedisHub", "make_hub"]

log = logging.getLogger(__name__)

QUEUE_SIZE = 64
#: Tries of a publish: a dead pooled connection fails the first (see RedisHub.publish).
PUBLISH_ATTEMPTS = 3
_PREFIX = "reelhouse:party:"


class PartyQueue(asyncio.Queue[str]):
    """A connection's messages; ``lost_members``: a message carrying member changes was
    dropped (the queue was full), so the connection's member list is stale;
    ``lost_queue``: a ``queue`` message was dropped."""

    def __init__(self, maxsize: int = QUEUE_SIZE) -> None:
        super().__init__(maxsize)
        self.lost_members = False
        self.lost_queue = False


def _carries_members(message: str) -> bool:
    """Whether a rendered state message (live.render: compact JSON) names members that
    changed or left."""
    return '"members":[]' not in message or '"gone":[]' not in message


class Hub(Protocol):
    async def publish(self, channel: str, message: str) -> None:
        """Deliver ``message`` to every subscriber of ``channel`` (in every process)."""

    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[PartyQueue]:
        """A queue of the messages of ``channel`` while the block runs."""

    async def close(self) -> None:
        """Stop and free connections."""


def _put(queue: PartyQueue, message: str) -> None:
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            dropped = queue.get_nowait()
            if dropped == QUEUE_CHANGED:
                queue.lost_queue = True
            elif _carries_members(dropped):
                queue.lost_members = True
    queue.put_nowait(message)


class MemoryHub:
    """Subscribers of this process only (the default). Subscribers may live in several
    event loops (test clients run one each): a message for another loop is handed over
    with ``call_soon_threadsafe``."""

    def __init__(self) -> None:
        self._subs: dict[str, dict[PartyQueue, asyncio.AbstractEventLoop]] = {}

    def deliver(self, channel: str, message: str) -> None:
        try:
            here: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        for queue, loop in list(self._subs.get(channel, {}).items()):
            if loop is here:
                _put(queue, message)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(_put, queue, message)

    async def publish(self, channel: str, message: str) -> None:
        self.deliver(channel, message)

    def subscribers(self, channel: str) -> int:
        return len(self._subs.get(channel, ()))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[PartyQueue]:
        queue = PartyQueue(QUEUE_SIZE)
        self._subs.setdefault(channel, {})[queue] = asyncio.get_running_loop()
        try:
            yield queue
        finally:
            subs = self._subs.get(channel)
            if subs is not None:
                subs.pop(queue, None)
                if not subs:
                    del self._subs[channel]

    async def close(self) -> None:
        self._subs.clear()


class RedisHub:
    """Pub/sub over Redis at ``url`` (``redis://host:port/db``); raises SourceUnavailable
    from :meth:`publish`/:meth:`subscribe` when Redis cannot be reached."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self._redis: Any = aioredis.Redis.from_url(url)
        self._pubsub: Any = self._redis.pubsub(ignore_subscribe_messages=True)
        self._local = MemoryHub()
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def publish(self, channel: str, message: str) -> None:
        """Publish once more on a fresh connection when the first attempt fails: after a
        Redis restart the pooled connection is dead and only its first use says so (the
        message would be lost, its change already stored: the other nodes' members
        would not see it until the next one)."""
        for attempt in range(PUBLISH_ATTEMPTS):
            try:
                await self._redis.publish(_PREFIX + channel, message)
                return
            except Exception as exc:  # redis.exceptions.RedisError, OSError
                if attempt == PUBLISH_ATTEMPTS - 1:
                    raise SourceUnavailable(f"redis: {exc}") from exc
                log.warning("party hub: publish failed (%s); trying again", exc)
                await asyncio.sleep(0.1 * (attempt + 1))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[PartyQueue]:
        async with self._local.subscribe(channel) as queue:
            async with self._lock:
                if self._local.subscribers(channel) == 1:
                    try:
                        await self._pubsub.subscribe(_PREFIX + channel)
                    except Exception as exc:
                        raise SourceUnavailable(f"redis: {exc}") from exc
                if self._reader is None or self._reader.done():
                    self._reader = asyncio.create_task(self._read(), name="party-redis-reader")
            try:
                yield queue
            finally:
                async with self._lock:
                    if self._local.subscribers(channel) == 1:
                        with contextlib.suppress(Exception):
                            await self._pubsub.unsubscribe(_PREFIX + channel)

    async def _read(self) -> None:
        while True:
            try:
                msg = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:  # connection lost: redis-py reconnects on the next call
                log.warning("party hub: redis read failed; retrying", exc_info=True)
                await asyncio.sleep(0.5)
                continue
            if msg is None or msg.get("type") != "message":
                if not self._pubsub.subscribed:
                    await asyncio.sleep(0.05)
                continue
            channel = msg["channel"].decode() if isinstance(msg["channel"], bytes) else msg["channel"]
            data = msg["data"].decode() if isinstance(msg["data"], bytes) else str(msg["data"])
            self._local.deliver(channel.removeprefix(_PREFIX), data)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self._redis.aclose()


def make_hub(redis_url: str | None) -> MemoryHub | RedisHub:
    """A RedisHub if ``redis_url`` is set, else a MemoryHub."""
    return RedisHub(redis_url) if redis_url else MemoryHub()
