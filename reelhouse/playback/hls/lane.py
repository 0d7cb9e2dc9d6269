"""A bounded lane of threads shared fairly between users (issue 14: "no blocking work in
the shared default executor"), for work that may block for minutes: converting an
embedded subtitle track to WebVTT makes ffmpeg read the whole film through its source.

Run in the shared thread pool (anyio's 40 threads, which every route's authentication
and database work uses too), a few dozen such requests held every thread, so logins,
health checks and other users' streams waited for them. In a :class:`FairLane`, at most
``threads`` jobs run at once, on threads of its own; one user runs at most
``per_user`` of them (default ``threads - 1``, so another user always finds a thread);
the next job to run is the oldest of the user running the fewest. Waiting holds no
thread: a caller on the event loop awaits a future (:meth:`FairLane.run`).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from reelhouse.errors import ServiceBusy

__all__ = ["FairLane"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


@dataclass
class _Job:
    user: object
    seq: int
    call: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)


class FairLane:
    """``threads`` threads (named ``name``) for blocking jobs, fair between users (see
    the module doc). Thread-safe; usable from any event loop and from threads."""

    def __init__(self, threads: int, name: str, per_user: int | None = None) -> None:
        if threads < 1:
            raise ValueError("a lane needs a thread")
        self.threads = threads
        self.per_user = per_user or max(1, threads - 1)
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._queues: dict[object, deque[_Job]] = {}
        self._running: Counter[object] = Counter()
        self._seq = itertools.count()
        self._closed = False

    @property
    def stats(self) -> dict[str, int]:
        """``{"running", "waiting"}``: jobs on a thread now, and queued (no thread held)."""
        with self._lock:
            return {"running": sum(self._running.values()),
                    "waiting": sum(len(q) for q in self._queues.values())}

    def submit(self, user: object, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        """Queue ``fn(*args, **kwargs)`` for ``user`` (any hashable; None for no user):
        a future of its result. ServiceBusy once the lane is closed."""
        job = _Job(user, next(self._seq), lambda: fn(*args, **kwargs))
        with self._lock:
            if self._closed:
                raise ServiceBusy("the server is shutting down")
            self._queues.setdefault(user, deque()).append(job)
            ready = self._pick()
        self._start(ready)
        return job.future

    async def run(self, user: object, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """:meth:`submit` awaited on the event loop: the result, or the job's exception.
        Cancelling the caller cancels a job not started yet (one started runs on)."""
        return await asyncio.wrap_future(self.submit(user, fn, *args, **kwargs))

    def _pick(self) -> list[_Job]:
        """The jobs to start now (with the lock held): while a thread is free, the
        oldest job of the user running the fewest, under ``per_user``."""
        picked: list[_Job] = []
        while sum(self._running.values()) < self.threads:
            ready = [(self._running[user], queue[0].seq, user) for user, queue in self._queues.items()
                     if queue and self._running[user] < self.per_user]
            if not ready:
                break
            user = min(ready, key=lambda r: (r[0], r[1]))[2]
            queue = self._queues[user]
            picked.append(queue.popleft())
            if not queue:
                del self._queues[user]
            self._running[user] += 1
        return picked

    def _start(self, jobs: list[_Job]) -> None:
        for job in jobs:
            self._executor.submit(self._run, job)

    def _run(self, job: _Job) -> None:
        try:
            if job.future.set_running_or_notify_cancel():  # False: its caller gave up
                try:
                    result = job.call()
                except BaseException as exc:  # handed to the caller
                    job.future.set_exception(exc)
                else:
                    job.future.set_result(result)
        finally:
            with self._lock:
                self._running[job.user] -= 1
                if self._running[job.user] <= 0:
                    del self._running[job.user]
                ready = [] if self._closed else self._pick()
            self._start(ready)

    def close(self) -> None:
        """Refuse new jobs, fail the queued ones (ServiceBusy); running ones finish on
        their threads, which then end. Returns at once."""
        with self._lock:
            self._closed = True
            queued = [job for queue in self._queues.values() for job in queue]
            self._queues.clear()
        for job in queued:
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(ServiceBusy("the server is shutting down"))
        self._executor.shutdown(wait=False)
