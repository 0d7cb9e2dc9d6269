"""Fixtures of the job tests: a real Redis on a free port, a slow FTP server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs.support import DATA, SlowDTP

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER, daemon, free_port, stop_without_leaks


@pytest.fixture
def redis_url() -> Iterator[str]:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    with daemon([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], port):
        yield f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def slow_ftp(ftp_root: Path) -> Iterator[EmbeddedFtpServer]:
    """A pyftpdlib server sending at 256 KiB/s, serving ``f.bin`` (support.DATA)."""
    (ftp_root / "f.bin").write_bytes(DATA)
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD,
                               handler_overrides={"dtp_handler": SlowDTP, "use_sendfile": False}).start()
    yield server
    stop_without_leaks(server, wait=10)
