"""A client that goes away while a server without REST is being read up to its offset
(reads.py, retrieval.py: ``ftp_max_skip``): the skip stops, the server's transfer is
cut, and the FTP connection goes back to the pool (or is dropped). A real uvicorn
server streaming from a real pyftpdlib server that refuses REST and sends at most
2 MiB/s, so reaching the offset takes long."""

from __future__ import annotations

import gc
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.server import create_app
from reelhouse.sources.ftp import FtpSource

from helpers import FTP_PASSWORD, FTP_USER, playback_token, scan_ftp, serving, stop_without_leaks

MiB = 1024 * 1024
SIZE = 64 * MiB  # sparse
OFFSET = 40 * MiB  # 20 s at 2 MiB/s: a skip that runs to it is unmistakable


class _Transfers:
    """The data connections the server opened and how many bytes each one sent."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.sent: list[int] = []  # one per closed data connection
        self.closed = threading.Event()


def _server(root: Path, transfers: _Transfers) -> EmbeddedFtpServer:
    class Counting(ThrottledDTPHandler):
        write_limit = 2 * MiB  # bytes/s sent to the client

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            transfers.opened.set()

        def close(self) -> None:
            if not self._closed:
                transfers.sent.append(self.tot_bytes_sent)
                transfers.closed.set()
            super().close()

    return EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD, handler_overrides={
        "dtp_handler": Counting,
        "proto_cmds": {k: v for k, v in FTPHandler.proto_cmds.items() if k != "REST"},
    }).start()


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[EmbeddedFtpServer, _Transfers, Path]]:
    root = tmp_path / "ftp"
    (root / "Films").mkdir(parents=True)
    with (root / "Films" / "Huge.Movie.2020.mkv").open("wb") as fh:
        fh.truncate(SIZE)
    transfers = _Transfers()
    server = _server(root, transfers)
    yield server, transfers, root
    stop_without_leaks(server)


def _wait(what: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_a_client_gone_during_a_skip_stops_it(setup: tuple[EmbeddedFtpServer, _Transfers, Path],
                                              tmp_path: Path) -> None:
    """Before: the skip ran to its offset (40 MiB here, up to ``ftp_max_skip``, 1 GiB,
    on a real server) for a client long gone, holding a pooled connection and the
    server's bandwidth all along."""
    server, transfers, _ = setup
    core = Core(load_settings(data_dir=tmp_path / "data", ftp_pool_size=2))
    try:
        user = core.users.add("viewer", "viewer-password")
        source_id, files = scan_ftp(core, server.port)
        src = core.sources.source(source_id)
        assert isinstance(src, FtpSource)
        token = playback_token(core, user.id, files[0].id)
        with serving(create_app(core), on_stop=core.sources.close, lifespan="on",
                     timeout_graceful_shutdown=2) as base:
            port = int(base.rsplit(":", 1)[1])
            assert src.rest_refused  # found by the scan's probe
            transfers.opened.clear()
            transfers.closed.clear()
            sent_before = len(transfers.sent)
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(f"GET /api/library/media-files/{files[0].id}/stream?token={token} HTTP/1.1\r\n"
                         f"Host: 127.0.0.1\r\nRange: bytes={OFFSET}-\r\n\r\n".encode())
            _wait(transfers.opened.is_set)  # the server is sending from byte 0: the skip is under way
            sock.close()  # the player went away
            _wait(lambda: src.pool.stats["in_use"] == 0)
            skipped = transfers.sent[sent_before:]
            assert skipped and max(skipped) < OFFSET // 2, skipped  # cut short, not run to the offset
            assert src.pool.stats["live"] == src.pool.stats["idle"]  # nothing held
    finally:
        core.close()
        gc.collect()


def test_a_download_cancelled_during_a_skip_stops_it(setup: tuple[EmbeddedFtpServer, _Transfers, Path],
                                                   tmp_path: Path) -> None:
    """A download resumed at byte 40 MiB on a server without REST skips that much
    first; a cancel meanwhile (a user, the server stopping) stopped it only once the
    skip was over (:data:`~reelhouse.sources.skipping.skip_stop`, checked per skipped
    chunk). The connection goes back to the pool in sync."""
    from reelhouse.errors import Cancelled
    from reelhouse.sources.ftp import FtpConfig
    from reelhouse.transfers.copy import download
    from reelhouse.transfers.part_files import local_part

    server, transfers, _ = setup
    src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, pool_size=1))
    dest = tmp_path / "Huge.Movie.2020.mkv"
    try:
        with pytest.raises(Cancelled):  # a first try, cancelled after its first chunk
            download(src, "Films/Huge.Movie.2020.mkv", dest, should_stop=lambda: True)
        with local_part(dest).open("r+b") as fh:
            fh.truncate(OFFSET)  # as if it had reached 40 MiB (the file is zeros)
        transfers.opened.clear()
        sent_before = len(transfers.sent)
        cancel = threading.Event()
        threading.Thread(target=lambda: (transfers.opened.wait(60), cancel.set()), daemon=True).start()
        with pytest.raises(Cancelled):
            download(src, "Films/Huge.Movie.2020.mkv", dest, should_stop=cancel.is_set)
        skipped = transfers.sent[sent_before:]
        assert skipped and max(skipped) < OFFSET // 2, skipped  # cut short, not run to the offset
        assert src.pool.stats == {"live": 1, "idle": 1, "in_use": 0, "size": 1, "waiting": 0}
        assert b"".join(src.read_range("Films/Huge.Movie.2020.mkv", 0, 5)) == b"\0" * 5  # in sync
    finally:
        src.close()
