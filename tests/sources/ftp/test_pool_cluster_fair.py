"""Users' fair shares of one FTP server over several processes (issue 14, "nobody
starves anybody"; reelhouse/leased_shares.py, sources/ftp/slots.py): pools with their
own LeasedSlots each (as separate processes have), and real child processes killed
with SIGKILL, on one real Redis, against a real pyftpdlib server that allows CAP
connections from the test's address. A user's cap (``size - 1``) and the order of the
waiting users (fewest held, then longest waiting) hold over every process, as
tests/sources/ftp/test_pool_fairness.py checks them within one.

No timed assertions: each test waits for the state it needs (a waiter registered in
Redis, a pool's waiter) and checks who was served first."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pool_nodes import CAP, Callers, Capped, Node
from pool_nodes import acquire_as as _as
from pool_nodes import until as _until

from reelhouse.leased_slots import LeasedSlots
from reelhouse.sources.ftp.pool import FtpPool, pool_user

from helpers import FTP_PASSWORD, FTP_USER

pytestmark = [pytest.mark.requires_redis]


@pytest.fixture
def nodes(capped: Capped, redis_url: str) -> Iterator[Callable[..., Node]]:
    made: list[Node] = []

    def node(**kw: Any) -> Node:
        made.append(Node(redis_url, capped.config(), **kw))
        return made[-1]

    yield node
    for n in made:
        n.close()


class Redis:
    """What the cluster's store says about the server's key."""

    def __init__(self, url: str, port: int) -> None:
        import redis

        self.r: Any = redis.Redis.from_url(url)
        self.key = f"ftp:127.0.0.1:{port}:{FTP_USER}"

    def waiting(self) -> list[str]:
        return sorted(v.decode().split("|", 2)[2] for v in self.r.hgetall(f"reelhouse:waitinfo:{self.key}").values())

    def grants(self) -> Counter[str]:
        return Counter(m.decode()[17:] for m in self.r.zrange(f"reelhouse:shares:{self.key}", 0, -1))


@pytest.fixture
def store(capped: Capped, redis_url: str) -> Iterator[Redis]:
    s = Redis(redis_url, capped.port)
    yield s
    s.r.close()



class Served(Callers):
    """Callers that wait in threads (or on an event loop), in the order they were served."""

    def release(self, i: int) -> None:
        """The ``i``-th served caller is done with its connection."""
        user, pool, client = self.got[i]
        pool.release(client)
        self.got[i] = (user, pool, None)  # type: ignore[assignment]

    def users(self) -> list[str | None]:
        return [u for u, _, _ in self.got]

    def until(self, n: int) -> None:
        _until(lambda: len(self.got) >= n or bool(self.errors), f"{n} served ({self.users()})")
        assert not self.errors, self.errors

    def close(self) -> None:
        for t in self.threads:
            t.join(30)
        for i, (user, pool, client) in enumerate(self.got):
            if client is not None:
                pool.release(client, reusable=False)
                self.got[i] = (user, pool, None)  # type: ignore[assignment]


@pytest.fixture
def served() -> Iterator[Served]:
    s = Served()
    yield s
    s.close()


@pytest.mark.parametrize("on_loop", [False, True], ids=["thread", "event-loop"])
def test_a_user_waiting_elsewhere_is_served_before_a_second_connection(
        capped: Capped, nodes: Any, store: Redis, served: Served, on_loop: bool) -> None:
    """Alice holds one connection in process 1, bob none and waits in process 2: the
    connection freed next in process 1 is closed there and bob gets its slot, though
    alice waits for a second one right there (per process, she would have had it)."""
    p1, p2 = nodes(wait_timeout=30), nodes(wait_timeout=30)
    alice = _as(p1.pool, "alice")
    xavier = [_as(p1.pool, "xavier") for _ in range(CAP - 1)]  # the server's every connection: p1's
    try:
        served.wait(p2.pool, "bob", on_loop)
        _until(lambda: store.waiting() == ["bob"], "bob registered as waiting")
        served.wait(p1.pool, "alice")
        _until(lambda: p1.pool.stats["waiting"] == 1, "alice waiting in process 1")
        p1.pool.release(xavier.pop())  # idle in process 1
        served.until(1)
        assert served.users() == ["bob"]
        assert store.grants() == Counter({"alice": 1, "xavier": 1, "bob": 1})
        assert p1.pool.stats["waiting"] == 1  # alice still waits
        served.release(0)  # bob is done: now alice
        served.until(2)
        assert served.users() == ["bob", "alice"]
        assert store.waiting() == []
    finally:
        p1.pool.release(alice)
        for c in xavier:
            p1.pool.release(c)
    assert capped.refused == 0 and capped.peak <= CAP


def test_a_users_cap_counts_their_connections_in_every_process(
        capped: Capped, nodes: Any, store: Redis, served: Served) -> None:
    """Alice holds her cap (CAP - 1) in process 1; in process 2 she waits although a
    connection is free there, which carol, asking after her, gets at once."""
    p1, p2 = nodes(wait_timeout=30), nodes(wait_timeout=30)
    alice = [_as(p1.pool, "alice") for _ in range(CAP - 1)]
    try:
        served.wait(p2.pool, "alice")
        _until(lambda: store.waiting() == ["alice"] or bool(served.got), "alice waiting or served")
        assert served.users() == [], "alice got more than her cap over two processes"
        carol = _as(p2.pool, "carol")  # the free connection
        assert store.grants() == Counter({"alice": CAP - 1, "carol": 1})
        p1.pool.release(alice.pop())  # one of hers back: her turn in process 2
        served.until(1)
        assert served.users() == ["alice"] and store.grants()["alice"] == CAP - 1
        p2.pool.release(carol)
    finally:
        for c in alice:
            p1.pool.release(c)
    assert capped.refused == 0 and capped.peak <= CAP


def test_the_longest_waiting_user_comes_first_over_processes(
        capped: Capped, nodes: Any, store: Redis, served: Served) -> None:
    """Carol (process 2) and then dave (process 1) wait, neither holds any: the first
    connection freed, in process 1, goes to carol; the next to dave."""
    p1, p2 = nodes(wait_timeout=30), nodes(wait_timeout=30)
    held = [_as(p1.pool, "xavier") for _ in range(CAP - 1)] + [_as(p1.pool, "yann")]
    try:
        served.wait(p2.pool, "carol")
        _until(lambda: store.waiting() == ["carol"], "carol registered")
        served.wait(p1.pool, "dave")
        _until(lambda: p1.pool.stats["waiting"] == 1, "dave waiting in process 1")
        p1.pool.release(held.pop())
        served.until(1)
        assert served.users() == ["carol"]
        p1.pool.release(held.pop())
        served.until(2)
        assert served.users() == ["carol", "dave"]
    finally:
        for c in held:
            p1.pool.release(c)
    assert capped.refused == 0 and capped.peak <= CAP


_PROCESS = """
import sys, time
from reelhouse.leased_slots import LeasedSlots
from reelhouse.sources.ftp.client import FtpConfig
from reelhouse.sources.ftp.pool import FtpPool, pool_user
url, port, user, password, size, who, n = sys.argv[1:8]
pool = FtpPool(FtpConfig("127.0.0.1", int(port), user, password), size=int(size), wait_timeout=60,
               shared=LeasedSlots(url, ttl=1.0))
