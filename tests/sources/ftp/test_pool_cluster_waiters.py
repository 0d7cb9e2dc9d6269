"""What one pool counts over a cluster beyond users' grants (issue 14, "pool waiters are
bounded per user and fairly served"): the requests a user has waiting
(``ftp_user_waiters``) in every process together, and, after a Redis outage, the
connections and grants a process made meanwhile or that Redis lost (restarted).

Real Redis (a throwaway redis-server, stopped and started again where the test says
so), real pyftpdlib allowing CAP connections from the test's address, real child
processes killed with SIGKILL. No timed assertions: each test waits for a state."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pool_nodes import CAP, Callers, Capped, Node, until
from pool_nodes import acquire_as as _as

from reelhouse.errors import QueueFull, SourceBusy
from reelhouse.sources.ftp.client import FtpClient
from reelhouse.sources.ftp.pool import FtpPool, pool_user

from helpers import FTP_PASSWORD, FTP_USER, daemon, free_port

pytestmark = [pytest.mark.requires_redis]

BOUND = 2  # ftp_user_waiters of every pool here


def _until(cond: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    until(cond, what, timeout)


class Store:
    """What Redis says about the server's key."""

    def __init__(self, url: str, port: int) -> None:
        import redis

        self.r: Any = redis.Redis.from_url(url)
        self.key = f"ftp:127.0.0.1:{port}:{FTP_USER}"

    def queued(self, user: str) -> int:
        return int(self.r.zcard(f"reelhouse:queued:{self.key}|{user}"))

    def grants(self) -> Counter[str]:
        return Counter(m.decode()[17:] for m in self.r.zrange(f"reelhouse:shares:{self.key}", 0, -1))

    def slots(self) -> int:
        return int(self.r.zcard(f"reelhouse:slots:{self.key}"))


class Waiting(Callers):
    """Callers waiting in threads (sync or on an event loop): what each got."""

    def close(self) -> None:
        """Release every connection served, as they come, until every caller is done."""
        released, deadline = 0, time.monotonic() + 90
        while True:
            while released < len(self.got):
                _, pool, client = self.got[released]
                pool.release(client)
                released += 1
            if not any(t.is_alive() for t in self.threads) and released == len(self.got):
                break
            assert time.monotonic() < deadline, "callers still waiting"
            time.sleep(0.02)
        self.got.clear()
        self.threads.clear()


@pytest.fixture
def waiting() -> Iterator[Waiting]:
    w = Waiting()
    yield w
    w.close()


@pytest.fixture
def nodes(capped: Capped, redis_url: str) -> Iterator[Callable[..., Node]]:
    made: list[Node] = []

    def node(**kw: Any) -> Node:
        made.append(Node(redis_url, capped.config(), user_waiters=BOUND, wait_timeout=60, **kw))
        return made[-1]

    yield node
    for n in made:
        n.close()


@pytest.fixture
def store(capped: Capped, redis_url: str) -> Iterator[Store]:
    s = Store(redis_url, capped.port)
    yield s
    s.r.close()


@pytest.mark.parametrize("on_loop", [False, True], ids=["thread", "event-loop"])
def test_a_users_waiting_requests_are_bounded_over_processes(
        capped: Capped, nodes: Any, store: Store, waiting: Waiting, on_loop: bool) -> None:
    """Every connection is busy. Alice has BOUND requests waiting in process 1; one
    more in process 2 is refused at once with the pool's 503 refusal (per process,
    process 2 would have queued BOUND more), while bob still waits there. Once one of
    hers is served, she may queue again in process 2."""
    p1, p2 = nodes(), nodes()
    held = [_as(p1.pool, "xavier") for _ in range(CAP - 1)] + [_as(p1.pool, "yann")]
    try:
        for _ in range(BOUND):
            waiting.wait(p1.pool, "alice")
        _until(lambda: store.queued("alice") == BOUND, "alice's requests counted in Redis")
        waiting.wait(p2.pool, "alice", on_loop)
        _until(lambda: bool(waiting.errors), "alice's third request refused")
        (who, exc), = waiting.errors
        assert who == "alice" and isinstance(exc, SourceBusy)
        assert "requests of yours wait for this FTP server already" in str(exc)
        assert "counted over every reelhouse process" in str(exc)
        assert store.queued("alice") == BOUND
        waiting.wait(p2.pool, "bob", on_loop)  # another user is not refused
        _until(lambda: store.queued("bob") == 1, "bob waiting")
        p1.pool.release(held.pop())  # bob (holds none, waits) or alice: either frees a place
        _until(lambda: len(waiting.got) == 1, "one served")
        if waiting.got[0][0] == "alice":
            _until(lambda: store.queued("alice") == BOUND - 1, "her served request off the count")
            waiting.wait(p2.pool, "alice", on_loop)
            _until(lambda: store.queued("alice") == BOUND, "alice may queue again")
        assert len(waiting.errors) == 1
    finally:
        for c in held:
            p1.pool.release(c)
    waiting.close()  # the rest are served in turn
    assert len(waiting.errors) == 1
    assert capped.refused == 0 and capped.peak <= CAP


