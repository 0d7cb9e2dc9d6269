"""The fair queue of an :class:`~.pool.FtpPool`: who gets the next connection of a
server, with no I/O (the pool connects, checks and closes; this grants).

Fairness (nobody starves anybody): callers say who they are through the
:data:`pool_user` context variable (the API sets it to the user a stream is for;
``None`` is the server's own work: scans, probes, transfers).

- A user holds at most ``user_limit`` connections (default ``size - 1``), so one user
  with stalled players can never take the connection another user needs.
- At most ``user_waiters`` callers of one user wait at once; one more is refused with
  :class:`~reelhouse.errors.QueueFull` at once (the API answers 503) instead of queueing for a minute.
  Over a cluster (a store that counts them: :meth:`.slots.ServerSlots.enqueue`), the
  callers of one user waiting for the server+login in every process together: a
  caller about to wait is counted there first (one round trip, only when it waits),
  so a user spreading requests over nodes, workers and drive mounts gets one queue's
  worth, not one per process. Without the store each process counts its own; while it
  is unreachable each pool lets its share of the bound wait (the bound divided by the
  pools of the server+login alive when it last answered, at least 1), and those still
  waiting when it answers again are counted there then (:mod:`.slot_outage`).
- A freed connection goes to the waiter whose user holds the fewest connections, then
  the longest waiting: a second connection for a user only when no other user waits.

Waiting holds no thread: a freed connection is handed to its waiter directly (a
``threading.Event`` for threads, a future for :meth:`FtpPool.aacquire` on the event
loop), so streams waiting for a connection never fill an executor. With the shared
count (:mod:`.slots`), waiters are woken when a slot is freed anywhere (Redis pub/sub) and
also look again every :attr:`.slots.ServerSlots.retry` seconds (news lost, or a
refused pool's hold-off running out), keeping their place.

Over a cluster (several processes on one Redis): the counts and the waiters above are
the process's own, so the pool's choice is checked in Redis before the connection is
used (:meth:`.slots.ServerSlots.share`, :mod:`reelhouse.leased_shares`): the cap and
the order "fewest held, then longest waiting" hold over every process's users and
waiters. A user refused there waits (:meth:`.slots.ServerSlots.hold_user`) and is
skipped here meanwhile.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Executor
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Final

from reelhouse.errors import QueueFull, SourceBusy, SourceUnavailable
from reelhouse.sources.ftp.client import FtpClient
from reelhouse.sources.ftp.config import FtpConfig
from reelhouse.sources.ftp.refusals import RETRY_FOR, Refusals
from reelhouse.sources.ftp.slots import ServerSlots

__all__ = ["Ask", "Granting", "pool_user"]

log = logging.getLogger(__name__)

#: Who the current pool work is for (e.g. ``"user:3"``); ``None``: the server's own.
pool_user: ContextVar[str | None] = ContextVar("reelhouse_pool_user", default=None)

NEW: Final = "new"  # a grant of a slot for a brand-new connection
CLOSED: Final = "closed"  # the pool closed while the caller waited

Grant = FtpClient | str


@dataclass
class Ask:
    """One caller's request over its retries: ``started`` (monotonic seconds) and
    ``seq`` keep its place; ``waiter``: its id in the cluster's waiting set (with fair
    shares), ``served``: the store granted it (and so forgot the waiter);
    ``finished``: the caller stopped waiting (cancelled while a grant of it was still
    being readied in the executor: a refusal then must not leave it registered);
    ``queued``: its token in the cluster's count of the user's waiting requests
    (None: not counted yet, ``""``: not counted there), given back by the pool once
    the caller stops waiting. ``refused_at``: when it first found the server refusing
    the pool's logins (:mod:`.refusals`), ``refusal_wait``: seconds it waits from then."""

    user: str | None
    seq: int
    started: float
    waiter: str = ""
    served: bool = False
    finished: bool = False
    queued: str | None = None
    refused_at: float | None = None
    refusal_wait: float = RETRY_FOR