pool_user.set(who)
held = [pool.acquire()[0] for _ in range(int(n))]
print("held", flush=True)
time.sleep(60)
"""


def _process(capped: Capped, redis_url: str, who: str, n: int) -> subprocess.Popen[str]:
    """A reelhouse process (leases of 1 s) whose user ``who`` takes ``n`` connections
    (it prints ``held``) or waits for them."""
    return subprocess.Popen([sys.executable, "-c", _PROCESS, redis_url, str(capped.port), FTP_USER,
                             FTP_PASSWORD, str(CAP), who, str(n)], stdout=subprocess.PIPE, text=True)


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(5)
    if proc.stdout is not None:
        proc.stdout.close()


def test_a_killed_processs_grants_run_out(capped: Capped, nodes: Any, store: Redis, served: Served,
                                          redis_url: str) -> None:
    """Alice's connections in a process killed with SIGKILL stop counting against her
    cap once their leases run out: her waiter in another process is served."""
    proc = _process(capped, redis_url, "alice", CAP - 1)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        p2 = nodes(wait_timeout=30)
        served.wait(p2.pool, "alice")
        _until(lambda: store.waiting() == ["alice"], "alice refused (her cap) and waiting")
        assert served.users() == []
        _kill(proc)
        served.until(1)
        assert served.users() == ["alice"]
        assert store.grants() == Counter({"alice": 1})  # the dead process's: gone
    finally:
        _kill(proc)
    assert capped.refused == 0


def test_a_killed_processs_waiter_runs_out(capped: Capped, nodes: Any, store: Redis, served: Served,
                                           redis_url: str) -> None:
    """Bob waits in a process killed with SIGKILL: he is waited for until his
    registration's lease runs out, then alice gets her second connection."""
    p1 = nodes(wait_timeout=30)
    alice = _as(p1.pool, "alice")
    xavier = [_as(p1.pool, "xavier") for _ in range(CAP - 1)]
    proc = _process(capped, redis_url, "bob", 1)
    try:
        _until(lambda: store.waiting() == ["bob"], "bob waiting in the other process")
        _kill(proc)
        served.wait(p1.pool, "alice")
        _until(lambda: p1.pool.stats["waiting"] == 1, "alice waiting")
        p1.pool.release(xavier.pop())
        served.until(1)
        assert served.users() == ["alice"]
        assert store.waiting() == []
    finally:
        _kill(proc)
        p1.pool.release(alice)
        for c in xavier:
            p1.pool.release(c)
    assert capped.refused == 0


