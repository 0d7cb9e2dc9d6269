"""The issue's load faults: 50 concurrent streams through a pool of 5 all complete
with the right bytes and leave no socket open; and a 200 MiB stream whose server is
killed half-way and restarted within 5 s delivers bytes whose hash equals the file's."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from pathlib import Path

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.ftp import FtpConfig, FtpSource

from helpers import FTP_PASSWORD, FTP_USER, free_port, ftp_connections

MiB = 1024 * 1024


def test_50_concurrent_streams_with_a_pool_of_5(ftp_server: EmbeddedFtpServer, ftp_root: Path) -> None:
    data = os.urandom(8 * MiB)
    (ftp_root / "film.mkv").write_bytes(data)
    src = FtpSource(FtpConfig("127.0.0.1", ftp_server.port, FTP_USER, FTP_PASSWORD, pool_size=5))
    peak = 0

    async def stream(i: int) -> bool:
        nonlocal peak
        offset = (i * 997_331) % (len(data) - MiB)
        got = bytearray()
        async for chunk in src.aread_range("film.mkv", offset, MiB):
            got += chunk
            peak = max(peak, src.pool.stats["live"])
        return bytes(got) == data[offset : offset + MiB]

    async def main() -> list[bool]:
        return await asyncio.gather(*(stream(i) for i in range(50)))

    try:
        results = asyncio.run(main())
        assert results == [True] * 50
        assert peak <= 5
        stats = src.pool.stats
        assert stats["in_use"] == 0 and stats["live"] <= 5, stats
    finally:
        src.close()
    deadline = time.monotonic() + 15
    while ftp_connections(ftp_server.port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ftp_connections(ftp_server.port) == 0


def test_200_mib_stream_survives_a_server_restart(tmp_path: Path) -> None:
    root = tmp_path / "ftp"
    root.mkdir()
    size = 200 * MiB
    digest = hashlib.sha256()
    with open(root / "big.mkv", "wb") as fh:
        for _ in range(size // (8 * MiB)):
            block = os.urandom(8 * MiB)
            digest.update(block)
            fh.write(block)
    server = EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD, port=free_port()).start()
    port = server.port
    src = FtpSource(FtpConfig("127.0.0.1", port, FTP_USER, FTP_PASSWORD, pool_size=2, read_timeout=5))
    restarted: list[float] = []

    def restart() -> None:
        nonlocal server
        server.stop()
        time.sleep(1.0)
        while True:
            try:
                server = EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD, port=port).start()
                break
            except OSError:
                time.sleep(0.05)
        restarted.append(time.monotonic())

    got = hashlib.sha256()
    n = 0
    killer: threading.Thread | None = None
    try:
        for chunk in src.read_range("big.mkv", 0, size):
            got.update(chunk)
            n += len(chunk)
            if killer is None and n >= size // 2:
                killer = threading.Thread(target=restart, daemon=True)
                killer.start()
        assert killer is not None
        killer.join(10)
        assert restarted, "the server did not come back"
        assert n == size
        assert got.digest() == digest.digest()
    finally:
        src.close()
        server.stop()
