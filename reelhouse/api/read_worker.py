"""A read process: computes the big-library pages for the server's event loop (issue 14:
the closed-loop tail of one process's Python on two cores).

The main process (:mod:`reelhouse.api.read_processes`) starts it with one end of a
socket pair and the database URL; it reads the database through an engine of its own
that only reads (:func:`~reelhouse.db.engine.make_read_engine`) and keeps no cache: each
request reads what the database holds then, so a write the main process committed is
seen by the next page. Requests and answers are frames (:func:`frame`): a 4-byte
big-endian length, then a pickle.

- request: ``(id, name, user_id, sees_all, args)``: the request's id, a body of
  :data:`BODIES`, the user (who sees every source, or only their grants: read here, as
  the routes read them), the body's plain arguments.
- answer: ``(id, (True, status, raw headers, body bytes))``, or ``(id, (False,
  exception))`` when the body raised (the main process then answers the FastAPI way,
  which runs the body again and writes its error answer). Answers come in the order
  they are ready.

The process ends when its socket ends (the main process closed it, or died: it never
outlives the server) and ignores SIGINT (a Ctrl-C in a terminal reaches the whole
process group; the main process ends it).
"""

from __future__ import annotations

import contextlib
import gc
import pickle
import signal
import socket
import struct
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select
from starlette.responses import Response

from reelhouse.api.routes import library, progress
from reelhouse.db.engine import make_read_engine, make_sessionmaker
from reelhouse.db.models import UserSource

__all__ = ["BODIES", "HEADER", "frame", "serve", "unframe"]

#: The bodies a read process computes, by name: ``body(reads, allowed, user_id, *args)``.
BODIES: dict[str, Callable[..., Response]] = {
    "items": library.items_body, "movies": library.movies_body, "shows": library.shows_body,
    "show": library.show_body, "media-files": library.media_files_body, "continue": progress.continue_body,
}

#: A frame's head: the length of the pickle that follows (bytes, big-endian).
HEADER = struct.Struct(">I")


def frame(value: Any) -> bytes:
    """``value`` pickled behind its length (:data:`HEADER`)."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def unframe(data: bytes | bytearray) -> Any:
    """The value of a frame's pickle (``data``: what follows the head). Only frames of
    this server's own processes are read: an unnamed socket pair that no one else holds."""
    return pickle.loads(data)  # noqa: S301 (see above)


def _read_exactly(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = sock.recv_into(view[got:])
        if k == 0:
            return None
        got += k
    return bytes(buf)


def _answer(reads: Any, name: str, user_id: int, sees_all: bool, args: tuple[Any, ...]) -> tuple[Any, ...]:
    allowed: set[int] | None = None
    if not sees_all:  # the grants as they are now (auth/users.py: UserService.granted_sources)
        with reads() as db:
            allowed = set(db.scalars(select(UserSource.source_id).where(UserSource.user_id == user_id)))
    response = BODIES[name](reads, allowed, user_id, *args)
    return True, response.status_code, response.raw_headers, bytes(response.body)


def serve(sock: socket.socket, url: str, threads: int) -> None:
    """The read process's loop on ``sock`` (blocking) against database ``url``, until
    the socket ends: each request runs in one of ``threads`` threads (a PostgreSQL page
    waits for several round trips: the threads overlap them, as the read lane's do) and
    its answer is written as soon as it is ready, tagged with the request's id."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    engine = make_read_engine(url, pool_size=threads, max_overflow=0)  # one connection a thread
    reads = make_sessionmaker(engine)
    gc.freeze()  # the modules' objects: no full collection walks them (server.freeze_startup_objects)
    send_lock = threading.Lock()

    def run(request_id: int, name: str, user_id: int, sees_all: bool, args: tuple[Any, ...]) -> None:
        try:
            out = frame((request_id, _answer(reads, name, user_id, sees_all, args)))
        except Exception as exc:  # the main process answers the FastAPI way
            try:
                out = frame((request_id, (False, exc)))
                unframe(out[HEADER.size:])  # one that would not unpickle there is sent as text
            except Exception:
                out = frame((request_id, (False, RuntimeError(f"{type(exc).__name__}: {exc}"))))
        with send_lock, contextlib.suppress(OSError):  # the main process gone: the reading loop ends
            sock.sendall(out)

    pool = ThreadPoolExecutor(threads, thread_name_prefix="read")
    try:
        while True:
            head = _read_exactly(sock, HEADER.size)
            if head is None:
                return
            data = _read_exactly(sock, HEADER.unpack(head)[0])
            if data is None:
                return
            pool.submit(run, *unframe(data))
    finally:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        pool.shutdown(wait=True, cancel_futures=True)
        with contextlib.suppress(OSError):
            sock.close()
        engine.dispose()
