"""A pool's shared count (:mod:`.slots`) through an outage of its store (Redis down or
unreachable, issue 14): what the pool does meanwhile, and how the cluster's counts
hold again once the store answers.

While the store fails, the pool goes on with its own per-process limits (a warning
once, a new try after :data:`RETRY_STORE` seconds; streams never fail because of
Redis). What it makes meanwhile is remembered: connections (:data:`UNSHARED` slots),
users' grants, and requests that began to wait. When the store answers again (asked
by a caller, or by the helper thread's tick once :data:`RETRY_STORE` has passed),
they are counted there (:meth:`StoreOutage._adopt`), past the limits if need be (they
exist already), so the cluster's limits hold again; one closed meanwhile is given
back at once.

Requests of one user waiting for the server during the outage
(:meth:`StoreOutage.waiters_bound`): each pool allows its share of the bound
``ftp_user_waiters``, the bound divided by the pools of the server+login that were
alive in the cluster when the store last answered (:meth:`StoreOutage._count_pools`,
the store's presence set: :meth:`reelhouse.leased_slots.LeasedSlots.present`),
at least 1. So a user whose requests a proxy spreads over N nodes has about one
bound's worth waiting in the cluster, not N; nobody is refused just because Redis is
down (each pool lets at least one of theirs wait), and a pool that never reached the
store knows no count and keeps the whole bound.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Final

from reelhouse.sources.ftp.slot_helper import SlotHelper
from reelhouse.sources.ftp.slot_store import FairSlots, SharedSlots

__all__ = ["PRESENCE", "RETRY_STORE", "UNSHARED", "StoreOutage"]

log = logging.getLogger(__name__)

#: The token of a connection made while the store was unreachable (counted per process).
UNSHARED: Final = ""
#: Seconds after a store failure before it is asked again.
RETRY_STORE: Final = 10.0
#: Seconds between two counts of the pools alive in the cluster for a server+login
#: (:meth:`StoreOutage._count_pools`, one round trip from the helper thread).
PRESENCE: Final = 2.0


class StoreOutage(SlotHelper):
    """The outage half of :class:`.slots.ServerSlots` (its base class): the store's
    state (answering or not), what was made while it failed, and its adoption once it
    answers. Subclasses provide :attr:`key`. Thread-safe."""

    def __init__(self, shared: SharedSlots) -> None:
        super().__init__()
        self.shared = shared
        self._lock = threading.Lock()
        self._tokens: dict[int, str] = {}  # id(connection) → its slot
        self._grants: dict[int, str] = {}  # id(connection) → its user's grant (fair shares)
        self._adopts = callable(getattr(shared, "adopt", None))  # counts what the store missed
        self._unshared: set[int] = set()  # id(connection) made while the store was unreachable
        self._unshared_grants: dict[int, str] = {}  # id(connection) → its user's name, granted so
        #: id(request) → (request, user): waiting, counted by this process alone (store unreachable)
        self._uncounted: dict[int, tuple[object, str]] = {}
        self._recounted: dict[int, str] = {}  # id(request) → its token, counted once the store answered
        self._down_until = 0.0  # monotonic; the store failed: not asked before then
        self._down = False  # a warning said so (once per outage)
        self._presence = ""  # this pool's token in the store's presence set ("" before the first count)
        self._pools = 0  # pools of the key alive in the cluster at the last count (0: never counted)
        self._pools_at = -PRESENCE  # monotonic: the last count

    @property
    def key(self) -> str:
        """The store's key of the server+login (the subclass's)."""
        raise NotImplementedError

    @property
    def store_down(self) -> bool:
        """Whether the store failed and has not answered since (an outage)."""
        return self._down

    @property
    def pools_known(self) -> int:
        """Pools of this server+login alive in the cluster when last counted, this one
        included (0: never counted: the store was never reached, or keeps no
        presence)."""
        return self._pools

    def waiters_bound(self, bound: int) -> int:
        """How many requests of one user may wait in this pool, of ``bound``
        (``ftp_user_waiters``): all of it while the store answers (the cluster counts
        them there) or when no count of the pools is known; during an outage this
        pool's share, ``bound // pools`` (at least 1) for the pools alive when the
        store last answered (module doc)."""
        pools = self._pools
        if not self._down or pools <= 1:
            return bound
        return max(1, bound // pools)

    # -- failing and answering ---------------------------------------------------------
    def _failed(self, exc: Exception) -> None:
        self._down_until = time.monotonic() + RETRY_STORE
        if not self._down:
            self._down = True
            log.warning("the shared count of FTP connections to %s is unreachable (%s); this "
                        "process counts its own until it answers", self.key, exc)

    def _answered(self) -> None:
        if self._down:
            self._down = False
            log.warning("the shared count of FTP connections to %s answers again", self.key)
            self.later(self._adopt)

    def _missed(self) -> bool:
        """Whether something made during an outage is still to be counted in the store."""
        return bool(self._unshared or self._unshared_grants or self._uncounted)

    def _count_pools(self) -> None:
        """From the helper thread, every :data:`PRESENCE` seconds while the store
        answers: renew this pool's presence and learn how many pools of the key are
        alive (:meth:`waiters_bound`). No-op for a store that keeps no presence."""
        present = getattr(self.shared, "present", None)
        now = time.monotonic()
        if present is None or self._down or now < self._down_until or now - self._pools_at < PRESENCE:
            return
        self._pools_at = now
        try:
            self._presence, self._pools = present(self.key, self._presence)
        except Exception as exc:  # Redis down: the count known now stands for the outage
            self._failed(exc)

    def _leave(self) -> None:
        """This pool closes: its presence leaves the store (from the helper thread)."""
        if self._presence:
            self._give_back_now(self._presence)

    def _give_back_now(self, token: str) -> None:
        try:
            self.shared.give_back(token)
        except Exception as exc:  # its lease is not renewed any more: it runs out by itself
            self._failed(exc)

    # -- counted by the process alone, then in the store ---------------------------------
    def _uncount(self, request: object | None, user: str) -> None:
        if request is not None and callable(getattr(self.shared, "adopt_queued", None)):
            with self._lock:
                self._uncounted[id(request)] = (request, user)

    def _adopt(self) -> None:
        """From the helper thread, once the store answers again: count there the
        connections (and users' grants) made while it was unreachable, so the
        cluster's limits and fair shares hold again (issue 14). One closed (or
        released) meanwhile is given back at once."""
        with self._lock:
            todo: list[tuple[int, str | None]] = [(c, None) for c in self._unshared]
            todo += list(self._unshared_grants.items())
            waiting = [(rid, user) for rid, (_, user) in self._uncounted.items()]
        shared: FairSlots = self.shared  # type: ignore[assignment]
        if not self._adopt_waiting(shared, waiting):
            return
        for cid, user in todo:
            try:
                token = shared.adopt(self.key, user)
            except Exception as exc:  # down again: adopted when it answers next
                self._failed(exc)
                return
            with self._lock:
                if user is None and cid in self._unshared:
                    self._unshared.discard(cid)
                    self._tokens[cid], token = token, UNSHARED
                elif user is not None and self._unshared_grants.get(cid) == user:
                    del self._unshared_grants[cid]
                    self._grants[cid], token = token, UNSHARED
            if token != UNSHARED:
                self._give_back_now(token)
        if todo:
            log.warning("counted %d connections and grants to %s made while the shared count was "
                        "unreachable", len(todo), self.key)

    def _adopt_waiting(self, shared: FairSlots, waiting: list[tuple[int, str]]) -> bool:
        """Count in the store the requests that began to wait while it was
        unreachable (``(id(request), user)``); one that stopped waiting meanwhile is
        given back at once. False when the store failed again."""
        for rid, user in waiting:
            try:
                token = shared.adopt_queued(self.key, user)
            except Exception as exc:  # down again: counted when it answers next
                self._failed(exc)
                return False
            with self._lock:
                if rid in self._uncounted:
                    del self._uncounted[rid]
                    self._recounted[rid], token = token, UNSHARED
            if token != UNSHARED:
                self._give_back_now(token)
        if waiting:
            log.warning("counted %d requests waiting for %s that began while the shared count was "
                        "unreachable", len(waiting), self.key)
        return True
