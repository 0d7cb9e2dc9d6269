"""Pools standing for separate processes on one Redis, against a real pyftpdlib server
that allows a fixed number of connections from the test's address (shared by
tests/sources/ftp/test_pool_cluster.py, test_pool_cluster_fair.py and
test_pool_cluster_waiters.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from reelhouse.leased_slots import LeasedSlots
from reelhouse.sources.ftp.client import FtpClient, FtpConfig
from reelhouse.sources.ftp.pool import FtpPool, pool_user

from helpers import FTP_PASSWORD, FTP_USER, CappedFtpServer

CAP = 3  # connections the server allows this address; the pools' size


class Capped(CappedFtpServer):
    """A CappedFtpServer whose ``config`` logs in as the test user with 5 s timeouts."""

    def config(self, **kw: Any) -> FtpConfig:
        return FtpConfig("127.0.0.1", self.port, FTP_USER, FTP_PASSWORD, connect_timeout=5,
                         read_timeout=5, **kw)


class Node:
    """One "process": its own LeasedSlots (own renewals, own news) and its own pool of
    CAP connections."""

    def __init__(self, redis_url: str, config: FtpConfig, ttl: float = 5.0, **pool: Any) -> None:
        self.slots = LeasedSlots(redis_url, ttl)
        self.pool = FtpPool(config, size=CAP, shared=self.slots, **pool)

    def close(self) -> None:
        self.pool.close()
        assert self.pool._slots is not None
        self.pool._slots.join(5)
        self.slots.close()


def until(cond: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Wait for a state (not a duration): fails only if it never comes."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def acquire_as(pool: FtpPool, user: str | None) -> FtpClient:
    """A connection of ``pool`` taken on behalf of ``user`` (the pool's fair shares)."""
    token = pool_user.set(user)
    try:
        return pool.acquire()[0]
    finally:
        pool_user.reset(token)


class Callers:
    """Callers that wait for a connection in threads (sync, or ``on_loop`` through
    ``aacquire`` on an event loop): ``got`` what each was served, in the order served;
    ``errors`` what each refused raised."""

    def __init__(self) -> None:
        self.got: list[tuple[str | None, FtpPool, FtpClient]] = []
        self.errors: list[tuple[str | None, BaseException]] = []
        self.threads: list[threading.Thread] = []

    def wait(self, pool: FtpPool, user: str | None, on_loop: bool = False) -> None:
        """Start a caller that asks ``pool`` for a connection on behalf of ``user``."""
        def run() -> None:
            try:
                if on_loop:
                    async def main() -> FtpClient:
                        pool_user.set(user)
                        return (await pool.aacquire())[0]
                    client = asyncio.run(main())
                else:
                    client = acquire_as(pool, user)
                self.got.append((user, pool, client))
            except BaseException as exc:
                self.errors.append((user, exc))

        self.threads.append(threading.Thread(target=run, name=f"waiter-{user}"))
        self.threads[-1].start()
