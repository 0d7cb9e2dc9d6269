"""Fixtures of the job tests: a slow FTP server (a real Redis: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs.support import DATA, SlowDTP

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER, stop_without_leaks


@pytest.fixture
def slow_ftp(ftp_root: Path) -> Iterator[EmbeddedFtpServer]:
    """A pyftpdlib server sending at 256 KiB/s, serving ``f.bin`` (support.DATA)."""
    (ftp_root / "f.bin").write_bytes(DATA)
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD,
                               handler_overrides={"dtp_handler": SlowDTP, "use_sendfile": False}).start()
    yield server
    stop_without_leaks(server, wait=10)
