"""Tests for reelhouse.sources.ftp.pool against a real pyftpdlib server: limits,
waiting, reuse, dead connections, closing."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import SourceBusy, SourceUnavailable
from reelhouse.sources.ftp.client import FtpClient, FtpConfig
from reelhouse.sources.ftp.pool import FtpPool

from helpers import FTP_PASSWORD, FTP_USER


def config(port: int, **kw: object) -> FtpConfig:
    return FtpConfig("127.0.0.1", port, FTP_USER, FTP_PASSWORD, connect_timeout=5,
                     read_timeout=5, **kw)  # type: ignore[arg-type]


@pytest.fixture
def pool(ftp_server: EmbeddedFtpServer) -> Iterator[FtpPool]:
    p = FtpPool(config(ftp_server.port), size=2, wait_timeout=10)
    yield p
    p.close()


def _kill(client: FtpClient) -> None:
    """Cut a client's control connection under it (as a server or NAT timeout would)."""
    assert client.ftp is not None and client.ftp.sock is not None
    client.ftp.sock.shutdown(socket.SHUT_RDWR)


def test_acquire_release_reuse(pool: FtpPool) -> None:
    assert pool.stats == {"live": 0, "idle": 0, "in_use": 0, "size": 2, "waiting": 0}
    c1, reused = pool.acquire()
    assert reused is False and c1.alive
    assert pool.stats == {"live": 1, "idle": 0, "in_use": 1, "size": 2, "waiting": 0}
    pool.release(c1)
    assert pool.stats == {"live": 1, "idle": 1, "in_use": 0, "size": 2, "waiting": 0}
    c2, reused = pool.acquire()
    assert reused is True and c2 is c1
    c2.noop()
    pool.release(c2)


def test_size_defaults_to_config(ftp_server: EmbeddedFtpServer) -> None:
    p = FtpPool(config(ftp_server.port, pool_size=7))
    assert p.stats["size"] == 7
    p.close()


def test_max_is_respected_and_a_waiter_gets_a_released_connection(pool: FtpPool) -> None:
    c1, _ = pool.acquire()
    c2, _ = pool.acquire()
    assert pool.stats["live"] == 2
    got: list[FtpClient] = []
    done = threading.Event()

    def waiter() -> None:
        client, _ = pool.acquire()
        got.append(client)
        done.set()

    t = threading.Thread(target=waiter, name="pool-waiter")
    t.start()
    try:
        assert not done.wait(0.3), "a third connection was handed out past the limit"
        assert pool.stats["live"] == 2
        pool.release(c1)
        assert done.wait(5), "the waiter did not get the released connection"
        assert got == [c1]
        assert pool.stats == {"live": 2, "idle": 0, "in_use": 2, "size": 2, "waiting": 0}
    finally:
        t.join(5)
        pool.release(c2)
        for c in got:
            pool.release(c)
    assert pool.stats["in_use"] == 0


def test_waiter_gets_a_slot_when_a_broken_connection_is_dropped(pool: FtpPool) -> None:
    c1, _ = pool.acquire()
    c2, _ = pool.acquire()
    got: list[tuple[FtpClient, bool]] = []
    t = threading.Thread(target=lambda: got.append(pool.acquire()), name="pool-waiter")
    t.start()
    time.sleep(0.1)
    pool.release(c1, reusable=False)  # dropped: the waiter gets a fresh connection
    t.join(20)
    assert len(got) == 1 and got[0][1] is False and got[0][0] is not c1
    assert not c1.alive
    assert pool.stats["live"] == 2
    pool.release(c2)
    pool.release(got[0][0])


def test_wait_timeout_raises_source_busy(ftp_server: EmbeddedFtpServer) -> None:
    p = FtpPool(config(ftp_server.port), size=1, wait_timeout=0.2)
    c, _ = p.acquire()
    start = time.monotonic()
    with pytest.raises(SourceBusy):
        p.acquire()
    assert 0.15 < time.monotonic() - start < 5  # its 0.2 s, not much later (room for a loaded machine)
    p.release(c)
    p.close()


def test_many_threads_never_exceed_the_limit(ftp_server: EmbeddedFtpServer) -> None:
    p = FtpPool(config(ftp_server.port), size=3, wait_timeout=20)
    peak = 0
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        nonlocal peak
        try:
            for _ in range(5):
                with p.connection() as c:
                    with lock:
                        peak = max(peak, p.stats["live"])
                    c.noop()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, name=f"pool-worker-{i}") for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert peak <= 3
    assert p.stats["in_use"] == 0 and p.stats["live"] <= 3
    p.close()


def test_connection_context_manager(pool: FtpPool) -> None:
    with pool.connection() as c:
        c.noop()
        assert pool.stats["in_use"] == 1
    assert pool.stats == {"live": 1, "idle": 1, "in_use": 0, "size": 2, "waiting": 0}
    with pytest.raises(RuntimeError), pool.connection():
        raise RuntimeError("boom")
    assert pool.stats["in_use"] == 0 and pool.stats["live"] == 1  # a healthy one is kept


