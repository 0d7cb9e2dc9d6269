"""A server that allows fewer connections than the pool's limit (421 "too many
connections"): the pool shrinks to what the server allows and callers wait for a free
connection instead of failing."""

from __future__ import annotations

import ftplib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from in_threads import in_threads

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import SourceBusy
from reelhouse.sources.ftp import FtpConfig, FtpSource

from helpers import FTP_PASSWORD, FTP_USER


def test_421_shrinks_the_pool_and_everyone_is_served(tmp_path: Path) -> None:
    data = os.urandom(2 * 1024 * 1024)
    (tmp_path / "film.mkv").write_bytes(data)
    with EmbeddedFtpServer(tmp_path, FTP_USER, FTP_PASSWORD) as server:
        server.server.max_cons_per_ip = 2  # pyftpdlib answers the third with 421
        src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, pool_size=5))
        results: list[bool] = []

        def reader(i: int) -> None:
            for _ in range(3):
                start = i * 1000
                got = b"".join(src.read_range("film.mkv", start, 900_000))
                results.append(got == data[start : start + 900_000])

        try:
            in_threads(reader, 6)
            assert results == [True] * 18
            assert src.pool.size == 2 and src.pool.stats["live"] <= 2
        finally:
            src.close()


def test_421_with_no_connection_to_wait_for_is_busy(tmp_path: Path) -> None:
    with EmbeddedFtpServer(tmp_path, FTP_USER, FTP_PASSWORD) as server:
        server.server.max_cons = 2  # pyftpdlib counts its listening socket too
        hog = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD))
        src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD))
        try:
            hog.list("")  # holds the only connection the server allows (idle in its pool)
            with pytest.raises(SourceBusy):
                src.list("")
        finally:
            hog.close()
            src.close()


def _counting_refusals(refused: list[float]) -> dict[str, Any]:
    """pyftpdlib's 421 at the greeting (``max_cons_per_ip`` reached), counted."""
    from pyftpdlib.handlers import FTPHandler

    def handle_max_cons_per_ip(self: Any) -> None:
        refused.append(time.monotonic())
        FTPHandler.handle_max_cons_per_ip(self)

    return {"handle_max_cons_per_ip": handle_max_cons_per_ip}


def _wait_for(what: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_a_limit_taken_by_another_program_is_waited_out(tmp_path: Path) -> None:
    """The server's only connection is held by another program (a user's FileZilla on
    the seedbox) and reelhouse holds none: the login is tried again with backoff, and
    the listing works once the other program lets go. Before: SourceBusy at the first
    421 (a 503 for a stream, EAGAIN for the drive)."""
    (tmp_path / "film.mkv").write_bytes(b"x" * 1000)
    refused: list[float] = []
    with EmbeddedFtpServer(tmp_path, FTP_USER, FTP_PASSWORD, handler_overrides=_counting_refusals(refused)) as server:
        server.server.max_cons_per_ip = 1  # one session
        other = ftplib.FTP()
        other.connect("127.0.0.1", server.port, timeout=10)
        other.login(FTP_USER, FTP_PASSWORD)
        src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD))
        got: list[object] = []
        worker = threading.Thread(target=lambda: got.append(_outcome(lambda: src.list(""))))
        try:
            worker.start()
            _wait_for(lambda: len(refused) >= 1)
            other.quit()  # the other program is done
            worker.join(60)
            assert [e.name for e in got[0]] == ["film.mkv"], got  # type: ignore[attr-defined]
        finally:
            src.close()


def test_waiting_callers_share_one_login_retry_and_all_are_served(tmp_path: Path) -> None:
    """Eight streams waiting for a refusing server try one login at a time between
    them (no thundering herd taking the slots as they free), and all are served
    when the other program lets go."""
    data = os.urandom(200_000)
    (tmp_path / "film.mkv").write_bytes(data)
    refused: list[float] = []
    with EmbeddedFtpServer(tmp_path, FTP_USER, FTP_PASSWORD, handler_overrides=_counting_refusals(refused)) as server:
        server.server.max_cons_per_ip = 2  # two sessions (max_cons counts data connections too)
        others = [ftplib.FTP(), ftplib.FTP()]
        for other in others:
            other.connect("127.0.0.1", server.port, timeout=10)
            other.login(FTP_USER, FTP_PASSWORD)
        src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, pool_size=5, user_limit=5))
        results: list[object] = []

        def reader(i: int) -> None:
            results.append(_outcome(lambda: b"".join(src.read_range("film.mkv", i, 1000))))

        workers = [threading.Thread(target=reader, args=(i,)) for i in range(8)]
        try:
            for w in workers:
                w.start()
            _wait_for(lambda: len(refused) >= 2)  # the pool's first logins, then a retry
            first = len(refused)
            for other in others:
                other.quit()
            for w in workers:
                w.join(60)
            want = sorted(data[i:i + 1000] for i in range(8))
            assert sorted(r for r in results if isinstance(r, bytes)) == want, results
            # one login at a time while refused: the first wave (at most the pool's 5) and
            # then one per backoff, not one per waiting stream per backoff
            assert len(refused) <= first + 6, (first, len(refused))
        finally:
            src.close()


def test_a_refusal_outlasting_the_wait_says_what_the_server_said(tmp_path: Path) -> None:
    """When the other program keeps the server's limit for longer than a stream waits,
    the SourceBusy (503 with Retry-After, EAGAIN on the drive) quotes the server's
    reply and says who may hold its connections; a health check (list_now) gives up
    sooner than a stream."""
    with EmbeddedFtpServer(tmp_path, FTP_USER, FTP_PASSWORD) as server:
        server.server.max_cons = 2
        other = ftplib.FTP()
        other.connect("127.0.0.1", server.port, timeout=10)
        other.login(FTP_USER, FTP_PASSWORD)
        src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD))
        try:
            with pytest.raises(SourceBusy) as busy:
                src.list_now("")
            assert "Too many connections" in busy.value.message and "other programs" in busy.value.message
            with pytest.raises(SourceBusy) as busy:
                src.list("")
            assert "Too many connections" in busy.value.message, busy.value.message
            assert busy.value.retry_after == 10
            assert src.pool.stats["live"] == 0 and src.pool.size == 5  # nothing leaked, no limit lowered
        finally:
            other.quit()
            src.close()


def _outcome(work: Callable[[], object]) -> object:
    try:
        return work()
    except Exception as exc:
        return exc
