"""A server that allows fewer connections than the pool's limit (421 "too many
connections"): the pool shrinks to what the server allows and callers wait for a free
connection instead of failing."""

from __future__ import annotations

import os
from pathlib import Path

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
