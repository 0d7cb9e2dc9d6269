"""The transfer queue: uploads, downloads and file operations on sources, each a
``transfer`` job of the job system (jobs/) with its own row in ``transfers`` (paths,
bytes, rate, attempts) that the API, the UI and the CLI show.

Jobs run by priority (higher first, then the oldest) on any consumer (the web
server's threads, ``reelhouse worker``) or in the CLI command that submitted them
(:meth:`TransferQueue.run_now`); a claim is one conditional UPDATE, so two processes
never run the same transfer, and a transfer whose process died runs again elsewhere
when its lease passes (jobs/leases.py), resuming from its ``.part``. A transfer that
fails with an error worth retrying (the source is down or busy, a size mismatch) goes
back to the queue after ``delay * 2**(attempt-1)`` seconds plus up to as much jitter
again, at most ``transfer_retries`` times (3); other errors (not found, denied,
storage full, bad name) fail it at once. A transfer names its job by ``job_id`` (and
the job its message by a uuid), so a transfer id SQLite reuses after a source was
deleted is a new transfer in every respect.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.config import Settings
from reelhouse.db.limits import INT_MAX, INT_MIN, storable_text
from reelhouse.db.models import Job, SourceRow, Transfer, utcnow
from reelhouse.errors import (
    Cancelled,
    Conflict,
    InvalidInput,
    NotFound,
    ReelhouseError,
    SourceUnavailable,
)
from reelhouse.jobs.system import JobSystem
from reelhouse.jobs.tasks import JobContext, Retry, TaskSpec
from reelhouse.leased_slots import LeasedSlots
from reelhouse.sources.base import check_new_path, normalize_path
from reelhouse.sources.registry import SourceService
from reelhouse.transfers.confine import confine, local_name
from reelhouse.transfers.copy import Meter, discard_part, download, part_name, upload

__all__ = ["KINDS", "STATES", "TransferQueue"]

log = logging.getLogger(__name__)

KINDS = ("upload", "download", "delete", "rename", "mkdir")
STATES = ("queued", "running", "done", "failed", "cancelled")
_ENDED = ("done", "failed", "cancelled")

#: Seconds between progress writes to the database.
PROGRESS_EVERY = 0.5

#: ``listener(transfer)`` runs after a transfer ends (done, failed or cancelled).
Listener = Callable[[Transfer], None]
#: ``progress(bytes_done, bytes_total, rate)`` for the CLI's progress bar.
Progress = Callable[[int, int | None, float | None], None]


def backoff(attempt: int, base: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (1, 2, …): ``base * 2**(attempt-1)``
    plus uniform jitter of up to as much again ("full jitter" halves the herd when a
    server comes back, AWS Architecture Blog, "Exponential Backoff and Jitter")."""
    step = base * (2 ** (attempt - 1))
    jitter: float = (rng or random).uniform(0, step)
    return float(step + jitter)


def upload_key(source_id: int, remote: str) -> str:
    """The cluster's name of the upload to ``remote`` on source ``source_id``."""
    return f"upload:{source_id}:{normalize_path(remote)}"


def _retryable(exc: ReelhouseError) -> bool:
    return isinstance(exc, SourceUnavailable)