def test_a_request_given_up_leaves_the_count(capped: Capped, nodes: Any, store: Store) -> None:
    """A request that times out (or is cancelled) stops counting at once: it does not
    hold a place in its user's queue until its lease runs out."""
    p1 = nodes()
    short = FtpPool(capped.config(), size=CAP, shared=p1.slots, user_waiters=BOUND, wait_timeout=1)
    held = [_as(p1.pool, "xavier") for _ in range(CAP - 1)] + [_as(p1.pool, "yann")]
    try:
        with pytest.raises(SourceBusy, match="stayed busy"):
            _as(short, "alice")
        _until(lambda: store.queued("alice") == 0, "the timed-out request off the count")
    finally:
        for c in held:
            p1.pool.release(c)
        short.close()
        assert short._slots is not None
        short._slots.join(5)


_PROCESS = """
import sys, threading
from reelhouse.leased_slots import LeasedSlots
from reelhouse.sources.ftp.client import FtpConfig
from reelhouse.sources.ftp.pool import FtpPool, pool_user
url, port, user, password, size, who, n = sys.argv[1:8]
pool = FtpPool(FtpConfig("127.0.0.1", int(port), user, password), size=int(size), wait_timeout=120,
               user_waiters=int(n), shared=LeasedSlots(url, ttl=1.0))

def wait():
    pool_user.set(who)
    pool.acquire()

for _ in range(int(n)):
    threading.Thread(target=wait, daemon=True).start()
threading.Event().wait(120)
"""


def test_a_killed_processs_waiting_requests_run_out(capped: Capped, nodes: Any, store: Store, redis_url: str,
                                                    waiting: Waiting) -> None:
    """Alice's requests waiting in a process killed with SIGKILL stop counting once
    their leases (1 s there) run out: refused while it lives, she may queue in another
    process after."""
    p1 = nodes()
    held = [_as(p1.pool, "xavier") for _ in range(CAP - 1)] + [_as(p1.pool, "yann")]
    proc = subprocess.Popen([sys.executable, "-c", _PROCESS, redis_url, str(capped.port), FTP_USER,
                             FTP_PASSWORD, str(CAP), "alice", str(BOUND)])
    try:
        _until(lambda: store.queued("alice") == BOUND, "alice's requests in the other process counted")
        with pytest.raises(SourceBusy, match="counted over every reelhouse process"):
            _as(p1.pool, "alice")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        _until(lambda: store.queued("alice") == 0, "the killed process's requests run out")
        waiting.wait(p1.pool, "alice")
        _until(lambda: store.queued("alice") == 1, "alice waits in process 1")
        assert not waiting.errors
        p1.pool.release(held.pop())
        _until(lambda: len(waiting.got) == 1, "alice served")
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        for c in held:
            p1.pool.release(c)


def test_without_redis_each_process_counts_its_own(capped: Capped, waiting: Waiting) -> None:
    """Redis unreachable (nothing listens on its port): the pool's own bound applies,
    as without a cluster; nothing fails because of Redis."""
    from reelhouse.leased_slots import LeasedSlots

    slots = LeasedSlots(f"redis://127.0.0.1:{free_port()}/0", 5.0)
    pool = FtpPool(capped.config(), size=CAP, shared=slots, user_waiters=BOUND, wait_timeout=60)
    held = [_as(pool, "xavier") for _ in range(CAP - 1)] + [_as(pool, "yann")]
    try:
        for _ in range(BOUND):
            waiting.wait(pool, "alice")
        _until(lambda: pool.stats["waiting"] == BOUND, "alice's requests waiting")
        with pytest.raises(SourceBusy, match="requests of yours wait") as refused:
            _as(pool, "alice")
        assert "every reelhouse process" not in str(refused.value)
        for _ in range(BOUND):
            pool.release(held.pop())
        _until(lambda: len(waiting.got) == BOUND, "alice's requests served")
    finally:
        for c in held:
            pool.release(c)
        pool.close()
        assert pool._slots is not None
        pool._slots.join(5)
        slots.close()


# -- a Redis outage ----------------------------------------------------------------------
def _redis(port: int, options: list[str] | None = None) -> Any:
    return daemon(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                   *(options or ["--appendonly", "no"])], port)


