"""Background jobs: scans (and, through :meth:`JobRunner.submit`, any other long work)
run as huey tasks, and keep their state and progress in the ``jobs`` table so the API,
the UI and the CLI can all show it, from any process.

- One scan per source at a time: asking again while one is queued or running returns
  that job.
- The queue is persistent (jobs/queue.py): a job queued when the server stops runs
  after it starts again. A job that was *running* in a process that died is marked
  failed when a consumer starts.
- Cancelling sets ``cancel_requested`` in the database: the process running the job
  (this one or a ``reelhouse worker``) sees it within :data:`CANCEL_POLL` seconds.
- Scheduled rescans: a periodic task (every minute) starts a sync (a scan with a kept
  report, transfers/sync.py) of each source whose interval (the source's
  ``scan_interval``, else ``scan_interval_minutes``) has passed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from huey import crontab
from huey.api import Huey
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import Job, SourceRow, utcnow
from reelhouse.errors import Cancelled, Conflict, NotFound, ReelhouseError
from reelhouse.jobs.queue import InProcessConsumer, start_consumer
from reelhouse.library.scanner import Enrich, ScanReport, scan_source
from reelhouse.sources.registry import SourceService

__all__ = ["CANCEL_POLL", "JobRunner", "Task"]

log = logging.getLogger(__name__)

#: Seconds between two looks at a running job's ``cancel_requested`` flag.
CANCEL_POLL = 0.5

Progress = Callable[[dict[str, int], str], None]

#: Generic work for :meth:`JobRunner.submit_task`: ``work(progress, should_stop)`` →
#: final counts; ``progress(counts, message)`` may be called often (writes are throttled).
Task = Callable[[Progress, Callable[[], bool]], dict[str, int]]


class JobRunner:
    """``submit_scan(source_id)`` → Job row; ``get(job_id)``; ``cancel(job_id)``.

    ``consume``: run the queue's tasks in this process (worker threads + scheduler);
    false in a web server whose jobs run in ``reelhouse worker`` processes.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        sources: SourceService,
        probe_budget: int,
        huey: Huey,
        *,
        workers: int = 2,
        consume: bool = True,
        scan_interval_minutes: int = 0,
        on_scan_done: Callable[[], None] | None = None,
        enrich: Enrich | None = None,
    ) -> None:
        """``on_scan_done`` runs after every scan (e.g. to drop caches of file rows);
        ``enrich`` is the metadata hook passed to every scan (library/metadata)."""
        self.on_scan_done = on_scan_done
        self.enrich = enrich
        #: what the schedule does with a due source: a scan job by default; Core makes
        #: it a sync (a scan whose report is kept in the sync history)
        self.schedule_action: Callable[[int], object] = self.submit_scan
        self.sessions = sessions
        self.sources = sources
        self.probe_budget = probe_budget
        self.scan_interval_minutes = scan_interval_minutes
        self.huey = huey
        self._lock = threading.Lock()
        self._stopping = False
        self._scan_task = huey.task(name="reelhouse.scan")(self._scan_task_body)
        huey.periodic_task(crontab(minute="*"), name="reelhouse.schedule")(self._schedule_task_body)
        self._consumer: InProcessConsumer | None = None
        self._tasks = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="task")
        if consume:
            self.start(workers)

    # -- consumer ----------------------------------------------------------------------
    def start(self, workers: int) -> None:
        """Mark jobs left running by a dead process failed (and in-process tasks left
        queued: their work died with the process) and start consuming."""
        with self.sessions() as s:
            s.execute(
                update(Job)
                .where((Job.state == "running") | ((Job.state == "queued") & (Job.kind != "scan")))
                .values(state="failed", error="interrupted: the process running it stopped", finished_at=utcnow())
            )
            s.commit()
        self._consumer = start_consumer(self.huey, workers)

    def run_worker(self, workers: int) -> None:
        """Consume in the foreground until SIGINT/SIGTERM (``reelhouse worker``).

        Unlike :meth:`start`, it marks no running job failed: other workers may be
        running them right now."""
        from huey.consumer import Consumer

        Consumer(self.huey, workers=workers, worker_type="thread", periodic=True, max_delay=1.0).run()

    def close(self) -> None:
        """Ask running jobs to stop and wait for them (queued ones stay queued)."""
        self._stopping = True
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
            self._consumer = None
        self._tasks.shutdown(wait=True, cancel_futures=True)

    # -- reading -----------------------------------------------------------------------
    def get(self, job_id: int) -> Job:
        with self.sessions() as s:
            job = s.get(Job, job_id)
            if job is None:
                raise NotFound(f"no job with id {job_id}")
            return job

    def recent(self, limit: int = 20) -> list[Job]:
        with self.sessions() as s:
            return list(s.scalars(select(Job).order_by(Job.id.desc()).limit(limit)))

    # -- scans -------------------------------------------------------------------------
    def submit_scan(self, source_id: int) -> Job:
        """Queue a scan of a source (or return the one already queued/running).
        Raises NotFound for an unknown source."""
        with self._lock, self.sessions() as s:
            if s.get(SourceRow, source_id) is None:
                raise NotFound(f"no source with id {source_id}")
            active = s.scalar(
                select(Job).where(
                    Job.source_id == source_id,
                    Job.kind == "scan",
                    Job.state.in_(("queued", "running")),
                )
            )
            if active is not None:
                return active
            job = Job(kind="scan", source_id=source_id, state="queued", progress={})
            s.add(job)
            s.commit()
        self._scan_task(job.id, source_id)
        return job

    def cancel(self, job_id: int) -> Job:
        """Ask a queued or running job to stop; raises NotFound, or Conflict when it has
        ended already. A scan stops at the next folder or file and marks nothing missing."""
        with self.sessions() as s:
            job = s.get(Job, job_id)
            if job is None:
                raise NotFound(f"no job with id {job_id}")
            if job.state not in ("queued", "running"):
                raise Conflict(f"job {job_id} has ended already ({job.state})")
            job.cancel_requested = True
            s.commit()
            return job

    def run_scan_now(self, source_id: int, progress: Progress | None = None) -> ScanReport:
        """Scan in the calling thread (the CLI), recording a job row as well."""
        with self.sessions() as s:
            if s.get(SourceRow, source_id) is None:
                raise NotFound(f"no source with id {source_id}")
            job = Job(kind="scan", source_id=source_id, state="queued", progress={})
            s.add(job)
            s.commit()
        return self._run_scan(job.id, source_id, progress, reraise=True)

    def due_sources(self, now: datetime | None = None) -> list[int]:
        """Ids of the sources whose scan interval has passed since their last scan."""
        now = now or utcnow()
        due = []
        with self.sessions() as s:
            for row in s.scalars(select(SourceRow)):
                minutes = row.scan_interval if row.scan_interval is not None else self.scan_interval_minutes
                if minutes <= 0:
                    continue
                if row.last_scan_at is None or now - row.last_scan_at >= timedelta(minutes=minutes):
                    due.append(row.id)
        return due

    def run_schedule(self, now: datetime | None = None) -> list[int]:
        """Start :attr:`schedule_action` (a scan, or a sync) for every due source;
        returns their ids (the periodic task runs this every minute)."""
        due = self.due_sources(now)
        for source_id in due:
            try:
                self.schedule_action(source_id)
            except NotFound:  # removed meanwhile
                continue
        return due

    # -- task bodies -------------------------------------------------------------------
    def _scan_task_body(self, job_id: int, source_id: int) -> None:
        self._run_scan(job_id, source_id)

    def _schedule_task_body(self) -> None:
        due = self.run_schedule()
        if due:
            log.info("scheduled rescans queued for sources %s", due)

    def _stop_check(self, job_id: int) -> Callable[[], bool]:
        """A ``should_stop`` for a job: true on shutdown or once cancel is requested
        (the flag is read at most every :data:`CANCEL_POLL` seconds)."""
        state = {"at": 0.0, "stop": False}

        def should_stop() -> bool:
            if self._stopping:
                return True
            now = time.monotonic()
            if not state["stop"] and now - state["at"] >= CANCEL_POLL:
                state["at"] = now
                with self.sessions() as s:
                    state["stop"] = bool(s.scalar(select(Job.cancel_requested).where(Job.id == job_id)))
            return bool(state["stop"])

        return should_stop

    def _run_scan(
        self,
        job_id: int,
        source_id: int,
        extra: Progress | None = None,
        reraise: bool = False,
    ) -> ScanReport:
        should_stop = self._stop_check(job_id)
        with self.sessions() as s:
            job = s.get(Job, job_id)
            if job is None or job.state != "queued":  # removed, or handled elsewhere
                return ScanReport(errors=["not queued"])
            if job.cancel_requested:
                job.state, job.error, job.finished_at = "cancelled", "cancelled before it started", utcnow()
                s.commit()
                return ScanReport(errors=["cancelled"])
            job.state, job.started_at, job.message = "running", utcnow(), "starting"
            s.commit()
        last = 0.0

        def progress(counts: dict[str, int], message: str) -> None:
            nonlocal last
            if extra is not None:
                extra(counts, message)
            now = time.monotonic()
            if now - last > 0.5 or message == "done":
                last = now
                self._set(job_id, progress=counts, message=message)

        try:
            source = self.sources.source(source_id)
            report = scan_source(
                self.sessions, source_id, source, progress, self.probe_budget, should_stop=should_stop,
                enrich=self.enrich,
            )
        except Cancelled as exc:
            self._set(job_id, state="cancelled", error=exc.message, finished_at=utcnow())
            if reraise:
                raise
            return ScanReport(errors=[exc.message])
        except ReelhouseError as exc:
            self._set(job_id, state="failed", error=exc.message, finished_at=utcnow())
            self._set_source(source_id, last_error=exc.message, last_scan_at=utcnow())
            if reraise:
                raise
            return ScanReport(errors=[exc.message])
        except Exception as exc:
            log.exception("scan job %s crashed", job_id)
            self._set(job_id, state="failed", error=f"internal error: {exc}", finished_at=utcnow())
            if reraise:
                raise
            return ScanReport(errors=[str(exc)])
        finally:
            self._scan_done()
        # a scan whose folders could not all be listed is "partial" (or "failed"), never
        # "done": the failed folders are listed in the job's error and the source's
        state = report.outcome
        self._set(job_id, state=state, progress=report.counts(), message=state,
                  error=report.problem(), finished_at=utcnow())
        self._set_source(source_id, last_scan_at=utcnow(),
                         last_error=report.problem() if state != "done" else None)
        return report

    # -- generic work (e.g. HLS "prepare for streaming") ---------------------------------
    def submit_task(self, kind: str, work: Task) -> Job:
        """Queue ``work(progress, should_stop)`` as a job of ``kind`` with persistent
        progress. ``work`` returns its final counts; a ReelhouseError fails the job with
        its message, Cancelled (or ``should_stop()`` honoured) cancels it.

        Unlike scans, such work is a closure over this process's services (e.g. HLS
        encoders), so it runs on a thread pool of this process, not on the huey queue;
        a restart fails it (``start`` marks it interrupted)."""
        with self.sessions() as s:
            job = Job(kind=kind, state="queued", progress={})
            s.add(job)
            s.commit()
        self._tasks.submit(self._run_task, job.id, work)
        return job

    def _run_task(self, job_id: int, work: Task) -> None:
        should_stop = self._stop_check(job_id)
        if should_stop():
            self._set(job_id, state="cancelled", error="cancelled before it started", finished_at=utcnow())
            return
        self._set(job_id, state="running", started_at=utcnow(), message="starting")
        last = 0.0

        def progress(counts: dict[str, int], message: str) -> None:
            nonlocal last
            if time.monotonic() - last > 0.5:
                last = time.monotonic()
                self._set(job_id, progress=dict(counts), message=message)

        try:
            counts = work(progress, should_stop)
        except Cancelled as exc:
            self._set(job_id, state="cancelled", error=exc.message, finished_at=utcnow())
        except ReelhouseError as exc:
            self._set(job_id, state="failed", error=exc.message, finished_at=utcnow())
        except Exception as exc:
            log.exception("job %s crashed", job_id)
            self._set(job_id, state="failed", error=f"internal error: {exc}", finished_at=utcnow())
        else:
            self._set(job_id, state="done", progress=dict(counts), message="done", finished_at=utcnow())

    def _scan_done(self) -> None:
        if self.on_scan_done is not None:
            self.on_scan_done()

    def _set(self, job_id: int, **values: Any) -> None:
        with self.sessions() as s:
            s.execute(update(Job).where(Job.id == job_id).values(**values))
            s.commit()

    def _set_source(self, source_id: int, **values: Any) -> None:
        with self.sessions() as s:
            s.execute(update(SourceRow).where(SourceRow.id == source_id).values(**values))
            s.commit()
