"""A per-source pool of FTP control connections.

At most ``size`` connections exist at once; a caller that finds none free waits (up to
``wait_timeout`` seconds) instead of failing. Idle connections older than
``check_after`` seconds are checked with NOOP before reuse; dead ones are replaced.
A connection left out of sync (an aborted transfer whose reply did not come) is
dropped, never handed out again. A server that answers 421 ("too many connections")
lowers the limit to the connections that exist instead of failing the caller.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from reelhouse.errors import ReelhouseError, SourceBusy, SourceUnavailable
from reelhouse.sources.ftp.client import FtpClient, FtpConfig

__all__ = ["FtpPool"]

log = logging.getLogger(__name__)


class FtpPool:
    """Thread-safe pool of :class:`FtpClient` for one server.

    ``size``: max live connections (default from the config, 5). ``check_after``:
    idle seconds after which a connection is NOOP-checked before reuse (15 s: shorter
    than the 60-300 s idle timeouts of vsftpd/pure-ftpd/proftpd defaults).
    """

    def __init__(
        self,
        config: FtpConfig,
        size: int | None = None,
        wait_timeout: float = 60.0,
        check_after: float = 15.0,
    ) -> None:
        self.config = config
        self.size = size or config.pool_size
        self.wait_timeout = wait_timeout
        self.check_after = check_after
        self._idle: deque[FtpClient] = deque()
        self._live = 0
        self._cond = threading.Condition()
        self._closed = False

    @property
    def stats(self) -> dict[str, int]:
        """``{"live": n, "idle": n, "in_use": n, "size": n}`` for health and tests."""
        with self._cond:
            return {
                "live": self._live,
                "idle": len(self._idle),
                "in_use": self._live - len(self._idle),
                "size": self.size,
            }

    def acquire(self) -> tuple[FtpClient, bool]:
        """A logged-in connection and whether it was reused (``False`` = brand new).

        Waits for a free slot; raises :class:`SourceBusy` after ``wait_timeout``
        seconds, or the connect error (``SourceUnavailable``, ``AuthenticationFailed``).
        """
        deadline = time.monotonic() + self.wait_timeout
        while True:
            client: FtpClient | None
            with self._cond:
                while True:
                    if self._closed:
                        raise SourceUnavailable("the FTP source was closed")
                    if self._idle:
                        client = self._idle.pop()  # most recently used: warmest
                        break
                    if self._live < self.size:
                        self._live += 1
                        client = None
                        break
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise SourceBusy(
                            f"all {self.size} FTP connections stayed busy for "
                            f"{self.wait_timeout:.0f} s"
                        )
                    self._cond.wait(left)
            if client is None:
                fresh = FtpClient(self.config)
                try:
                    fresh.connect()
                except SourceBusy:
                    self._forget()
                    if not self._shrink():
                        raise
                    continue  # wait for one of the connections we have
                except BaseException:
                    self._forget()
                    raise
                return fresh, False
            if time.monotonic() - client.last_used > self.check_after:
                try:
                    client.noop()
                except ReelhouseError:
                    client.close()
                    self._forget()
                    continue
            if not client.alive:
                self._forget()
                continue
            return client, True

    def _shrink(self) -> bool:
        """The server refused one more connection (421 "too many connections"): lower
        the limit to the connections that exist, so callers wait for those instead of
        failing. False when there are none to wait for."""
        with self._cond:
            if self._live <= 0:
                return False
            if self._live < self.size:
                log.warning("FTP server %s allows %d connections; pool limit lowered from %d",
                            self.config.host, self._live, self.size)
                self.size = self._live
            return True

    def release(self, client: FtpClient, reusable: bool = True) -> None:
        """Give a connection back; a broken or out-of-sync one is closed instead."""
        if reusable and client.alive and not client.in_transfer and not self._closed:
            with self._cond:
                self._idle.append(client)
                self._cond.notify()
            return
        client.close()
        self._forget()

    def _forget(self) -> None:
        with self._cond:
            self._live -= 1
            self._cond.notify()

    def drop_idle(self) -> int:
        """Close every idle connection (after one turned out dead: a server restart kills
        them all, so the next caller should connect afresh); returns how many."""
        with self._cond:
            idle = list(self._idle)
            self._idle.clear()
            self._live -= len(idle)
            self._cond.notify_all()
        for client in idle:
            client.close()
        return len(idle)

    def keepalive(self, idle_after: float) -> int:
        """NOOP every idle connection unused for ``idle_after`` seconds, so a server's
        idle timeout does not close it (RFC 959 §4.1.3 NOOP); dead ones are dropped.
        Returns how many were checked."""
        now = time.monotonic()
        with self._cond:
            due = [c for c in self._idle if now - c.last_used >= idle_after]
            for client in due:
                self._idle.remove(client)
        kept = []
        for client in due:
            try:
                client.noop()
                kept.append(client)
            except ReelhouseError:
                client.close()
                self._forget()
        with self._cond:
            closed = self._closed
            if not closed:
                self._idle.extendleft(kept)
                self._cond.notify_all()
        if closed:
            for client in kept:
                client.quit()
                self._forget()
        return len(due)

    @contextmanager
    def connection(self) -> Iterator[FtpClient]:
        """``with pool.connection() as client:`` — released (or dropped if broken) after."""
        client, _ = self.acquire()
        try:
            yield client
        except BaseException:
            self.release(client, reusable=client.alive and not client.in_transfer)
            raise
        self.release(client)

    def close(self) -> None:
        """Close idle connections now; connections in use are closed when released."""
        with self._cond:
            self._closed = True
            idle = list(self._idle)
            self._idle.clear()
            self._live -= len(idle)
            self._cond.notify_all()
        for client in idle:
            client.quit()
