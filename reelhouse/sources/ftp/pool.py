"""A per-source pool of FTP control connections, shared fairly between users.

At most ``size`` connections exist at once; a caller that finds none free waits (up to
``wait_timeout`` seconds) instead of failing. Idle connections older than
``check_after`` seconds are checked with NOOP before reuse; dead ones are replaced.
A connection left out of sync (an aborted transfer whose reply did not come) is
dropped, never handed out again. A server that answers 421 ("too many connections")
lowers the limit to the connections that exist instead of failing the caller; with
none of ours open, the pool tries again with backoff, one login at a time
(:mod:`.refusals`).

Who gets the next connection, fairly between users: :mod:`.granting`.

Several processes (``shared``, :mod:`.slots`: Redis with ``redis_url``): a new
connection first takes one of the ``size`` slots of its server+user counted over the
cluster, and gives it back once closed. When the cluster has none free, callers wait
for one of the pool's own connections or for its next try (until ``wait_timeout``).
With a store that keeps users' fair shares (:class:`.slots.FairSlots`), every
connection handed to a user, new or idle, is granted by the store first, so a user's
cap and the order of the waiting users hold over every process (:mod:`.granting`).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager

from reelhouse.errors import ReelhouseError, SourceBusy, SourceUnavailable
from reelhouse.sources.ftp.client import FtpClient
from reelhouse.sources.ftp.config import FtpConfig
from reelhouse.sources.ftp.granting import CLOSED, Ask, Grant, Granting, pool_user
from reelhouse.sources.ftp.refusals import HEALTH_RETRY_FOR
from reelhouse.sources.ftp.slots import UNSHARED, ServerSlots, SharedSlots

__all__ = ["FtpPool", "pool_user"]

class FtpPool(Granting):
    """Thread-safe pool of :class:`FtpClient` for one server.

    ``size``: max live connections (default from the config, 5). ``check_after``:
    idle seconds after which a connection is NOOP-checked before reuse (15 s: shorter
    than the 60-300 s idle timeouts of vsftpd/pure-ftpd/proftpd defaults).
    ``user_limit``: most connections one named user holds (default from the config,
    else ``size - 1``, at least 1); ``user_waiters``: most callers of one user waiting
    at once (default from the config, 8; with ``shared`` that counts them, over the
    cluster for the server+login: :mod:`.granting`).
    ``shared``: the slots counted over every process (:mod:`.slots`), at most ``size``
    connections to this server+user in the cluster; ``idle_close``: seconds after
    which idle connections beyond one are closed then (others may need the slots).
    """

    def __init__(
        self,
        config: FtpConfig,
        size: int | None = None,
        wait_timeout: float = 60.0,
        check_after: float = 15.0,
        user_limit: int | None = None,
        user_waiters: int | None = None,
        shared: SharedSlots | None = None,
        idle_close: float = 5.0,
    ) -> None:
        super().__init__(config, size, wait_timeout, user_limit, user_waiters)
        self.check_after = check_after
        #: every connection made, for :meth:`interrupt` (gone ones drop out by themselves)
        self._clients: weakref.WeakSet[FtpClient] = weakref.WeakSet()
        self._slots = None if shared is None else ServerSlots(
            shared, config, self.size, idle_close=idle_close, close_idle=self.close_idle,
            has_idle=lambda: bool(self._idle) and not self._closed,  # a hint: no lock
            wake=self._redispatch)

    def _ask(self) -> Ask:
        return Ask(pool_user.get(), next(self._seq), time.monotonic())

    def _share(self, ask: Ask, wait: bool, new: bool) -> tuple[str, str] | None:
        """The store's grant for ``ask`` (with ``new``, and a slot): ``(slot, grant)``,
        or None (refused: the caller waits; the pool holds off as the answer says)."""
        assert self._slots is not None
        if wait and not ask.waiter:
            ask.waiter = self._slots.waiter()
        slot, grant, why = self._slots.share(
            ask.user, self._cap(ask.user), new=new, want=wait, waiter=ask.waiter if wait else "",
            waited=time.monotonic() - ask.started, others=self._others(ask))
        if not why:
            ask.served = grant != UNSHARED  # the store forgot its waiter
            return slot, grant
        if ask.finished:  # the caller is gone (cancelled meanwhile): not waiting any more
            self._slots.unwait(ask.waiter)
        elif why == "full":
            self._slots.hold()
        elif wait:  # a health check's refusal holds nobody off
            self._slots.hold_user(ask.user)
            if why == "waits-elsewhere":
                self._slots.yield_idle()
        return None

    def _done(self, ask: Ask) -> None:
        """The caller has stopped waiting: its registration, if any, ends (also one
        made after this, by a grant of it still being readied: :attr:`Ask.finished`)."""
        ask.finished = True
        if ask.waiter and not ask.served and self._slots is not None:
            self._slots.unwait(ask.waiter)
        if ask.queued is not None and self._slots is not None:  # it waits no more: off its user's queue
            self._slots.dequeued(ask, ask.queued)

    def _ready(self, grant: Grant, ask: Ask, wait: bool = True) -> tuple[FtpClient, bool] | None:
        """Turn a grant into a usable connection (connect, or NOOP-check an old one);
        None when the caller must wait again (a dead idle connection, a 421, the
        cluster's fair shares say another user comes first)."""
        if grant == CLOSED:
            raise SourceUnavailable("the FTP source was closed" if self._closed
                                    else "the FTP source is stopping: its commands were cut")
        if not isinstance(grant, FtpClient):
            return self._connect(ask, wait)
        client = grant
        if self._slots is not None and self._slots.fair:
            shared = self._share(ask, wait, new=False)
            if shared is None:
                self.release(client)  # idle again: for another caller here, or closed for another process
                return None
            self._slots.granted(client, shared[1], ask.user)
        if time.monotonic() - client.last_used > self.check_after:
            try:
                client.noop()
            except ReelhouseError:
                client.close()
        if not client.alive:
            self._drop(client)
            return None
        return client, True

    def _connect(self, ask: Ask, wait: bool) -> tuple[FtpClient, bool] | None:
        """A brand-new connection for a ``NEW`` grant; None when the caller must wait
        (the cluster has no slot free, or another user comes first, or a 421 with
        connections of ours to wait for). ``wait=False`` (a health check): a refusal
        asks no other process for a slot and registers no waiter."""
        user = ask.user
        token = grant = UNSHARED
        if self._slots is not None and self._slots.fair:
            shared = self._share(ask, wait, new=True)
            if shared is None:
                self._forget(user, ask.seq)
                return None
            token, grant = shared
        elif self._slots is not None:
            got = self._slots.take(want=wait)
            if got is None:
                self._slots.hold()
                self._forget(user, ask.seq)
                return None
            token = got
        fresh = FtpClient(self.config)
        self._clients.add(fresh)  # before it connects: interrupt() cuts a login too
        with self._lock:
            self._connecting += 1
        try:
            try:
                fresh.connect()
            finally:
                with self._lock:
                    self._connecting -= 1
        except SourceBusy as exc:  # connect() closed the socket
            if self._slots is not None:
                self._slots.give_back(grant)
            if self._slots is not None and self._slots.refused(token):
                self._forget(user, ask.seq)
                return None
            if self._shrink(user, str(exc.__cause__ or exc), ask.seq):
                return None  # wait for one of the connections we have
            if time.monotonic() < self._deadline(ask, ask.started + self.wait_timeout):
                return None  # none of ours: the server's limit is someone else's; try again soon
            raise self._refusals.error(self.config.host) from exc
        except BaseException:
            if self._slots is not None:
                self._slots.give_back(token)
                self._slots.give_back(grant)
            self._forget(user, ask.seq)
            raise
        with self._lock:
            self._owner[id(fresh)] = user
            refused = self._refusals.active
            self._refusals.accepted()
            wakes = self._dispatch() if refused else []  # the server takes logins again: the others may connect
        self._call(wakes)
        if self._slots is not None:
            self._slots.attach(fresh, token)
            self._slots.granted(fresh, grant, user)
        return fresh, False

    def _gone(self, clients: list[FtpClient]) -> None:
        """Give back the cluster slots of connections closed (and no longer counted)."""
        if self._slots is not None:
            self._slots.gone(clients)

    def acquire(self) -> tuple[FtpClient, bool]:
        """A logged-in connection for :data:`pool_user` and whether it was reused
        (``False`` = brand new). Blocks this thread while it waits.

        Raises :class:`SourceBusy` after ``wait_timeout`` seconds (or at once past the
        user's waiters), or the connect error (``SourceUnavailable``,
        ``AuthenticationFailed``).
        """
        ask = self._ask()  # its place in the queue, kept over retries
        deadline = ask.started + self.wait_timeout
        try:
            while True:
                ready = self._ready(self._grant_sync(ask, deadline), ask)
                if ready is not None:
                    return ready
        finally:
            self._done(ask)

    async def aacquire(self, io: Executor | None = None) -> tuple[FtpClient, bool]:
        """:meth:`acquire` for the event loop: waiting holds no thread; connecting (or
        the NOOP check) runs in the executor ``io``."""
        ask = self._ask()
        deadline = ask.started + self.wait_timeout
        loop = asyncio.get_running_loop()
        try:
            while True:
                grant = await self._grant_async(ask, deadline, io)
                job = loop.run_in_executor(io, self._ready, grant, ask)
                try:
                    ready = await asyncio.shield(job)
                except asyncio.CancelledError:
                    job.add_done_callback(self._release_abandoned)
                    raise
                if ready is not None:
                    return ready
        finally:
            self._done(ask)

    def try_acquire(self) -> tuple[FtpClient, bool] | None:
        """A connection now, never waiting behind other callers (for health checks);
        None when none is free. While the server refuses the pool's logins with none of
        ours open (:mod:`.refusals`) it waits for the pool's next try, up to
        :data:`~.refusals.HEALTH_RETRY_FOR` seconds, then raises SourceBusy quoting the
        server."""
        ask = self._ask()
        ask.refusal_wait = HEALTH_RETRY_FOR
        while True:
            with self._lock:
                if self._closed:
                    raise SourceUnavailable("the FTP source was closed")
                grant = self._take(ask.user, ask.seq)
            ready = self._ready(grant, ask, wait=False) if grant is not None else None
            if ready is not None or not self._refusals.active:
                return ready
            now = time.monotonic()
            if now >= self._deadline(ask, now + 1):
                raise self._refusals.error(self.config.host)
            time.sleep(min(self._deadline(ask, now + 1) - now, self._slice(now + 1)))

    def _release_abandoned(self, job: asyncio.Future[tuple[FtpClient, bool] | None]) -> None:
        if not job.cancelled() and job.exception() is None:
            ready = job.result()
            if ready is not None:
                self.release(ready[0])

    def release(self, client: FtpClient, reusable: bool = True) -> None:
        """Give a connection back; a broken or out-of-sync one is closed instead."""
        if reusable and client.alive and not client.in_transfer and not self._closed:
            if self._slots is not None:
                self._slots.ungrant(client)  # before another caller here is granted it
            with self._lock:
                self._held[self._owner.pop(id(client), None)] -= 1
                self._idle.append(client)
                wakes = self._dispatch()
                idle = bool(self._idle)
            self._call(wakes)
            if idle and self._slots is not None:
                self._slots.idled()  # another process may be waiting for it
            return
        client.close()
        self._drop(client)

    def _drop(self, client: FtpClient) -> None:
        """Stop counting a closed connection that was handed out."""
        with self._lock:
            user = self._owner.pop(id(client), None)
        self._forget(user)
        self._gone([client])

    def drop_idle(self) -> int:
        """Close every idle connection (after one turned out dead: a server restart kills
        them all, so the next caller should connect afresh); returns how many."""
        with self._lock:
            idle = list(self._idle)
            self._idle.clear()
            self._live -= len(idle)
            wakes = self._dispatch()
        self._call(wakes)
        for client in idle:
            client.close()
        self._gone(idle)
        return len(idle)

    def close_idle(self, older_than: float, keep: int = 0) -> int:
        """Close (QUIT) idle connections unused for ``older_than`` seconds, but the
        ``keep`` warmest; returns how many. With ``shared``, their slots go back."""
        now = time.monotonic()
        with self._lock:
            oldest_first = list(self._idle)[:max(0, len(self._idle) - keep)]
            gone = [c for c in oldest_first if now - c.last_used >= older_than]
            for client in gone:
                self._idle.remove(client)
            self._live -= len(gone)
            wakes = self._dispatch()
        self._call(wakes)
        for client in gone:
            client.quit()
        self._gone(gone)
        return len(gone)

    def keepalive(self, idle_after: float) -> int:
        """NOOP every idle connection unused for ``idle_after`` seconds, so a server's
        idle timeout does not close it (RFC 959 §4.1.3 NOOP); dead ones are dropped.
        Returns how many were checked."""
        now = time.monotonic()
        with self._lock:
            due = [c for c in self._idle if now - c.last_used >= idle_after]
            for client in due:
                self._idle.remove(client)
        kept: list[FtpClient]
        kept, dead = [], []
        for client in due:
            try:
                client.noop()
                kept.append(client)
            except ReelhouseError:
                client.close()
                dead.append(client)
        self._gone(dead)
        with self._lock:
            closed = self._closed
            self._live -= len(dead) + (len(kept) if closed else 0)
            if not closed:
                self._idle.extendleft(kept)
            wakes = self._dispatch()
        self._call(wakes)
        if closed:
            for client in kept:
                client.quit()
            self._gone(kept)
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

    def interrupt(self) -> None:
        """Cut every command and transfer under way (:meth:`FtpClient.cut
        <reelhouse.sources.ftp.connection.FtpConnection.cut>`: their callers get
        SourceUnavailable at once instead of waiting for a server that stopped
        answering, up to ``read_timeout`` per try) and refuse new callers, also those
        waiting now, with SourceUnavailable until :meth:`resume`. For a user of the pool
        that is stopping (a drive being unmounted)."""
        with self._lock:
            self._interrupted = True
            waiters, self._waiters = self._waiters, []
            for w in waiters:
                w.grant = CLOSED
            clients = list(self._clients)
        self._call([w.wake for w in waiters])
        for client in clients:
            client.cut()

    def resume(self) -> None:
        """Take callers again after :meth:`interrupt` (the connections it cut were
        dropped by their users; idle ones it cut are found dead and replaced)."""
        with self._lock:
            self._interrupted = False

    @property
    def interrupted(self) -> bool:
        """Between :meth:`interrupt` and :meth:`resume`, or closed: no command runs."""
        return self._interrupted or self._closed

    def close(self) -> None:
        """Close idle connections now; connections in use are closed when released.
        Waiters are woken and raise SourceUnavailable."""
        with self._lock:
            self._closed = True
            idle = list(self._idle)
            self._idle.clear()
            self._live -= len(idle)
            waiters, self._waiters = self._waiters, []
            for w in waiters:
                w.grant = CLOSED
        self._call([w.wake for w in waiters])
        for client in idle:
            client.quit()
        self._gone(idle)
        if self._slots is not None:
            self._slots.close()  # connections still in use give theirs back when released
