"""Running one transfer: the body of a ``transfer`` job (jobs/). It claims the row,
copies or changes the file (copy.py; the source's mkdir, delete, rename), writes
progress to the row at most every :data:`PROGRESS_EVERY` seconds, and ends the row
done, failed, cancelled, or queued again for a retry after :func:`backoff` seconds.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import Transfer, utcnow
from reelhouse.errors import Cancelled, NotFound, ReelhouseError, SourceUnavailable
from reelhouse.jobs.system import JobSystem
from reelhouse.jobs.tasks import JobContext, Retry
from reelhouse.sources.registry import SourceService
from reelhouse.transfers.claims import UploadClaims
from reelhouse.transfers.copy import Meter, download, upload
from reelhouse.transfers.part_files import discard_part, part_name

__all__ = ["PROGRESS_EVERY", "TransferRunner", "backoff"]

log = logging.getLogger(__name__)

#: Seconds between progress writes to the database.
PROGRESS_EVERY = 0.5


def backoff(attempt: int, base: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (1, 2, …): ``base * 2**(attempt-1)``
    plus uniform jitter of up to as much again ("full jitter" halves the herd when a
    server comes back, AWS Architecture Blog, "Exponential Backoff and Jitter")."""
    step = base * (2 ** (attempt - 1))
    jitter: float = (rng or random).uniform(0, step)
    return float(step + jitter)


def _retryable(exc: ReelhouseError) -> bool:
    return isinstance(exc, SourceUnavailable)