def test_a_user_at_her_cap_who_releases_one_gets_it_again_at_once(capped: Capped, nodes: Any) -> None:
    """The grant of a connection just released is given back in the same script that
    grants the next one (not after it, from the helper thread): a player at its cap
    that ends one range request and starts the next is never refused for its own
    connection, nor waits for news."""
    p1 = nodes(wait_timeout=30)
    answers: list[str] = []
    take_share = p1.slots.take_share

    def recorded(*args: Any, **kw: Any) -> tuple[str | None, str | None, str]:
        got = take_share(*args, **kw)
        answers.append(got[2])
        return got

    p1.slots.take_share = recorded  # type: ignore[method-assign]
    alice = [_as(p1.pool, "alice") for _ in range(CAP - 1)]
    try:
        for _ in range(20):
            p1.pool.release(alice.pop())
            alice.append(_as(p1.pool, "alice"))
        assert answers == [""] * (CAP - 1 + 20)
    finally:
        for c in alice:
            p1.pool.release(c)


class _NoNews(LeasedSlots):
    """A store whose news never arrive (pub/sub lost): the pools' polls alone."""

    listen = None  # type: ignore[assignment]


def test_a_busy_pool_still_gives_an_idle_connection_up_without_news(
        capped: Capped, redis_url: str, served: Served) -> None:
    """Without news, a process gives its idle connections up at its helper's tick
    (every TEND s), also while it is busy: every release queues work for that helper
    (the grant going back), and the tick comes between. (The helper used to wait a
    whole TEND after each piece of work before its tick, so a handover without news
    took 0.5 s more: benchmarks/ftp_slots.py, ``handover_idle_polling``; a duration,
    not asserted here.)"""
    a_slots, b_slots = _NoNews(redis_url, 5.0), _NoNews(redis_url, 5.0)
    a = FtpPool(capped.config(), size=CAP, shared=a_slots, wait_timeout=30)
    b = FtpPool(capped.config(), size=CAP, shared=b_slots, wait_timeout=30)
    held = [a.acquire()[0] for _ in range(CAP)]
    try:
        served.wait(b, None)  # the server's own work, as a's: fair shares ask nothing of a
        a.release(held.pop())  # idle in a: b's, once a's helper sees b waiting
        deadline = time.monotonic() + 20
        while not served.got and not served.errors and time.monotonic() < deadline:
            a.release(held[0])  # busy: a connection released and taken again (the warmest)
            held[0] = a.acquire()[0]
            time.sleep(0.05)
        served.until(1)
        assert served.users() == [None]
    finally:
        served.close()
        for c in held:
            a.release(c)
        for pool, slots in ((a, a_slots), (b, b_slots)):
            pool.close()
            assert pool._slots is not None
            pool._slots.join(5)
            slots.close()


