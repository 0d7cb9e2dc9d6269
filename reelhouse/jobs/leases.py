"""Leases: a running job belongs to one process only while that process keeps
proving it is alive.

Claiming a job writes ``owner`` (this process, :func:`process_id`) and ``lease_until``
(now + ``lease`` seconds). A :class:`LeaseKeeper` thread in every process that runs jobs
extends the leases of its jobs every ``lease / 6`` seconds (the heartbeat). In the
processes that consume the queue (the web server, ``reelhouse worker``) it also reaps:
a running job whose lease has passed belonged to a process that died (SIGKILL, power
loss, a lost network); it goes back to the queue, and any worker runs it again. A job
is never "running forever", and a job is never failed just because a process started.

Why 60 s and 10 s (``job_lease``, a setting): SQLite writers wait up to 30 s for the
database lock (db/engine.py's busy timeout), so one heartbeat may take that long; with a
heartbeat every 10 s, a worker whose heartbeat waits the full 30 s still renews its
lease before it passes (10 + 30 < 60), so a live worker under a busy database keeps its
job, and the job of a dead one runs again within 60 s + one reaper pass (10 s). Clocks
of the nodes must agree to well under the lease (NTP does). Tests set the lease to 1-2 s.

A process that finds its lease taken (it stalled past ``lease``, and the job runs
elsewhere now) stops the job's body at its next ``should_stop()`` and writes nothing
more: every write of a running job is conditional on ``owner``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import Job, utcnow

__all__ = ["HEARTBEATS_PER_LEASE", "MAX_ATTEMPTS", "LeaseKeeper", "process_id"]

log = logging.getLogger(__name__)

#: Heartbeats per lease: the lease is renewed every ``lease / 6`` seconds (10 s of 60).
HEARTBEATS_PER_LEASE = 6

#: A job claimed this many times without ending (its workers kept dying: it may be what
#: kills them) fails instead of being queued again.
MAX_ATTEMPTS = 10


def process_id() -> str:
    """A name for this process, unique across nodes and restarts: ``host:pid:random``."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseKeeper:
    """Heartbeats for the jobs this process runs and, with ``requeue``, the reaper of
    expired leases. ``requeue(job)`` is called for each job taken back (the job system
    announces it to the queue); ``ended(job)`` for each job failed by :data:`MAX_ATTEMPTS`."""

    def __init__(self, sessions: sessionmaker[Session], owner: str, lease: float) -> None:
        """``lease``: seconds (see the module docstring)."""
        self.sessions = sessions
        self.owner = owner
        self.lease = lease
        self.interval = lease / HEARTBEATS_PER_LEASE
        self._held: dict[str, int] = {}  # key → jobs of that key run here (normally 1)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._requeue: Callable[[Job], None] | None = None
        self._ended: Callable[[Job], None] | None = None

    def until(self) -> datetime:
        """The ``lease_until`` of a job claimed now."""
        return utcnow() + timedelta(seconds=self.lease)

    def hold(self, key: str) -> None:
        """This process runs the job ``key``: keep its lease."""
        with self._lock:
            self._held[key] = self._held.get(key, 0) + 1
            self._ensure_thread()

    def release(self, key: str) -> None:
        with self._lock:
            n = self._held.get(key, 0) - 1
            if n > 0:
                self._held[key] = n
            else:
                self._held.pop(key, None)

    def reap_with(self, requeue: Callable[[Job], None], ended: Callable[[Job], None]) -> None:
        """Also take back expired leases (consumers only: a one-shot CLI command never
        touches jobs it did not start)."""
        with self._lock:
            self._requeue, self._ended = requeue, ended
            self._ensure_thread()

    def _ensure_thread(self) -> None:
        if self._thread is None and not self._stop:
            self._thread = threading.Thread(target=self._loop, name="job-leases", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop:
            try:
                self.beat()
                self.reap()
            except Exception:  # the database hiccupped: try again at the next beat
                log.exception("job leases: heartbeat or reaping failed")
            self._wake.wait(self.interval)

    def beat(self) -> int:
        """Renew the leases of the jobs held here; returns how many were renewed."""
        with self._lock:
            keys = list(self._held)
        if not keys:
            return 0
        with self.sessions() as s:
            res = s.execute(update(Job).where(Job.key.in_(keys), Job.owner == self.owner,
                                              Job.state == "running")
                            .values(lease_until=self.until()))
            s.commit()
        return int(res.rowcount)  # type: ignore[attr-defined]

    def reap(self) -> list[int]:
        """Queue again (or fail, past :data:`MAX_ATTEMPTS`) the running jobs whose lease
        has passed; returns their ids. A no-op unless :meth:`reap_with` was called."""
        requeue, ended = self._requeue, self._ended
        if requeue is None or ended is None:
            return []
        with self.sessions() as s:
            lapsed = (Job.lease_until < utcnow()) | Job.lease_until.is_(None)  # None: no lease ever
            expired = list(s.scalars(select(Job.id).where(Job.state == "running", lapsed)))
        return [job_id for job_id in expired if self.take_back(job_id, requeue, ended)]

    def take_back(self, job_id: int, requeue: Callable[[Job], None] | None = None,
                  ended: Callable[[Job], None] | None = None) -> bool:
        """Queue job ``job_id`` again (or fail it, past :data:`MAX_ATTEMPTS`) if it is
        running and its lease has passed; true if it was. ``requeue(job)`` / ``ended(job)``
        are called with the job as it is then. The reaper does this for every job; a
        scan does it for its own probe jobs (jobs/probes.py), also where no consumer runs."""
        now = utcnow()
        with self.sessions() as s:
            job = s.get(Job, job_id)
            lapsed = (Job.lease_until < now) | Job.lease_until.is_(None)
            if job is None or job.state != "running" or (job.lease_until is not None and job.lease_until >= now):
                return False
            give_up = job.attempts >= MAX_ATTEMPTS
            values: dict[str, object] = (
                {"state": "failed", "finished_at": now,
                 "error": f"its worker stopped {job.attempts} times; not retried"}
                if give_up else
                {"state": "queued", "not_before": None,
                 "error": f"its worker ({job.owner}) stopped; queued again"}
            )
            res = s.execute(update(Job).where(Job.id == job.id, Job.state == "running", lapsed)
                            .values(owner=None, lease_until=None, **values))
            s.commit()
            if res.rowcount != 1:  # type: ignore[attr-defined]
                return False  # renewed or ended meanwhile
            log.warning("job %s (%s): the lease of %s passed; %s", job.id, job.kind, job.owner,
                        "failed" if give_up else "queued again")
            s.refresh(job)
        callback = ended if give_up else requeue
        if callback is not None:
            callback(job)
        return True
