"""The jobs as the API, the UI and the CLI see them: read one (:meth:`JobBoard.get`),
list the latest (:meth:`JobBoard.recent`), cancel one or every job of a source, and the
kinds' ``on_change`` hooks that every state change goes through.

:class:`~reelhouse.jobs.system.JobSystem` is a :class:`JobBoard` that also submits,
claims and runs jobs (jobs/system.py); this module writes nothing but a cancel.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.lookup import get_row
from reelhouse.db.models import Job, SourceRow, utcnow
from reelhouse.errors import Conflict, NotFound
from reelhouse.jobs.tasks import TaskSpec

__all__ = ["ENDED", "JobBoard"]

log = logging.getLogger(__name__)

#: The states a job ends in.
ENDED = ("done", "partial", "failed", "cancelled")


class JobBoard:
    """Read and cancel the rows of ``jobs`` through ``sessions``; ``specs``: the kinds
    registered in this process, by name (their ``listed`` and ``on_change``)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.specs: dict[str, TaskSpec] = {}

    def get(self, job_id: int) -> Job:
        """The job ``job_id`` as it is now. Raises NotFound."""
        with self.sessions() as s:
            return get_row(s, Job, job_id, "job")

    def recent(self, limit: int = 20, kinds: tuple[str, ...] | None = None) -> list[Job]:
        """The latest jobs, newest first (of ``kinds`` only, if given; else of the
        ``listed`` kinds)."""
        with self.sessions() as s:
            q = select(Job)
            if kinds is not None:
                q = q.where(Job.kind.in_(kinds))
            else:
                q = q.where(Job.kind.not_in([k for k, spec in self.specs.items() if not spec.listed]))
            return list(s.scalars(q.order_by(Job.id.desc()).limit(limit)))

    def _source_exists(self, source_id: int) -> bool:
        with self.sessions() as s:
            return s.get(SourceRow, source_id) is not None

    def cancel_of_source(self, source_id: int) -> int:
        """Cancel every queued or running job of source ``source_id`` (a source being
        removed: its scans, syncs and probes stop at their next check, see
        :meth:`cancel`); returns how many."""
        with self.sessions() as s:
            ids = list(s.scalars(select(Job.id).where(Job.source_id == source_id, Job.state.not_in(ENDED))))
        done = 0
        for job_id in ids:
            try:
                self.cancel(job_id)
                done += 1
            except (Conflict, NotFound):  # ended meanwhile
                continue
        return done

    def cancel(self, job_id: int) -> Job:
        """Cancel a job: a queued one ends ``cancelled`` now, a running one is asked to
        stop. Raises NotFound, or Conflict when it has ended already."""
        with self.sessions() as s:
            job = get_row(s, Job, job_id, "job")
            if job.state in ENDED:
                raise Conflict(f"job {job_id} has ended already ({job.state})")
            s.execute(update(Job).where(Job.id == job_id).values(cancel_requested=True))
            s.commit()
            s.refresh(job)
            if job.state == "queued":
                self._end_queued(s, job, "cancelled before it started")
            return job

    def _end_queued(self, s: Session, job: Job, error: str) -> None:
        """End the queued ``job`` ``cancelled`` with ``error`` (if it is still queued)."""
        res = s.execute(update(Job).where(Job.id == job.id, Job.state == "queued")
                        .values(state="cancelled", error=error, finished_at=utcnow()))
        s.commit()
        if res.rowcount == 1:  # type: ignore[attr-defined]
            s.refresh(job)
            self._changed(job)

    def _changed(self, job: Job) -> None:
        """Tell ``job``'s kind that its row changed (its ``on_change``; a failing hook
        is logged, never raised)."""
        spec = self.specs.get(job.kind)
        if spec is not None and spec.on_change is not None:
            try:
                spec.on_change(job)
            except Exception:
                log.exception("job %s: on_change of %s failed", job.id, job.kind)
