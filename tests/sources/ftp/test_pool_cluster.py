"""FTP connections counted over several processes (reelhouse/sources/ftp/slots.py,
issues 12 and 14): pools with their own LeasedSlots each (as separate processes have)
share one real Redis, against a real pyftpdlib server that allows N connections from
the test's address and answers the next with 421."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from in_threads import in_threads
from pool_nodes import CAP, Capped, Node

from reelhouse.errors import SourceBusy
from reelhouse.leased_slots import LeasedSlots
from reelhouse.sources.ftp.client import FtpClient, FtpConfig
from reelhouse.sources.ftp.pool import FtpPool

from helpers import FTP_PASSWORD, FTP_USER, free_port, redis_server, stop_without_leaks

pytestmark = [pytest.mark.requires_redis]


@pytest.fixture
def nodes(capped: Capped, redis_url: str) -> Iterator[list[Node]]:
    made: list[Node] = []

    def node(**kw: Any) -> Node:
        made.append(Node(redis_url, capped.config(), **kw))
        return made[-1]

    yield node  # type: ignore[misc]
    for n in made:
        n.close()


def _until(cond: Callable[[], bool], timeout: float = 20) -> None:
    """Wait for ``cond`` (a generous deadline: CI runs on 2 loaded cores)."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.01)


def _slot_count(redis_url: str, port: int) -> int:
    import redis

    r = redis.Redis.from_url(redis_url)
    try:
        return int(r.zcard(f"reelhouse:slots:ftp:127.0.0.1:{port}:{FTP_USER}"))
    finally:
        r.close()


def test_two_pools_never_open_more_than_the_limit_together(capped: Capped, nodes: Any) -> None:
    """Each pool alone may open CAP; together they stay at CAP, nobody gets a 421 or
    an error, every read is served (the server would refuse a CAP+1th)."""
    a, b = nodes(wait_timeout=30), nodes(wait_timeout=30)
    errors: list[BaseException] = []
    done = [0]

    def reader(pool: FtpPool) -> None:
        try:
            for _ in range(15):
                client, _ = pool.acquire()
                try:
                    assert [e.name for e in client.list("")] == ["film.mkv"]
                    time.sleep(0.01)
                finally:
                    pool.release(client)
                done[0] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(p,), name=f"reader-{i}")
               for i, p in enumerate([a.pool, b.pool] * 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert done[0] == 8 * 15
    assert capped.refused == 0 and capped.peak <= CAP
    assert a.pool.stats["live"] + b.pool.stats["live"] <= CAP


def test_a_waiting_pool_gets_a_slot_when_the_other_releases(capped: Capped, nodes: Any) -> None:
    """A holds every slot in use; B's caller waits (no 421, no error) and gets one as soon
    as A's connection goes idle: A closes idle connections another process waits for."""
    a, b = nodes(), nodes(wait_timeout=20)
    held = [a.pool.acquire()[0] for _ in range(CAP)]
    got: list[FtpClient] = []
    waiter = threading.Thread(target=lambda: got.append(b.pool.acquire()[0]), name="b-waiter")
    waiter.start()
    try:
        _until(lambda: b.pool.stats["waiting"] == 1)  # B waits (a loaded machine starts threads late)
        time.sleep(0.8)
        assert not got, "B connected past the cluster's limit"
        assert b.pool.stats["live"] == 0
        started = time.monotonic()
        a.pool.release(held.pop())  # idle in A now: closed for B within a tick or two
        waiter.join(20)
        assert got and got[0].alive
        # a tick (0.5 s) or the news, and a login; not B's 20 s wait_timeout (8 s: room for
        # a loaded machine)
        assert time.monotonic() - started < 8.0
        assert a.pool.stats["live"] == CAP - 1
    finally:
        waiter.join(10)
        for c in held:
            a.pool.release(c)
        for c in got:
            b.pool.release(c)
    assert capped.refused == 0 and capped.peak <= CAP


def test_an_async_waiter_gets_a_slot_too(capped: Capped, nodes: Any) -> None:
    a, b = nodes(), nodes(wait_timeout=20)
    held = [a.pool.acquire()[0] for _ in range(CAP)]

    async def main() -> FtpClient:
        task = asyncio.ensure_future(b.pool.aacquire())
        deadline = time.monotonic() + 20  # B waits (its first ask runs in the executor)
        while b.pool.stats["waiting"] != 1:
            assert time.monotonic() < deadline and not task.done()
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.6)
        assert not task.done()
        a.pool.release(held.pop(), reusable=False)  # closed: its slot goes back at once
        return (await asyncio.wait_for(task, 10))[0]

    try:
        client = asyncio.run(main())
        assert client.alive
        b.pool.release(client)
    finally:
        for c in held:
            a.pool.release(c)
    assert capped.refused == 0


