"""Fair sharing of an FtpPool between users (issue 14): a per-user limit, a bound on
one user's waiters, freed connections to the user holding fewest, and waits on the
event loop that hold no thread. Against a real pyftpdlib server."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import SourceBusy
from reelhouse.sources.ftp.client import FtpClient, FtpConfig
from reelhouse.sources.ftp.pool import FtpPool, pool_user

from helpers import FTP_PASSWORD, FTP_USER


def _pool(port: int, **kw: object) -> FtpPool:
    cfg = FtpConfig("127.0.0.1", port, FTP_USER, FTP_PASSWORD, connect_timeout=5, read_timeout=5)
    return FtpPool(cfg, wait_timeout=10, **kw)  # type: ignore[arg-type]


@pytest.fixture
def pool(ftp_server: EmbeddedFtpServer) -> Iterator[FtpPool]:
    p = _pool(ftp_server.port, size=3, user_limit=2)
    yield p
    p.close()


@pytest.fixture(autouse=True)
def _no_user() -> Iterator[None]:
    token = pool_user.set(None)
    yield
    pool_user.reset(token)


def _as(user: str | None) -> None:
    pool_user.set(user)


def _acquire_in_thread(pool: FtpPool, user: str, got: list[tuple[str, FtpClient]]) -> threading.Thread:
    def run() -> None:
        _as(user)
        client, _ = pool.acquire()
        got.append((user, client))

    t = threading.Thread(target=run, name=f"waiter-{user}")
    t.start()
    return t


def test_one_user_cannot_take_the_last_connection(ftp_server: EmbeddedFtpServer) -> None:
    p = _pool(ftp_server.port, size=2)  # default user limit: size - 1
    try:
        _as("user:1")
        a1, _ = p.acquire()
        got: list[tuple[str, FtpClient]] = []
        t = _acquire_in_thread(p, "user:1", got)
        _wait(lambda: p.stats["waiting"] == 1)  # over alice's share: she waits
        assert got == []
        _as("user:2")
        start = time.monotonic()
        b1, _ = p.acquire()  # bob finds the connection alice may not take
        # not the 10 s wait_timeout; a login on a loaded 2-core machine may take a second or two
        assert time.monotonic() - start < 5
        p.release(a1)
        t.join(5)
        assert [u for u, _ in got] == ["user:1"]
        p.release(b1)
        p.release(got[0][1])
        assert p.stats["in_use"] == 0
    finally:
        p.close()


def test_freed_connection_goes_to_the_user_holding_fewest(pool: FtpPool) -> None:
    _as("alice")
    a1, _ = pool.acquire()
    _as("bob")
    b1, _ = pool.acquire()
    b2, _ = pool.acquire()
    got: list[tuple[str, FtpClient]] = []
    # each waiter is seen waiting before the next comes: the order of arrival is forced,
    # not left to thread start-up (a sleep of 0.1 s was not enough on a loaded machine)
    t_bob = _acquire_in_thread(pool, "bob", got)  # bob waits first (holds 2: at his limit)
    _wait(lambda: pool.stats["waiting"] == 1)
    t_alice = _acquire_in_thread(pool, "alice", got)  # alice holds 1
    _wait(lambda: pool.stats["waiting"] == 2)
    t_carol = _acquire_in_thread(pool, "carol", got)  # carol holds none: she goes first
    _wait(lambda: pool.stats["waiting"] == 3)
    pool.release(b1)  # bob holds 1, alice 1, carol none: carol first, though she came last
    _wait(lambda: len(got) == 1)
    assert got[0][0] == "carol"
    pool.release(got[0][1])  # bob and alice hold 1 each: the longer waiter, bob
    _wait(lambda: len(got) == 2)
    assert got[1][0] == "bob"
    pool.release(a1)  # alice holds none now and is the only one waiting
    _wait(lambda: len(got) == 3)
    assert got[2][0] == "alice"
    for t in (t_bob, t_alice, t_carol):
        t.join(5)
    for _, c in got[1:]:
        pool.release(c)
    pool.release(b2)
    assert pool.stats["in_use"] == 0 and pool.stats["waiting"] == 0


def _wait(cond: object, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_waiters_of_one_user_are_bounded(ftp_server: EmbeddedFtpServer) -> None:
    p = _pool(ftp_server.port, size=2, user_waiters=2)
    try:
        _as("alice")
        a1, _ = p.acquire()
        got: list[tuple[str, FtpClient]] = []
        threads = [_acquire_in_thread(p, "alice", got) for _ in range(2)]
        _wait(lambda: p.stats["waiting"] == 2)
        start = time.monotonic()
        with pytest.raises(SourceBusy, match="wait for this FTP server already"):
            p.acquire()  # the third waiter is refused at once, not after the 10 s wait_timeout
        assert time.monotonic() - start < 5  # (a loaded machine may not schedule us for a while)
        p.release(a1)
        _wait(lambda: len(got) == 1)
        p.release(got[0][1])
        _wait(lambda: len(got) == 2)
        p.release(got[1][1])
        for t in threads:
            t.join(5)
        assert p.stats["in_use"] == 0
    finally:
        p.close()


async def _await(cond: Callable[[], bool], timeout: float = 20) -> None:
    """:func:`_wait` on the event loop (the waiters are tasks of this loop)."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)


def test_async_waiters_hold_no_thread_and_cancelled_ones_give_back(ftp_server: EmbeddedFtpServer) -> None:
    p = _pool(ftp_server.port, size=1)

    async def main() -> None:
        holder, _ = await p.aacquire()
        threads_before = threading.active_count()
        served: list[int] = []

        async def viewer(i: int) -> None:
            client, _ = await p.aacquire()
            served.append(i)
            await asyncio.sleep(0.01)
            p.release(client)

        tasks = [asyncio.create_task(viewer(i)) for i in range(20)]
        await _await(lambda: p.stats["waiting"] == 20)
        assert threading.active_count() <= threads_before + 1  # nobody waits in a thread
        tasks[0].cancel()  # a viewer that leaves while waiting
        await _await(lambda: p.stats["waiting"] == 19)
        p.release(holder)
        await asyncio.wait_for(asyncio.gather(*tasks[1:]), 20)
        assert sorted(served) == list(range(1, 20))
        assert p.stats["in_use"] == 0 and p.stats["waiting"] == 0

    try:
        asyncio.run(main())
    finally:
        p.close()