@pytest.fixture
def redis_port() -> int:
    import shutil

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    return free_port()


def test_after_a_redis_restart_a_process_counts_again_what_it_holds(
        capped: Capped, redis_port: int, caplog: pytest.LogCaptureFixture) -> None:
    """Process 1 holds a connection for alice, counted in Redis. Redis stops (and
    forgets everything: no persistence); meanwhile process 1 opens two more, for alice
    and bob, counted by nobody. Redis starts again: process 1 counts again the
    connection Redis forgot (its lease renewal finds it gone) and those it opened
    during the outage, so process 2, asking for a connection, finds the server's CAP
    taken and opens none that the server would refuse (before: Redis counted none
    and process 2 got a 421), and alice holds her cap (CAP - 1) in Redis again."""
    url = f"redis://127.0.0.1:{redis_port}/0"
    caplog.set_level(logging.WARNING)
    p1: Node | None = Node(url, capped.config(), ttl=1.0, wait_timeout=30)
    p2: Node | None = None
    held: list[tuple[Node, FtpClient]] = []
    try:
        with _redis(redis_port):
            store = Store(url, capped.port)
            held.append((p1, _as(p1.pool, "alice")))
            assert store.grants() == Counter({"alice": 1}) and store.slots() == 1
            store.r.close()
        # Redis is down (and forgot everything): process 1 goes on with its own counts
        held += [(p1, _as(p1.pool, "alice")), (p1, _as(p1.pool, "bob"))]
        with _redis(redis_port):
            store = Store(url, capped.port)
            _until(lambda: store.grants() == Counter({"alice": 2, "bob": 1}) and store.slots() == CAP,
                   "process 1's connections counted again")
            p2 = Node(url, capped.config(), ttl=1.0, wait_timeout=30)
            token = pool_user.set("carol")
            try:
                assert p2.pool.try_acquire() is None  # the server's CAP are taken: none opened
            finally:
                pool_user.reset(token)
            assert capped.refused == 0 and capped.peak <= CAP
            _, bobs = held.pop()
            p1.pool.release(bobs)  # idle in process 1, then closed there for carol
            held.append((p2, _as(p2.pool, "carol")))
            assert capped.refused == 0 and capped.peak <= CAP
            while held:
                node, client = held.pop()
                node.pool.release(client)
            for node in (p2, p1):
                node.close()
            p1 = p2 = None
            _until(lambda: store.grants() == Counter() and store.slots() == 0, "all given back")
            store.r.close()
    finally:
        for node, client in held:
            node.pool.release(client, reusable=False)
        for n in (p1, p2):
            if n is not None:
                n.close()
    assert any("counted again" in r.getMessage() for r in caplog.records)


def test_a_slot_whose_giving_back_failed_is_renewed_no_more(redis_port: int, tmp_path: Path) -> None:
    """A slot given back while Redis was down (the call failed) is renewed no more once
    Redis is back (restarted from its append-only file, so the slot is there again):
    its lease runs out. Before, it stayed held, renewed for as long as the process
    lived: a ghost slot for every other process."""
    import redis

    from reelhouse.leased_slots import LeasedSlots

    url = f"redis://127.0.0.1:{redis_port}/0"
    durable = ["--dir", str(tmp_path), "--appendonly", "yes", "--appendfsync", "always"]
    slots = LeasedSlots(url, 30.0)  # renewed by the test (renew()), not by its 10 s thread
    try:
        with _redis(redis_port, durable):
            kept, lost = slots.take("k", 5), slots.take("k", 5)
            assert kept is not None and lost is not None
        with pytest.raises(redis.exceptions.RedisError):
            slots.give_back(lost)  # Redis is down
        with _redis(redis_port, durable):
            r: Any = redis.Redis.from_url(url)
            try:
                before = {t: r.zscore("reelhouse:slots:k", t) for t in (kept, lost)}
                assert None not in before.values()  # both back from the append-only file
                slots.renew()
                assert r.zscore("reelhouse:slots:k", kept) > before[kept]
                assert r.zscore("reelhouse:slots:k", lost) == before[lost]  # not renewed: it runs out
            finally:
                slots.close()
                r.close()
    finally:
        slots.close()


