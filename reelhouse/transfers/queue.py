"""The transfer queue: a priority queue kept in the ``transfers`` table.

Workers (``transfer_concurrency`` threads, 3 by default) take the queued transfer with
the highest priority (then the oldest) whose ``not_before`` has passed; taking one is
one conditional UPDATE, so two processes (the server and a CLI) never run the same
transfer. A transfer that fails with an error worth retrying (the source is down or
busy, a size mismatch) goes back to the queue after ``delay * 2**(attempt-1)`` seconds
plus up to as much jitter again, at most ``transfer_retries`` times (3); other errors
(not found, denied, storage full, bad name) fail it at once. Transfers left running by
a process that died are queued again at start-up and resume from their ``.part``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.config import Settings
from reelhouse.db.models import SourceRow, Transfer, utcnow
from reelhouse.errors import (
    Cancelled,
    Conflict,
    InvalidInput,
    NotFound,
    ReelhouseError,
    SourceUnavailable,
)
from reelhouse.sources.base import normalize_path
from reelhouse.sources.registry import SourceService
from reelhouse.transfers.copy import Meter, download, part_name, upload

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


def _retryable(exc: ReelhouseError) -> bool:
    return isinstance(exc, SourceUnavailable)


class TransferQueue:
    """Submit, list, cancel and run transfers. Thread-safe. :meth:`start` starts the
    workers (the server does; a CLI command runs one transfer with :meth:`run_now`)."""

    def __init__(self, sessions: sessionmaker[Session], sources: SourceService,
                 settings: Settings) -> None:
        self.sessions = sessions
        self.sources = sources
        self.store = settings.store_dir
        self.concurrency = settings.transfer_concurrency
        self.retries = settings.transfer_retries
        self.retry_delay = settings.transfer_retry_delay
        self.listeners: list[Listener] = []
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._cancelled: set[int] = set()
        self._ended_by: dict[int, ReelhouseError] = {}  # run_now: the error that ended a transfer here

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
        """Queue a transfer and wake a worker. ``local_path``: the file to upload, or
        where a download goes (default ``<store>/<source name>/<remote_path>``; a
        relative path is under the store). ``target_path``: a rename's new name.
        Raises InvalidInput or NotFound (no such source)."""
        if kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
        if not -1000 <= priority <= 1000:
            raise InvalidInput("priority must be between -1000 and 1000")
        remote = normalize_path(remote_path)
        if not remote:
            raise InvalidInput("remote_path may not be the source root")
        target = normalize_path(target_path) if target_path is not None else None
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
        with self.sessions() as s:
            row = Transfer(kind=kind, source_id=source_id, remote_path=remote,
                           target_path=target, local_path=local, priority=priority,
                           state="queued", bytes_done=0, attempts=0, user_id=user_id,
                           remove_local=remove_local)
            s.add(row)
            s.commit()
        with self._cond:
            self._cond.notify()
        return row

    def local_target(self, source_name: str, remote: str, local_path: str | Path | None) -> Path:
        """Where a download is written: inside the store, never outside it. Raises
        InvalidInput for a path outside it (or with a NUL byte)."""
        if local_path is not None and "\x00" in str(local_path):
            raise InvalidInput("local_path contains a NUL byte")
        store = self.store.resolve()
        if local_path is None:
            rel = normalize_path(f"{_safe(source_name)}/{remote}")
            return store / rel
        path = Path(local_path)
        full = (path if path.is_absolute() else store / normalize_path(str(path))).resolve()
        if full != store and not full.is_relative_to(store):
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
            row = s.get(Transfer, transfer_id)
            if row is None:
                raise NotFound(f"no transfer with id {transfer_id}")
            if row.state in _ENDED:
                raise Conflict(f"transfer {transfer_id} has ended already ({row.state})")
            s.execute(update(Transfer).where(Transfer.id == transfer_id,
                                             Transfer.state.in_(("queued", "running")))
                      .values(state="cancelled", finished_at=utcnow(),
                              error="cancelled by a user"))
            s.commit()
        self._cancelled.add(transfer_id)
        ended = self.get(transfer_id)
        if row.state == "queued":
            self._notify(ended)
        return ended

    # -- workers ---------------------------------------------------------------------
    def start(self) -> None:
        """Queue again what a dead process left running, and start the workers
        (idempotent)."""
        if self._threads:
            return
        with self.sessions() as s:
            s.execute(update(Transfer).where(Transfer.state == "running")
                      .values(state="queued", error="interrupted: the server stopped"))
            s.commit()
        for i in range(self.concurrency):
            t = threading.Thread(target=self._work, name=f"transfer-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def _work(self) -> None:
        while not self._stopping:
            try:
                tid = self._claim()
            except Exception:  # the database hiccupped: try again shortly
                log.exception("transfer queue: cannot claim a transfer")
                tid = None
            if tid is None:
                with self._cond:
                    if not self._stopping:
                        self._cond.wait(0.5)
                continue
            self._execute(tid)

    def _claim(self, only: int | None = None) -> int | None:
        """Mark the next due transfer running and return its id (None if none)."""
        now = utcnow()
        with self.sessions() as s:
            for _ in range(5):
                q = select(Transfer.id).where(Transfer.state == "queued")
                if only is not None:
                    q = q.where(Transfer.id == only)
                else:
                    q = q.where(or_(Transfer.not_before.is_(None), Transfer.not_before <= now))
                tid = s.scalar(q.order_by(Transfer.priority.desc(), Transfer.id).limit(1))
                if tid is None:
                    return None
                res = s.execute(
                    update(Transfer).where(Transfer.id == tid, Transfer.state == "queued")
                    .values(state="running", started_at=now, attempts=Transfer.attempts + 1,
                            not_before=None)
                )
                s.commit()
                if res.rowcount == 1:  # type: ignore[attr-defined]
                    return int(tid)
        return None

    def run_now(self, transfer_id: int, progress: Progress | None = None) -> Transfer:
        """Run one transfer in the calling thread (the CLI), retries included, and
        return it ended. If another process took it first, follow it until it ends.

        Raises the ReelhouseError that failed or cancelled it when that happened here
        (so the caller maps it by class); a transfer ended by another process is
        returned as it ended."""
        while True:
            row = self.get(transfer_id)
            if row.state in _ENDED:
                ended_by = self._ended_by.pop(transfer_id, None)
                if ended_by is not None and row.state != "done":
                    raise ended_by
                return row
            if row.state == "queued":
                wait = (row.not_before - utcnow()).total_seconds() if row.not_before else 0
                if wait > 0:
                    time.sleep(min(wait, 1.0))
                    continue
                if self._claim(only=transfer_id) == transfer_id:
                    self._execute(transfer_id, progress, keep_error=True)
                    continue
            if progress is not None:
                progress(row.bytes_done, row.bytes_total, row.rate)
            time.sleep(0.3)  # run by another process: follow it

    def _execute(self, tid: int, extra: Progress | None = None, keep_error: bool = False) -> None:
        row = self.get(tid)
        meter = Meter()
        last = 0.0
        lost = False  # our row was cancelled by someone else

        def progress(done: int, total: int | None) -> None:
            nonlocal last, lost
            now = time.monotonic()
            meter.add(now, done)
            if extra is not None:
                extra(done, total, meter.rate)
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
            return self._stopping or lost or tid in self._cancelled

        started = time.monotonic()
        try:
            size = self._perform(row, progress, should_stop)
        except Cancelled as exc:
            if self._stopping and not lost and tid not in self._cancelled:
                self._finish(tid, state="queued", error="interrupted: the server stopped",
                             finished=False)
                return
            self._finish(tid, state="cancelled", error=exc.message)
            self._cleanup(row)
            if keep_error:
                self._ended_by[tid] = exc
        except ReelhouseError as exc:
            if _retryable(exc) and row.attempts <= self.retries:
                delay = backoff(row.attempts, self.retry_delay)
                log.warning("transfer %s failed (%s); retry %d in %.1f s", tid, exc.message,
                            row.attempts, delay)
                self._finish(tid, state="queued", error=exc.message, finished=False,
                             not_before=utcnow() + timedelta(seconds=delay))
                return
            self._finish(tid, state="failed", error=exc.message)
            if keep_error:
                self._ended_by[tid] = exc
        except Exception as exc:
            log.exception("transfer %s crashed", tid)
            self._finish(tid, state="failed", error=f"internal error: {exc}")
        else:
            took = time.monotonic() - started
            if size is not None:
                self._finish(tid, state="done", error=None, bytes_done=size, bytes_total=size,
                             rate=size / took if took > 0 else None)
            else:
                self._finish(tid, state="done", error=None)
            if row.remove_local and row.local_path:
                Path(row.local_path).unlink(missing_ok=True)
        self._notify(self.get(tid))

    def _perform(self, row: Transfer, progress: Callable[[int, int | None], None],
                 should_stop: Callable[[], bool]) -> int | None:
        if row.source_id is None:
            raise NotFound("the source of this transfer was removed")
        source = self.sources.source(row.source_id)
        if row.kind == "download":
            assert row.local_path is not None
            return download(source, row.remote_path, Path(row.local_path), progress, should_stop)
        if row.kind == "upload":
            assert row.local_path is not None
            return upload(source, Path(row.local_path), row.remote_path, progress, should_stop)
        if row.kind == "mkdir":
            source.mkdir(row.remote_path)
        elif row.kind == "delete":
            source.delete(row.remote_path)
        elif row.kind == "rename":
            assert row.target_path is not None
            source.rename(row.remote_path, row.target_path)
        return None

    def _cleanup(self, row: Transfer) -> None:
        """A cancelled transfer leaves no ``.part`` behind."""
        try:
            if row.kind == "download" and row.local_path:
                Path(part_name(row.local_path)).unlink(missing_ok=True)
            elif row.kind == "upload" and row.source_id is not None:
                self.sources.source(row.source_id).delete(part_name(row.remote_path))
        except (ReelhouseError, OSError):
            pass
        if row.remove_local and row.local_path:
            Path(row.local_path).unlink(missing_ok=True)

    def _finish(self, tid: int, state: str, finished: bool = True, **values: object) -> None:
        if finished:
            values["finished_at"] = utcnow()
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

    def close(self) -> None:
        """Stop the workers; a running transfer goes back to the queue (its ``.part``
        stays and is resumed at the next start)."""
        self._stopping = True
        with self._cond:
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=30)
        self._threads = []


def _safe(name: str) -> str:
    """A source name as one folder name."""
    return name.replace("/", "_").replace("\x00", "") or "source"
