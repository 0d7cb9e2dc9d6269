"""Mid-stream resume: the FTP server dies in the middle of a range read and comes back
on the same port; the reader reconnects and continues with REST at the byte it reached,
so the caller (and the HTTP client) gets exactly the file's bytes."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelhouse.errors import SourceUnavailable
from reelhouse.sources.ftp import FtpConfig, FtpSource, reads

from helpers import FTP_PASSWORD, FTP_USER, Restartable, random_file, wait_job

SIZE = 24 * 1024 * 1024 + 11
NAME = "Films/Big.Buck.Bunny.2008.mkv"


@pytest.fixture
def film(tmp_path: Path) -> tuple[Path, bytes]:
    return tmp_path / "ftp", random_file(tmp_path / "ftp", NAME, SIZE)


@pytest.fixture
def server(film: tuple[Path, bytes]) -> Iterator[Restartable]:
    srv = Restartable(film[0])
    yield srv
    srv.kill()


def _source(port: int) -> FtpSource:
    return FtpSource(FtpConfig("127.0.0.1", port, FTP_USER, FTP_PASSWORD, pool_size=2, read_timeout=5))


def test_sync_read_resumes_after_server_restart(
    server: Restartable, film: tuple[Path, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    src = _source(server.port)
    try:
        got = bytearray()
        restart: threading.Thread | None = None
        for chunk in src.read_range(NAME, 1000, SIZE - 1000):
            got += chunk
            if restart is None and len(got) > 2 * 1024 * 1024:
                restart = server.restart_after(0.3)
                restart.join()
        assert restart is not None
        assert bytes(got) == film[1][1000:]
        assert "resuming" in caplog.text  # the transfer really broke and was resumed
    finally:
        src.close()


def test_async_read_resumes_after_server_restart(server: Restartable, film: tuple[Path, bytes]) -> None:
    src = _source(server.port)

    async def main() -> bytes:
        got = bytearray()
        restarted = False
        async for chunk in src.aread_range(NAME, 0, SIZE):
            got += chunk
            if not restarted and len(got) > 3 * 1024 * 1024:
                restarted = True
                await asyncio.to_thread(lambda: server.restart_after(0.5).join())
        return bytes(got)

    try:
        assert asyncio.run(main()) == film[1]
    finally:
        src.close()


def test_server_that_stays_down_ends_with_a_clear_error(server: Restartable, monkeypatch: pytest.MonkeyPatch) -> None:
    # as many reconnects, without the 9.5 s of waits between them (their schedule:
    # tests/sources/ftp/test_reads.py)
    monkeypatch.setattr(reads, "RESUME_DELAYS", (0.01,) * len(reads.RESUME_DELAYS))
    src = _source(server.port)
    try:
        chunks = src.read_range(NAME, 0, SIZE)
        next(chunks)
        server.kill()
        started = time.monotonic()
        with pytest.raises(SourceUnavailable, match="reconnects failed"):
            for _ in chunks:
                pass
        assert time.monotonic() - started < 30
    finally:
        src.close()
        server.revive()


def test_http_client_gets_one_uninterrupted_response(
    server: Restartable, film: tuple[Path, bytes], client: TestClient
) -> None:
    r = client.post("/api/sources", json={"name": "seedbox", "kind": "ftp", "host": "127.0.0.1",
                                           "port": server.port, "username": FTP_USER,
                                           "password": FTP_PASSWORD})
    sid = r.json()["id"]
    assert wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])["state"] == "done"
    fid = client.get("/api/library/media-files").json()["items"][0]["id"]
    got = bytearray()
    restarted = False
    with client.stream("GET", f"/api/library/media-files/{fid}/stream",
                       headers={"range": "bytes=100-"}) as resp:
        assert resp.status_code == 206
        for chunk in resp.iter_bytes():
            got += chunk
            if not restarted and len(got) > 4 * 1024 * 1024:
                restarted = True
                server.restart_after(0.3).join()
    assert restarted
    assert bytes(got) == film[1][100:]
