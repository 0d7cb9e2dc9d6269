"""Phase 2 of a scan as jobs (issue 14): the probes, fingerprints and metadata of the
files phase 1 indexed (library/scanner.py, library/probing.py), in jobs of kind
``probe`` of :data:`CHUNK` files each, so every consumer — ``reelhouse serve``'s
threads and every ``reelhouse worker`` — takes a share.

- The scan queues them (low priority, :data:`PRIORITY`: a transfer, a prepare or
  another scan queued meanwhile runs first) and stays running until all of them ended:
  it runs queued ones itself (so a CLI scan with no consumer anywhere still ends),
  follows those others run, and shows the sum of their progress. Its report says what
  phase 1 found and what phase 2 did; a failed probe is one error line, never a stop.
- A worker that dies mid-job: its probe job's lease passes and the job runs again
  (the reaper of any consumer, or the scan itself, which takes back its own jobs);
  files it probed already are skipped without a read (library/probing.py).
- A scan that runs again (its own worker died) finds its queued and running probe
  jobs by the scan job's id in their payload and does not queue their files twice.
- Bounded per source: in one process, the probe jobs of a source share one semaphore
  of the prefetch's size (an FTP source's pool size minus one: one connection stays
  free for streams), however many of them run at once.
- Cancel: a cancelled scan cancels its probe jobs; a stopping process leaves them
  queued for the next consumer (the scan is queued again and finds them).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import Job, MediaFile, utcnow
from reelhouse.errors import Cancelled, Conflict, NotFound
from reelhouse.jobs.board import ENDED
from reelhouse.jobs.system import JobSystem
from reelhouse.jobs.tasks import JobContext, Outcome, TaskSpec
from reelhouse.library.prefetch import workers_for
from reelhouse.library.probing import Enrich, Pending, probe_files, sidecars_from_json, sidecars_to_json
from reelhouse.library.scanner import Phase2, Progress, ScanReport
from reelhouse.sources.base import Source
from reelhouse.sources.registry import SourceService

__all__ = ["CHUNK", "KIND", "PRIORITY", "ProbeJobs"]

log = logging.getLogger(__name__)

KIND = "probe"
#: Files per probe job: a few seconds of work, so a worker is soon free for other jobs.
CHUNK = 200
#: Queue priority of probe jobs (higher runs first; transfers, scans and prepares use 0).
PRIORITY = -10
#: Error lines a probe job keeps (its ``error``, one line per file).
ERROR_LINES = 50
#: Seconds between two looks of the scan at its probe jobs while others run them.
POLL = 0.25


class ProbeJobs:
    """The ``probe`` kind and the scan's side of it (:meth:`phase2`)."""

    def __init__(self, system: JobSystem, sources: SourceService, probe_budget: int,
                 enrich: Enrich | None = None, chunk: int = CHUNK) -> None:
        """``probe_budget``: bytes one probe may read; ``chunk``: files per job."""
        self.system = system
        self.sessions: sessionmaker[Session] = system.sessions
        self.sources = sources
        self.probe_budget = probe_budget
        self.enrich = enrich
        self.chunk = chunk
        self._gates: dict[int, threading.Semaphore] = {}
        self._lock = threading.Lock()
        system.register(TaskSpec(KIND, self._body, listed=False))

    def gate(self, source_id: int, source: Source) -> threading.Semaphore:
        """The semaphore that bounds this process's reads of ``source_id``'s files."""
        with self._lock:
            gate = self._gates.get(source_id)
            if gate is None:
                gate = self._gates[source_id] = threading.BoundedSemaphore(workers_for(source))
            return gate

    # -- a probe job -----------------------------------------------------------------
    def _body(self, ctx: JobContext) -> Outcome:
        if ctx.source_id is None:
            raise NotFound("the source of these files was removed")
        source = self.sources.source(ctx.source_id)
        work = Pending([int(i) for i in ctx.payload.get("probe", [])],
                       [int(i) for i in ctx.payload.get("enrich", [])],
                       sidecars_from_json(ctx.payload.get("sidecars") or {}))
        got = probe_files(self.sessions, ctx.source_id, source, work, budget=self.probe_budget,
                          enrich=self.enrich, should_stop=ctx.should_stop, progress=ctx.progress,
                          gate=self.gate(ctx.source_id, source))
        return Outcome(got.counts(), "\n".join(got.errors[:ERROR_LINES]) or None)

    # -- the scan's side ---------------------------------------------------------------
    def phase2(self, scan: JobContext) -> Phase2:
        """The scanner's phase-2 hook for the scan job ``scan``."""
        def run(pending: Pending, report: ScanReport, notify: Progress) -> None:
            self.run(scan, pending, report, notify)
        return run

    def run(self, scan: JobContext, pending: Pending, report: ScanReport, notify: Progress) -> None:
        """Queue ``pending`` as probe jobs of the scan ``scan`` and see them all end
        (running queued ones here); adds what they did to ``report``. Raises Cancelled
        when the scan stops (its probe jobs are cancelled, unless this process stops)."""
        assert scan.source_id is not None
        jobs = self._active(scan.job_id, scan.source_id)
        covered = {int(i) for job in jobs for key in ("probe", "enrich") for i in (job.payload or {}).get(key, [])}
        ids = [i for i in pending.ids() if i not in covered]
        if jobs and ids:  # run again: a job of the first run may have ended since phase 1 read the rows
            ids = self._still_unprobed(ids, set(pending.enrich))
        if ids:
            jobs += self.system.submit_many(KIND, self._payloads(scan.job_id, pending, ids),
                                            source_id=scan.source_id, priority=PRIORITY)
        chunk_ids = [job.id for job in jobs]
        notify(report.counts(), f"probing {report.to_probe} files in {len(chunk_ids)} jobs")
        try:
            rows = self._see_through(scan, chunk_ids, report, notify)
        except Cancelled:
            if not scan.shutting_down():
                self._cancel(chunk_ids)
            raise
        for row in rows:
            counts = row.progress or {}
            report.probe_done += int(counts.get("done", 0))
            report.probed += int(counts.get("probed", 0))
            report.matched += int(counts.get("matched", 0))
            report.unreadable += int(counts.get("failed", 0))
            if row.state == "done":
                lines = [line for line in (row.error or "").split("\n") if line]
                report.errors.extend(lines)
                report.errors_unlisted += max(0, int(counts.get("errors", 0)) - len(lines))
            else:
                report.errors.append(f"probe job {row.id} {row.state}: {row.error or 'no reason given'}")

    def _see_through(self, scan: JobContext, chunk_ids: list[int], report: ScanReport,
                     notify: Progress) -> list[Any]:
        """Run or follow the jobs ``chunk_ids`` until each ended; returns them ended."""
        while True:
            if scan.should_stop():
                raise Cancelled(f"scan cancelled while probing ({report.to_probe} files queued)")
            rows = self._rows(chunk_ids)
            queued = [r for r in rows if r.state == "queued" and (r.not_before is None or r.not_before <= utcnow())]
            running = [r for r in rows if r.state == "running"]
            self._note(rows, report, notify, len(running), len(queued))
            if queued:
                claimed = self.system.claim(queued[0].key)
                if claimed is not None:
                    self.system.execute(claimed)
                continue
            if not running and all(r.state in ENDED for r in rows):
                return rows
            now = utcnow()
            lapsed = [r for r in running if r.lease_until is None or r.lease_until < now]
            for r in lapsed:  # its worker died; no consumer may be there to reap it
                self.system.leases.take_back(r.id)
            if not lapsed:
                time.sleep(POLL)

    def _note(self, rows: list[Any], report: ScanReport, notify: Progress, running: int, queued: int) -> None:
        counts = report.counts()
        done = sum(int((r.progress or {}).get("done", 0)) for r in rows)
        counts.update(probe_done=report.probe_done + done,
                      probed=report.probed + sum(int((r.progress or {}).get("probed", 0)) for r in rows),
                      matched=report.matched + sum(int((r.progress or {}).get("matched", 0)) for r in rows),
                      errors=counts["errors"] + sum(int((r.progress or {}).get("errors", 0)) for r in rows))
        notify(counts, f"probing: {counts['probe_done']} of {report.to_probe} files "
                       f"({running} jobs running, {queued} queued)")

    def _payloads(self, scan_id: int, pending: Pending, ids: list[int]) -> list[dict[str, Any]]:
        paths = self._paths(ids)
        probe, enrich = set(pending.probe), set(pending.enrich)
        out = []
        for start in range(0, len(ids), self.chunk):
            part = ids[start:start + self.chunk]
            out.append({"scan": scan_id, "probe": [i for i in part if i in probe],
                        "enrich": [i for i in part if i in enrich],
                        "sidecars": sidecars_to_json(pending.sidecars, (paths[i] for i in part if i in paths))})
        return out

    def _still_unprobed(self, ids: list[int], enrich: set[int]) -> list[int]:
        """``ids`` without the files probed meanwhile (but those whose titles to enrich)."""
        keep = enrich.intersection(ids)
        with self.sessions() as s:
            for start in range(0, len(ids), 500):
                keep.update(s.scalars(select(MediaFile.id).where(
                    MediaFile.id.in_(ids[start:start + 500]),
                    or_(MediaFile.container.is_(None),
                        MediaFile.probe_bytes.is_(None) & MediaFile.probe_error.is_(None)))))
        return [i for i in ids if i in keep]

    def _paths(self, ids: Iterable[int]) -> dict[int, str]:
        wanted = list(ids)
        found: dict[int, str] = {}
        with self.sessions() as s:
            for start in range(0, len(wanted), 500):
                for file_id, path in s.execute(select(MediaFile.id, MediaFile.path)
                                               .where(MediaFile.id.in_(wanted[start:start + 500]))):
                    found[file_id] = path
        return found

    def _active(self, scan_id: int, source_id: int) -> list[Job]:
        """The queued and running probe jobs of scan job ``scan_id`` (a scan run again)."""
        with self.sessions() as s:
            rows = s.scalars(select(Job).where(Job.kind == KIND, Job.source_id == source_id,
                                               Job.state.in_(("queued", "running"))).order_by(Job.id))
            return [job for job in rows if (job.payload or {}).get("scan") == scan_id]

    def _rows(self, ids: list[int]) -> list[Any]:
        """What the scan follows of its probe jobs (not their payloads: hundreds of ids each)."""
        found: list[Any] = []
        with self.sessions() as s:
            for start in range(0, len(ids), 500):
                found += s.execute(select(Job.id, Job.key, Job.state, Job.progress, Job.error, Job.not_before,
                                          Job.lease_until)
                                   .where(Job.id.in_(ids[start:start + 500])).order_by(Job.id)).all()
        return found

    def _cancel(self, ids: list[int]) -> None:
        for row in self._rows(ids):
            if row.state not in ENDED:
                try:
                    self.system.cancel(row.id)
                except (Conflict, NotFound):
                    pass  # ended meanwhile
