"""Read processes: the big-library pages computed beside the server's event loop, on
another core (issue 14: the closed-loop tail).

One server process runs its Python on one core at a time (the GIL): under twenty
clients without pause, the computed pages (the grid, title lists, a show, media-file
pages, continue watching: ~45 % of the process's Python) and the event loop (HTTP,
the page cache, identities, streams, HLS) waited for each other. With
``read_processes`` = N, the fast way (:mod:`reelhouse.api.fast_reads`) sends those pages
to N processes of :mod:`reelhouse.api.read_worker`, each with a read-only engine of its
own on the same database, and writes their answers' bytes.

- **What goes there**: plain, picklable arguments only: the body's name, the user's id
  and whether they see every source (the main process resolved and checked the token;
  a restricted user's grants are read there, from the database, as the routes read them),
  the parsed query. What comes back: the status, headers and body bytes, or the
  body's exception, raised here (the fast way then lets FastAPI answer: the body runs
  again in the main process and its error handlers write the same error answer).
- **Order and bounds**: :data:`~reelhouse.api.read_lane.LIBRARY_READ_THREADS` requests
  at once over all the processes (each runs its share in threads: a PostgreSQL page
  waits for round trips, which the threads overlap); the others wait for a turn in
  arrival order (an :class:`anyio.CapacityLimiter`, FIFO), as in the read lane. Nothing
  else is queued in the processes; memory is N processes and their engines.
- **Failures**: a process that dies (or whose socket breaks) is dropped and its request
  raises :class:`ReadProcessLost` (the fast way answers the FastAPI way); a request
  :data:`RESTART_SECONDS` later starts a new one. An exception that would not unpickle
  here comes as a RuntimeError with its text; a cancelled request's answer is dropped.
- **Start and stop**: processes start on first use (from a ``forkserver``, or ``spawn``
  where there is none: never ``fork`` of a process with an event loop and threads) and
  end with :meth:`ReadProcesses.close` (the app's shutdown), or when the server
  process dies (their socket ends: :func:`~reelhouse.api.read_worker.serve`).
- **Not the main script again**: a ``forkserver`` or ``spawn`` child runs the parent's
  main script (``__main__``, as ``__mp_main__``) before its target, so that what the
  script defined can be unpickled; a user's script that serves reelhouse without
  ``if __name__ == "__main__":`` served it again in every read process. Their target
  is :mod:`~reelhouse.api.read_worker`'s, never the script's: they start without it
  (:func:`_without_main`).
- **IPC**: a socket pair per process, read and written by the event loop itself
  (``loop.add_reader``, ``loop.sock_sendall``), no thread hop; requests and answers are
  tagged with an id, so a cancelled caller's answer is dropped when it comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import socket
import threading
import time
import weakref
from collections.abc import Callable
from multiprocessing import spawn
from multiprocessing.process import BaseProcess
from typing import Any

import anyio
import anyio.to_thread
from starlette.responses import Response

from reelhouse.api import read_worker
from reelhouse.api.read_lane import LIBRARY_READ_THREADS
from reelhouse.api.read_worker import HEADER, frame, unframe

__all__ = ["PreparedResponse", "ReadProcessLost", "ReadProcesses"]

#: Seconds a closed process is given to end before it is killed.
STOP_SECONDS = 2.0
#: Seconds after a read process was lost before another is started (meanwhile the
#: pages are answered the FastAPI way, in the server process).
RESTART_SECONDS = 1.0
#: The name of a read process (``ps``, and how :func:`_without_main` knows one).
PROCESS_NAME = "reelhouse-read"


class ReadProcessLost(RuntimeError):
    """The read process ended (or its socket broke) before it answered."""


class PreparedResponse(Response):
    """A response whose status, raw headers and body were computed elsewhere."""

    def __init__(self, status: int, raw_headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status_code = status
        self.raw_headers = raw_headers
        self.body = body
        self.background = None


class _Process:
    """One read process and the main process's end of its socket: requests go out
    tagged with an id, answers come back in the order they are ready and are handed to
    the caller waiting for that id (the event loop reads the socket when it is readable)."""

    def __init__(self, ctx: Any, url: str, threads: int) -> None:
        mine, theirs = socket.socketpair()
        self.process: BaseProcess = ctx.Process(target=read_worker.serve, args=(theirs, url, threads), daemon=True,
                                                name=PROCESS_NAME)
        try:
            self.process.start()
        finally:
            theirs.close()
        mine.setblocking(False)
        self.sock = mine
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.lost = False
        self._buf = bytearray()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def call(self, request_id: int, request: bytes) -> Any:
        """Send ``request`` (a frame of ``request_id``) and wait for its answer."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._attach(loop)
        future: asyncio.Future[Any] = loop.create_future()
        self.pending[request_id] = future
        try:
            # shielded: a caller cancelled mid-write leaves no half frame on the socket
            await asyncio.shield(loop.sock_sendall(self.sock, request))
            return await future
        finally:
            self.pending.pop(request_id, None)

    def _attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Read the socket in ``loop`` (an app served by another loop than before: a
        test's; what was waiting in the old one is lost)."""
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.sock.fileno())
        self._fail(ReadProcessLost("the event loop changed"))
        self._loop = loop
        loop.add_reader(self.sock.fileno(), self._readable)

    def _readable(self) -> None:
        try:
            data = self.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._end()
            return
        buf = self._buf
        buf += data
        while len(buf) >= HEADER.size:
            n = HEADER.unpack_from(buf)[0]
            if len(buf) < HEADER.size + n:
                break
            try:
                request_id, answer = unframe(bytes(buf[HEADER.size:HEADER.size + n]))
            except Exception:  # a frame that does not unpickle: the process can not be trusted
                self._end()
                return
            del buf[:HEADER.size + n]
            future = self.pending.get(request_id)
            if future is not None and not future.done():
                future.set_result(answer)

    def _end(self) -> None:
        """The socket ended or broke: every waiting caller gets :class:`ReadProcessLost`."""
        self.lost = True
        self.detach()
        self._fail(ReadProcessLost("the read process ended"))

    def detach(self) -> None:
        """Stop reading the socket (call in its event loop, before :meth:`stop`: a
        closed socket's number may be reused at once)."""
        loop, self._loop = self._loop, None
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(Exception):
                loop.remove_reader(self.sock.fileno())

    def _fail(self, exc: Exception) -> None:
        for future in self.pending.values():
            if not future.done():
                with contextlib.suppress(RuntimeError):  # a future of a closed loop
                    future.set_exception(exc)
        self.pending.clear()

    def stop(self, wait: float) -> None:
        """Close the socket (the process ends when it sees that), wait up to ``wait``
        seconds, then kill it."""
        with contextlib.suppress(OSError):
            self.sock.close()
        self.process.join(wait)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1.0)


