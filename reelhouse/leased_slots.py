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

News of a key (a slot freed, a taker refused, a grant given back) goes out on a
pub/sub channel; a process that listens (:meth:`LeasedSlots.listen`) hears it at once:
:mod:`reelhouse.leased_news`.

Users' fair shares of a key (who may take a slot, or use one held already, while
other users wait), over the cluster: :meth:`LeasedSlots.take_share`, the rule and
the keys in :mod:`reelhouse.leased_shares`; the requests each user has waiting for a
key: :meth:`LeasedSlots.enqueue`; the users of a key alive (pools of a server+login,
whose share of a bound during an outage depends on how many they are):
:meth:`LeasedSlots.present`.

After an outage: the renewal finds the leases Redis lost (restarted without
persistence, or unreachable for longer than ``ttl``) and adds them back
(:meth:`LeasedSlots.renew`); what a process made while Redis was unreachable is
counted once it answers (:meth:`LeasedSlots.adopt`, :meth:`LeasedSlots.adopt_queued`,
called by its users); a lease
whose giving back failed is renewed no more, and runs out.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from typing import Any

from reelhouse.leased_news import NEWS as _NEWS
from reelhouse.leased_news import SlotNews
from reelhouse.leased_news import quiet as _quiet
from reelhouse.leased_shares import GRANTS, QUEUED, TAKE_SHARE, UNWAIT, WAIT_INFO, WAITING

__all__ = ["LeasedSlots"]

log = logging.getLogger(__name__)

_PREFIX = "reelhouse:slots:"
_WANTED = "reelhouse:wanted:"
_PRESENT_KEY = "reelhouse:present:"

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

#: Returns the (1-based) indices of the members that were not there (Redis restarted, or
#: unreachable for longer than a lease): not added back here (one given back meanwhile
#: must stay gone), see :meth:`LeasedSlots.renew`.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local missing = {}
for i, key in ipairs(KEYS) do
  local m = ARGV[i + 1]
  if m ~= '' then
    if redis.call('ZSCORE', key, m) then
      redis.call('ZADD', key, 'XX', now + tonumber(ARGV[1]), m)
    else
      table.insert(missing, i)
    end
  end
  redis.call('EXPIRE', key, math.ceil(tonumber(ARGV[1])) + 1)
end
return missing
"""

#: KEYS: the presence set; ARGV: ttl, member. Adds (or renews) the member, drops the
#: run-out ones, returns how many are left.
_PRESENT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1])) + 1)
return redis.call('ZCARD', KEYS[1])
"""