def test_a_waiter_past_its_deadline_is_busy(capped: Capped, nodes: Any) -> None:
    a, b = nodes(), nodes(wait_timeout=0.8)
    held = [a.pool.acquire()[0] for _ in range(CAP)]
    try:
        started = time.monotonic()
        with pytest.raises(SourceBusy, match="counted over every reelhouse process"):
            b.pool.acquire()
        # at its deadline (0.8 s), not much later: 5 s leaves room for a loaded machine
        assert 0.7 < time.monotonic() - started < 5.0
        a.slots._redis.delete(f"reelhouse:wanted:ftp:127.0.0.1:{capped.port}:{FTP_USER}")
        assert b.pool.try_acquire() is None  # health checks: at once,
        assert not a.slots.wanted(f"ftp:127.0.0.1:{capped.port}:{FTP_USER}")  # asking nobody to yield
        assert b.pool.stats == {"live": 0, "idle": 0, "in_use": 0, "size": CAP, "waiting": 0}
    finally:
        for c in held:
            a.pool.release(c)
    assert capped.refused == 0


def test_idle_connections_beyond_one_close_after_idle_close(capped: Capped, nodes: Any) -> None:
    a = nodes(idle_close=0.3)
    held = [a.pool.acquire()[0] for _ in range(CAP)]
    for c in held:
        a.pool.release(c)
    deadline = time.monotonic() + 20
    while a.pool.stats["live"] > 1:
        assert time.monotonic() < deadline, a.pool.stats
        time.sleep(0.05)
    time.sleep(0.6)
    assert a.pool.stats == {"live": 1, "idle": 1, "in_use": 0, "size": CAP, "waiting": 0}


def test_slots_go_back_with_their_connections(capped: Capped, nodes: Any, redis_url: str) -> None:
    a = nodes()
    c1, _ = a.pool.acquire()
    c2, _ = a.pool.acquire()
    assert _slot_count(redis_url, capped.port) == 2
    a.pool.release(c1, reusable=False)  # a broken connection
    a.pool.release(c2)
    a.pool.drop_idle()
    deadline = time.monotonic() + 20
    while _slot_count(redis_url, capped.port):
        assert time.monotonic() < deadline, "slots stayed taken after their connections closed"
        time.sleep(0.05)


_HOLDER = """
import sys, time
from reelhouse.leased_slots import LeasedSlots
from reelhouse.sources.ftp.client import FtpConfig
from reelhouse.sources.ftp.pool import FtpPool
url, port, user, password, n = sys.argv[1:6]
pool = FtpPool(FtpConfig("127.0.0.1", int(port), user, password), size=int(n),
               shared=LeasedSlots(url, ttl=1.0))
held = [pool.acquire()[0] for _ in range(int(n))]
print("held", flush=True)
time.sleep(60)
"""


def test_a_killed_processs_slots_run_out(capped: Capped, nodes: Any, redis_url: str) -> None:
    """A process killed with SIGKILL gives nothing back; its leases (1 s) run out and
    another process's waiting caller connects."""
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, redis_url, str(capped.port), FTP_USER,
                             FTP_PASSWORD, str(CAP)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        b = nodes(wait_timeout=15)
        assert b.pool.try_acquire() is None  # the cluster is full
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)
        started = time.monotonic()
        client, _ = b.pool.acquire()
        assert time.monotonic() - started < 10.0  # the 1 s leases ran out, not the 15 s wait_timeout
        b.pool.release(client)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
    assert capped.refused == 0


def test_redis_unreachable_falls_back_to_the_process_limit(capped: Capped, caplog: pytest.LogCaptureFixture) -> None:
    """No Redis: one warning, then the pool works as without one (its own limit)."""
    slots = LeasedSlots(f"redis://127.0.0.1:{free_port()}/0", 5.0)
    pool = FtpPool(capped.config(), size=2, wait_timeout=0.5, shared=slots)
    try:
        with caplog.at_level(logging.WARNING, logger="reelhouse.sources.ftp.slots"):
            c1, _ = pool.acquire()
            c2, _ = pool.acquire()
            with pytest.raises(SourceBusy):
                pool.acquire()  # its own limit still holds
            pool.release(c1, reusable=False)
            pool.release(c2)
        warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
        assert len(warnings) == 1
    finally:
        pool.close()
        slots.close()


