"""The progress writes of one running job: at most one every ``every`` seconds, and the
last one always lands.

A body may call ``progress`` hundreds of times a second (a scan, per file); the job's
row is written at most every ``every`` seconds. A call that comes too soon is kept and
written by a timer when its turn comes, so a body that reports and then blocks (a scan
whose phase 1 just ended, now waiting for its probe jobs) still shows its last word
within ``every`` seconds — not minutes later, when it speaks again. Writes never go
back in time: an older report that lost a race is dropped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["ThrottledProgress"]

#: ``write(counts, message)``: write the job's progress; false once the job is no
#: longer this process's (the body is then stopped).
Write = Callable[[dict[str, int], str], bool]


class ThrottledProgress:
    """``__call__(counts, message)`` as a job body sees it; ``close()`` when it ended."""

    def __init__(self, write: Write, every: float, on_lost: Callable[[], None]) -> None:
        """``every``: seconds between two writes; ``on_lost()``: a write found the job
        taken (see :data:`Write`)."""
        self._write = write
        self._every = every
        self._on_lost = on_lost
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._last = 0.0  # monotonic time of the last write started
        self._seq = 0  # reports seen
        self._written = 0  # seq of the last report written
        self._pending: tuple[int, dict[str, int], str] | None = None
        self._timer: threading.Timer | None = None
        self._closed = False

    def __call__(self, counts: dict[str, int], message: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._seq += 1
            report = (self._seq, dict(counts), message)
            if message == "done" or now - self._last >= self._every:
                self._last, self._pending = now, None
            else:
                self._pending = report
                if self._timer is None and not self._closed:
                    self._timer = threading.Timer(self._every - (now - self._last), self._flush)
                    self._timer.daemon = True
                    self._timer.start()
                return
        self._send(report)

    def _flush(self) -> None:
        with self._lock:
            self._timer = None
            report, self._pending = self._pending, None
            if report is None or self._closed:
                return
            self._last = time.monotonic()
        self._send(report)

    def _send(self, report: tuple[int, dict[str, int], str]) -> None:
        seq, counts, message = report
        with self._write_lock:
            if seq < self._written:
                return  # a newer report was written meanwhile
            self._written = seq
            if not self._write(counts, message[:2000]):
                self._on_lost()

    def close(self) -> None:
        """No more writes (the job ended; its final progress is written with its end)."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
