"""Clients that hang up mid-stream: a real uvicorn server in a thread (TestClient cannot
disconnect mid-response) streaming a big file from a real FTP server through a pool of
two connections. Every cut transfer must give its connection back (or drop it), so the
pool never runs dry."""

from __future__ import annotations

import gc
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.library import queries
from reelhouse.server import create_app
from reelhouse.sources.ftp import FtpSource
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, playback_token, serving

MiB = 1024 * 1024
HUGE_SIZE = 256 * MiB  # sparse: the transfer cannot finish while the client reads 1 MiB
HUGE_NAME = "Films/Huge.Movie.2020.mkv"


@dataclass
class Live:
    core: Core
    source: FtpSource
    file_id: int
    token: str
    port: int

    @property
    def path(self) -> str:
        return f"/api/library/media-files/{self.file_id}/stream?token={self.token}"


@pytest.fixture
def live(ftp_server: EmbeddedFtpServer, ftp_root: Path, tmp_path: Path) -> Iterator[Live]:
    huge = ftp_root / HUGE_NAME
    huge.parent.mkdir(parents=True)
    with huge.open("wb") as fh:
        fh.truncate(HUGE_SIZE)
    core = Core(load_settings(data_dir=tmp_path / "data", ftp_pool_size=2))
    try:
        user = core.users.add("viewer", "viewer-password")
        row = core.sources.create(SourceSpec(name="ftp", kind="ftp", host="127.0.0.1",
                                             port=ftp_server.port, username=FTP_USER,
                                             password=FTP_PASSWORD))
        core.jobs.run_scan_now(row.id)
        with core.sessions() as s:
            files, _ = queries.list_media_files(s, row.id, False, 0, 10)
        assert [f.path for f in files] == [HUGE_NAME]
        src = core.sources.source(row.id)
        assert isinstance(src, FtpSource) and src.pool.size == 2
        # closing the pools before waiting for uvicorn wakes any request stuck waiting for
        # a connection, so uvicorn stops even after a failure
        with serving(create_app(core), on_stop=core.sources.close, lifespan="on",
                     timeout_graceful_shutdown=2) as base:
            port = int(base.rsplit(":", 1)[1])
            yield Live(core, src, files[0].id, playback_token(core, user.id, files[0].id), port)
    finally:
        core.close()
        gc.collect()  # connections orphaned by a failed test are closed by their finalisers


def _read_then_hang_up(live: Live, range_header: str | None, body_bytes: int) -> int:
    """Send a GET on a raw socket, read the headers and ``body_bytes`` of the body, then
    close the socket (RST if data is pending). Returns the status code."""
    sock = socket.create_connection(("127.0.0.1", live.port), timeout=5)
    try:
        req = f"GET {live.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if range_header:
            req += f"Range: {range_header}\r\n"
        sock.sendall((req + "\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            assert chunk, "connection closed before the headers"
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        got = len(body)
        while got < body_bytes:
            chunk = sock.recv(min(1 << 20, body_bytes - got))
            assert chunk, "connection closed before the body"
            got += len(chunk)
        return status
    finally:
        sock.close()


def _wait_pool_idle(src: FtpSource, timeout: float = 10.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        stats = src.pool.stats
        if stats["in_use"] == 0 or time.monotonic() > deadline:
            return stats
        time.sleep(0.01)


def _hang_up_with_httpx(live: Live, nbytes: int) -> None:
    url = f"http://127.0.0.1:{live.port}{live.path}"
    with httpx.Client(timeout=5) as http, http.stream("GET", url) as r:
        assert r.status_code == 200
        assert r.headers["content-length"] == str(HUGE_SIZE)
        got = 0
        for chunk in r.iter_raw():
            got += len(chunk)
            if got >= nbytes:
                break


def test_full_request_releases_its_connection(live: Live) -> None:
    """A complete response on a kept-alive connection gives the FTP connection back.
    (The client stays connected while we look.)"""
    with httpx.Client(timeout=10) as http:
        r = http.get(f"http://127.0.0.1:{live.port}{live.path}",
                     headers={"range": f"bytes={HUGE_SIZE - 3 * MiB}-"})
        assert r.status_code == 206 and r.content == b"\0" * (3 * MiB)
        stats = _wait_pool_idle(live.source)
        assert stats == {"live": 1, "idle": 1, "in_use": 0, "size": 2, "waiting": 0}
        r = http.get(f"http://127.0.0.1:{live.port}{live.path}", headers={"range": "bytes=0-99"})
        assert r.status_code == 206 and r.content == b"\0" * 100
        stats = _wait_pool_idle(live.source)
        assert stats["in_use"] == 0 and stats["live"] <= 2, stats


def test_hang_ups_release_ftp_connections(live: Live) -> None:
    """30 clients hang up mid-body (raw sockets and httpx, 200 and 206, some right after
    the status line); after each one the pool must be idle again within 10 s (2 s
    is usual; room for a loaded 2-core machine: a lost cleanup never comes). (A cleanup
    awaited unshielded in FtpSource.aread_range's finally lost ~20% of them.)"""
    headers = [None, "bytes=0-", "bytes={off}-", "bytes={off}-" + str(HUGE_SIZE - 1)]
    for i in range(30):
        if i % 5 == 4:
            _hang_up_with_httpx(live, (i + 1) * MiB // 4)
        else:
            header = headers[i % 4]
            header = header.format(off=i * 7 * MiB) if header else None
            body = 0 if i % 7 == 6 else MiB
            assert _read_then_hang_up(live, header, body) == (200 if header is None else 206)
        stats = _wait_pool_idle(live.source)
        assert stats["in_use"] == 0, f"hang-up {i} kept its FTP connection: {stats}"
        assert stats["live"] <= 2, stats
    # a normal request still goes through at once, with the right bytes
    start = time.monotonic()
    r = httpx.get(f"http://127.0.0.1:{live.port}{live.path}",
                  headers={"range": f"bytes={100 * MiB}-{102 * MiB - 1}"}, timeout=20)
    assert time.monotonic() - start < 10  # not stuck behind a leaked connection (room for load)
    assert r.status_code == 206
    assert r.headers["content-range"] == f"bytes {100 * MiB}-{102 * MiB - 1}/{HUGE_SIZE}"
    assert r.content == b"\0" * (2 * MiB)
    # three concurrent reads share the two connections and all finish
    results: list[int] = []

    def fetch(offset: int) -> None:
        r = httpx.get(f"http://127.0.0.1:{live.port}{live.path}",
                      headers={"range": f"bytes={offset}-{offset + MiB - 1}"}, timeout=10)
        results.append(len(r.content) if r.status_code == 206 else -r.status_code)

    threads = [threading.Thread(target=fetch, args=(k * 10 * MiB,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results == [MiB, MiB, MiB]
    stats = _wait_pool_idle(live.source)
    assert stats["in_use"] == 0 and stats["live"] <= 2, stats