def test_redis_dying_midway_fails_no_stream(capped: Capped) -> None:
    """Redis goes away while connections hold slots: giving them back fails quietly,
    new connections are made on the process's own limit."""
    with redis_server() as url:
        slots = LeasedSlots(url, 5.0)
        pool = FtpPool(capped.config(), size=2, wait_timeout=2, shared=slots)
        c1, _ = pool.acquire()
    try:  # Redis is gone now
        pool.release(c1, reusable=False)
        c2, reused = pool.acquire()
        assert c2.alive and not reused
        assert [e.name for e in c2.list("")] == ["film.mkv"]
        pool.release(c2)
    finally:
        pool.close()
        slots.close()


# -- wiring ---------------------------------------------------------------------------
def test_a_node_counts_its_ftp_sources_in_redis(capped: Capped, redis_url: str, tmp_path: Path) -> None:
    """With redis_url, every FTP source a Core builds takes its slots from the one
    LeasedSlots of the process; without it, none."""
    from reelhouse.config import load_settings
    from reelhouse.core import Core
    from reelhouse.sources.ftp import FtpSource
    from reelhouse.sources.registry import SourceSpec

    spec = SourceSpec(name="ftp", kind="ftp", host="127.0.0.1", port=capped.port,
                      username=FTP_USER, password=FTP_PASSWORD)
    core = Core(load_settings(data_dir=tmp_path / "a", redis_url=redis_url, ftp_pool_size=CAP),
                consume_jobs=False)
    try:
        src = core.sources.source(core.sources.create(spec).id)
        assert isinstance(src, FtpSource) and src.pool._slots is not None
        assert src.pool._slots.shared is core.ftp_slots and src.pool._slots.limit == CAP
        assert src.list("")[0].name == "film.mkv"
        assert _slot_count(redis_url, capped.port) == 1
    finally:
        core.close()
    assert _slot_count(redis_url, capped.port) == 0  # given back at close
    alone = Core(load_settings(data_dir=tmp_path / "b"), consume_jobs=False)
    try:
        src = alone.sources.source(alone.sources.create(spec).id)
        assert isinstance(src, FtpSource) and src.pool._slots is None and alone.ftp_slots is None
    finally:
        alone.close()


def test_a_drive_mount_of_a_host_counts_with_the_cluster(capped: Capped, redis_url: str) -> None:
    from reelhouse.drive.mount import open_source
    from reelhouse.drive.settings import DriveSettings
    from reelhouse.sources.ftp import FtpSource

    s = DriveSettings(host="127.0.0.1", port=capped.port, username=FTP_USER, password=FTP_PASSWORD,
                      max_connections=CAP)
    opened = open_source(s, redis_url, 5.0)
    try:
        src = opened.source
        assert isinstance(src, FtpSource) and src.pool._slots is not None
        assert src.pool._slots.key == f"ftp:127.0.0.1:{capped.port}:{FTP_USER}"
        src.list("")
        assert _slot_count(redis_url, capped.port) == 1
    finally:
        opened.close()
    assert _slot_count(redis_url, capped.port) == 0
    opened = open_source(s)  # no redis_url: its own limit only
    try:
        assert isinstance(opened.source, FtpSource) and opened.source.pool._slots is None
    finally:
        opened.close()


def test_a_server_allowing_fewer_than_the_pool_still_serves_everyone(tmp_path: Path, redis_url: str) -> None:
    """The cluster gives 3 slots, the server allows 2: the 421s despite a slot are
    retried, then the pool shrinks to what the server allows (as without Redis)."""
    (tmp_path / "film.mkv").write_bytes(os.urandom(64 * 1024))
    server = Capped(tmp_path, 2)
    slots = LeasedSlots(redis_url, 5.0)
    pool = FtpPool(server.config(), size=3, wait_timeout=30, shared=slots)

    def reader(i: int) -> None:
        for _ in range(20):
            with pool.connection() as client:
                client.list("")
                time.sleep(0.02)

    try:
        in_threads(reader, 5, name="reader")
        assert pool.size == 2 and server.peak <= 2
    finally:
        pool.close()
        assert pool._slots is not None
        pool._slots.join(5)
        slots.close()
        stop_without_leaks(server.server)


