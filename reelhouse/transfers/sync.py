"""Sync: compare a source with the library and keep the report (``sync_runs``).

The comparison is the scanner's (``library/scanner.py``): it adds new files, updates
changed ones, and marks files missing (a soft delete) only after a complete listing
of their folder no longer shows them. A source that cannot be listed gives a failed
run with the error, and nothing is marked deleted.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.config import Settings
from reelhouse.db.models import SourceRow, SyncRun, utcnow
from reelhouse.errors import NotFound, ReelhouseError
from reelhouse.library.metadata.service import MetadataService
from reelhouse.library.scanner import scan_source
from reelhouse.sources.registry import SourceService

__all__ = ["SyncService", "run_sync"]

log = logging.getLogger(__name__)


class _Services(Protocol):
    sessions: sessionmaker[Session]
    sources: SourceService
    settings: Settings
    metadata: MetadataService


def run_sync(core: _Services, source_id: int) -> SyncRun:
    """Sync one source now, in the calling thread; returns the ended run.

    Raises NotFound for an unknown source; every other failure is recorded in the run
    (state ``failed``, ``errors``) and returned, so a scheduler can call this blindly.
    """
    with core.sessions() as s:
        if s.get(SourceRow, source_id) is None:
            raise NotFound(f"no source with id {source_id}")
        run = SyncRun(source_id=source_id, state="running", errors=[], added=0, updated=0,
                      deleted=0, restored=0, unchanged=0)
        s.add(run)
        s.commit()
        run_id = run.id
    return _run(core, run_id, source_id)


def _run(core: _Services, run_id: int, source_id: int) -> SyncRun:
    values: dict[str, object]
    try:
        source = core.sources.source(source_id)
        report = scan_source(core.sessions, source_id, source,
                             probe_budget=core.settings.probe_budget_bytes, enrich=core.metadata.enrich_file)
    except ReelhouseError as exc:
        values = {"state": "failed", "errors": [exc.message]}
        _note_source(core, source_id, last_error=exc.message)
    except Exception as exc:
        log.exception("sync of source %s crashed", source_id)
        values = {"state": "failed", "errors": [f"internal error: {exc}"]}
    else:
        values = {"state": "done", "added": report.added, "updated": report.updated,
                  "deleted": report.missing, "restored": report.restored,
                  "unchanged": report.unchanged, "errors": report.errors[:100]}
        _note_source(core, source_id, last_scan_at=utcnow(), last_error=None)
        offline = getattr(core, "offline", None)  # copies of files the sync saw change
        if offline is not None and report.updated:
            offline.refresh_stale()
    targets = getattr(core, "stream_targets", None)  # drop cached sizes of changed files
    if targets is not None:
        targets.clear()
    with core.sessions() as s:
        s.execute(update(SyncRun).where(SyncRun.id == run_id)
                  .values(finished_at=utcnow(), **values))
        s.commit()
        run = s.get(SyncRun, run_id)
        assert run is not None
        return run


def _note_source(core: _Services, source_id: int, **values: object) -> None:
    with core.sessions() as s:
        s.execute(update(SourceRow).where(SourceRow.id == source_id).values(**values))
        s.commit()


class SyncService:
    """Background syncs (one per source at a time) and their history."""

    def __init__(self, core: _Services) -> None:
        self.core = core
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job-sync")
        self._lock = threading.Lock()

    def recover(self) -> None:
        """Mark runs a dead server left running as failed (the web server calls this at
        start-up; a CLI command must not, as a server may be syncing right now)."""
        with self.core.sessions() as s:
            s.execute(update(SyncRun).where(SyncRun.state == "running")
                      .values(state="failed", errors=["interrupted: the server stopped"],
                              finished_at=utcnow()))
            s.commit()

    def start(self, source_id: int) -> SyncRun:
        """Start a sync in the background (or return the one running for the source)."""
        with self._lock, self.core.sessions() as s:
            if s.get(SourceRow, source_id) is None:
                raise NotFound(f"no source with id {source_id}")
            running = s.scalar(select(SyncRun).where(SyncRun.source_id == source_id,
                                                     SyncRun.state == "running"))
            if running is not None:
                return running
            run = SyncRun(source_id=source_id, state="running", errors=[], added=0, updated=0,
                          deleted=0, restored=0, unchanged=0)
            s.add(run)
            s.commit()
        self._pool.submit(_run, self.core, run.id, source_id)
        return run

    def get(self, run_id: int) -> SyncRun:
        with self.core.sessions() as s:
            run = s.get(SyncRun, run_id)
            if run is None:
                raise NotFound(f"no sync run with id {run_id}")
            return run

    def history(self, source_id: int | None = None, limit: int = 50) -> list[SyncRun]:
        with self.core.sessions() as s:
            q = select(SyncRun)
            if source_id is not None:
                q = q.where(SyncRun.source_id == source_id)
            return list(s.scalars(q.order_by(SyncRun.id.desc()).limit(limit)))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
