"""The base of :class:`~.source.FtpSource`: commands on pooled connections, with one
retry on a fresh connection when a reused one turns out dead, and the source's own
bounded executor for the blocking steps of async reads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from reelhouse.errors import SourceUnavailable
from reelhouse.sources.ftp.client import FtpClient
from reelhouse.sources.ftp.config import FtpConfig
from reelhouse.sources.ftp.pool import FtpPool
from reelhouse.sources.ftp.slots import SharedSlots

__all__ = ["PooledSource"]

T = TypeVar("T")


class PooledSource:
    """An FTP server's pool and executor (see :class:`~.source.FtpSource`).

    The async reads (streams) run their blocking steps (connect, REST/RETR, a TLS
    read, the end of a transfer) in this source's own bounded executor, never in
    asyncio's default one: a busy or hung FTP server stalls its own streams, not the
    local disk's, not health checks or logins. Waiting for a pooled connection holds
    no thread at all (:meth:`FtpPool.aacquire`); so at most one thread per pooled
    connection is busy, and the executor has ``pool size + 2`` threads.

    ``shared``: connections counted over every process (:mod:`.slots`; the pool's
    ``shared``), for a pool made here.
    """

    def __init__(self, config: FtpConfig, pool: FtpPool | None = None,
                 shared: SharedSlots | None = None) -> None:
        self.config = config
        self.pool = pool or FtpPool(config, shared=shared)
        self._io = ThreadPoolExecutor(max_workers=self.pool.size + 2,
                                      thread_name_prefix=f"ftp-io-{config.host}")
        #: the server refused ``REST`` once (reads.py): later reads skip, never ask again
        self.rest_refused = False
        #: how names travel (UTF-8, or latin-1 on a server without UTF8), once connected
        self.encoding = "utf-8"

    def _attempt(self, fn: Callable[[FtpClient], T]) -> tuple[FtpClient, T]:
        """Run ``fn`` on a pooled connection and return it with the result (the caller
        releases it); retry once on a fresh connection if a reused one turns out dead
        (servers close idle control connections; a restart kills every idle one, so
        they are all dropped then)."""
        for attempt in (1, 2):
            client, reused = self.pool.acquire()
            if client.ftp is not None:
                self.encoding = client.ftp.encoding
            try:
                return client, fn(client)
            except BaseException as exc:
                if self._failed(client, reused, attempt, exc):
                    continue
                raise
        raise AssertionError("unreachable")

    def _failed(self, client: FtpClient, reused: bool, attempt: int, exc: BaseException) -> bool:
        """Release ``client`` after a command on it raised ``exc``; True when the caller
        should try once more on a fresh connection: the connection was reused from the
        pool and turned out dead (SourceUnavailable) on the first attempt, so every idle
        one is dropped too. Any other error keeps the connection if it is still in sync."""
        if isinstance(exc, SourceUnavailable):
            self.pool.release(client, reusable=False)
            if reused and attempt == 1:
                self.pool.drop_idle()
                return True
            return False
        self.pool.release(client, reusable=client.alive and not client.in_transfer)
        return False

    def _run(self, fn: Callable[[FtpClient], T]) -> T:
        client, result = self._attempt(fn)
        self.pool.release(client)
        return result

    def _in_io(self, fn: Callable[..., T], *args: object) -> asyncio.Future[T]:
        """``fn(*args)`` in this source's executor (a fresh thread once it is closed:
        a stream of a source replaced mid-play still ends its transfer)."""
        loop = asyncio.get_running_loop()
        try:
            return loop.run_in_executor(self._io, fn, *args)
        except RuntimeError:  # executor shut down by close()
            return loop.run_in_executor(None, fn, *args)

    def interrupt(self) -> None:
        """Cut every command and transfer under way and refuse new ones until
        :meth:`resume` (:meth:`FtpPool.interrupt`): their callers get SourceUnavailable
        at once. A drive calls it when it is unmounted, so no request waits for a
        server that stopped answering."""
        self.pool.interrupt()

    def resume(self) -> None:
        """Take commands again after :meth:`interrupt`."""
        self.pool.resume()

    def close(self) -> None:
        self.pool.close()
        self._io.shutdown(wait=False)

