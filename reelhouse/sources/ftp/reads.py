"""Range reads of an FTP file: ``REST offset`` + ``RETR`` (RFC 3659 §5), sync and async,
with mid-stream resume; on a server that refuses REST, ``RETR`` from byte 0 with the
bytes before the offset thrown away, bounded by ``FtpConfig.max_skip`` (client.py). A
read that stops before the end of the file closes the data connection and reads the
server's 426/226 so the control connection can be reused, or drops it when the reply
does not come."""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import ssl
import sys
import threading
import time
from collections.abc import AsyncGenerator, Iterator

from reelhouse.errors import InvalidInput, SourceUnavailable
from reelhouse.sources.base import normalize_path
from reelhouse.sources.ftp.client import FtpClient
from reelhouse.sources.ftp.pooled import PooledSource
from reelhouse.sources.skipping import allowed_skip, skip_stop

__all__ = ["MIN_RCVBUF", "RECV_SIZE", "RESUME_DELAYS", "SHORT_READ", "RangeReads"]

log = logging.getLogger(__name__)

#: Bytes asked of one recv on the data connection. Loopback and LAN deliver 64-512 KiB
#: per wake-up; 1 MiB lets a read take all of it (benchmarks/stream_throughput.py).
RECV_SIZE = 1024 * 1024

