"""Watch-party state that several server processes share through Redis (issue 14,
"Two nodes and workers"): who is connected, and each member's hold budget.

Presence leases. A process that holds a member's connection holds a lease on it in
Redis: the sorted set ``reelhouse:presence:<code>`` maps ``<user id>:<node>`` to the
time the lease ends (Redis server time, seconds: one clock for every node). The
process renews its leases every ``ttl / 3`` seconds (:meth:`Presence.renew`) and drops
one when the member's last connection there closes. A process that dies (SIGKILL, a
power cut) renews nothing: every process sweeps (:meth:`Presence.sweep`) and, within
``ttl`` plus one sweep, exactly one of them (the sweep is one Redis script) finds the
lease run out and tells the party the member is gone, unless the member still holds a
live lease on another node.

Hold budgets. A member holds a party (makes it wait while buffering) for at most the
party's ``wait_timeout`` in total within ``HOLD_WINDOW`` seconds (:mod:`.live`); the
holds are kept in Redis (:class:`RedisHolds`) so that a member whose connections land on
several nodes (two tabs, a reconnect through the proxy) has one budget, not one per
node. :class:`MemoryHolds` keeps them for a single process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Protocol

__all__ = ["HOLD_WINDOW", "PRESENCE_TTL", "Holds", "MemoryHolds", "Presence", "RedisHolds"]

#: Seconds over which the times a member held the party add up.
HOLD_WINDOW = 60.0
#: Seconds a presence lease lasts unless renewed (renewed every third of it).
PRESENCE_TTL = 15.0

_PRESENCE = "reelhouse:presence:"
_PARTIES = "reelhouse:presence:parties"
_HELD = "reelhouse:party-held:"
_HOLDING = "reelhouse:party-holding:"

# Removes the run-out leases of one party (KEYS[1]) and answers them with the ones left;
# forgets the party (KEYS[2], ARGV[1]) when none is left. One script: one winner.
_SWEEP = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for i = 1, #gone do redis.call('ZREM', KEYS[1], gone[i]) end
local live = redis.call('ZRANGE', KEYS[1], 0, -1)
if #live == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
return {gone, live}
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _user(entry: Any) -> int:
    return int(_text(entry).partition(":")[0])


class Presence:
    """Presence leases of node ``node`` in Redis at ``url`` (see the module doc);
    ``ttl`` in seconds. Methods raise what redis-py raises when Redis is unreachable."""

    def __init__(self, url: str, node: str, ttl: float = PRESENCE_TTL) -> None:
        import redis.asyncio as aioredis

        self.node, self.ttl = node, ttl
        self._redis: Any = aioredis.Redis.from_url(url)
        self._sweep: Any = self._redis.register_script(_SWEEP)

    async def _now(self) -> float:
        seconds, micros = await self._redis.time()
        return float(seconds) + float(micros) / 1e6

    async def renew(self, members: list[tuple[str, int]]) -> None:
        """Hold (or extend) a lease on each ``(party code, user id)`` for ``ttl`` s."""
        if not members:
            return
        until = await self._now() + self.ttl
        async with self._redis.pipeline(transaction=False) as pipe:
            for code, user_id in members:
                pipe.zadd(_PRESENCE + code, {f"{user_id}:{self.node}": until})
                pipe.sadd(_PARTIES, code)
            await pipe.execute()

    async def drop(self, code: str, user_id: int) -> None:
        """This node no longer holds a connection of the member."""
        await self._redis.zrem(_PRESENCE + code, f"{user_id}:{self.node}")

    async def drop_all(self, members: list[tuple[str, int]]) -> None:
        """Drop this node's leases on ``members`` (at shutdown)."""
        if members:
            async with self._redis.pipeline(transaction=False) as pipe:
                for code, user_id in members:
                    pipe.zrem(_PRESENCE + code, f"{user_id}:{self.node}")
                await pipe.execute()

    async def sweep(self) -> list[tuple[str, int]]:
        """``(party code, user id)`` of the members whose every lease has run out (each
        answered to one caller only, in the whole cluster)."""
        found: list[tuple[str, int]] = []
        for raw in await self._redis.smembers(_PARTIES):
            code = _text(raw)
            gone, live = await self._sweep(keys=[_PRESENCE + code, _PARTIES], args=[code])
            left = {_user(e) for e in live}
            found.extend((code, u) for u in sorted({_user(e) for e in gone} - left))
        return found

    async def close(self) -> None:
        await self._redis.aclose()