_PREPARED_LOCK = threading.Lock()


def _without_main(prepare: Callable[[str], dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    """``prepare`` (:func:`multiprocessing.spawn.get_preparation_data`: what a
    ``spawn`` or ``forkserver`` child is told of its parent, by process name) telling a
    read process (:data:`PROCESS_NAME`) nothing of the main module: no
    ``init_main_from_path`` (a script run as ``python script.py``) nor
    ``init_main_from_name`` (``python -m package.module``), the keys after which the
    child runs the script again (``multiprocessing.spawn.prepare``). Other processes
    are told as before."""

    def prepared(name: str) -> dict[str, Any]:
        data = prepare(name)
        if name == PROCESS_NAME:
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
        return data

    prepared.reelhouse_without_main = True  # type: ignore[attr-defined]
    return prepared


def _keep_main_out() -> None:
    """Make read processes start without the main script (:func:`_without_main`),
    once per process: every start method but ``fork`` asks
    ``multiprocessing.spawn.get_preparation_data`` (popen_forkserver, popen_spawn_*)."""
    with _PREPARED_LOCK:
        if not getattr(spawn.get_preparation_data, "reelhouse_without_main", False):
            spawn.get_preparation_data = _without_main(spawn.get_preparation_data)  # type: ignore[assignment]


def _context() -> Any:
    _keep_main_out()
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        # the forkserver imports the read process's modules once; each process forks from it
        ctx.set_forkserver_preload(["reelhouse.api.read_worker"])
        return ctx
    return multiprocessing.get_context("spawn")


class ReadProcesses:
    """Up to ``processes`` read processes on database ``url``, ``threads`` requests at
    once in all (module docstring)."""

    def __init__(self, url: str, processes: int, threads: int = LIBRARY_READ_THREADS) -> None:
        if processes < 1:
            raise ValueError("processes must be at least 1")
        self.url = url
        self.processes = processes
        self.threads = max(threads, processes)
        self._procs: list[_Process] = []
        self._limiter: anyio.CapacityLimiter | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._ids = itertools.count()
        self._next_start = 0.0
        # an app that is never shut down (a test's) still ends its processes when dropped
        self._finalizer = weakref.finalize(self, _stop_all, self._procs)

    async def answer(self, name: str, user_id: int, sees_all: bool, args: tuple[Any, ...]) -> Response:
        """The response of body ``name`` (:data:`~reelhouse.api.read_worker.BODIES`) for
        user ``user_id`` (``sees_all``: every source, else their grants) with ``args``.
        Raises the body's exception, or :class:`ReadProcessLost`."""
        if self._limiter is None:  # made in the event loop that first uses it
            self._limiter = anyio.CapacityLimiter(self.threads)
        request_id = next(self._ids)
        request = frame((request_id, name, user_id, sees_all, args))
        async with self._limiter:
            proc = self._pick()
            if proc is None:
                if time.monotonic() < self._next_start:
                    raise ReadProcessLost("a read process was lost a moment ago")
                proc = await anyio.to_thread.run_sync(self._start)
            try:
                answer = await proc.call(request_id, request)
            except (OSError, ReadProcessLost) as exc:
                self._drop(proc)
                raise ReadProcessLost(f"the read process was lost: {exc}") from exc
        if not answer[0]:
            raise answer[1]
        _, status, headers, body = answer
        return PreparedResponse(status, headers, body)

    def _pick(self) -> _Process | None:
        """The live process with the fewest requests in flight; None when another may start."""
        live = [p for p in self._procs if not p.lost]
        if len(live) < self.processes and all(p.pending for p in live):
            return None
        return min(live, key=lambda p: len(p.pending))

    def _start(self) -> _Process:
        with self._lock:
            if self._closed:
                raise ReadProcessLost("the read processes are closed")
            live = [p for p in self._procs if not p.lost]
            if len(live) >= self.processes:  # another caller started one meanwhile
                return min(live, key=lambda p: len(p.pending))
            proc = _Process(_context(), self.url, -(-self.threads // self.processes))
            self._procs.append(proc)
            return proc

    def _drop(self, proc: _Process) -> None:
        proc.lost = True
        proc.detach()
        # one that keeps dying (a database it cannot open) is not started for every request
        self._next_start = time.monotonic() + RESTART_SECONDS
        with self._lock:
            if proc in self._procs:
                self._procs.remove(proc)
        threading.Thread(target=proc.stop, args=(0.0,), name="read-process-stop", daemon=True).start()

    def pids(self) -> list[int]:
        """The ids of the read processes running now."""
        return [p.process.pid for p in list(self._procs) if p.process.pid is not None and not p.lost]

    def detach(self) -> None:
        """Stop reading the processes' sockets: call in the event loop before
        :meth:`close` (which may block, so runs in a thread)."""
        for proc in list(self._procs):
            proc.detach()

    def close(self) -> None:
        """End every read process (each gets :data:`STOP_SECONDS` to end, then is killed)."""
        with self._lock:
            self._closed = True
        self._finalizer()


def _stop_all(procs: list[_Process]) -> None:
    for proc in list(procs):
        with contextlib.suppress(OSError):
            proc.sock.close()
    for proc in list(procs):
        proc.stop(STOP_SECONDS)
    procs.clear()
