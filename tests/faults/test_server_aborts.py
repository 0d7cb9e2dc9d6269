"""An FTP server that gives up on a transfer mid-file: the reader resumes there.

FTP servers close a data connection that makes no progress for a while (pyftpdlib after
300 s, vsftpd's ``data_connection_timeout``, 300 s) and reply 421 or 426. A slow
viewer (a phone on a weak connection, a paused player) stops taking bytes for that
long. The reader saw an end of data followed by a 4xx reply, took it for the file's
end, and the HTTP client got a body cut short (a 29 MB film ended after 2.4 MB). Only
a 2xx reply after the end of data says the file ends there; after a 4xx the read goes
on with REST at the byte reached.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pyftpdlib.handlers import DTPHandler

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.library import queries
from reelhouse.server import create_app
from reelhouse.sources.ftp import FtpConfig, FtpSource
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, playback_token, random_file, serving, stop_without_leaks

SIZE = 24 * 1024 * 1024 + 7
NAME = "Films/Slow.Viewer.2019.mkv"


class _Impatient(DTPHandler):  # type: ignore[misc]
    """pyftpdlib's data channel with a 1 s stall limit (its default is 300 s); tells the
    test when it gave up on a transfer (replying 421 and closing the session, as
    pyftpdlib does)."""

    timeout = 1
    gave_up = threading.Event()

    def handle_timeout(self) -> None:
        if self.get_transmitted_bytes() <= self._lastdata:
            _Impatient.gave_up.set()
        super().handle_timeout()


@pytest.fixture
def film(tmp_path: Path) -> tuple[Path, bytes]:
    return tmp_path / "ftp", random_file(tmp_path / "ftp", NAME, SIZE)


@pytest.fixture
def server(film: tuple[Path, bytes]) -> Iterator[EmbeddedFtpServer]:
    _Impatient.gave_up = threading.Event()
    srv = EmbeddedFtpServer(film[0], FTP_USER, FTP_PASSWORD,
                            handler_overrides={"dtp_handler": _Impatient}).start()
    yield srv
    stop_without_leaks(srv)


def _pause_until_the_server_gives_up() -> None:
    """Take no bytes until the server has closed the stalled transfer (generous limit:
    its stall check runs once a second, on a loaded machine maybe later)."""
    assert _Impatient.gave_up.wait(60), "the server never timed the transfer out"
    time.sleep(0.2)  # its 421 is on the way


def _source(port: int) -> FtpSource:
    return FtpSource(FtpConfig("127.0.0.1", port, FTP_USER, FTP_PASSWORD, pool_size=2, read_timeout=10))


def test_sync_read_goes_on_after_the_server_times_the_transfer_out(
        server: EmbeddedFtpServer, film: tuple[Path, bytes]) -> None:
    src = _source(server.port)
    try:
        got = bytearray()
        for chunk in src.read_range(NAME, 1000, SIZE - 1000):
            got += chunk
            if not _Impatient.gave_up.is_set() and len(got) > 1024 * 1024:
                _pause_until_the_server_gives_up()
        assert len(got) == SIZE - 1000
        assert bytes(got) == film[1][1000:]
    finally:
        src.close()


def test_async_read_goes_on_after_the_server_times_the_transfer_out(
        server: EmbeddedFtpServer, film: tuple[Path, bytes]) -> None:
    src = _source(server.port)

    async def main() -> bytes:
        got = bytearray()
        async for chunk in src.aread_range(NAME, 0, SIZE):
            got += chunk
            if not _Impatient.gave_up.is_set() and len(got) > 1024 * 1024:
                await asyncio.to_thread(_pause_until_the_server_gives_up)
        return bytes(got)

    try:
        got = asyncio.run(main())
        assert len(got) == SIZE
        assert got == film[1]
    finally:
        src.close()


def test_a_slow_http_client_gets_the_whole_film(
        server: EmbeddedFtpServer, film: tuple[Path, bytes], tmp_path: Path) -> None:
    """Real uvicorn (a TestClient buffers the whole body, so it never stalls the
    stream) and a viewer that stops reading until the server gives up."""
    core = Core(load_settings(data_dir=tmp_path / "data"))
    try:
        user = core.users.add("viewer", "viewer-password")
        row = core.sources.create(SourceSpec(name="ftp", kind="ftp", host="127.0.0.1", port=server.port,
                                             username=FTP_USER, password=FTP_PASSWORD))
        core.jobs.run_scan_now(row.id)
        with core.sessions() as s:
            files, _ = queries.list_media_files(s, row.id, False, 0, 10)
        token = playback_token(core, user.id, files[0].id)
        with serving(create_app(core), on_stop=core.sources.close) as base, \
                httpx.Client(timeout=60) as http, \
                http.stream("GET", f"{base}/api/library/media-files/{files[0].id}/stream?token={token}") as r:
            assert r.status_code == 200
            got = bytearray()
            for chunk in r.iter_raw():
                got += chunk
                if not _Impatient.gave_up.is_set() and len(got) > 1024 * 1024:
                    _pause_until_the_server_gives_up()
        assert len(got) == SIZE
        assert bytes(got) == film[1]
    finally:
        core.close()