class Holds(Protocol):
    """A member's hold budget (times in seconds, server time)."""

    async def may_hold(self, code: str, user_id: int, now: float, budget: float) -> bool:
        """Whether the member has held the party for less than ``budget`` s in total over
        the HOLD_WINDOW s before ``now``."""

    async def started(self, code: str, user_id: int, now: float) -> None:
        """The member made the party wait at ``now``."""

    async def ended(self, code: str, user_id: int, now: float, budget: float) -> None:
        """The member stopped buffering at ``now``: its hold, if any, counts (at most
        ``budget`` s: the party plays on without it after its wait timeout)."""


class MemoryHolds:
    """Hold budgets of one process (thread-safe). A member is forgotten once its holds
    all ended over HOLD_WINDOW s ago (nothing left to count), and past ``max_members``
    members (about 400 bytes each) the one whose last hold ended longest ago goes: a
    flood of others' holds does not reset an active member's budget unless it brings
    ``max_members`` members within HOLD_WINDOW."""

    def __init__(self, max_members: int = 50_000) -> None:
        self._lock = threading.Lock()
        self._max = max_members
        self._holding: dict[tuple[str, int], float] = {}  # → when its current hold began
        # → [(end, seconds held)], the member whose last hold ended longest ago first
        self._held: OrderedDict[tuple[str, int], list[tuple[float, float]]] = OrderedDict()

    async def may_hold(self, code: str, user_id: int, now: float, budget: float) -> bool:
        with self._lock:
            spans = [(end, held) for end, held in self._held.get((code, user_id), ()) if end > now - HOLD_WINDOW]
            if spans:
                self._held[(code, user_id)] = spans
            else:
                self._held.pop((code, user_id), None)
            return sum(held for _, held in spans) < budget

    async def started(self, code: str, user_id: int, now: float) -> None:
        with self._lock:
            self._holding[(code, user_id)] = now

    async def ended(self, code: str, user_id: int, now: float, budget: float) -> None:
        with self._lock:
            start = self._holding.pop((code, user_id), None)
            if start is None:
                return
            key = (code, user_id)
            self._held.setdefault(key, []).append((now, min(max(0.0, now - start), budget)))
            self._held.move_to_end(key)
            while self._held:  # members long gone (their last hold is the oldest)
                oldest = next(iter(self._held.values()))
                if oldest[-1][0] > now - HOLD_WINDOW and len(self._held) <= self._max:
                    break
                self._held.popitem(last=False)


class RedisHolds:
    """Hold budgets in Redis at ``url``, one per member for every node: the sorted set
    ``reelhouse:party-held:<code>:<user>`` of ``<end>:<seconds held>`` by end, and
    ``reelhouse:party-holding:<code>:<user>``, when the current hold began; both expire
    after HOLD_WINDOW s untouched."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self._redis: Any = aioredis.Redis.from_url(url)

    async def may_hold(self, code: str, user_id: int, now: float, budget: float) -> bool:
        key = f"{_HELD}{code}:{user_id}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now - HOLD_WINDOW)
            pipe.zrange(key, 0, -1)
            _, spans = await pipe.execute()
        return sum(float(_text(s).partition(":")[2]) for s in spans) < budget

    async def started(self, code: str, user_id: int, now: float) -> None:
        await self._redis.set(f"{_HOLDING}{code}:{user_id}", repr(now), ex=int(HOLD_WINDOW))

    async def ended(self, code: str, user_id: int, now: float, budget: float) -> None:
        start = await self._redis.getdel(f"{_HOLDING}{code}:{user_id}")
        if start is None:
            return
        held = min(max(0.0, now - float(_text(start))), budget)
        key = f"{_HELD}{code}:{user_id}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {f"{now!r}:{held!r}": now})
            pipe.expire(key, int(HOLD_WINDOW) + 1)
            await pipe.execute()

    async def close(self) -> None:
        await self._redis.aclose()