def test_dead_idle_connection_is_replaced_after_noop_check(ftp_server: EmbeddedFtpServer) -> None:
    p = FtpPool(config(ftp_server.port), size=2, check_after=0)
    c1, _ = p.acquire()
    p.release(c1)
    _kill(c1)
    c2, reused = p.acquire()
    assert c2 is not c1 and reused is False
    assert not c1.alive
    c2.noop()
    assert p.stats == {"live": 1, "idle": 0, "in_use": 1, "size": 2, "waiting": 0}
    p.release(c2)
    p.close()


def test_release_of_a_closed_client_drops_it(pool: FtpPool) -> None:
    c, _ = pool.acquire()
    c.close()
    pool.release(c)  # reusable=True, but it is not alive
    assert pool.stats == {"live": 0, "idle": 0, "in_use": 0, "size": 2, "waiting": 0}


def test_connect_failure_gives_the_slot_back() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = FtpPool(config(port), size=2, wait_timeout=1)
    for _ in range(5):  # more attempts than slots: a failed connect must not hold one
        with pytest.raises(SourceUnavailable):
            p.acquire()
    assert p.stats == {"live": 0, "idle": 0, "in_use": 0, "size": 2, "waiting": 0}
    p.close()


def test_close(pool: FtpPool) -> None:
    busy, _ = pool.acquire()
    idle, _ = pool.acquire()
    pool.release(idle)
    pool.close()
    assert not idle.alive
    assert pool.stats["live"] == 1  # the busy one, until it comes back
    with pytest.raises(SourceUnavailable):
        pool.acquire()
    pool.release(busy)
    assert not busy.alive
    assert pool.stats == {"live": 0, "idle": 0, "in_use": 0, "size": 2, "waiting": 0}


def test_close_wakes_waiters(pool: FtpPool) -> None:
    c1, _ = pool.acquire()
    c2, _ = pool.acquire()
    errors: list[BaseException] = []

    def waiter() -> None:
        try:
            pool.acquire()
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=waiter, name="pool-waiter")
    t.start()
    time.sleep(0.1)
    pool.close()
    t.join(5)
    assert not t.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], SourceUnavailable)
    pool.release(c1)
    pool.release(c2)
    assert pool.stats["live"] == 0


def test_keepalive_noops_idle_connections_and_drops_dead_ones(pool: FtpPool, ftp_server: EmbeddedFtpServer) -> None:
    a, _ = pool.acquire()
    b, _ = pool.acquire()
    pool.release(a)
    pool.release(b)
    time.sleep(0.05)
    assert pool.keepalive(60) == 0  # none idle that long
    before = a.last_used
    assert pool.keepalive(0.01) == 2
    assert a.last_used > before and (pool.stats["live"], pool.stats["idle"]) == (2, 2)
    _kill(b)  # a connection the server (or a NAT) dropped
    time.sleep(0.05)
    assert pool.keepalive(0.01) == 2
    assert pool.stats["live"] == 1 and pool.stats["idle"] == 1


def test_interrupt_cuts_a_read_from_a_hung_server_and_resume_takes_callers_again(tmp_path: object) -> None:
    """A read waiting for a server that accepted RETR and never answers ends at once with
    SourceUnavailable when the pool is interrupted (a drive being unmounted), not after
    the read timeout and its retries; new callers are refused until resume."""
    from pathlib import Path

    from pyftpdlib.handlers import FTPHandler

    from reelhouse.sources.ftp.source import FtpSource

    hung = threading.Event()

    def hung_retr(self: FTPHandler, file: str) -> None:
        if file.endswith("hung.bin") and not hung.is_set():
            return
        FTPHandler.ftp_RETR(self, file)

    root = Path(str(tmp_path)) / "root"
    root.mkdir()
    (root / "hung.bin").write_bytes(b"x" * 1000)
    with EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD, handler_overrides={"ftp_RETR": hung_retr}) as server:
        src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, connect_timeout=30,
                                  read_timeout=30))
        try:
            got: list[BaseException | bytes] = []

            def read() -> None:
                try:
                    got.append(b"".join(src.read_range("hung.bin", 0, 1000)))
                except BaseException as exc:
                    got.append(exc)

            reader = threading.Thread(target=read)
            reader.start()
            time.sleep(0.5)
            assert reader.is_alive()  # waiting for the server's answer
            started = time.monotonic()
            src.interrupt()
            reader.join(timeout=20)
            # at once, not after the 30 s read timeout (10: room for a loaded 2-core machine)
            assert not reader.is_alive() and time.monotonic() - started < 10
            assert isinstance(got[0], SourceUnavailable), got
            with pytest.raises(SourceUnavailable, match="stopping"):
                src.list("")
            hung.set()
            src.resume()
            assert b"".join(src.read_range("hung.bin", 0, 1000)) == b"x" * 1000
        finally:
            src.close()