#: KEYS: sorted sets; ARGV: 1 ttl, then one member per key, added with a lease of ttl.
_ADD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + tonumber(ARGV[1]), ARGV[i + 1])
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
        self._take_share: Any = self._redis.register_script(TAKE_SHARE)
        self._unwait: Any = self._redis.register_script(UNWAIT)
        self._add: Any = self._redis.register_script(_ADD)
        self._present: Any = self._redis.register_script(_PRESENT)
        #: this process's prefix of waiter ids (``<id>.<n>``, :meth:`waiter`)
        self.id = secrets.token_hex(6) + "."
        self._ids = itertools.count()
        self._held: dict[str, tuple[str, str, str, str]] = {}  # token → (set, member, key, news)
        self._leaving: set[str] = set()  # tokens being given back (renew adds none of them back)
        self._waiting: dict[str, str] = {}  # waiter id → key
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: the news of keys this process listens to (:meth:`listen`)
        self.news = SlotNews(self._redis, self._stop)

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
            self._held[token] = (_PREFIX + key, token, key, "freed")
            self._keeping()
        return token

    def _keeping(self) -> None:
        """Start the renewing thread (with the lock held)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._keep, name="leased-slots", daemon=True)
            self._thread.start()

    def waiter(self) -> str:
        """A new waiter id of this process for :meth:`take_share` (no I/O)."""
        return f"{self.id}{next(self._ids)}"

    def take_share(self, key: str, user: str, user_limit: int, *, limit: int = 0, want: float = 0.0,
                   waiter: str = "", waited: float = 0.0, others: Sequence[tuple[str, int, float]] = (),
                   returns: Sequence[str] = ()) -> tuple[str | None, str | None, str]:
        """A grant of ``key`` for ``user`` (any string; ``""``: the server's own work)
        over the cluster, by the rule of :mod:`reelhouse.leased_shares`: at most
        ``user_limit`` grants per user (0: no cap), none while another user waits who
        holds fewer (or as many and waits longer). With ``limit`` > 0 a slot of ``key``
        too (at most ``limit`` in the cluster, as :meth:`take`; ``want`` as there).

        ``waiter`` (:meth:`waiter`; "" for a caller that will not wait) is registered as
        waiting when refused, since ``waited`` seconds ago, renewed until granted or
        :meth:`unwait`; ``others``: the process's other waiters not registered yet, as
        (user, user_limit, seconds waited), weighed but not registered; ``returns``:
        grants of ``key`` this process gives back first, in the same script (a caller
        who just released a connection is not counted with it).

        Returns ``(slot token or None, grant token, "")`` when granted (both go back with
        :meth:`give_back`), else ``(None, None, why)``: ``limit``, ``waits``,
        ``waits-elsewhere`` (the first in line waits in another process) or ``full``.
        Blocks on Redis; raises what redis-py raises when it is unreachable."""
        slot, grant = secrets.token_hex(8), secrets.token_hex(8)
        args: list[object] = [limit, self.ttl, slot, max(0, round(want * 1000)) if limit else 0, user,
                              user_limit, grant, waiter, max(0.0, waited), self.id, _NEWS + key]
        with self._lock:  # (one taken under another key, the server's address resolved anew: alone)
            gone = [self._held.pop(t) for t in returns if t in self._held and self._held[t][2] == key]
            elsewhere = [t for t in returns if t in self._held]
        for token in elsewhere:
            self.give_back(token)
        args.append(len(gone))
        args.extend(member for _, member, _, _ in gone)
        for other in others:
            args.extend(other)
        if waiter:
            with self._lock:  # renewed from now on (registered by the script if refused)
                self._waiting[waiter] = key
                self._keeping()
        why = self._take_share(keys=[_PREFIX + key, _WANTED + key, GRANTS + key, WAITING + key, WAIT_INFO + key],
                               args=args)[0].decode()
        if why != "ok":
            if why == "full" and want > 0:
                self._redis.publish(_NEWS + key, "wanted")
            return None, None, why
        with self._lock:
            self._waiting.pop(waiter, None)
            if limit:
                self._held[slot] = (_PREFIX + key, slot, key, "freed")
            self._held[grant] = (GRANTS + key, f"{grant}|{user}", key, "shares")
            self._keeping()
        return (slot if limit else None), grant, ""

    def enqueue(self, key: str, user: str, bound: int) -> str | None:
        """Count one more request of ``user`` queued for ``key`` over the cluster (the
        sorted set ``reelhouse:queued:<key>|<user>``, :mod:`reelhouse.leased_shares`):
        a token for :meth:`give_back` (when it is served or gives up), or None when
        ``bound`` of theirs are queued already. Leased like a slot: a killed process's
        stop counting within ``ttl`` seconds. Blocks on Redis."""
        token, where = secrets.token_hex(8), f"{QUEUED}{key}|{user}"
        if not self._take(keys=[where, _WANTED + key], args=[bound, self.ttl, token, 0]):
            return None
        with self._lock:
            self._held[token] = (where, token, key, "")  # "": its going back is no news
            self._keeping()
        return token

    def adopt(self, key: str, user: str | None) -> str:
        """Count what this process made while Redis was unreachable: a slot of ``key``
        (``user`` None) or a grant of ``key`` to ``user``, whatever the limits (the
        connection exists: the count should say so, and hold others off until it is
        closed). A token for :meth:`give_back`, renewed like those of :meth:`take`.
        Blocks on Redis."""
        token = secrets.token_hex(8)
        held = ((_PREFIX + key, token, key, "freed") if user is None
                else (GRANTS + key, f"{token}|{user}", key, "shares"))
        self._add(keys=[held[0]], args=[self.ttl, held[1]])
        with self._lock:
            self._held[token] = held
            self._keeping()
        return token

    def adopt_queued(self, key: str, user: str) -> str:
        """Count a request of ``user`` that began to wait for ``key`` while Redis was
        unreachable (:meth:`enqueue` could not count it), whatever ``bound``: it waits
        already, and the count should hold the user's other requests off until it stops
        waiting. A token for :meth:`give_back`, renewed like those of :meth:`enqueue`.
        Blocks on Redis."""
        token, where = secrets.token_hex(8), f"{QUEUED}{key}|{user}"
        self._add(keys=[where], args=[self.ttl, token])
        with self._lock:
            self._held[token] = (where, token, key, "")
            self._keeping()
        return token

    def present(self, key: str, token: str = "") -> tuple[str, int]:
        """Say that one user of ``key`` (a pool of a server+login) is alive: ``token``
        (``""`` the first time: a new one) joins or renews the presence set
        ``reelhouse:present:<key>``, leased and renewed like a slot until
        :meth:`give_back` (or this process dies: it runs out within ``ttl``).
        Returns ``(token, how many are alive)``, this one included. Blocks on Redis."""
        token = token or secrets.token_hex(8)
        where = _PRESENT_KEY + key
        with self._lock:
            self._held[token] = (where, token, key, "")  # "": its going is no news
            self._keeping()
        alive = int(self._present(keys=[where], args=[self.ttl, token]))
        return token, alive

    def unwait(self, waiter: str) -> None:
        """``waiter`` waits no more (it gave up): gone from the cluster's waiting set."""
        with self._lock:
            key = self._waiting.pop(waiter, None)
        if key is not None:
            self._unwait(keys=[WAITING + key, WAIT_INFO + key], args=[waiter, _NEWS + key])

    def give_back(self, token: str) -> None:
        """Free a slot taken by :meth:`take` or a slot or grant of :meth:`take_share`
        (once); publishes ``freed`` (a slot) or ``shares`` (a grant)."""
        with self._lock:
            held = self._held.get(token)
            if held is None:
                return
            self._leaving.add(token)
        where, member, key, news = held
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.zrem(where, member)
            if news:
                pipe.publish(_NEWS + key, news)
            pipe.execute()
        finally:
            # held until asked to go from Redis (a close() meanwhile gives it back too);
            # when Redis did not answer, it is renewed no more and runs out within ttl
            with self._lock:
                self._held.pop(token, None)
                self._leaving.discard(token)

    def listen(self, key: str, callback: Callable[[str], None]) -> None:
        """Call ``callback("freed")`` when a slot of ``key`` is given back anywhere in
        the cluster, ``callback("wanted")`` when a taker of it is refused with
        ``want``, ``callback("shares")`` when a grant of it is given back or a waiter
        leaves (:meth:`take_share`); from the subscriber thread of :attr:`news` (keep it
        short). Messages sent while Redis is unreachable are lost: poll as well, slowly."""
        self.news.listen(key, callback)

    def unlisten(self, key: str, callback: Callable[[str], None]) -> None:
        """Stop calling ``callback`` for ``key`` (:meth:`listen`)."""
        self.news.unlisten(key, callback)

    def wanted(self, key: str) -> bool:
        """Whether a taker of ``key`` was refused within its ``want`` seconds."""
        return bool(self._redis.exists(_WANTED + key))

    def renew(self) -> None:
        """Extend every slot, grant and queued request this process holds, and the
        registrations of its waiters, by ``ttl`` seconds. A slot, grant or queued
        request that Redis lost (restarted without persistence, or unreachable for
        longer than ``ttl``) is added back (logged), unless it is being given back:
        the cluster's counts hold again once Redis answers. (A waiter lost registers
        again at its next try.)"""
        with self._lock:
            held = list(self._held.items())
            keys = [where for _, (where, _, _, _) in held]
            members = [member for _, (_, member, _, _) in held]
            for waiter, key in self._waiting.items():
                keys += [WAITING + key, WAIT_INFO + key]
                members += [waiter, ""]  # "": the hash's expiry only
        if not keys:
            return
        missing = self._renew(keys=keys, args=[self.ttl, *members])
        lost = [held[i - 1][0] for i in missing if 0 < i <= len(held)]
        if not lost:
            return
        with self._lock:  # no give_back between this look and the add (it waits for the lock)
            found = [self._held[t] for t in lost if t in self._held and t not in self._leaving]
            if found:
                self._add(keys=[where for where, _, _, _ in found],
                          args=[self.ttl, *(member for _, member, _, _ in found)])
        if found:
            log.warning("Redis had lost %d shared slots, grants or queued requests of this process "
                        "(restarted?): counted again", len(found))

    def _keep(self) -> None:
        _quiet()
        while not self._stop.wait(self.ttl / 3):
            try:
                self.renew()
            except Exception:  # Redis unreachable: the next round tries again
                log.warning("renewing shared slots failed", exc_info=True)

    def close(self) -> None:
        """Give every slot and grant back, end every registration, stop renewing and
        listening."""
        self._stop.set()  # the subscriber ends within a second (or as its connection closes)
        with self._lock:
            held, self._held = list(self._held.values()), {}
            waiting, self._waiting = list(self._waiting.items()), {}
        try:
            for where, member, _, _ in held:
                self._redis.zrem(where, member)
            for waiter, key in waiting:
                self._unwait(keys=[WAITING + key, WAIT_INFO + key], args=[waiter, _NEWS + key])
        except Exception:  # Redis unreachable: the leases run out by themselves
            log.warning("giving back shared slots failed", exc_info=True)
        self._redis.close()