def test_requests_that_began_to_wait_during_a_redis_outage_are_counted_once_it_is_back(
        capped: Capped, redis_port: int, waiting: Waiting, caplog: pytest.LogCaptureFixture) -> None:
    """Every connection is busy. Redis stops (and forgets everything); alice's BOUND
    requests begin to wait in process 1, counted there alone (the fail-safe bound: one
    process's worth, nobody refused because of Redis). Redis starts again: process 1
    counts them there, so process 2 refuses alice's next request at once (before, Redis
    counted none of them and process 2 let BOUND more wait: twice the bound until they
    all ended). Served, they leave the count."""
    url = f"redis://127.0.0.1:{redis_port}/0"
    caplog.set_level(logging.WARNING)
    p1: Node | None = Node(url, capped.config(), ttl=1.0, user_waiters=BOUND, wait_timeout=120)
    p2: Node | None = None
    assert p1 is not None
    held: list[FtpClient] = []
    try:
        with _redis(redis_port):
            held = [_as(p1.pool, "xavier") for _ in range(CAP - 1)] + [_as(p1.pool, "yann")]
        # Redis is down: alice's requests wait, counted by process 1 alone
        for _ in range(BOUND):
            waiting.wait(p1.pool, "alice")
        _until(lambda: p1 is not None and p1.pool.stats["waiting"] == BOUND, "alice's requests waiting")
        with pytest.raises(QueueFull, match="requests of yours wait") as refused:
            _as(p1.pool, "alice")  # the process's own bound holds meanwhile
        assert "every reelhouse process" not in str(refused.value)
        with _redis(redis_port):
            store = Store(url, capped.port)
            _until(lambda: store.queued("alice") == BOUND, "alice's waiting requests counted in Redis", 60)
            p2 = Node(url, capped.config(), ttl=1.0, user_waiters=BOUND, wait_timeout=120)
            with pytest.raises(QueueFull, match="counted over every reelhouse process"):
                _as(p2.pool, "alice")
            assert not waiting.errors
            while held:
                p1.pool.release(held.pop())
            _until(lambda: len(waiting.got) == BOUND, "alice's requests served")
            _until(lambda: store.queued("alice") == 0, "served requests off the count")
            waiting.close()
            for node in (p2, p1):
                node.close()
            p1 = p2 = None
            store.r.close()
    finally:
        for c in held:
            if p1 is not None:
                p1.pool.release(c, reusable=False)
        for n in (p1, p2):
            if n is not None:
                n.close()
    assert any("requests waiting for" in r.getMessage() for r in caplog.records)
    assert capped.refused == 0 and capped.peak <= CAP


def test_during_a_redis_outage_each_process_lets_its_share_of_a_users_requests_wait(
        capped: Capped, redis_port: int, waiting: Waiting) -> None:
    """Two processes of the server+login were alive when Redis stopped. Every
    connection is busy; alice's requests begin to wait during the outage: each process
    lets its share of the bound wait (BOUND // 2, at least 1), so the cluster holds
    BOUND of hers, not 2 × BOUND; each process still lets one of hers (and bob's)
    wait: nobody is refused just because Redis is down."""
    url = f"redis://127.0.0.1:{redis_port}/0"
    bound = 4
    p1: Node | None = Node(url, capped.config(), ttl=1.0, user_waiters=bound, wait_timeout=120)
    p2: Node | None = Node(url, capped.config(), ttl=1.0, user_waiters=bound, wait_timeout=120)
    assert p1 is not None and p2 is not None
    held: list[FtpClient] = []
    try:
        with _redis(redis_port):
            held = [_as(p1.pool, "xavier") for _ in range(CAP - 1)] + [_as(p1.pool, "yann")]
            waiting.wait(p2.pool, "bob")  # process 2 talks to Redis too
            store = Store(url, capped.port)
            _until(lambda: store.queued("bob") == 1, "bob waiting in process 2")
            for node in (p1, p2):
                slots = node.pool._slots
                assert slots is not None
                _until(lambda s=slots: s.pools_known == 2, "both processes known alive")  # type: ignore[misc]
            store.r.close()
        # Redis is down: alice's requests begin to wait
        for node in (p1, p2):
            for _ in range(bound // 2):
                waiting.wait(node.pool, "alice")
        _until(lambda: p1 is not None and p2 is not None
               and p1.pool.stats["waiting"] == bound // 2 and p2.pool.stats["waiting"] == bound // 2 + 1,
               "each process lets its share of alice's requests wait")
        for node in (p1, p2):
            with pytest.raises(QueueFull, match="requests of yours wait"):
                _as(node.pool, "alice")
        assert not waiting.errors
        p2.close()  # its waiters (bob's, alice's) get the pool's closing error
        p2 = None
        while held:
            p1.pool.release(held.pop())
        _until(lambda: sum(who == "alice" for who, _, _ in waiting.got) == bound // 2, "alice's served in 1")
    finally:
        for c in held:
            if p1 is not None:
                p1.pool.release(c, reusable=False)
        for n in (p1, p2):
            if n is not None:
                n.close()
    waiting.close()
