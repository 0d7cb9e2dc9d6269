"""A reader killed during a long skip (a server without REST: the mount reads from
byte 0 and throws the bytes before the offset away) stops the skip, on a real mount of
a real pyftpdlib server that refuses REST and sends at most 2 MiB/s. Before, the skip
ran on to its offset for nobody (FUSE sends no interrupt for the page cache's reads),
holding a connection and the server's bandwidth; only unmounting stopped it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from drive.support import Mounter
from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.drive.waiting import reader_gone

from helpers import FTP_PASSWORD, FTP_USER, free_port, stop_without_leaks

MiB = 1024 * 1024
SIZE = 64 * MiB  # sparse
OFFSET = 40 * MiB  # 20 s at 2 MiB/s: a skip that runs to it is unmistakable


def _until(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_reader_gone_knows_a_live_a_zombie_and_a_reaped_process() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        gone = reader_gone(proc.pid)
        assert gone is not None and not gone()
        proc.send_signal(signal.SIGKILL)
        _until(gone)  # a zombie until reaped
        proc.wait(30)
        assert gone()
    finally:
        proc.kill()
        proc.wait(30)
    assert reader_gone(0) is None  # a reader the mount's PID namespace does not see
    assert reader_gone(os.getpid()) is not None and not reader_gone(os.getpid())()  # type: ignore[misc]


class _Transfers:
    """The server's data connections: those open, and the bytes each closed one sent."""

    def __init__(self) -> None:
        self.live: list[Any] = []
        self.sent: list[int] = []
        self.lock = threading.Lock()

    def sending(self, at_least: int) -> bool:
        with self.lock:
            return any(h.tot_bytes_sent >= at_least for h in self.live)


@pytest.mark.requires_fuse
def test_a_reader_killed_during_a_skip_stops_it(tmp_path: Path, mount: Mounter) -> None:
    root = tmp_path / "norest"
    root.mkdir()
    with (root / "Huge.Movie.2020.mkv").open("wb") as fh:
        fh.truncate(SIZE)
    transfers = _Transfers()

    class Counting(ThrottledDTPHandler):  # type: ignore[misc]
        write_limit = 2 * MiB  # bytes/s sent to the client

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            with transfers.lock:
                transfers.live.append(self)

        def close(self) -> None:
            with transfers.lock:
                if self in transfers.live:
                    transfers.live.remove(self)
                    transfers.sent.append(self.tot_bytes_sent)
            super().close()

    server = EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD, port=free_port(), handler_overrides={
        "dtp_handler": Counting, "use_sendfile": False,
        "proto_cmds": {k: v for k, v in FTPHandler.proto_cmds.items() if k != "REST"},
    }).start()
    try:
        m = mount("--host", "127.0.0.1", "--port", str(server.port), "--user", FTP_USER,
                  "--password", FTP_PASSWORD)
        film = m.path / "Huge.Movie.2020.mkv"
        assert film.stat().st_size == SIZE
        sent_before = len(transfers.sent)
        reader = subprocess.Popen([sys.executable, "-c", "import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
                                   f"os.pread(fd, 4096, {OFFSET})", str(film)])
        try:
            _until(lambda: transfers.sending(MiB))  # the skip is under way
            reader.kill()  # the player is killed
            reader.wait(60)
        finally:
            if reader.poll() is None:
                reader.kill()
                reader.wait(60)
        _until(lambda: len(transfers.sent) > sent_before and not transfers.live)
        skipped = transfers.sent[sent_before:]
        assert max(skipped) < OFFSET // 2, skipped  # cut short, not run to the offset
        with film.open("rb") as f:  # the mount reads on
            assert f.read(4096) == b"\0" * 4096
        m.stop()
    finally:
        stop_without_leaks(server)