class _NewsDuringTheAnswer(LeasedSlots):
    """The real store, whose news of a freed slot (or a grant given back) arrives
    while a refused caller has its answer but has not held off yet (the race that
    made a waiter sit out a whole retry, 1 s, after the slot it waited for was
    freed: benchmarks/ftp_slots.py's ``handover_idle`` p95)."""

    def take_share(self, key: str, *args: Any, **kw: Any) -> tuple[str | None, str | None, str]:
        got = super().take_share(key, *args, **kw)
        news = {"full": "freed", "limit": "shares", "waits": "shares", "waits-elsewhere": "shares"}.get(got[2])
        if news:
            for callback in self.news.callbacks(key):
                callback(news)
        return got


def test_news_between_a_refusal_and_its_hold_off_ends_it(capped: Capped, nodes: Any, redis_url: str) -> None:
    a = nodes()
    held = [_as(a.pool, "alice") for _ in range(CAP - 1)] + [_as(a.pool, "xavier")]
    slots = _NewsDuringTheAnswer(redis_url, 5.0)
    b = FtpPool(capped.config(), size=CAP, shared=slots, wait_timeout=30)
    try:
        assert b._slots is not None
        token = pool_user.set("bob")
        try:
            assert b.try_acquire() is None  # no slot: refused, and news of one freed came meanwhile
        finally:
            pool_user.reset(token)
        assert not b._slots.holding()  # so no hold-off: the waiters look again at once
        a.pool.release(held.pop())  # a slot for b's next try; alice is at her cap:
        token = pool_user.set("alice")
        try:
            ask = b._ask()  # a caller that waits (a health check's refusal holds nobody off)
        finally:
            pool_user.reset(token)
        try:
            assert b._share(ask, wait=True, new=True) is None  # her cap; a grant went back meanwhile
            assert not b._slots.holding_user("alice")
        finally:
            b._done(ask)
    finally:
        for c in held:
            a.pool.release(c)
        b.close()
        assert b._slots is not None
        b._slots.join(5)
        slots.close()


class _Gated(LeasedSlots):
    """The real store, whose grants wait for the test's go (``gate``)."""

    def __init__(self, url: str, ttl: float) -> None:
        super().__init__(url, ttl)
        self.gate, self.entered, self.answered = threading.Event(), threading.Event(), threading.Event()

    def take_share(self, *args: Any, **kw: Any) -> tuple[str | None, str | None, str]:
        self.entered.set()
        self.gate.wait(30)
        try:
            return super().take_share(*args, **kw)
        finally:
            self.answered.set()


def test_a_caller_cancelled_while_its_grant_is_asked_for_leaves_no_waiter(
        capped: Capped, nodes: Any, store: Redis, redis_url: str) -> None:
    """A stream request cancelled (the client went away) while its pool asks Redis in
    the executor: the refusal that comes after the cancel registers it as waiting,
    and that registration ends at once (else it was renewed for as long as the
    process lived, and other users with more connections waited for a ghost)."""
    a = nodes()
    held = [_as(a.pool, "xavier") for _ in range(CAP - 1)] + [_as(a.pool, "yann")]
    slots = _Gated(redis_url, 5.0)
    b = FtpPool(capped.config(), size=CAP, shared=slots, wait_timeout=30)
    io = ThreadPoolExecutor(1, thread_name_prefix="pool-io")  # the source's own (asyncio.run waits for its default)

    async def main() -> None:
        pool_user.set("bob")
        task = asyncio.ensure_future(b.aacquire(io))
        while not slots.entered.is_set():  # asking Redis, in the executor
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    try:
        asyncio.run(main())
        slots.gate.set()  # the answer now: no slot (refused, bob registered)
        assert slots.answered.wait(10)
        _until(lambda: store.waiting() == [], "the cancelled caller's registration ended")
        assert not slots._waiting
    finally:
        slots.gate.set()
        io.shutdown(wait=True)
        for c in held:
            a.pool.release(c)
        b.close()
        assert b._slots is not None
        b._slots.join(5)
        slots.close()


