"""Sync: compare a source with the library and keep the report (``sync_runs``); a
``sync`` job of the job system (jobs/), queued by the API and the schedule, or run
by ``reelhouse sync`` itself.

The comparison is the scanner's (``library/scanner.py``): it adds new files, updates
changed ones, and marks files missing (a soft delete) only after a complete listing
of their folder no longer shows them. A source that cannot be listed gives a failed
run with the error, and nothing is marked deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.lookup import get_row
from reelhouse.db.models import Job, SourceRow, SyncRun, utcnow
from reelhouse.errors import Cancelled, NotFound, ReelhouseError
from reelhouse.jobs.system import JobSystem
from reelhouse.jobs.tasks import JobContext, Outcome, TaskSpec
from reelhouse.library.scanner import Enrich, Phase2, scan_source
from reelhouse.sources.registry import SourceService

__all__ = ["SyncService", "run_sync"]

log = logging.getLogger(__name__)


class _HasSyncs(Protocol):
    syncs: SyncService


def run_sync(core: _HasSyncs, source_id: int) -> SyncRun:
    """Sync one source now, in the calling thread; returns the ended run.

    Raises NotFound for an unknown source; every other failure is recorded in the run
    (state ``failed``, ``errors``) and returned, so a scheduler can call this blindly.
    """
    return core.syncs.run_now(source_id)


class SyncService:
    """Syncs (one per source at a time, as jobs of kind ``sync``) and their history.

    ``after_scan()`` runs after every sync (e.g. drop cached file sizes);
    ``files_updated()`` after a sync that saw files change (e.g. refresh offline
    copies of older versions); ``phase2(ctx)``: the scanner's phase-2 hook for the sync
    job ``ctx`` (jobs/probes.py), else a sync probes in its own thread."""

    def __init__(self, sessions: sessionmaker[Session], sources: SourceService, jobs: JobSystem,
                 probe_budget: int, enrich: Enrich | None = None,
                 after_scan: Callable[[], None] | None = None,
                 files_updated: Callable[[], object] | None = None,
                 phase2: Callable[[JobContext], Phase2] | None = None) -> None:
        self.sessions = sessions
        self.sources = sources
        self.jobs = jobs
        self.probe_budget = probe_budget
        self.enrich = enrich
        self.after_scan = after_scan
        self.files_updated = files_updated
        self.phase2 = phase2  # probes and metadata as jobs (jobs/probes.py); else in the sync
        jobs.register(TaskSpec("sync", self._body, on_submit=self._open_run,
                               on_change=self._job_changed, unique=True))

    def start(self, source_id: int) -> SyncRun:
        """Queue a sync (or return the run of the one queued or running for the
        source). Raises NotFound for an unknown source."""
        self._check(source_id)
        return self._run_of(self.jobs.submit("sync", source_id=source_id))

    def run_now(self, source_id: int) -> SyncRun:
        """Sync in the calling thread (``reelhouse sync``); returns the ended run."""
        self._check(source_id)
        job, _ = self.jobs.run_here("sync", source_id=source_id)
        return self._run_of(job)

    def get(self, run_id: int) -> SyncRun:
        with self.sessions() as s:
            return get_row(s, SyncRun, run_id, "sync run")

    def history(self, source_id: int | None = None, limit: int = 50) -> list[SyncRun]:
        with self.sessions() as s:
            q = select(SyncRun)
            if source_id is not None:
                q = q.where(SyncRun.source_id == source_id)
            return list(s.scalars(q.order_by(SyncRun.id.desc()).limit(limit)))

    # -- the job -----------------------------------------------------------------------
    def _check(self, source_id: int) -> None:
        with self.sessions() as s:
            get_row(s, SourceRow, source_id, "source")

    def _run_of(self, job: Job) -> SyncRun:
        with self.sessions() as s:
            run = s.scalar(select(SyncRun).where(SyncRun.job_id == job.id))
            if run is None:
                raise NotFound(f"no sync run of job {job.id}")
            return run

    @staticmethod
    def _open_run(s: Session, job: Job) -> None:
        if job.source_id is None:
            raise NotFound("a sync needs a source")
        s.add(SyncRun(source_id=job.source_id, state="running", errors=[], added=0, updated=0,
                      deleted=0, restored=0, unchanged=0, job_id=job.id))

    def _body(self, ctx: JobContext) -> Outcome:
        if ctx.source_id is None:
            raise NotFound("the source of this sync was removed")
        try:
            source = self.sources.source(ctx.source_id)
            report = scan_source(self.sessions, ctx.source_id, source, ctx.progress,
                                 self.probe_budget, should_stop=ctx.should_stop, enrich=self.enrich,
                                 phase2=self.phase2(ctx) if self.phase2 is not None else None)
        except Cancelled:
            raise
        except ReelhouseError as exc:
            self._note_source(ctx.source_id, last_error=exc.message)
            raise  # the job fails; _job_changed writes the run
        finally:
            if self.after_scan is not None:
                self.after_scan()
        state = report.outcome  # done, or partial/failed: folders could not be listed
        self._note_source(ctx.source_id, last_scan_at=utcnow(),
                          last_error=report.problem() if state != "done" else None)
        if self.files_updated is not None and report.updated:
            self.files_updated()
        self._finish(ctx.job_id, state=state, added=report.added, updated=report.updated,
                     deleted=report.missing, restored=report.restored,
                     unchanged=report.unchanged, errors=report.errors[:100])
        return Outcome(report.counts(), report.problem(), state=state)

    def _job_changed(self, job: Job) -> None:
        """A sync job that ended other than through its body (failed, cancelled, given
        up) ends its run ``failed`` with the job's error."""
        if job.state in ("failed", "cancelled"):
            self._finish(job.id, state="failed", errors=[job.error or f"sync {job.state}"])

    def _finish(self, job_id: int, **values: object) -> None:
        errors = values.get("errors")
        if isinstance(errors, list):
            values["errors"] = [self.jobs.scrub(str(e)) for e in errors]
        with self.sessions() as s:
            s.execute(update(SyncRun).where(SyncRun.job_id == job_id, SyncRun.state == "running")
                      .values(finished_at=utcnow(), **values))
            s.commit()

    def _note_source(self, source_id: int, **values: object) -> None:
        if isinstance(values.get("last_error"), str):
            values["last_error"] = self.jobs.scrub(str(values["last_error"]))
        with self.sessions() as s:
            s.execute(update(SourceRow).where(SourceRow.id == source_id).values(**values))
            s.commit()
