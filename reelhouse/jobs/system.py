"""The one job system: every piece of background work (scans, syncs, transfers, HLS
prepares, offline copies) is a job of a registered kind (jobs/tasks.py) with a row in
``jobs`` that the API, the UI and the CLI show.

- Queueing: :meth:`JobSystem.submit` writes the row and puts a message (the job's
  uuid ``key``, never its id: SQLite reuses freed ids) on the huey queue with the
  job's priority (higher first). Consumers (the web server's threads, ``reelhouse
  worker`` processes) take messages and claim the job: one conditional UPDATE
  ``queued → running`` sets ``owner`` and ``lease_until``, so exactly one process runs
  it. A message for a job that ended, runs elsewhere or is not due yet is dropped.
- Leases and heartbeats (jobs/leases.py): a job whose process died is queued again
  when its lease passes and runs on another worker; nothing marks jobs failed because
  a process started.
- Progress: ``ctx.progress(counts, message)``, written at most every
  :data:`PROGRESS_EVERY` seconds (the last call always lands: jobs/progress.py), only
  while this process owns the job.
- Reading and cancelling (jobs/board.py): :meth:`cancel` ends a queued job at once and
  asks a running one to stop (``cancel_requested``, seen by its process within
  :data:`CANCEL_POLL` seconds).
- Retries: a body raises :class:`~reelhouse.jobs.tasks.Retry` to run again after a
  delay (huey's eta); a process that stops queues its running jobs again.
- One-shot CLI commands never consume: they run the jobs they start themselves
  (:meth:`run_here`, :meth:`run_now`), heartbeats included, and touch no other job.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from huey.api import Huey
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import Job, utcnow
from reelhouse.errors import Cancelled, InvalidInput, ReelhouseError
from reelhouse.jobs.board import ENDED, JobBoard
from reelhouse.jobs.leases import LeaseKeeper, process_id
from reelhouse.jobs.progress import ThrottledProgress
from reelhouse.jobs.queue import JobConsumer, start_consumer
from reelhouse.jobs.tasks import JobContext, Observer, Outcome, Retry, TaskSpec

__all__ = ["CANCEL_POLL", "ENDED", "PROGRESS_EVERY", "JobSystem"]

log = logging.getLogger(__name__)

#: Seconds between two looks of a running job's body at ``cancel_requested`` (and at
#: whether it still owns the job): a cancel is honoured within about this time.
CANCEL_POLL = 0.5
#: Seconds between two progress writes of a job (its observer sees every call).
PROGRESS_EVERY = 0.5
#: How a job whose source was removed under it ends (``cancelled``).
_SOURCE_REMOVED = "cancelled: its source was removed"

Attach = Callable[[Session, Job], None]


class JobSystem(JobBoard):
    """Register kinds, submit, claim and run jobs; read and cancel them (:class:`JobBoard`).

    ``lease``: seconds (jobs/leases.py). Nothing is consumed until :meth:`start`
    (threads in this process) or :meth:`run_worker` (the foreground worker).
    """

    def __init__(self, sessions: sessionmaker[Session], huey: Huey, *, lease: float = 60.0) -> None:
        super().__init__(sessions)
        self.huey = huey
        self.owner = process_id()
        self.leases = LeaseKeeper(sessions, self.owner, lease)
        self._lock = threading.Lock()
        self._stopping = False
        self._consumer: JobConsumer | None = None
        self._message = huey.task(name="reelhouse.job")(self._consume)
        #: Every error text stored (a job's, and its kinds' rows': transfers, syncs,
        #: sources) goes through this first: the owner sets it to take secrets out
        #: (reelhouse.redaction.Redactor); error texts come from servers' replies.
        self.scrub: Callable[[str], str] = lambda text: text

    def register(self, spec: TaskSpec) -> None:
        """Make ``spec.kind`` runnable in this process (every process that consumes
        registers every kind: see core.py)."""
        self.specs[spec.kind] = spec

    # -- consuming ---------------------------------------------------------------------
    def start(self, workers: int) -> None:
        """Consume in this process: ``workers`` threads, the periodic schedule, the
        lease reaper. Queued jobs are announced again first (a message may have been
        lost by a consumer killed between taking it and claiming its job)."""
        self._prepare_consuming()
        self._consumer = start_consumer(self.huey, workers, self._stop_bodies)

    def run_worker(self, workers: int) -> None:
        """Consume in the foreground until SIGINT/SIGTERM (``reelhouse worker``); its
        running jobs go back to the queue when it stops."""
        self._prepare_consuming()
        JobConsumer(self.huey, self._stop_bodies, signals=True, workers=workers,
                    max_delay=1.0).run()

    def _prepare_consuming(self) -> None:
        self.leases.reap_with(self._requeued, self._changed)
        with self.sessions() as s:
            queued = list(s.scalars(select(Job).where(Job.state == "queued")))
        for job in queued:
            self._announce(job)

    def _requeued(self, job: Job) -> None:
        """A job taken back from a dead worker: tell its kind, announce it."""
        self._changed(job)
        self._announce(job)

    def _stop_bodies(self) -> None:
        self._stopping = True

    def close(self) -> None:
        """Stop consuming: running bodies stop and their jobs go back to the queue
        (queued ones stay queued); then stop the heartbeats."""
        self._stopping = True
        if self._consumer is not None:
            self._consumer.stop()
            self._consumer = None
        self.leases.close()

    # -- submitting --------------------------------------------------------------------
    def submit(self, kind: str, *, source_id: int | None = None, payload: dict[str, Any] | None = None,
               priority: int = 0, attach: Attach | None = None) -> Job:
        """Queue a job of ``kind``; returns its row. With a ``unique`` kind, the queued or
        running job of the same source is returned instead. ``attach(session, job)``
        runs in the creating transaction (e.g. to write a row that names the job).
        Raises InvalidInput for an unknown kind."""
        spec = self._spec(kind)
        with self._lock, self.sessions() as s:
            if spec.unique and source_id is not None:
                active = s.scalar(select(Job).where(Job.kind == kind, Job.source_id == source_id,
                                                    Job.state.in_(("queued", "running"))).limit(1))
                if active is not None:
                    return active
            job = self._create(s, spec, source_id, payload, priority, attach, claim=False)
        self._announce(job)
        return job

    def submit_many(self, kind: str, payloads: list[dict[str, Any]], *, source_id: int | None = None,
                    priority: int = 0) -> list[Job]:
        """Queue one job of ``kind`` per payload, written in one transaction (a scan's
        probe jobs: hundreds at once); returns their rows. Not for ``unique`` kinds."""
        spec = self._spec(kind)
        if spec.unique:
            raise InvalidInput(f"{kind!r} jobs are unique per source: submit them one at a time")
        with self.sessions() as s:
            jobs = [Job(kind=kind, source_id=source_id, state="queued", progress={}, payload=payload,
                        priority=priority, attempts=0) for payload in payloads]
            s.add_all(jobs)
            s.flush()
            if spec.on_submit is not None:
                for job in jobs:
                    spec.on_submit(s, job)
            s.commit()
        for job in jobs:
            self._announce(job)
        return jobs

    def run_here(self, kind: str, *, source_id: int | None = None, payload: dict[str, Any] | None = None,
                 observer: Observer | None = None, attach: Attach | None = None,
                 reraise: bool = False) -> tuple[Job, object]:
        """Create a job claimed by this process and run it in the calling thread (the
        CLI); no consumer ever sees it unless this process dies (then its lease passes
        and a worker runs it). Returns the ended job and the body's ``Outcome.value``;
        with ``reraise`` a failure or cancel is raised after it is recorded."""
        spec = self._spec(kind)
        with self.sessions() as s:
            job = self._create(s, spec, source_id, payload, 0, attach, claim=True)
        self.leases.hold(job.key)
        return self.execute(job, observer, reraise)

    def _create(self, s: Session, spec: TaskSpec, source_id: int | None,
                payload: dict[str, Any] | None, priority: int, attach: Attach | None,
                claim: bool) -> Job:
        job = Job(kind=spec.kind, source_id=source_id, state="queued", progress={},
                  payload=payload or {}, priority=priority, attempts=0)
        if claim:
            job.state, job.owner, job.lease_until = "running", self.owner, self.leases.until()
            job.attempts, job.started_at, job.message = 1, utcnow(), "starting"
        s.add(job)
        s.flush()
        if spec.on_submit is not None:
            spec.on_submit(s, job)
        if attach is not None:
            attach(s, job)
        s.commit()
        return job

    def _announce(self, job: Job) -> None:
        """Put the job's message on the queue (at its ``not_before``, if any)."""
        delay = None
        if job.not_before is not None:
            delay = max(0.0, (job.not_before - utcnow()).total_seconds())
        if delay:
            self._message.schedule(args=(job.key,), delay=delay, priority=job.priority)
        else:
            self._message(job.key, priority=job.priority)

    def _spec(self, kind: str) -> TaskSpec:
        spec = self.specs.get(kind)
        if spec is None:
            raise InvalidInput(f"no job kind {kind!r}")
        return spec

    # -- claiming and running ----------------------------------------------------------
    def _consume(self, key: str) -> None:
        """The body of a queue message."""
        try:
            job = self.claim(key)
            if job is not None:
                self.execute(job)
        except Exception:  # never lose the consumer thread; the lease brings it back
            log.exception("job %s: could not run", key)

    def claim(self, key: str) -> Job | None:
        """Take the queued, due job ``key`` for this process (None if it ended, runs
        elsewhere, is not due yet, or this process is stopping). A job cancelled while
        queued ends here."""
        if self._stopping:
            return None
        now = utcnow()
        with self.sessions() as s:
            job = s.scalar(select(Job).where(Job.key == key))
            if job is None or job.state != "queued":
                return None
            if job.not_before is not None and job.not_before > now:
                return None  # a message with its eta is on the queue
            if job.cancel_requested:
                self._end_queued(s, job, "cancelled before it started")
                return None
            res = s.execute(update(Job).where(Job.id == job.id, Job.state == "queued")
                            .values(state="running", owner=self.owner, lease_until=self.leases.until(),
                                    attempts=Job.attempts + 1, started_at=now, not_before=None,
                                    message="starting"))
            s.commit()
            if res.rowcount != 1:  # type: ignore[attr-defined]
                return None
            s.refresh(job)
        self.leases.hold(job.key)
        return job

    def execute(self, job: Job, observer: Observer | None = None,
                reraise: bool = False) -> tuple[Job, object]:
        """Run a job this process claimed, in the calling thread, and record how it
        ended. Returns the job as it is now and the body's ``Outcome.value``; with
        ``reraise``, the ReelhouseError that failed or cancelled it is raised after it
        is recorded (a crash as "internal error"; a Retry is not raised)."""
        spec = self.specs.get(job.kind)
        stop = _StopCheck(self, job)
        writer = ThrottledProgress(lambda counts, message: self._write(job, progress=counts, message=message),
                                   PROGRESS_EVERY, lambda: setattr(stop, "lost", True))

        def progress(counts: dict[str, int], message: str) -> None:
            if observer is not None:
                observer(counts, message)
            writer(counts, message)

        ctx = JobContext(job.id, job.key, job.kind, job.source_id, dict(job.payload or {}),
                         job.attempts, progress, stop, lambda: self._stopping)
        value: object = None
        try:
            if spec is None:
                raise ReelhouseError(f"no job kind {job.kind!r} in this process")
            result = spec.run(ctx)
        except Retry as exc:
            self._requeue(job, exc.message, exc.delay)
        except Cancelled as exc:
            if stop.lost:
                log.warning("job %s: taken over by another worker; stopped here", job.id)
            elif self._stopping and not stop.cancelled:
                self._requeue(job, "interrupted: the process running it stopped", None)
            else:
                self._end(job, "cancelled", error=exc.message)
            if reraise:
                raise
        except ReelhouseError as exc:
            self._end(job, "failed", error=exc.message)
            if reraise:
                raise
        except KeyboardInterrupt:  # Ctrl-C in a CLI command: the user stopped it
            self._end(job, "cancelled", error="interrupted (Ctrl-C)")
            raise
        except Exception as exc:
            if ctx.source_id is not None and not self._source_exists(ctx.source_id):
                # its source was removed under it (its rows went: FOREIGN KEY failed, stale
                # rows): the admin's act, not a crash
                log.info("job %s (%s) stopped: its source was removed (%s)", job.id, job.kind, exc)
                self._end(job, "cancelled", error=_SOURCE_REMOVED)
                if reraise:
                    raise Cancelled(_SOURCE_REMOVED) from exc
            else:
                log.exception("job %s (%s) crashed", job.id, job.kind)
                self._end(job, "failed", error=f"internal error: {exc}")
                if reraise:
                    raise ReelhouseError(f"internal error: {exc}") from exc
        else:
            out = result if isinstance(result, Outcome) else Outcome(dict(result or {}))
            value = out.value
            self._end(job, out.state, progress=out.counts, message=out.state, error=out.note)
        finally:
            writer.close()
            self.leases.release(job.key)
        return self.get(job.id), value

    def run_now(self, job_id: int, observer: Observer | None = None,
                follow: Callable[[Job], None] | None = None) -> Job:
        """Run a queued job in the calling thread (the CLI), retries included, and
        return it ended. If another process runs it, follow it (``follow(job)`` about
        every 0.3 s) until it ends.

        Raises the ReelhouseError that failed or cancelled it when that happened here
        (so the caller maps it by class); a job ended by another process is returned
        as it ended."""
        while True:
            job = self.get(job_id)
            if job.state in ENDED:
                return job
            if job.state == "queued":
                wait = (job.not_before - utcnow()).total_seconds() if job.not_before else 0.0
                if wait > 0:
                    time.sleep(min(wait, 1.0))
                    continue
                claimed = self.claim(job.key)
                if claimed is not None:
                    self.execute(claimed, observer, reraise=True)
                    continue
            if follow is not None:
                follow(job)
            time.sleep(0.3)

    # -- ending ------------------------------------------------------------------------
    def _write(self, job: Job, **values: Any) -> bool:
        """Update a job this process runs; false if it no longer does."""
        if values.get("error"):
            values["error"] = self.scrub(values["error"])
        with self.sessions() as s:
            res = s.execute(update(Job).where(Job.id == job.id, Job.owner == self.owner,
                                              Job.state == "running").values(**values))
            s.commit()
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    def _end(self, job: Job, state: str, **values: Any) -> None:
        if self._write(job, state=state, finished_at=utcnow(), owner=None, lease_until=None, **values):
            self._changed(self.get(job.id))

    def _requeue(self, job: Job, error: str, delay: float | None) -> None:
        not_before = utcnow() + timedelta(seconds=delay) if delay else None
        if self._write(job, state="queued", owner=None, lease_until=None, error=error,
                       not_before=not_before):
            fresh = self.get(job.id)
            self._changed(fresh)
            self._announce(fresh)


class _StopCheck:
    """``should_stop()`` of one running job: true on shutdown, once a cancel is asked,
    or once another process owns the job (read at most every :data:`CANCEL_POLL` s)."""

    def __init__(self, system: JobSystem, job: Job) -> None:
        self.system = system
        self.job_id = job.id
        self.at = 0.0
        self.cancelled = False
        self.lost = False

    def __call__(self) -> bool:
        if self.system._stopping or self.cancelled or self.lost:
            return True
        now = time.monotonic()
        if now - self.at >= CANCEL_POLL:
            self.at = now
            with self.system.sessions() as s:
                row = s.execute(select(Job.cancel_requested, Job.owner, Job.state)
                                .where(Job.id == self.job_id)).first()
            if row is None or row[1] != self.system.owner or row[2] != "running":
                self.lost = True
            elif row[0]:
                self.cancelled = True
        return self.cancelled or self.lost