@pytest.mark.parametrize("round_", range(6))
def test_many_users_over_three_processes_leave_nothing_behind(capped: Capped, store: Redis,
                                                            redis_url: str, round_: int) -> None:
    """Four users read through three processes at once, sync and async: every request
    is served, no user ever holds more than her cap in Redis, the server never sees
    more than CAP connections nor refuses one, and once the processes close, no grant,
    slot or waiter is left in Redis. (Six rounds: a pool that weighed its registered
    waiters with a wait measured anew, not the one fixed at their registration, could
    find each waiter behind another and refuse all of them until they timed out;
    one round in five or so.)"""
    procs = [Node(redis_url, capped.config(), wait_timeout=15) for _ in range(3)]
    errors: list[BaseException] = []
    over: list[Counter[str]] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            grants = store.grants()
            if any(n > CAP - 1 for n in grants.values()):
                over.append(grants)
            stop.wait(0.005)

    def reader(i: int) -> None:
        user, pool = f"user:{i % 4}", procs[i % 3].pool
        try:
            for n in range(12):
                if n % 2:
                    async def once() -> None:
                        pool_user.set(user)
                        client, _ = await pool.aacquire()
                        try:
                            assert [e.name for e in client.list("")] == ["film.mkv"]
                        finally:
                            pool.release(client)
                    asyncio.run(once())
                else:
                    client = _as(pool, user)
                    try:
                        assert [e.name for e in client.list("")] == ["film.mkv"]
                        time.sleep(0.005)
                    finally:
                        pool.release(client)
        except BaseException as exc:
            errors.append(exc)

    watcher = threading.Thread(target=watch, name="watcher")
    watcher.start()
    threads = [threading.Thread(target=reader, args=(i,), name=f"reader-{i}") for i in range(8)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        stop.set()
        watcher.join(5)
        for p in procs:
            p.close()
    assert not errors, errors
    assert not over, over[:3]
    assert capped.refused == 0 and capped.peak <= CAP
    assert store.grants() == Counter() and store.waiting() == []
    assert store.r.zcard(f"reelhouse:slots:{store.key}") == 0


def test_registered_waiters_are_weighed_by_their_registration(
        capped: Capped, nodes: Any, store: Redis, served: Served) -> None:
    """Two waiters of one process, both registered: a grant asked for another user of
    that process weighs them as registered (the time each began to wait fixed then),
    not again as the process's own unregistered waiters with a wait measured anew: a
    round trip's jitter apart, two waiters could each find the other first, and all
    were refused until they timed out (the many-users test, one round in five)."""
    from reelhouse.sources.ftp.granting import Ask

    p0, p1 = nodes(wait_timeout=30), nodes(wait_timeout=30)
    held = [_as(p0.pool, "xavier") for _ in range(CAP - 1)] + [_as(p0.pool, "yann")]
    try:
        served.wait(p1.pool, "carol")
        _until(lambda: store.waiting() == ["carol"], "carol registered")
        served.wait(p1.pool, "dave")
        _until(lambda: store.waiting() == ["carol", "dave"] and p1.pool.stats["waiting"] == 2,
               "dave registered, both waiting")
        assert p1.pool._others(Ask("erin", 99, time.monotonic())) == []
        p0.pool.release(held.pop())  # a slot for p1, once p0 closes its idle connection
        served.until(1)
        assert served.users() == ["carol"]
        p0.pool.release(held.pop())
        served.until(2)
        assert served.users() == ["carol", "dave"]
    finally:
        for c in held:
            p0.pool.release(c)