@dataclass
class _Waiter:
    user: str | None
    seq: int
    wake: Callable[[], None]
    ask: Ask
    grant: Grant | None = None


class Granting:
    """The counts and the waiters of one pool (its base class); every field is
    guarded by ``_lock``. ``size``, ``user_limit``, ``user_waiters``: see
    :class:`~.pool.FtpPool`."""

    def __init__(self, config: FtpConfig, size: int | None, wait_timeout: float,
                 user_limit: int | None, user_waiters: int | None) -> None:
        self.config = config
        self.size = size or config.pool_size
        self.wait_timeout = wait_timeout
        self._user_limit = user_limit or config.user_limit
        self.user_waiters = user_waiters or config.user_waiters
        self._idle: deque[FtpClient] = deque()
        self._live = 0
        self._held: Counter[str | None] = Counter()
        self._owner: dict[int, str | None] = {}
        self._waiters: list[_Waiter] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._closed = False
        self._interrupted = False  # FtpPool.interrupt: new callers refused until resume
        self._slots: ServerSlots | None = None  # the shared count, set by the pool
        self._refusals = Refusals()  # 421s with none of our connections open (refusals.py)
        self._connecting = 0  # NEW grants logging in now

    def release(self, client: FtpClient, reusable: bool = True) -> None:
        """Give a connection back (the pool's)."""
        raise NotImplementedError

    @property
    def user_limit(self) -> int:
        """Most connections one named user may hold now."""
        return self._user_limit or max(1, self.size - 1)

    @property
    def stats(self) -> dict[str, int]:
        """``{"live", "idle", "in_use", "size", "waiting"}`` for health and tests."""
        with self._lock:
            return {
                "live": self._live,
                "idle": len(self._idle),
                "in_use": self._live - len(self._idle),
                "size": self.size,
                "waiting": len(self._waiters),
            }

    # -- granting (under the lock, no I/O) -----------------------------------------------
    def _cap(self, user: str | None) -> int:
        return self.size if user is None else self.user_limit

    def _eligible(self, user: str | None) -> bool:
        return self._held[user] < self._cap(user) and (self._slots is None or not self._slots.holding_user(user))

    def _take(self, user: str | None, seq: int = -1) -> Grant | None:
        """An idle connection or a NEW grant for ``user`` (the caller ``seq``), or None."""
        if not self._eligible(user):
            return None
        if self._idle:
            client = self._idle.pop()  # most recently used: warmest
            self._owner[id(client)] = user
        elif (self._live < self.size and (self._slots is None or not self._slots.holding())
              and not self._refusals.blocks_new(time.monotonic())):
            self._live += 1
            self._refusals.begin(seq)  # while the server refuses: the one login tried
            client = None
        else:
            return None
        self._held[user] += 1
        return client if client is not None else NEW

    def _dispatch(self) -> list[Callable[[], None]]:
        """Hand free connections to waiters, fewest held first; returns wake-ups to call
        once the lock is released."""
        wakes: list[Callable[[], None]] = []
        while self._waiters:
            ready = [w for w in self._waiters if self._eligible(w.user)]
            if not ready:
                break
            best = min(ready, key=lambda w: (self._held[w.user], w.seq))
            grant = self._take(best.user, best.seq)
            if grant is None:
                break
            self._waiters.remove(best)
            best.grant = grant
            wakes.append(best.wake)
        return wakes

    @staticmethod
    def _call(wakes: list[Callable[[], None]]) -> None:
        for wake in wakes:
            wake()

    def _others(self, ask: Ask) -> list[tuple[str, int, float]]:
        """The other users waiting here under their cap and not registered in the
        cluster's waiting set yet, as (user, cap, longest wait in seconds), for the
        store to weigh (:meth:`.slots.ServerSlots.share`). A registered one is weighed
        as registered, with the time it began to wait fixed then: weighed again with
        one measured now (a round trip's jitter apart), two waiters could each find
        the other first, and every waiter be refused for ever."""
        now = time.monotonic()
        found: dict[str | None, tuple[str, int, float]] = {}
        with self._lock:
            for w in self._waiters:
                if w.user == ask.user or w.ask.waiter or self._held[w.user] >= self._cap(w.user):
                    continue  # the caller's own, registered, or one this pool would not serve anyway
                waited = now - w.ask.started
                if w.user not in found or waited > found[w.user][2]:
                    found[w.user] = (w.user or "", self._cap(w.user), waited)
        return list(found.values())

    def _enqueue(self, ask: Ask, wake: Callable[[], None]) -> _Waiter | Grant:
        """A grant now, or a registered waiter; raises SourceBusy past ``user_waiters``."""
        user, seq = ask.user, ask.seq
        with self._lock:
            if self._closed:
                raise SourceUnavailable("the FTP source was closed")
            if self._interrupted:
                raise SourceUnavailable("the FTP source is stopping: its commands were cut")
            grant = self._take(user, seq)
            if grant is not None:
                return grant
            if user is not None and sum(w.user == user for w in self._waiters) >= self._waiters_bound():
                raise self._too_many(False)
            waiter = _Waiter(user, seq, wake, ask)
            self._waiters.append(waiter)
            return waiter

    def _give_up(self, waiter: _Waiter) -> Grant | None:
        """The waiter stops waiting: its grant if one came meanwhile, else None."""
        with self._lock:
            if waiter.grant is None:
                self._waiters.remove(waiter)
            return waiter.grant

    def _waiters_bound(self) -> int:
        """Most requests of one user waiting in this pool now: ``user_waiters``, or this
        pool's share of it while the cluster's count is unreachable
        (:meth:`.slots.ServerSlots.waiters_bound`)."""
        return self.user_waiters if self._slots is None else self._slots.waiters_bound(self.user_waiters)

    def _too_many(self, cluster: bool) -> QueueFull:
        bound = self._waiters_bound()
        if cluster:
            where = " (counted over every reelhouse process)"
        elif bound < self.user_waiters:
            where = f" (this process's share of {self.user_waiters} while the shared count is unreachable)"
        else:
            where = ""
        return QueueFull(f"{bound} requests of yours wait for this FTP server already{where}; "
                         "try again when one has finished")

    def _outranked(self, ask: Ask) -> bool:
        """Whether ``ask``, counted by this process alone (the store unreachable), is
        past this pool's share: more of its user's waiting requests than the share
        came before it (the first ones of an outage began to wait before the pool
        knew of it)."""
        with self._lock:
            before = sum(w.user == ask.user and w.seq <= ask.seq for w in self._waiters)
        return before > self._waiters_bound()

    def _must_queue(self, ask: Ask) -> bool:
        """Whether ``ask``, about to wait, is to be counted in the cluster first."""
        return ask.queued is None and ask.user is not None and self._slots is not None and self._slots.fair

    def _queue(self, ask: Ask) -> bool:
        """Count ``ask`` among its user's waiting requests over the cluster (blocks on
        the store); False when ``user_waiters`` of theirs wait there already."""
        assert self._slots is not None and ask.user is not None
        token = self._slots.enqueue(ask.user, self.user_waiters, ask)
        ask.queued = "" if token is None else token
        refused = token is None or (token == "" and self._slots.store_down and self._outranked(ask))
        if ask.finished or refused:  # the caller is gone meanwhile (cancelled), or refused
            self._slots.dequeued(ask, ask.queued)
        return not refused

    def _busy(self) -> SourceBusy:
        if self._refusals.active:
            return self._refusals.error(self.config.host)
        where = " (counted over every reelhouse process)" if self._slots is not None else ""
        return SourceBusy(f"all {self.size} FTP connections to {self.config.host}{where} stayed "
                          f"busy for {self.wait_timeout:.0f} s")

    def _slice(self, deadline: float) -> float:
        """Seconds to wait: to the deadline, with ``shared`` its ``retry`` at most, while
        the server refuses logins the backoff's end at most (:mod:`.refusals`)."""
        now = time.monotonic()
        left = max(0.0, deadline - now)
        backoff = self._refusals.wait(now)
        if backoff is not None:
            left = min(left, backoff + 0.01)
        return left if self._slots is None else min(left, self._slots.retry)

    def _deadline(self, ask: Ask, deadline: float) -> float:
        """When ``ask`` stops waiting: ``deadline``, or sooner while the server refuses
        the pool's logins (``ask.refusal_wait`` after ``ask`` first found it so)."""
        if not self._refusals.active:
            return deadline
        if ask.refused_at is None:
            ask.refused_at = time.monotonic()
        return min(deadline, ask.refused_at + ask.refusal_wait)

    def _redispatch(self) -> None:
        with self._lock:
            wakes = self._dispatch()
        self._call(wakes)

    # -- waiting -----------------------------------------------------------------------
    def _grant_sync(self, ask: Ask, deadline: float) -> Grant:
        done = threading.Event()
        got = self._enqueue(ask, done.set)
        if not isinstance(got, _Waiter):
            return got
        queued = not self._must_queue(ask) or self._queue(ask)
        while (queued and not done.wait(self._slice(self._deadline(ask, deadline)))
               and time.monotonic() < self._deadline(ask, deadline)):
            self._redispatch()
        grant = self._give_up(got)
        if grant is None:
            raise self._busy() if queued else self._too_many(not self._slots_down())
        return grant

    def _slots_down(self) -> bool:
        return self._slots is not None and self._slots.store_down

    async def _grant_async(self, ask: Ask, deadline: float, io: Executor | None = None) -> Grant:
        """:meth:`_grant_sync` on the event loop; counting the caller in the cluster
        (:meth:`_queue`) runs in the executor ``io``."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()

        def settle() -> None:
            if not fut.done():
                fut.set_result(None)

        def wake() -> None:
            loop.call_soon_threadsafe(settle)

        got = self._enqueue(ask, wake)
        if not isinstance(got, _Waiter):
            return got
        queued = True
        try:
            if self._must_queue(ask):
                queued = await asyncio.shield(loop.run_in_executor(io, self._queue, ask))
            while queued and time.monotonic() < self._deadline(ask, deadline):
                try:
                    async with asyncio.timeout(self._slice(self._deadline(ask, deadline))):
                        await asyncio.shield(fut)
                    break
                except TimeoutError:
                    self._redispatch()
        except BaseException:
            grant = self._give_up(got)
            if grant is not None:
                self._return_grant(grant, ask)
            raise
        grant = self._give_up(got)
        if grant is None:
            raise self._busy() if queued else self._too_many(not self._slots_down())
        return grant

    def _return_grant(self, grant: Grant, ask: Ask) -> None:
        if isinstance(grant, FtpClient):
            self.release(grant)
        elif grant == NEW:
            self._forget(ask.user, ask.seq)

    def _forget(self, user: str | None, seq: int = -1) -> None:
        """A NEW grant of ``user`` (the caller ``seq``) ends with no connection."""
        with self._lock:
            self._live -= 1
            self._held[user] -= 1
            self._refusals.ended(seq)
            wakes = self._dispatch()
        self._call(wakes)

    def _shrink(self, user: str | None, reply: str, seq: int) -> bool:
        """The server refused ``user``'s ``NEW`` grant (421 "too many connections",
        ``reply``; the caller ``seq``): forget it and lower the limit to the connections
        that exist, at once (no other grant in between would hide them), so callers
        wait for those instead of failing. False when none is logged in: then the pool
        backs off before its next login (:mod:`.refusals`) and does not lower its limit
        (logins under way, refused in turn, would leave it at one connection for good)."""
        with self._lock:
            self._live -= 1
            self._held[user] -= 1
            established = self._live - self._connecting
            if 0 < established and self._live < self.size:
                log.warning("FTP server %s allows %d connections; pool limit lowered from %d",
                            self.config.host, self._live, self.size)
                self.size = self._live
                if self._slots is not None:
                    self._slots.limit = self.size
            exist = established > 0
            if not exist:
                self._refusals.refused(reply, time.monotonic(), seq)
            wakes = self._dispatch()
        self._call(wakes)
        return exist
