"""Connections to one FTP server counted over every process of a cluster (issues 12
and 14): each ``reelhouse serve`` node, worker and drive mount has its own
:class:`~.pool.FtpPool`, so without a shared count two nodes and two workers open four
times ``ftp_pool_size`` connections, and a seedbox that allows a few per user answers
421 ("too many connections", RFC 959 §4.2).

:class:`ServerSlots` holds one pool's slots of the server+user key
``ftp:<address>:<port>:<user>`` in a :class:`SharedSlots` store (Redis:
:class:`reelhouse.leased_slots.LeasedSlots`, leases renewed while the process lives,
so a killed process's slots free themselves after the lease). A connection takes a
slot before it connects and gives it back after it is closed. When the store fails
(Redis down) the pool goes on with its own per-process limits, and the cluster's
counts hold again once it answers: :mod:`.slot_outage` (requests of one user that
wait meanwhile: each pool takes its share of ``ftp_user_waiters``).

When the cluster has no slot free, the pool makes no new connection for
:data:`SLOT_RETRY` seconds (:meth:`ServerSlots.holding`); its waiters try again then.
The refusal leaves a :data:`WANT` mark: processes holding idle connections close them
at their next :data:`TEND` tick, and every pool closes idle connections beyond its
warmest one after ``idle_close`` seconds anyway. With a store that tells news
(``listen``: Redis pub/sub), a slot given back anywhere ends the hold-off and wakes the
waiters at once, and a refusal makes holders close idle connections at once; the poll
then runs every :data:`SLOT_RETRY_LISTENING` seconds only, for news lost while the
subscriber reconnected.

The address is the host name resolved (:func:`server_address`: ``getaddrinfo`` once,
its answer kept :data:`RESOLVED_TTL` seconds), so one server reached as ``127.0.0.1``
by one source and as ``localhost`` (or by its DNS name and its IP) by another is
counted once (issue 14).

Users' fair shares over the cluster (issue 14), with a store that keeps them
(:class:`FairSlots`: :meth:`reelhouse.leased_slots.LeasedSlots.take_share`): before a
pool hands a connection to a user (an idle one, or a new one together with its slot),
the store grants it by the rule of :mod:`.granting` counted over every process, and
registers a refused caller as waiting. A user refused for their cap or for another
user waiting gets no grant in this pool for :attr:`ServerSlots.retry` seconds
(:meth:`ServerSlots.hold_user`), or until news (``shares``: a grant given back, a
waiter gone) says it may; refused because the first in line waits in another
process, the pool gives its idle connections up at once (as for a ``wanted`` mark).

Giving back (a network round trip) never runs on the caller's thread, which may be
the event loop: a helper thread of its own does it, and tends the pool's idle
connections every :data:`TEND` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Final

from reelhouse.sources.ftp.address import RESOLVED_TTL, server_address
from reelhouse.sources.ftp.config import FtpConfig
from reelhouse.sources.ftp.slot_helper import TEND
from reelhouse.sources.ftp.slot_outage import RETRY_STORE, UNSHARED, StoreOutage
from reelhouse.sources.ftp.slot_store import FairSlots, SharedSlots

__all__ = ["RESOLVED_TTL", "RETRY_STORE", "SLOT_421_WINDOW", "SLOT_RETRY", "SLOT_RETRY_LISTENING", "TEND",
           "UNSHARED", "WANT", "FairSlots", "ServerSlots",
           "SharedSlots",
           "server_address"]

log = logging.getLogger(__name__)

#: Seconds a refused taker's "I wait" mark lasts (refreshed at each retry).
WANT: Final = 1.0
#: Seconds a pool makes no new connection after the cluster refused it a slot; its
#: waiters try again after it (a few round trips a second at most).
SLOT_RETRY: Final = 0.2
#: :data:`SLOT_RETRY` when the store tells news of freed slots (a fallback poll only).
SLOT_RETRY_LISTENING: Final = 1.0
#: A server that answers 421 although the cluster gave a slot may not have seen a
#: connection closed elsewhere yet: tried again once, unless it did so already within
#: these seconds (then the server allows fewer: the 421 stands, the pool shrinks).
SLOT_421_WINDOW: Final = 10.0


class ServerSlots(StoreOutage):
    """One pool's slots of its server+user, at most ``limit`` over the cluster.

    The pool's ``has_idle()`` and ``close_idle(older_than, keep)`` are called from the
    helper thread every :data:`TEND` seconds while it is open (never with the pool's
    lock held): every idle connection is closed when another process waits for a slot,
    else those beyond the warmest one idle for ``idle_close`` seconds. ``wake`` (the
    pool's waiters look again) is called from the store's subscriber thread when a slot
    is freed elsewhere. Thread-safe."""

    def __init__(self, shared: SharedSlots, config: FtpConfig, limit: int, *, idle_close: float,
                 has_idle: Callable[[], bool], close_idle: Callable[[float, int], int],
                 wake: Callable[[], None] | None = None) -> None:
        super().__init__(shared)
        self._config = config
        self.limit = limit
        self.idle_close = idle_close
        self._has_idle = has_idle
        self._close_idle = close_idle
        self._ungranted: list[str] = []  # grants of released connections, to give back
        self._user_hold: dict[str | None, float] = {}  # user → monotonic: no grant before
        self._yield_until = 0.0  # monotonic: another process's waiter is first in line (once)
        #: whether the store keeps users' fair shares (:class:`FairSlots`)
        self.fair = callable(getattr(shared, "take_share", None))
        self._queues = callable(getattr(shared, "enqueue", None))  # counts users' queued requests
        self._hold_until = 0.0  # monotonic: no new connection before (the cluster is full)
        self._last_421 = -SLOT_421_WINDOW  # monotonic: the last 421 despite a slot
        self._wake = wake
        self._listened: str | None = None  # the key whose news we hear
        #: Seconds between two looks of a waiter (:data:`SLOT_RETRY`, or
        #: :data:`SLOT_RETRY_LISTENING` once news are heard).
        self.retry = SLOT_RETRY
        self._wanted_until = 0.0  # monotonic: news said another process waits until then
        self._heard = {"freed": 0, "shares": 0}  # news of each kind heard so far
        self._asked = threading.local()  # .heard: the counts when this thread last asked
        self._holds = threading.Lock()  # news and holds, one at a time

    @property
    def key(self) -> str:
        """The store's key, ``ftp:<address>:<port>:<user>`` (:func:`server_address`,
        resolved again after :data:`RESOLVED_TTL` seconds; a slot goes back under the
        key it was taken with). May block on DNS: read it off the event loop."""
        c = self._config
        return f"ftp:{server_address(c.host, c.port)}:{c.port}:{c.user}"

    # -- the store, never failing ------------------------------------------------------
    def take(self, want: bool = True) -> str | None:
        """A slot's token (:data:`UNSHARED` when the store is unreachable: the process's
        own limit alone applies), or None when ``limit`` connections to the server
        exist in the cluster (with ``want``, the refusal leaves a :data:`WANT` mark:
        holders give idle ones up). Blocks on the store: call it off the event loop."""
        if time.monotonic() < self._down_until:
            return UNSHARED
        self._asked.heard = dict(self._heard)
        try:
            self._listen()
            token = self.shared.take(self.key, self.limit, want=WANT if want else 0.0)
        except Exception as exc:  # Redis down or unreachable: per-process limit
            self._failed(exc)
            return UNSHARED
        self._answered()
        if token is not None:
            self._start()
        return token

    def share(self, user: str | None, user_limit: int, *, new: bool, want: bool = True, waiter: str = "",
              waited: float = 0.0, others: Sequence[tuple[str, int, float]] = ()) -> tuple[str, str, str]:
        """Ask the store (:class:`FairSlots`) for ``user``'s grant, and with ``new`` a
        slot too: ``(slot, grant, "")`` (:data:`UNSHARED` for what the store does not
        keep, or for both while it is unreachable: the process's own rules alone
        apply), or ``("", "", why)`` refused (see :meth:`FairSlots.take_share`; the
        caller waits: :meth:`hold` or :meth:`hold_user`). Blocks on the store."""
        if time.monotonic() < self._down_until:
            return UNSHARED, UNSHARED, ""
        shared: FairSlots = self.shared  # type: ignore[assignment]
        with self._lock:  # released just now: given back in the same script
            returns, self._ungranted = self._ungranted, []
        self._asked.heard = dict(self._heard)
        try:
            self._listen()
            slot, grant, why = shared.take_share(self.key, user or "", user_limit, limit=self.limit if new else 0,
                                                 want=WANT if want and new else 0.0, waiter=waiter,
                                                 waited=waited, others=others, returns=returns)
        except Exception as exc:  # Redis down or unreachable: per-process rules
            self._failed(exc)
            return UNSHARED, UNSHARED, ""
        self._answered()
        if why:
            return UNSHARED, UNSHARED, why
        self._start()
        return slot or UNSHARED, grant or UNSHARED, ""

    def enqueue(self, user: str, bound: int, request: object | None = None) -> str | None:
        """Count a request of ``user`` that waits for a connection over the cluster
        (:meth:`FairSlots.enqueue`): its token, :data:`UNSHARED` when the store counts
        none or is unreachable (then ``request``, any object standing for the caller,
        is counted there once it answers: module doc), or None when ``bound`` of theirs
        wait in the cluster already. :meth:`dequeued` once it stops waiting. Blocks."""
        if not self._queues:
            return UNSHARED
        if time.monotonic() < self._down_until:
            self._uncount(request, user)
            return UNSHARED
        try:
            token = self.shared.enqueue(self.key, user, bound)  # type: ignore[attr-defined]
        except Exception as exc:  # Redis down or unreachable: the pool's own bound
            self._failed(exc)
            self._uncount(request, user)
            return UNSHARED
        self._answered()
        if token is not None:
            self._start()
        return token  # type: ignore[no-any-return]

    def dequeued(self, request: object, token: str | None) -> None:
        """``request`` (:meth:`enqueue`'s, whose answer was ``token``) waits no more:
        its count goes back, from the helper thread (never blocks the caller). Safe to
        call twice."""
        with self._lock:
            self._uncounted.pop(id(request), None)
            recounted = self._recounted.pop(id(request), UNSHARED)
        for t in (token or UNSHARED, recounted):
            self.give_back(t)

    def waiter(self) -> str:
        """A new waiter id for :meth:`share` ("" when the store keeps no shares)."""
        return self.shared.waiter() if self.fair else ""  # type: ignore[attr-defined]

    def unwait(self, waiter: str) -> None:
        """``waiter`` gave up (or was served without the store): it leaves the
        cluster's waiting set, from the helper thread (never blocks the caller)."""
        if waiter:
            self.later(lambda: self._unwait_now(waiter))

    def hold_user(self, user: str | None) -> None:
        """The store refused ``user`` (their cap, or another user first in line): no
        grant for them in this pool for :attr:`retry` seconds or until news says so
        (none if it said so since this thread asked)."""
        with self._holds:
            if not self._news_since_asked("shares"):
                self._user_hold[user] = time.monotonic() + self.retry

    def holding_user(self, user: str | None) -> bool:
        """Whether ``user`` waits out a refusal of the store (:meth:`hold_user`)."""
        until = self._user_hold.get(user)
        return until is not None and time.monotonic() < until

    def yield_idle(self) -> None:
        """The first caller in line waits in another process: this pool's idle
        connections are closed at once (or at the next release within :data:`WANT`
        seconds, if none is idle yet), once: the connections idle after that stay
        (another refusal yields again)."""
        self._yield_until = time.monotonic() + WANT
        self.idled()

    def _listen(self) -> None:
        listen = getattr(self.shared, "listen", None)
        if listen is None or self._listened is not None or self._closed:
            return
        self._listened = self.key
        listen(self._listened, self._news)
        self.retry = SLOT_RETRY_LISTENING

    def _news(self, kind: str) -> None:
        """From the store's subscriber thread: ``freed`` ends the hold-off, ``shares``
        the users' hold-offs, and both wake the waiters; ``wanted`` makes the helper
        thread tend (close idle ones) now."""
        if kind in ("freed", "shares"):
            with self._holds:
                self._heard[kind] += 1
                if kind == "freed":
                    self._hold_until = 0.0
                else:
                    self._user_hold.clear()
            if self._wake is not None:
                self._wake()
        elif kind == "wanted":
            self._wanted_until = time.monotonic() + WANT
            self.idled()

    def idled(self) -> None:
        """The pool has an idle connection now: when news said within :data:`WANT`
        seconds that another process waits, the helper thread tends (closes idle
        ones) at once instead of at its next tick. No I/O; returns at once."""
        now = time.monotonic()
        if (now < self._wanted_until or now < self._yield_until) and not self._closed and self._has_idle():
            self.tend_now()

    def hold(self) -> None:
        """The cluster refused a slot: no new connection for :attr:`retry` seconds,
        unless a slot was freed since this thread asked (the news came between the
        answer and this call: holding now would wait a whole ``retry`` for nothing)."""
        with self._holds:
            if not self._news_since_asked("freed"):
                self._hold_until = time.monotonic() + self.retry

    def _news_since_asked(self, kind: str) -> bool:
        heard: dict[str, int] | None = getattr(self._asked, "heard", None)
        return heard is not None and heard[kind] != self._heard[kind]

    def holding(self) -> bool:
        """Whether the pool should make no new connection now (see :meth:`hold`)."""
        return time.monotonic() < self._hold_until

    def attach(self, connection: object, token: str) -> None:
        """``connection`` (just connected) holds ``token`` until :meth:`gone`
        (:data:`UNSHARED`: made while the store was unreachable; counted there once it
        answers again)."""
        with self._lock:
            if token != UNSHARED:
                self._tokens[id(connection)] = token
            elif self._adopts:
                self._unshared.add(id(connection))

    def granted(self, connection: object, grant: str, user: str | None = None) -> None:
        """``connection`` is in use by ``user`` under their ``grant`` until
        :meth:`ungrant` (or :meth:`gone`); :data:`UNSHARED` with fair shares: granted
        while the store was unreachable, counted there once it answers again."""
        with self._lock:
            if grant != UNSHARED:
                self._grants[id(connection)] = grant
            elif self.fair and self._adopts:
                self._unshared_grants[id(connection)] = user or ""

    def ungrant(self, connection: object) -> None:
        """``connection`` went back to the pool: its user's grant goes back, with the
        next :meth:`share` of this pool or from the helper thread, whichever is first
        (never blocks the caller)."""
        with self._lock:
            grant = self._grants.pop(id(connection), UNSHARED)
            self._unshared_grants.pop(id(connection), None)
            if grant == UNSHARED:
                return
            self._ungranted.append(grant)
        self.later(self._give_back_ungranted)

    def gone(self, connections: Iterable[object]) -> None:
        """These connections are closed: their slots (and grants) go back."""
        with self._lock:
            tokens = [self._tokens.pop(id(c), UNSHARED) for c in connections]
            tokens += [self._grants.pop(id(c), UNSHARED) for c in connections]
            for c in connections:
                self._unshared.discard(id(c))
                self._unshared_grants.pop(id(c), None)
        for token in tokens:
            self.give_back(token)

    def refused(self, token: str) -> bool:
        """The server answered 421 to a connection that had ``token`` (given back now).
        True when it is taken for a server that has not yet seen a connection closed
        elsewhere (at most once per :data:`SLOT_421_WINDOW` seconds): the pool holds
        off (:meth:`hold`) and tries again; False: the 421 stands."""
        self.give_back(token)
        if token == UNSHARED:
            return False
        now, last = time.monotonic(), self._last_421
        self._last_421 = now
        if now - last > SLOT_421_WINDOW:
            self.hold()
            return True
        return False

    def wanted(self) -> bool:
        """Whether another process waits for a slot (False while the store fails)."""
        if time.monotonic() < self._down_until:
            return False
        try:
            wanted = self.shared.wanted(self.key)
        except Exception as exc:
            self._failed(exc)
            return False
        self._answered()
        return wanted

    def give_back(self, token: str) -> None:
        """Give a slot back (after its connection is closed), from the helper thread:
        never blocks the caller."""
        if token == UNSHARED:
            return
        self.later(lambda: self._give_back_now(token))

    def _give_back_ungranted(self) -> None:
        with self._lock:
            grants, self._ungranted = self._ungranted, []
        for grant in grants:
            self._give_back_now(grant)

    def _unwait_now(self, waiter: str) -> None:
        try:
            self.shared.unwait(waiter)  # type: ignore[attr-defined]
        except Exception as exc:  # not renewed any more: it runs out by itself
            self._failed(exc)

    # -- the helper thread (:class:`.slot_helper.SlotHelper`) ----------------------------
    @property
    def helper_name(self) -> str:
        return f"ftp-slots-{self.key}"

    def tend(self) -> None:
        if self._queues:
            self._count_pools()
        if self._missed() and time.monotonic() >= self._down_until:
            if self._down:
                self.wanted()  # does the store answer again? (then what it missed is counted)
            else:  # counted while an answer was on its way (the outage's end raced it)
                self._adopt()
        if not self._has_idle():
            return
        if time.monotonic() < self._yield_until or self.wanted():
            self._yield_until = 0.0
            self._close_idle(0.0, 0)
        else:
            self._close_idle(self.idle_close, 1)

    def close(self) -> None:
        """Stop tending and listening, leave the store's presence set; slots given
        back from now on still go back. Returns at once."""
        self._closed = True
        self.later(self._leave)
        unlisten = getattr(self.shared, "unlisten", None)
        if unlisten is not None and self._listened is not None:
            unlisten(self._listened, self._news)