#: Waits (s) before each reconnect of a range read whose connection died mid-transfer:
#: ~9.5 s in all, enough to ride through a server restart or a dropped NAT mapping, and
#: never more than 1 s apart, so a stream goes on within ~1 s of the server being back
#: (benchmarks/faults.py; 0.1…3.0 s doubling left up to 3 s of idle after a restart).
RESUME_DELAYS = (0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
_PARTIAL, _EOF, _BROKEN = "partial", "eof", "broken"

#: Range reads up to this many bytes cap the data connection's receive buffer.
SHORT_READ = 1024 * 1024


#: The smallest receive buffer a short read asks for (bytes, before Linux doubles it).
MIN_RCVBUF = 16 * 1024


def _cap_receive_window(sock: socket.socket, length: int) -> None:
    """For a short range read (a probe's header block), keep the kernel from taking in
    much more than ``length`` bytes before the read is cut: the receive buffer (and so
    the TCP window the server may fill) is capped instead of growing to megabytes.
    Linux doubles the value given to SO_RCVBUF (socket(7): the kernel keeps room for its
    bookkeeping), so asking ``length`` would let ``2 × length`` in — a 64 KiB read cost
    128 KiB on the wire; half of ``length`` is asked. Long reads (streaming) keep the
    kernel's autotuning."""
    if length <= SHORT_READ:
        want = max(MIN_RCVBUF, length // 2 if sys.platform.startswith("linux") else length)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, want)
        except OSError:
            pass


def _recv_fill(sock: socket.socket, want: int) -> bytes:
    """Read up to ``want`` bytes, looping over short reads (TLS gives ≤16 KiB per recv);
    returns fewer only at EOF."""
    first = sock.recv(want)
    if len(first) == want or not first or not isinstance(sock, ssl.SSLSocket):
        return first
    parts = [first]
    got = len(first)
    while got < want:
        more = sock.recv(want - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


async def _recv_ready(
    loop: asyncio.AbstractEventLoop, data: socket.socket, want: int, timeout: float
) -> bytes:
    """Up to ``want`` bytes from a non-blocking socket: what the kernel has now, else
    after waiting (at most ``timeout`` seconds; then TimeoutError) until it is readable.

    No Task per chunk (``wait_for``) and no ``asyncio.timeout`` (task cancellation):
    a plain future woken by ``add_reader`` and a timer handle cost less per chunk.
    The caller yields to the loop before each read, so a stream whose source and
    client are both always ready cannot starve the loop (benchmarks/seek_latency.py).
    """
    fd = data.fileno()
    while True:
        try:
            return data.recv(want)
        except BlockingIOError:
            pass
        ready: asyncio.Future[bool] = loop.create_future()
        loop.add_reader(fd, _wake, ready, True)
        stall = loop.call_later(timeout, _wake, ready, False)
        try:
            if not await ready:
                raise TimeoutError(f"no data for {timeout} s")
        finally:
            loop.remove_reader(fd)
            stall.cancel()


def _wake(fut: asyncio.Future[bool], value: bool) -> None:
    if not fut.done():
        fut.set_result(value)


class _Resume:
    """The resume decisions of one range read, for :meth:`RangeReads.read_range` and
    :meth:`RangeReads.aread_range` alike: each transfer starts at byte ``pos``; after
    the n-th failure in a row (a broken transfer, an EOF without the server's 226 — no
    reply, or a 421/426 from a server that timed a stalled transfer out —, a reconnect
    refused) the next one waits ``RESUME_DELAYS[n - 1]`` seconds, until they
    are used up; a transfer that brought bytes starts the count again. The byte loops
    keep their position in a local and report it when the transfer ends: nothing here
    runs per chunk."""

    __slots__ = ("end", "failures", "path", "pos")

    def __init__(self, path: str, offset: int, length: int) -> None:
        self.path, self.pos, self.end, self.failures = path, offset, offset + length, 0

    def delay(self) -> float:
        """The wait (s) before the next transfer of a read that failed; raises
        SourceUnavailable when the reconnects are used up."""
        if self.failures > len(RESUME_DELAYS):
            raise SourceUnavailable(
                f"lost the FTP connection while reading {self.path!r} at byte {self.pos}; "
                f"{len(RESUME_DELAYS)} reconnects failed"
            )
        log.warning("FTP transfer of %r broke at byte %d; resuming (try %d)", self.path, self.pos, self.failures)
        return RESUME_DELAYS[self.failures - 1]

    def refused(self) -> bool:
        """A transfer would not start (SourceUnavailable): True to try again (a
        reconnect: one more failure), False on the read's first try (the caller raises)."""
        if not self.failures:
            return False
        self.failures += 1
        return True

    def ended(self, pos: int, outcome: str, clean: bool) -> bool:
        """A transfer stopped at byte ``pos``: ``outcome`` _PARTIAL (the range is read),
        _EOF or _BROKEN; ``clean``: the server's final reply was 2xx. True when the read is
        over (all read, or an EOF the server confirmed: the file ends before the range),
        else another transfer is due."""
        if pos > self.pos:
            self.failures = 0
        self.pos = pos
        if outcome == _PARTIAL or (outcome == _EOF and clean):
            return True
        self.failures += 1
        return False


class RangeReads(PooledSource):
    """Range reads over the pool (the reading half of :class:`~.source.FtpSource`)."""

    def _start(self, path: str, offset: int) -> tuple[FtpClient, socket.socket | None]:
        """A transfer of ``path`` from ``offset`` on a pooled connection: REST + RETR,
        or on a server known to refuse REST (:attr:`rest_refused`, learnt by the first
        refusal), RETR from byte 0 with the bytes before ``offset`` thrown away, up to
        ``config.max_skip`` and the context's :data:`~reelhouse.sources.skipping.skip_allowance`
        (else SeekRefused)."""
        if offset < 0:
            raise InvalidInput("offset must be >= 0")
        rel = normalize_path(path)
        limit, allowance = allowed_skip(self.config.max_skip)
        stop = skip_stop.get()
        client, data = self._attempt(
            lambda c: c.start_retr(rel, offset, not self.rest_refused, limit, allowance, stop))
        self.rest_refused = self.rest_refused or client.rest_refused
        if data is None:  # offset past the end: nothing to read, connection in sync
            self.pool.release(client)
        return client, data

    async def _astart(self, path: str, offset: int) -> tuple[FtpClient, socket.socket | None]:
        """:meth:`_start` for the event loop: the pool wait holds no thread, the
        REST/RETR handshake runs in this source's executor. A cancelled caller's
        connection still goes back to the pool once the handshake ends; a skip to the
        offset (a server without REST) stops at its next chunk then (:meth:`Retrieval.start_retr
        <reelhouse.sources.ftp.retrieval.Retrieval.start_retr>`'s ``stop``)."""
        rel = normalize_path(path)
        limit, allowance = allowed_skip(self.config.max_skip)  # the caller's context, not the executor's
        for attempt in (1, 2):
            client, reused = await self.pool.aacquire(self._io)
            gone = threading.Event()
            job = self._in_io(client.start_retr, rel, offset, not self.rest_refused, limit, allowance, gone.is_set)
            try:
                data = await asyncio.shield(job)
            except asyncio.CancelledError:
                gone.set()  # a skip under way stops at its next chunk
                job.add_done_callback(functools.partial(self._abandon, client))
                raise
            except BaseException as exc:
                if self._failed(client, reused, attempt, exc):
                    continue
                raise
            self.rest_refused = self.rest_refused or client.rest_refused
            if data is None:  # offset past the end: nothing to read, connection in sync
                self.pool.release(client)
            return client, data
        raise AssertionError("unreachable")

    def _abandon(self, client: FtpClient, job: asyncio.Future[socket.socket | None]) -> None:
        """A handshake whose caller went away: drop the transfer and its connection."""
        if not job.cancelled() and job.exception() is None and (data := job.result()) is not None:
            data.close()
            self.pool.release(client, reusable=False)
            return
        self.pool.release(client, reusable=client.alive and not client.in_transfer)

    def _finish(self, client: FtpClient, data: socket.socket, complete: bool) -> bool:
        """End a transfer and release its connection; True if the server's final reply
        was 2xx: after the end of data, the file really ends there (a 421/426 after
        it is a server that gave up on the transfer: a stalled one timed out)."""
        end = client.end_transfer(data, complete)
        self.pool.release(client, reusable=end.in_sync)
        return end.done

    def read_range(self, path: str, offset: int, length: int) -> Iterator[bytes]:
        """Range read with mid-stream resume: if the connection dies (reset, timeout, or
        EOF without the server's 226), reconnect and continue with REST at the byte
        reached, so the caller gets exactly the file's bytes."""
        if length <= 0:
            return
        resume = _Resume(path, offset, length)
        end = resume.end
        while resume.pos < end:
            if resume.failures:
                time.sleep(resume.delay())
            try:
                client, data = self._start(path, resume.pos)
            except SourceUnavailable:
                if not self.pool.interrupted and resume.refused():
                    continue
                raise
            if data is None:
                return
            pos = resume.pos
            _cap_receive_window(data, end - pos)
            outcome = _PARTIAL
            try:
                while pos < end:
                    try:
                        chunk = _recv_fill(data, min(RECV_SIZE, end - pos))
                    except (OSError, EOFError, ssl.SSLError):
                        outcome = _BROKEN
                        break
                    if not chunk:
                        outcome = _EOF
                        break
                    pos += len(chunk)
                    yield chunk
            finally:
                clean = self._finish(client, data, outcome == _EOF)
            if resume.ended(pos, outcome, clean):
                return

    async def aread_range(self, path: str, offset: int, length: int) -> AsyncGenerator[bytes, None]:
        """Async range read with the same mid-stream resume as :meth:`read_range`.

        The REST/RETR handshake runs in this source's executor, then a plain data
        connection is read on the event loop itself (no thread hop per chunk); a TLS
        data connection is read in the executor with chunks of 1 MiB."""
        if length <= 0:
            return
        if offset < 0:
            raise InvalidInput("offset must be >= 0")
        resume = _Resume(path, offset, length)
        end = resume.end
        loop = asyncio.get_running_loop()
        while resume.pos < end:
            if resume.failures:
                await asyncio.sleep(resume.delay())
            try:
                client, data = await self._astart(path, resume.pos)
            except SourceUnavailable:
                if not self.pool.interrupted and resume.refused():
                    continue
                raise
            if data is None:
                return
            pos = resume.pos
            outcome = _PARTIAL
            plain = not isinstance(data, ssl.SSLSocket)
            try:
                if plain:
                    data.setblocking(False)
                while pos < end:
                    want = min(RECV_SIZE, end - pos)
                    try:
                        if plain:
                            # Yield to the loop before every read: a stream whose source
                            # and client are both ready must not starve the loop (the
                            # disconnect watcher, new requests: measured, reading 16
                            # chunks between yields doubled seek latency).
                            await asyncio.sleep(0)
                            chunk = await _recv_ready(loop, data, want, self.config.read_timeout)
                        else:
                            chunk = await self._in_io(_recv_fill, data, want)
                    except (OSError, EOFError, TimeoutError, ssl.SSLError):
                        outcome = _BROKEN
                        break
                    if not chunk:
                        outcome = _EOF
                        break
                    pos += len(chunk)
                    yield chunk
            finally:
                if plain:
                    # Unregister and close the data socket here, on the loop: closed
                    # from the finisher thread while the loop still watched it (a
                    # cancelled sock_recv), its fd number could come back for the next
                    # transfer with the loop's stale watch on it.
                    try:
                        loop.remove_reader(data.fileno())
                    except (OSError, ValueError):
                        pass
                    data.close()
                # Off the event loop (reading the server's final reply may take a
                # moment), in this source's executor (no thread there waits for the
                # pool), and shielded: a client disconnect cancels this task, often
                # again while this finally runs, and the connection must still go back
                # to the pool. The executor job runs to the end whatever happens to
                # the await.
                job = self._in_io(self._finish, client, data, outcome == _EOF)
                clean = await asyncio.shield(job)
            if resume.ended(pos, outcome, clean):
                return

