"""The helper thread of a pool's shared count (:mod:`.slots`): the store's network round
trips that must not run on the caller's thread (which may be the event loop), and the
pool's tending every :data:`TEND` seconds.

Work is queued as callables (:meth:`SlotHelper.later`) and run in order; the thread
starts with the first piece of work, ticks (:meth:`SlotHelper.tend`) every
:data:`TEND` seconds while the pool is open, and ends once the pool is closed (or
:meth:`SlotHelper.join`) and nothing is queued.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from collections.abc import Callable
from typing import Final

__all__ = ["TEND", "SlotHelper"]

log = logging.getLogger(__name__)

#: Seconds between two ticks of the helper thread (``tend``).
TEND: Final = 0.5

_STOP: Final = object()
_TEND_NOW: Final = object()


class SlotHelper:
    """A base class: one helper thread per instance, started on demand. Subclasses
    override :meth:`tend` and :attr:`helper_name`, and set ``_closed`` when their pool
    closes. Thread-safe."""

    def __init__(self) -> None:
        self._work: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._closed = False

    @property
    def helper_name(self) -> str:
        """The helper thread's name."""
        return "ftp-slots"

    def tend(self) -> None:
        """Called from the helper thread every :data:`TEND` seconds while open."""

    def later(self, work: Callable[[], None]) -> None:
        """Run ``work`` on the helper thread (in order; never blocks the caller). An
        exception it raises is logged, and the thread goes on."""
        self._work.put(work)
        self._start()

    def tend_now(self) -> None:
        """Tick at once instead of at the next :data:`TEND`."""
        self._work.put(_TEND_NOW)
        self._start()

    def _start(self) -> None:
        with self._thread_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.helper_name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        """Run what is queued; tick every :data:`TEND` seconds while open; end when
        closed (or :meth:`join`) and nothing is queued."""
        _quiet()
        stopping = False
        last_tend = time.monotonic()
        while True:
            try:
                # the next tick is TEND after the last one, whatever came in between
                item = self._work.get_nowait() if stopping else self._work.get(
                    timeout=max(0.0, TEND - (time.monotonic() - last_tend)))
            except queue.Empty:
                item = None
            if item is _STOP:
                stopping = True
            elif item is _TEND_NOW:
                last_tend = -TEND
            elif callable(item):
                try:
                    item()
                except Exception:  # a bug must not end the thread that gives slots back
                    log.exception("work of the FTP slots' helper failed")
            elif stopping or self._closed:
                with self._thread_lock:
                    if self._work.empty():
                        self._thread = None
                        return
            if not (stopping or self._closed) and time.monotonic() - last_tend >= TEND:
                last_tend = time.monotonic()
                try:
                    self.tend()
                except Exception:  # a bug must not end the thread that gives slots back
                    log.exception("tending the FTP pool failed (%s)", self.helper_name)

    def join(self, timeout: float) -> None:
        """Run what is queued, then end the helper thread (tests, shutdown); a later
        :meth:`later` starts it again."""
        with self._thread_lock:
            thread = self._thread
        if thread is not None and thread.is_alive():
            self._work.put(_STOP)
            thread.join(timeout)


def _quiet() -> None:
    """Leave the process's stop signals to the threads that wait for them (the main
    thread; libfuse's loop in a drive mount): this thread inherits its creator's mask."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM,
                                                  *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ())})