def test_a_421_from_connections_outside_reelhouse_is_busy_soon(capped: Capped, redis_url: str) -> None:
    """Another FTP client of the same user (not counted in Redis) holds every
    connection: the pool retries a few times, then answers busy, not after 60 s."""
    from ftplib import FTP

    others = []
    for _ in range(CAP):
        ftp = FTP()
        ftp.connect("127.0.0.1", capped.port, timeout=5)
        ftp.login(FTP_USER, FTP_PASSWORD)
        others.append(ftp)
    slots = LeasedSlots(redis_url, 5.0)
    pool = FtpPool(capped.config(), size=CAP, wait_timeout=60, shared=slots)
    try:
        started = time.monotonic()
        with pytest.raises(SourceBusy):
            pool.acquire()
        assert time.monotonic() - started < 15.0  # not the 60 s wait_timeout (room for a loaded machine)
        assert pool.stats["live"] == 0
    finally:
        for ftp in others:
            ftp.quit()
        pool.close()
        assert pool._slots is not None
        pool._slots.join(5)
        slots.close()


def test_one_server_by_ip_and_by_name_is_counted_once(capped: Capped, redis_url: str) -> None:
    """Issue 14: a pool reaching the server as 127.0.0.1 and one reaching it as
    localhost share one count (the key is the resolved address): together they stay
    at CAP, nobody gets a 421."""
    by_ip = Node(redis_url, capped.config(), wait_timeout=30)
    by_name = Node(redis_url, FtpConfig("localhost", capped.port, FTP_USER, FTP_PASSWORD,
                                        connect_timeout=5, read_timeout=5), wait_timeout=30)
    try:
        assert by_ip.pool._slots is not None and by_name.pool._slots is not None
        assert by_ip.pool._slots.key == by_name.pool._slots.key
        errors: list[BaseException] = []

        def reader(pool: FtpPool) -> None:
            try:
                for _ in range(10):
                    client, _ = pool.acquire()
                    try:
                        client.list("")
                        time.sleep(0.01)
                    finally:
                        pool.release(client)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=reader, args=(p,)) for p in [by_ip.pool, by_name.pool] * 3]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert capped.refused == 0 and capped.peak <= CAP
    finally:
        by_ip.close()
        by_name.close()


def test_a_server_address_is_resolved_once_and_kept() -> None:
    from reelhouse.sources.ftp import address as slots
    from reelhouse.sources.ftp.slots import server_address

    assert server_address("localhost", 2121) == "127.0.0.1"
    assert server_address("LOCALHOST", 2121) == "127.0.0.1"
    assert slots._resolved[("localhost", 2121)][0] > time.monotonic() + slots.RESOLVED_TTL - 5
    assert server_address("::1", 21) == "::1" and server_address("[::1]", 21) == "::1"
    assert server_address("no-such-host.invalid", 21) == "no-such-host.invalid"


@pytest.mark.parametrize("keep_idle", [True, False], ids=["idle", "dropped"])
def test_a_freed_slot_wakes_the_other_process_at_once(capped: Capped, nodes: Any, keep_idle: bool,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14: news over Redis pub/sub, no polling: B's refusal makes A close an idle
    connection at once, the freed slot wakes B at once. The polls (the waiters' and the
    idle holders') are made 5 s here, so a handover well under that came from the news;
    the speed itself is measured in benchmarks/ftp_slots.py (polling: ~300 / ~100 ms,
    news: ~3 ms)."""
    from reelhouse.sources.ftp import slots

    monkeypatch.setattr(slots, "SLOT_RETRY", 5.0)
    monkeypatch.setattr(slots, "SLOT_RETRY_LISTENING", 5.0)
    monkeypatch.setattr(slots, "TEND", 5.0)
    a, b = nodes(), nodes(wait_timeout=20)
    took = []
    for _ in range(3):
        held = [a.pool.acquire()[0] for _ in range(CAP)]
        got: list[FtpClient] = []
        waiter = threading.Thread(target=lambda got=got: got.append(b.pool.acquire()[0]), name="b-waiter")
        waiter.start()
        try:
            _until(lambda: b.pool.stats["waiting"] == 1)  # B is refused and waits
            assert not got
            started = time.monotonic()
            a.pool.release(held.pop(), reusable=keep_idle)
            waiter.join(10)
            assert got and got[0].alive
            took.append(time.monotonic() - started)
        finally:
            waiter.join(10)
            for c in held:
                a.pool.release(c, reusable=False)
            for c in got:
                b.pool.release(c, reusable=False)
            a.pool.drop_idle()
        time.sleep(0.05)
    assert sorted(took)[1] < 2.5, took  # a poll would take 5 s (2.5: room for a loaded machine)
    assert capped.refused == 0 and capped.peak <= CAP
