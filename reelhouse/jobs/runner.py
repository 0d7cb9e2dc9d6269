"""Runs scans in background threads and keeps their progress in the ``jobs`` table so
the API, the UI and the CLI can all show it.

One scan per source at a time: asking again while one is queued or running returns the
running job. Jobs left running by a process that died are marked failed at start-up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import Job, SourceRow, utcnow
from reelhouse.errors import Cancelled, Conflict, NotFound, ReelhouseError
from reelhouse.library.scanner import ScanReport, scan_source
from reelhouse.library.sources import SourceService

__all__ = ["JobRunner", "Task"]

log = logging.getLogger(__name__)

#: Generic work for :meth:`JobRunner.submit_task`: ``work(progress, should_stop)`` →
#: final counts; ``progress(counts, message)`` may be called often (writes are throttled).
Task = Callable[[Callable[[dict[str, int], str], None], Callable[[], bool]], dict[str, int]]


class JobRunner:
    """``submit_scan(source_id)`` → job id; ``get(job_id)`` → the Job row."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        sources: SourceService,
        probe_budget: int,
        workers: int = 2,
        on_scan_done: Callable[[], None] | None = None,
    ) -> None:
        """``on_scan_done`` runs after every scan (e.g. to drop caches of file rows)."""
        self.on_scan_done = on_scan_done
        self.sessions = sessions
        self.sources = sources
        self.probe_budget = probe_budget
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._lock = threading.Lock()
        self._stopping = False
        self._cancelled: set[int] = set()
        with sessions() as s:
            s.execute(
                update(Job)
                .where(Job.state.in_(("queued", "running")))
                .values(state="failed", error="interrupted: the server stopped", finished_at=utcnow())
            )
            s.commit()

    def get(self, job_id: int) -> Job:
        with self.sessions() as s:
            job = s.get(Job, job_id)
            if job is None:
                raise NotFound(f"no job with id {job_id}")
            return job

    def recent(self, limit: int = 20) -> list[Job]:
        with self.sessions() as s:
            return list(s.scalars(select(Job).order_by(Job.id.desc()).limit(limit)))

    def submit_scan(self, source_id: int) -> Job:
        """Queue a scan of a source (or return the one already queued/running)."""
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
        self._pool.submit(self._run_scan, job.id, source_id)
        return job

    def cancel(self, job_id: int) -> Job:
        """Ask a queued or running job to stop; raises NotFound, or Conflict when it has
        ended already. A scan stops at the next folder or file and marks nothing missing."""
        job = self.get(job_id)
        if job.state not in ("queued", "running"):
            raise Conflict(f"job {job_id} has ended already ({job.state})")
        self._cancelled.add(job_id)
        return job

    def run_scan_now(
        self, source_id: int, progress: Callable[[dict[str, int], str], None] | None = None
    ) -> ScanReport:
        """Scan in the calling thread (the CLI), recording a job row as well."""
        with self.sessions() as s:
            job = Job(kind="scan", source_id=source_id, state="queued", progress={})
            s.add(job)
            s.commit()
        return self._run_scan(job.id, source_id, progress, reraise=True)

    def _run_scan(
        self,
        job_id: int,
        source_id: int,
        extra: Callable[[dict[str, int], str], None] | None = None,
        reraise: bool = False,
    ) -> ScanReport:
        if job_id in self._cancelled:
            self._set(job_id, state="cancelled", error="cancelled before it started", finished_at=utcnow())
            return ScanReport(errors=["cancelled"])
        self._set(job_id, state="running", started_at=utcnow(), message="starting")
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
                self.sessions, source_id, source, progress, self.probe_budget,
                should_stop=lambda: self._stopping or job_id in self._cancelled,
            )
        except Cancelled as exc:
            self._set(job_id, state="cancelled", error=exc.message, finished_at=utcnow())
            if reraise:
                raise
            return ScanReport(errors=[exc.message])
        except ReelhouseError as exc:
            self._set(job_id, state="failed", error=exc.message, finished_at=utcnow())
            self._set_source(source_id, last_error=exc.message)
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
        summary = "; ".join(report.errors[:5]) or None
        self._set(job_id, state="done", progress=report.counts(), message="done",
                  error=summary, finished_at=utcnow())
        self._set_source(source_id, last_scan_at=utcnow(), last_error=None)
        return report

    # -- generic work (e.g. HLS "prepare for streaming") ---------------------------------
    def submit_task(self, kind: str, work: Task) -> Job:
        """Queue ``work(progress, should_stop)`` as a job of ``kind`` with persistent
        progress. ``work`` returns its final counts; a ReelhouseError fails the job with
        its message, Cancelled (or ``should_stop()`` honoured) cancels it."""
        with self.sessions() as s:
            job = Job(kind=kind, state="queued", progress={})
            s.add(job)
            s.commit()
        self._pool.submit(self._run_task, job.id, work)
        return job

    def _run_task(self, job_id: int, work: Task) -> None:
        if job_id in self._cancelled:
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
            counts = work(progress, lambda: self._stopping or job_id in self._cancelled)
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

    def _set(self, job_id: int, **values: object) -> None:
        with self.sessions() as s:
            s.execute(update(Job).where(Job.id == job_id).values(**values))
            s.commit()

    def _set_source(self, source_id: int, **values: object) -> None:
        with self.sessions() as s:
            s.execute(update(SourceRow).where(SourceRow.id == source_id).values(**values))
            s.commit()

    def close(self) -> None:
        """Ask running scans to stop and wait for them."""
        self._stopping = True
        self._pool.shutdown(wait=True, cancel_futures=True)
