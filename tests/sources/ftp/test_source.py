"""Tests for reelhouse.sources.ftp.source (FtpSource) against real pyftpdlib servers:
awkward names, range reads (sync and async), connection reuse, errors, reconnects."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import AuthenticationFailed, InvalidInput, NotFound, SourceUnavailable
from reelhouse.sources.ftp import FtpConfig, FtpSource
from reelhouse.sources.ftp.pool import FtpPool

from helpers import FTP_PASSWORD, FTP_USER, free_port, ftp_connections

AMELIE = "Amélie (2001)/Amélie [1080p] \"Director's Cut\".mkv"
CHIHIRO = "千と千尋の神隠し.mkv"
ODD = [
    AMELIE,
    CHIHIRO,
    "Films/With Spaces  Twice.mkv",
    "Films/a;b=c d.mkv",  # MLSD facts are ';'-separated: the name must survive
    "Films/100% [x] & y + z #1 {2}.mkv",
    "Films/back\\slash.mkv",
    "Películas/Ça (2017) — ünïcödé.mp4",
]
DATA = os.urandom(3 * 1024 * 1024 + 17)




def cfg(port: int, **kw: object) -> FtpConfig:
    base: dict[str, object] = {"user": FTP_USER, "password": FTP_PASSWORD, "pool_size": 3,
                               "connect_timeout": 5, "read_timeout": 5}
    base.update(kw)
    return FtpConfig("127.0.0.1", port, **base)  # type: ignore[arg-type]


@pytest.fixture
def files(ftp_root: Path) -> dict[str, bytes]:
    out = {}
    for i, rel in enumerate(ODD):
        data = DATA[: 1000 + i] if rel != AMELIE else DATA
        (ftp_root / rel).parent.mkdir(parents=True, exist_ok=True)
        (ftp_root / rel).write_bytes(data)
        out[rel] = data
    (ftp_root / "Empty Folder").mkdir()
    return out


@pytest.fixture
def src(ftp_server: EmbeddedFtpServer, files: dict[str, bytes]) -> Iterator[FtpSource]:
    s = FtpSource(cfg(ftp_server.port))
    yield s
    s.close()


def read(src: FtpSource, path: str, offset: int, length: int) -> bytes:
    return b"".join(src.read_range(path, offset, length))


def test_list_stat_read_awkward_names(src: FtpSource, files: dict[str, bytes]) -> None:
    root = {e.name: e for e in src.list("")}
    assert set(root) == {"Amélie (2001)", CHIHIRO, "Films", "Películas", "Empty Folder"}
    assert root["Films"].is_dir and root["Films"].size is None
    assert root[CHIHIRO].size == len(files[CHIHIRO]) and not root[CHIHIRO].is_dir
    assert root[CHIHIRO].mtime is not None and abs(root[CHIHIRO].mtime - time.time()) < 3600
    walked = {}
    for folder, entries in src.walk(""):
        assert isinstance(entries, list), (folder, entries)
        walked.update({e.path: e for e in entries if not e.is_dir})
    assert set(walked) == set(files)
    for rel, data in files.items():
        entry = src.stat(rel)
        assert entry.path == rel and entry.name == rel.rsplit("/", 1)[-1]
        assert entry.size == len(data) and not entry.is_dir
        assert walked[rel].size == len(data)
        assert read(src, rel, 0, len(data)) == data
        assert read(src, rel, 7, 100) == data[7:107]
        assert read(src, rel, len(data) - 3, 100) == data[-3:]  # the file ends first
    assert src.list("Empty Folder") == []
    assert src.stat("Films").is_dir
    assert src.stat("").is_dir


def test_leading_slash_and_dot_segments_are_normalised(src: FtpSource, files: dict[str, bytes]) -> None:
    assert read(src, "/" + CHIHIRO, 0, 10) == files[CHIHIRO][:10]
    assert read(src, "./Films//./a;b=c d.mkv", 0, 5) == files["Films/a;b=c d.mkv"][:5]
    with pytest.raises(InvalidInput):
        src.stat("Films/../../etc/passwd")
    with pytest.raises(InvalidInput):
        read(src, "Films/\x00.mkv", 0, 1)
    with pytest.raises(InvalidInput):
        read(src, CHIHIRO, -1, 1)


def test_partial_reads_keep_one_reusable_connection(src: FtpSource) -> None:
    """Sequential reads that stop early (the transfer is cut) reuse one connection."""
    for i in range(15):
        it = src.read_range(AMELIE, i * 1000, len(DATA))
        first = next(it)
        assert first == DATA[i * 1000 : i * 1000 + len(first)]
        it.close()  # abort mid-transfer
        assert src.pool.stats == {"live": 1, "idle": 1, "in_use": 0, "size": 3, "waiting": 0}
    for i in range(5):  # small reads that stop before the end of the file
        assert read(src, AMELIE, 100 * i, 10) == DATA[100 * i : 100 * i + 10]
        assert src.pool.stats["live"] == 1
    assert read(src, AMELIE, 0, len(DATA)) == DATA
    assert read(src, AMELIE, 0, len(DATA) + 100) == DATA  # ends at EOF
    assert src.list("Films") and src.pool.stats == {"live": 1, "idle": 1, "in_use": 0, "size": 3, "waiting": 0}


def test_zero_length_read_opens_nothing(src: FtpSource) -> None:
    assert read(src, AMELIE, 0, 0) == b""
    assert read(src, "does/not/exist.mkv", 0, 0) == b""
    assert src.pool.stats["live"] == 0


def test_read_to_exact_end(src: FtpSource, files: dict[str, bytes]) -> None:
    size = len(files[CHIHIRO])
    assert read(src, CHIHIRO, size, 10) == b""  # offset == size: nothing left
    assert read(src, CHIHIRO, size - 1, 1) == files[CHIHIRO][-1:]
    assert src.pool.stats["in_use"] == 0


def test_concurrent_readers_share_the_pool(src: FtpSource) -> None:
    iters = [src.read_range(AMELIE, k * 100_000, 500_000) for k in range(3)]
    firsts = [next(it) for it in iters]  # three transfers open at once
    assert src.pool.stats == {"live": 3, "idle": 0, "in_use": 3, "size": 3, "waiting": 0}
    for k, (it, first) in enumerate(zip(iters, firsts, strict=True)):
        rest = b"".join(it)
        assert first + rest == DATA[k * 100_000 : k * 100_000 + 500_000]
    assert src.pool.stats == {"live": 3, "idle": 3, "in_use": 0, "size": 3, "waiting": 0}


def test_missing_file_is_not_found(src: FtpSource) -> None:
    with pytest.raises(NotFound):
        src.stat("Films/nope.mkv")
    with pytest.raises(NotFound):
        read(src, "Films/nope.mkv", 0, 10)
    with pytest.raises(NotFound):
        read(src, "Films/nope.mkv", 5, 10)
    # a 550 leaves the control connection in sync: it is kept
    assert src.pool.stats == {"live": 1, "idle": 1, "in_use": 0, "size": 3, "waiting": 0}


def test_list_of_missing_folder_or_file_is_not_found(src: FtpSource) -> None:
    """pyftpdlib answers MLSD of a missing folder, or of a file, '501 No such directory.'"""
    with pytest.raises(NotFound):
        src.list("No Such Folder")
    with pytest.raises(NotFound):
        src.list(CHIHIRO)
    assert read(src, CHIHIRO, 0, 3) == DATA[:3]
    # the control connection stayed in sync: it was kept, not replaced
    assert src.pool.stats == {"live": 1, "idle": 1, "in_use": 0, "size": 3, "waiting": 0}


def test_read_past_the_end_keeps_the_connection(src: FtpSource) -> None:
    assert read(src, CHIHIRO, 5000, 10) == b""
    assert read(src, CHIHIRO, 0, 3) == DATA[:3]
    assert src.pool.stats == {"live": 1, "idle": 1, "in_use": 0, "size": 3, "waiting": 0}


def test_root_folder_config(ftp_server: EmbeddedFtpServer, files: dict[str, bytes]) -> None:
    s = FtpSource(cfg(ftp_server.port, root="/Amélie (2001)/"))
    try:
        assert [e.name for e in s.list("")] == [AMELIE.split("/")[1]]
        assert read(s, AMELIE.split("/")[1], 0, 5) == DATA[:5]
    finally:
        s.close()


def test_async_range_reads(src: FtpSource) -> None:
    async def main() -> None:
        got = b"".join([c async for c in src.aread_range(AMELIE, 10, 2_000_000)])
        assert got == DATA[10:2_000_010]
        got = b"".join([c async for c in src.aread_range(AMELIE, 0, len(DATA) + 5)])
        assert got == DATA
        # stop early: aclose cuts the transfer, the connection is kept
        for i in range(5):
            agen = src.aread_range(AMELIE, i * 7, len(DATA))
            first = await agen.__anext__()
            assert first == DATA[i * 7 : i * 7 + len(first)]
            await agen.aclose()
        assert [c async for c in src.aread_range(AMELIE, 0, 0)] == []
        with pytest.raises(NotFound):
            await src.aread_range("nope.mkv", 0, 5).__anext__()

    asyncio.run(main())
    assert src.pool.stats == {"live": 1, "idle": 1, "in_use": 0, "size": 3, "waiting": 0}


def test_wrong_password_is_authentication_failed(ftp_root: Path) -> None:
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD,
                               handler_overrides={"auth_failed_timeout": 0.01}).start()
    try:
        s = FtpSource(cfg(server.port, password="wrong password"))
        with pytest.raises(AuthenticationFailed):
            s.list("")
        with pytest.raises(AuthenticationFailed):
            read(s, CHIHIRO, 0, 1)
        assert s.pool.stats["live"] == 0
        s.close()
        s = FtpSource(cfg(server.port, user="nobody"))
        with pytest.raises(AuthenticationFailed):
            s.test()
        s.close()
    finally:
        server.stop()


def test_nothing_listening_is_source_unavailable() -> None:
    s = FtpSource(cfg(free_port()))
    with pytest.raises(SourceUnavailable) as info:
        s.list("")
    assert "refused" in str(info.value)
    with pytest.raises(SourceUnavailable):
        read(s, "x.mkv", 0, 1)
    assert s.pool.stats["live"] == 0
    s.close()


def test_unresolvable_host_is_source_unavailable() -> None:
    s = FtpSource(FtpConfig("no-such-host.invalid", 21, connect_timeout=5))
    with pytest.raises(SourceUnavailable):
        s.list("")
    s.close()


def test_killed_idle_connection_is_replaced(src: FtpSource) -> None:
    """The client-side socket of a pooled connection dies: the next call retries on a
    fresh connection without the caller noticing."""
    assert read(src, CHIHIRO, 0, 4) == DATA[:4]
    client, _ = src.pool.acquire()
    src.pool.release(client)
    assert client.ftp is not None and client.ftp.sock is not None
    client.ftp.sock.shutdown(socket.SHUT_RDWR)
    assert {e.name for e in src.list("Films")} >= {"a;b=c d.mkv"}
    assert src.pool.stats == {"live": 1, "idle": 1, "in_use": 0, "size": 3, "waiting": 0}
    client, _ = src.pool.acquire()
    src.pool.release(client)
    client.ftp.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
    assert read(src, CHIHIRO, 2, 4) == DATA[2:6]
    client, _ = src.pool.acquire()
    src.pool.release(client)
    client.ftp.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
    assert src.stat(CHIHIRO).size == 1001
    assert src.pool.stats["in_use"] == 0


def test_server_restart_is_transparent(ftp_root: Path, files: dict[str, bytes]) -> None:
    """The server goes away (every connection closed) and comes back on the same port."""
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, port=free_port()).start()
    port = server.port
    s = FtpSource(cfg(port), pool=FtpPool(cfg(port), size=2))
    try:
        assert read(s, CHIHIRO, 0, 5) == DATA[:5]
        assert s.list("Films")
        assert s.pool.stats["idle"] == 1
        server.stop()
        with pytest.raises(SourceUnavailable):
            s.list("")  # down: the reused connection fails, the retry is refused
        assert s.pool.stats["in_use"] == 0
        server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, port=port).start()
        assert read(s, CHIHIRO, 0, 5) == DATA[:5]
        # once more with an idle connection from before the restart
        server.stop()
        server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, port=port).start()
        assert {e.name for e in s.list("")} >= {CHIHIRO}
        assert read(s, AMELIE, 1, 5) == DATA[1:6]
        assert s.pool.stats["in_use"] == 0 and s.pool.stats["live"] <= 2
    finally:
        s.close()
        deadline = time.monotonic() + 15
        while ftp_connections(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        leaked = ftp_connections(port)
        server.stop()
        assert leaked == 0