class TransferRunner:
    """Runs transfers (:meth:`run`, a job body) and cleans up after cancelled ones.

    ``min_free``: bytes a download leaves free on the store's disk; ``retries``: how
    many times a transfer that failed with an error worth retrying goes back to the
    queue; ``retry_delay``: the first retry's base delay, seconds."""

    def __init__(self, sessions: sessionmaker[Session], sources: SourceService, jobs: JobSystem,
                 claims: UploadClaims, min_free: int, retries: int, retry_delay: float) -> None:
        self.sessions = sessions
        self.sources = sources
        self.jobs = jobs
        self.claims = claims
        self.min_free = min_free
        self.retries = retries
        self.retry_delay = retry_delay

    def run(self, ctx: JobContext) -> None:
        with self.sessions() as s:
            row = s.scalar(select(Transfer).where(Transfer.job_id == ctx.job_id))
            if row is None:
                raise NotFound("this transfer was removed (its source was deleted)")
            res = s.execute(update(Transfer).where(Transfer.id == row.id,
                                                   Transfer.state.in_(("queued", "running")))
                            .values(state="running", started_at=utcnow(), not_before=None,
                                    attempts=Transfer.attempts + 1))
            s.commit()
            if res.rowcount != 1:  # type: ignore[attr-defined]
                raise Cancelled("cancelled by a user")
            s.refresh(row)
        tid = row.id
        meter = Meter()
        last = 0.0
        lost = False  # our row was cancelled or removed by someone else

        def progress(done: int, total: int | None) -> None:
            nonlocal last, lost
            now = time.monotonic()
            meter.add(now, done)
            counts = {"bytes_done": done}
            if total is not None:
                counts["bytes_total"] = total
            if meter.rate is not None:
                counts["rate"] = int(meter.rate)
            ctx.progress(counts, row.remote_path)
            if now - last < PROGRESS_EVERY and done != total:
                return
            last = now
            with self.sessions() as s:
                res = s.execute(update(Transfer).where(Transfer.id == tid,
                                                       Transfer.state == "running")
                                .values(bytes_done=done, bytes_total=total, rate=meter.rate))
                s.commit()
            if res.rowcount == 0:  # type: ignore[attr-defined]
                lost = True

        def should_stop() -> bool:
            return lost or ctx.should_stop()

        started = time.monotonic()
        try:
            size = self._perform(row, progress, should_stop)
        except Cancelled:
            if ctx.shutting_down() and not lost:
                self._finish(tid, state="queued", error="interrupted: the server stopped",
                             finished=False)
            else:
                self._finish(tid, state="cancelled", error="cancelled by a user")
                self.cleanup(row)
            raise
        except ReelhouseError as exc:
            if _retryable(exc) and row.attempts <= self.retries:
                delay = backoff(row.attempts, self.retry_delay)
                log.warning("transfer %s failed (%s); retry %d in %.1f s", tid, exc.message,
                            row.attempts, delay)
                self._finish(tid, state="queued", error=exc.message, finished=False,
                             not_before=utcnow() + timedelta(seconds=delay))
                raise Retry(exc.message, delay) from exc
            if isinstance(exc, NotFound) and row.kind == "download" and row.local_path:
                # the file is gone from its source: nothing will resume this .part
                with contextlib.suppress(OSError):
                    discard_part(Path(row.local_path))
            self._finish(tid, state="failed", error=exc.message)
            raise
        except Exception as exc:
            self._finish(tid, state="failed", error=f"internal error: {exc}")
            raise
        took = time.monotonic() - started
        if size is not None:
            self._finish(tid, state="done", error=None, bytes_done=size, bytes_total=size,
                         rate=size / took if took > 0 else None)
        else:
            self._finish(tid, state="done", error=None)
        if row.remove_local and row.local_path:
            Path(row.local_path).unlink(missing_ok=True)

    def _perform(self, row: Transfer, progress: Callable[[int, int | None], None],
                 should_stop: Callable[[], bool]) -> int | None:
        if row.source_id is None:
            raise NotFound("the source of this transfer was removed")
        source = self.sources.source(row.source_id)
        if row.kind == "download":
            assert row.local_path is not None
            slot = self.claims.claim_download(Path(row.local_path))
            try:
                return download(source, row.remote_path, Path(row.local_path), progress, should_stop,
                                min_free=self.min_free)
            finally:
                self.claims.release(slot)
        if row.kind == "upload":
            assert row.local_path is not None
            slot = self.claims.claim(row.source_id, row.remote_path)
            try:
                return upload(source, Path(row.local_path), row.remote_path, progress, should_stop,
                              signature=self.claims.signature(row.source_id, row.remote_path))
            finally:
                self.claims.release(slot)
        if row.kind == "mkdir":
            source.mkdir(row.remote_path)
        elif row.kind == "delete":
            source.delete(row.remote_path)
        elif row.kind == "rename":
            assert row.target_path is not None
            source.rename(row.remote_path, row.target_path)
        return None

    def cleanup(self, row: Transfer, remote_in_background: bool = False) -> None:
        """A cancelled transfer leaves no ``.part`` behind (an upload's on the source is
        deleted in a thread of its own when ``remote_in_background``: a down source
        must not hold up the cancel)."""
        source_id = row.source_id

        def remote() -> None:
            try:
                if source_id is not None:
                    self.sources.source(source_id).delete(part_name(row.remote_path))
            except ReelhouseError:
                pass

        try:
            if row.kind == "download" and row.local_path:
                discard_part(Path(row.local_path))
        except OSError:
            pass
        if row.kind == "upload":
            if source_id is not None:
                self.claims.signature(source_id, row.remote_path).unlink(missing_ok=True)
            if remote_in_background:
                threading.Thread(target=remote, name="transfer-cleanup", daemon=True).start()
            else:
                remote()
        if row.remove_local and row.local_path:
            Path(row.local_path).unlink(missing_ok=True)

    def _finish(self, tid: int, state: str, finished: bool = True, **values: object) -> None:
        if finished:
            values["finished_at"] = utcnow()
        if isinstance(values.get("error"), str):
            values["error"] = self.jobs.scrub(str(values["error"]))
        with self.sessions() as s:
            s.execute(update(Transfer).where(Transfer.id == tid, Transfer.state == "running")
                      .values(state=state, **values))
            s.commit()