class TransferQueue:
    """Submit, list, cancel and run transfers. Thread-safe. The job system runs them
    (``transfer`` jobs); a CLI command runs its own with :meth:`run_now`."""

    def __init__(self, sessions: sessionmaker[Session], sources: SourceService,
                 settings: Settings, jobs: JobSystem) -> None:
        self.sessions = sessions
        self.sources = sources
        self.jobs = jobs
        self.store = settings.store_dir
        self.min_free = settings.store_min_free
        self.retries = settings.transfer_retries
        self.retry_delay = settings.transfer_retry_delay
        self.listeners: list[Listener] = []
        #: with Redis: the uploads running in the whole cluster (:meth:`claim_upload`);
        #: a dead worker's claim runs out before its job's lease does (the job runs again)
        self.upload_slots = LeasedSlots(settings.redis_url, min(settings.party_presence_ttl, settings.job_lease / 2)) \
            if settings.redis_url else None
        jobs.register(TaskSpec("transfer", self._body, on_change=self._job_changed))

    def upload_signature(self, source_id: int, remote: str) -> Path:
        """Where an upload to ``remote`` on source ``source_id`` keeps the version of the
        local file its ``.part`` began from (copy.upload's ``signature``): a hidden folder
        of the store, one file per (source, path), named by a hash."""
        digest = hashlib.sha256(upload_key(source_id, remote).encode("utf-8", "surrogateescape")).hexdigest()[:32]
        return self.store / ".uploads" / digest

    # -- uploads running anywhere ------------------------------------------------------
    def claim_upload(self, source_id: int, remote: str) -> str | None:
        """Claim, for the whole cluster, the upload to ``remote`` on source ``source_id``
        (two uploads of one name would append to each other's ``.part``; copy.upload
        refuses the second one only within its process); a token for
        :meth:`release_upload`, None without Redis. Raises Conflict while another node
        or worker uploads there, SourceUnavailable when Redis is unreachable. Blocks."""
        if self.upload_slots is None:
            return None
        try:
            slot = self.upload_slots.take(upload_key(source_id, remote), 1)
        except Exception as exc:  # redis.exceptions.RedisError, OSError
            raise SourceUnavailable(f"redis: {exc}") from exc
        if slot is None:
            raise Conflict(f"an upload to {normalize_path(remote)!r} is already running; try again when it ends")
        return slot

    def release_upload(self, slot: str | None) -> None:
        """End a claim of :meth:`claim_upload` (its lease runs out if Redis is unreachable)."""
        if slot is not None and self.upload_slots is not None:
            with contextlib.suppress(Exception):
                self.upload_slots.give_back(slot)

    # -- queue -----------------------------------------------------------------------
    def submit(
        self,
        kind: str,
        source_id: int,
        remote_path: str,
        local_path: str | Path | None = None,
        target_path: str | None = None,
        priority: int = 0,
        user_id: int | None = None,
        remove_local: bool = False,
    ) -> Transfer:
        """Queue a transfer (a job of the job system). ``local_path``: the file to
        upload, or where a download goes (default ``<store>/<source name>/<remote_path>``;
        a relative path is under the store). ``target_path``: a rename's new name.
        Raises InvalidInput or NotFound (no such source)."""
        if kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
        for what, value in (("remote_path", remote_path), ("target_path", target_path), ("local_path", local_path)):
            _check_utf8(what, None if value is None else str(value))
        if not -1000 <= priority <= 1000:
            raise InvalidInput("priority must be between -1000 and 1000")
        # a name reelhouse creates (upload, mkdir, a rename's target) is checked as new
        remote = (check_new_path(remote_path)
                  if kind in ("upload", "mkdir") else normalize_path(remote_path))
        if not remote:
            raise InvalidInput("remote_path may not be the source root")
        target = check_new_path(target_path) if target_path is not None else None
        if kind == "rename" and not target:
            raise InvalidInput("a rename needs target_path")
        with self.sessions() as s:
            src = s.get(SourceRow, source_id)
            if src is None:
                raise NotFound(f"no source with id {source_id}")
            source_name = src.name
        local: str | None = None
        if kind == "download":
            local = str(self.local_target(source_name, remote, local_path))
        elif kind == "upload":
            if local_path is None:
                raise InvalidInput("an upload needs local_path")
            if "\x00" in str(local_path):
                raise InvalidInput("local_path contains a NUL byte")
            path = Path(local_path).expanduser()
            if not path.is_file():
                raise NotFound(f"no such local file: {path}")
            local = str(path.resolve())
        made: list[Transfer] = []

        def attach(s: Session, job: Job) -> None:
            row = Transfer(kind=kind, source_id=source_id, remote_path=remote,
                           target_path=target, local_path=local, priority=priority,
                           state="queued", bytes_done=0, attempts=0, user_id=user_id,
                           remove_local=remove_local, job_id=job.id)
            s.add(row)
            s.flush()
            made.append(row)

        self.jobs.submit("transfer", source_id=source_id, priority=priority, attach=attach)
        return made[0]

    def local_target(self, source_name: str, remote: str, local_path: str | Path | None) -> Path:
        """Where a download is written: inside the store, never outside it. Raises
        InvalidInput for a path outside it (or with a NUL byte)."""
        if local_path is not None and "\x00" in str(local_path):
            raise InvalidInput("local_path contains a NUL byte")
        store = self.store.resolve()
        if local_path is None:
            rel = normalize_path(f"{_safe(source_name)}/{local_name(remote)}")
            return store / rel
        path = Path(local_path)
        if not path.is_absolute():
            return confine(store, str(path))  # a client's path: normalised, confined
        full = path.resolve()
        if full == store or not full.is_relative_to(store):
            raise InvalidInput(f"downloads go inside the library store ({store})")
        return full

    def get(self, transfer_id: int) -> Transfer:
        with self.sessions() as s:
            row = s.get(Transfer, transfer_id)
            if row is None:
                raise NotFound(f"no transfer with id {transfer_id}")
            return row

    def list(self, state: str | None = None, limit: int = 200) -> list[Transfer]:
        """Transfers, running and queued first (by priority), then the most recent."""
        if state is not None and state not in STATES:
            raise InvalidInput(f"state must be one of {', '.join(STATES)}")
        with self.sessions() as s:
            q = select(Transfer)
            if state:
                q = q.where(Transfer.state == state)
            rows = list(s.scalars(q.order_by(Transfer.id.desc()).limit(limit)))
        order = {"running": 0, "queued": 1}
        return sorted(rows, key=lambda t: (order.get(t.state, 2), -t.priority if t.state ==
                                           "queued" else 0, -t.id))

    def cancel(self, transfer_id: int) -> Transfer:
        """Cancel a queued or running transfer (a running one stops at its next chunk);
        Conflict when it has ended already."""
        with self.sessions() as s:
            row = s.get(Transfer, transfer_id) if INT_MIN <= transfer_id <= INT_MAX else None
            if row is None:
                raise NotFound(f"no transfer with id {transfer_id}")
            if row.state in _ENDED:
                raise Conflict(f"transfer {transfer_id} has ended already ({row.state})")
            was = row.state
            s.execute(update(Transfer).where(Transfer.id == transfer_id,
                                             Transfer.state.in_(("queued", "running")))
                      .values(state="cancelled", finished_at=utcnow(),
                              error="cancelled by a user"))
            s.commit()
        if row.job_id is not None:
            try:
                self.jobs.cancel(row.job_id)
            except (Conflict, NotFound):
                pass
        if was == "queued" and row.attempts > 0:  # a retry's .part: no attempt will clean it
            self._cleanup(row, remote_in_background=True)
        return self.get(transfer_id)

    def run_now(self, transfer_id: int, progress: Progress | None = None) -> Transfer:
        """Run one transfer in the calling thread (the CLI), retries included, and
        return it ended. If another process took it first, follow it until it ends.

        Raises the ReelhouseError that failed or cancelled it when that happened here
        (so the caller maps it by class); a transfer ended by another process is
        returned as it ended."""
        row = self.get(transfer_id)
        if row.job_id is None:
            raise NotFound(f"transfer {transfer_id} has no job")

        def observe(counts: dict[str, int], message: str) -> None:
            if progress is not None:
                progress(counts.get("bytes_done", 0), counts.get("bytes_total"),
                         counts.get("rate"))

        def follow(job: Job) -> None:
            if progress is not None:
                t = self.get(transfer_id)
                progress(t.bytes_done, t.bytes_total, t.rate)

        self.jobs.run_now(row.job_id, observe, follow)
        return self.get(transfer_id)

    # -- the job -----------------------------------------------------------------------
    def _body(self, ctx: JobContext) -> None:
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
                self._cleanup(row)
            raise
        except ReelhouseError as exc:
            if _retryable(exc) and row.attempts <= self.retries:
                delay = backoff(row.attempts, self.retry_delay)
                log.warning("transfer %s failed (%s); retry %d in %.1f s", tid, exc.message,
                            row.attempts, delay)
                self._finish(tid, state="queued", error=exc.message, finished=False,
                             not_before=utcnow() + timedelta(seconds=delay))
                raise Retry(exc.message, delay) from exc
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

    def _job_changed(self, job: Job) -> None:
        """Mirror a job state the job system set into the transfer (queued again after
        a lost lease; ended by a cancel or a give-up) and tell the listeners of ends."""
        with self.sessions() as s:
            row = s.scalar(select(Transfer).where(Transfer.job_id == job.id))
            if row is None:
                return
            if job.state == "queued":
                s.execute(update(Transfer).where(Transfer.id == row.id, Transfer.state == "running")
                          .values(state="queued", error=job.error))
            elif job.state in _ENDED:
                s.execute(update(Transfer).where(Transfer.id == row.id,
                                                 Transfer.state.in_(("queued", "running")))
                          .values(state=job.state, error=job.error, finished_at=utcnow()))
            s.commit()
        if job.state in _ENDED:
            self._notify(self.get(row.id))

    def _perform(self, row: Transfer, progress: Callable[[int, int | None], None],
                 should_stop: Callable[[], bool]) -> int | None:
        if row.source_id is None:
            raise NotFound("the source of this transfer was removed")
        source = self.sources.source(row.source_id)
        if row.kind == "download":
            assert row.local_path is not None
            return download(source, row.remote_path, Path(row.local_path), progress, should_stop,
                            min_free=self.min_free)
        if row.kind == "upload":
            assert row.local_path is not None
            slot = self.claim_upload(row.source_id, row.remote_path)
            try:
                return upload(source, Path(row.local_path), row.remote_path, progress, should_stop,
                              signature=self.upload_signature(row.source_id, row.remote_path))
            finally:
                self.release_upload(slot)
        if row.kind == "mkdir":
            source.mkdir(row.remote_path)
        elif row.kind == "delete":
            source.delete(row.remote_path)
        elif row.kind == "rename":
            assert row.target_path is not None
            source.rename(row.remote_path, row.target_path)
        return None

    def _cleanup(self, row: Transfer, remote_in_background: bool = False) -> None:
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
                self.upload_signature(source_id, row.remote_path).unlink(missing_ok=True)
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

    def _notify(self, row: Transfer) -> None:
        for listener in self.listeners:
            try:
                listener(row)
            except Exception:
                log.exception("transfer listener failed")


def _check_utf8(what: str, value: str | None) -> None:
    """InvalidInput when ``value`` holds lone surrogates: a name that is not UTF-8, as a
    shell hands a latin-1 ``Caf\\xe9.mkv`` to Python (PEP 383). No transfer row could
    hold it (db/limits.py); the database raised mid-way before."""
    if value is not None and not storable_text(value.replace("\x00", "")):
        shown = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        raise InvalidInput(f"{what} {shown!r} is not UTF-8 (rename the file, or name it in UTF-8)")


def _safe(name: str) -> str:
    """A source name as one folder name."""
    return name.replace("/", "_").replace("\x00", "") or "source"
