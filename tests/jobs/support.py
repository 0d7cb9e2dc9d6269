"""Helpers of the job tests: a slow FTP server's data, ``reelhouse worker`` processes,
waiting for a condition."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from pyftpdlib.handlers import ThrottledDTPHandler

from reelhouse.sources.base import Entry
from reelhouse.sources.memory import MemorySource

DATA = os.urandom(1024 * 1024 + 3)


class SlowDTP(ThrottledDTPHandler):  # type: ignore[misc]
    write_limit = 256 * 1024  # bytes/s sent: a download of DATA takes ~4 s


def worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A ``reelhouse worker`` process with ``env``."""
    return subprocess.Popen([sys.executable, "-m", "reelhouse.cli", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_workers(*procs: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM each worker of ``procs`` still running (None: never started) and wait up
    to 20 s for it to stop."""
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)


def until(pred: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait until ``pred()`` (checked every 50 ms), failing with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


class GatedSource(MemorySource):
    """Listings wait for ``gate`` (at most ``timeout`` s, else the listing fails);
    ``entered`` says a scan is in the middle of one."""

    def __init__(self, files: dict[str, bytes], timeout: float = 60) -> None:
        super().__init__(files)
        self.timeout = timeout
        self.gate = threading.Event()
        self.entered = threading.Event()

    def list(self, path: str) -> list[Entry]:
        self.entered.set()
        assert self.gate.wait(self.timeout)
        return super().list(path)
