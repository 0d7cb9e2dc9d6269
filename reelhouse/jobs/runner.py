"""The job system of a reelhouse process (:class:`JobRunner`): the generic system of
jobs/system.py plus the library's own kind, the scan, and the schedule of rescans.

- Scans: one per source at a time (asking again while one is queued or running
  returns that job); ``reelhouse scan`` runs its scans itself (:meth:`run_scan_now`),
  never through the queue, and touches no other job.
- Scheduled rescans: a periodic task (every minute, in every consumer) queues a
  ``sync`` job (a scan whose report is kept, transfers/sync.py; a plain scan where no
  sync kind is registered) for each source whose interval (the source's
  ``scan_interval``, else ``scan_interval_minutes``) has passed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from huey import crontab
from huey.api import Huey
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.lookup import get_row
from reelhouse.db.models import Job, SourceRow, utcnow
from reelhouse.errors import NotFound, ReelhouseError
from reelhouse.jobs.probes import CHUNK, ProbeJobs
from reelhouse.jobs.system import CANCEL_POLL, JobSystem
from reelhouse.jobs.tasks import JobContext, Observer, Outcome, TaskSpec
from reelhouse.library.scanner import Enrich, ScanReport, scan_source
from reelhouse.sources.registry import SourceService

__all__ = ["CANCEL_POLL", "JobRunner"]

log = logging.getLogger(__name__)


class JobRunner(JobSystem):
    """``submit_scan(source_id)`` → Job row; ``get``, ``cancel``, ``recent``; the rest
    of the job system (jobs/system.py). Consumes nothing until ``start``."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        sources: SourceService,
        probe_budget: int,
        huey: Huey,
        *,
        lease: float = 60.0,
        scan_interval_minutes: int = 0,
        on_scan_done: Callable[[], None] | None = None,
        enrich: Enrich | None = None,
        probe_job_files: int = CHUNK,
    ) -> None:
        """``on_scan_done`` runs after every scan (e.g. to drop caches of file rows);
        ``enrich`` is the metadata hook passed to every scan (library/metadata);
        ``lease``: seconds (jobs/leases.py); ``probe_job_files``: files per probe job
        (phase 2 of a scan, jobs/probes.py)."""
        super().__init__(sessions, huey, lease=lease)
        self.on_scan_done = on_scan_done
        self.enrich = enrich
        self.sources = sources
        self.probe_budget = probe_budget
        self.scan_interval_minutes = scan_interval_minutes
        self.register(TaskSpec("scan", self._scan_body, unique=True))
        #: phase 2 of every scan (and sync): probe jobs shared by all consumers
        self.probes = ProbeJobs(self, sources, probe_budget, enrich, probe_job_files)
        huey.periodic_task(crontab(minute="*"), name="reelhouse.schedule")(self._schedule_task_body)

    # -- scans -------------------------------------------------------------------------
    def submit_scan(self, source_id: int) -> Job:
        """Queue a scan of a source (or return the one already queued/running).
        Raises NotFound for an unknown source."""
        self._check_source(source_id)
        return self.submit("scan", source_id=source_id)

    def run_scan_now(self, source_id: int, progress: Observer | None = None) -> ScanReport:
        """Scan in the calling thread (the CLI), recorded as a job of this process.
        Raises the scan's error (NotFound, SourceUnavailable, Cancelled…)."""
        self._check_source(source_id)
        job, report = self.run_here("scan", source_id=source_id, observer=progress, reraise=True)
        if isinstance(report, ScanReport):
            return report
        return ScanReport(errors=[job.error or f"scan ended {job.state}"])

    def _check_source(self, source_id: int) -> None:
        with self.sessions() as s:
            get_row(s, SourceRow, source_id, "source")

    def _scan_body(self, ctx: JobContext) -> Outcome:
        if ctx.source_id is None:
            raise NotFound("the source of this scan was removed")
        try:
            source = self.sources.source(ctx.source_id)
            report = scan_source(self.sessions, ctx.source_id, source, ctx.progress, self.probe_budget,
                                 should_stop=ctx.should_stop, enrich=self.enrich,
                                 phase2=self.probes.phase2(ctx))
        except ReelhouseError as exc:
            if not ctx.should_stop():
                self._set_source(ctx.source_id, last_error=exc.message, last_scan_at=utcnow())
            raise
        finally:
            if self.on_scan_done is not None:
                self.on_scan_done()
        # a scan whose folders could not all be listed is "partial" (or "failed"), never
        # "done": the failed folders are listed in the job's error and the source's
        state = report.outcome
        self._set_source(ctx.source_id, last_scan_at=utcnow(),
                         last_error=report.problem() if state != "done" else None)
        return Outcome(report.counts(), report.problem(), report, state=state)

    # -- schedule ----------------------------------------------------------------------
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
        """Queue a sync (or a scan, where no sync kind is registered) of every due
        source; returns their ids (the periodic task runs this every minute)."""
        kind = "sync" if "sync" in self.specs else "scan"
        due = self.due_sources(now)
        for source_id in due:
            self.submit(kind, source_id=source_id)
        return due

    def _schedule_task_body(self) -> None:
        due = self.run_schedule()
        if due:
            log.info("scheduled rescans queued for sources %s", due)

    def _set_source(self, source_id: int, **values: Any) -> None:
        if values.get("last_error"):
            values["last_error"] = self.scrub(values["last_error"])
        with self.sessions() as s:
            s.execute(update(SourceRow).where(SourceRow.id == source_id).values(**values))
            s.commit()
