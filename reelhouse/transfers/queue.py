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

Here: submitting, listing, cancelling; runner.py runs one transfer (the job body,
progress, retries); claims.py names the uploads running in the cluster.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.config import Settings
from reelhouse.db.limits import storable_text
from reelhouse.db.lookup import get_row
from reelhouse.db.models import Job, SourceRow, Transfer, User, utcnow
from reelhouse.errors import Conflict, InvalidInput, NotFound
from reelhouse.jobs.system import JobSystem
from reelhouse.jobs.tasks import TaskSpec
from reelhouse.sources.base import TEMP_SUFFIX, check_new_path, normalize_path
from reelhouse.sources.registry import SourceService
from reelhouse.transfers.claims import UploadClaims
from reelhouse.transfers.confine import confine, local_name
from reelhouse.transfers.runner import TransferRunner

__all__ = ["KINDS", "OWN_FOLDERS", "STATES", "TransferQueue", "check_not_own"]

log = logging.getLogger(__name__)

KINDS = ("upload", "download", "delete", "rename", "mkdir")
STATES = ("queued", "running", "done", "failed", "cancelled")
_ENDED = ("done", "failed", "cancelled")
#: The store's top folders that reelhouse keeps for itself, compared case-folded (a
#: case-insensitive disk takes ``Offline`` for ``offline``): offline copies
#: (transfers/offline.py) and upload claims (transfers/claims.py).
OWN_FOLDERS = ("offline", ".uploads")

#: ``listener(transfer)`` runs after a transfer ends (done, failed or cancelled).
Listener = Callable[[Transfer], None]
#: ``progress(bytes_done, bytes_total, rate)`` for the CLI's progress bar.
Progress = Callable[[int, int | None, float | None], None]


class TransferQueue:
    """Submit, list, cancel and run transfers. Thread-safe. The job system runs them
    (``transfer`` jobs); a CLI command runs its own with :meth:`run_now`."""

    def __init__(self, sessions: sessionmaker[Session], sources: SourceService,
                 settings: Settings, jobs: JobSystem) -> None:
        self.sessions = sessions
        self.sources = sources
        self.jobs = jobs
        self.store = settings.store_dir
        self.listeners: list[Listener] = []
        self._admit = threading.Lock()  # a capped submit counts and queues as one step
        #: with Redis: the uploads running in the whole cluster (:meth:`claim_upload`);
        #: a dead worker's claim runs out before its job's lease does (the job runs again)
        self.claims = UploadClaims(settings.store_dir, settings.redis_url,
                                   min(settings.party_presence_ttl, settings.job_lease / 2))
        self.runner = TransferRunner(sessions, sources, jobs, self.claims, settings.store_min_free,
                                     settings.transfer_retries, settings.transfer_retry_delay)
        jobs.register(TaskSpec("transfer", self.runner.run, on_change=self._job_changed))

    # -- uploads running anywhere ------------------------------------------------------
    def claim_upload(self, source_id: int, remote: str) -> str | None:
        """:meth:`UploadClaims.claim <reelhouse.transfers.claims.UploadClaims.claim>`: the
        upload to ``remote`` on ``source_id`` for the whole cluster (the API's uploads
        claim it too). Raises Conflict, SourceUnavailable. Blocks."""
        return self.claims.claim(source_id, remote)

    def release_upload(self, slot: str | None) -> None:
        """End a claim of :meth:`claim_upload`."""
        self.claims.release(slot)

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
        max_open: int | None = None,
    ) -> Transfer:
        """Queue a transfer (a job of the job system). ``local_path``: the file to
        upload, or where a download goes (default ``<store>/<source name>/<remote_path>``;
        a relative path is under the store). ``target_path``: a rename's new name.
        ``max_open``: Conflict instead when ``user_id`` has that many transfers queued or
        running (``transfer_max_open_per_user``), counted and queued in one transaction
        with the user's row locked (:meth:`_check_open`), so a burst of requests, on one
        node or several, cannot all pass the count.
        Raises InvalidInput, NotFound (no such source), PermissionDenied (a change to a
        read-only source) or Conflict."""
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
        if kind == "upload" and remote_path.endswith("/"):  # a folder's, not a file called so
            raise InvalidInput(f"an upload's remote_path must name a file, not a folder: {remote_path!r}")
        target = check_new_path(target_path) if target_path is not None else None
        if kind == "rename" and not target:
            raise InvalidInput("a rename needs target_path")
        if kind == "rename" and target and target.startswith(remote + "/"):
            raise InvalidInput(f"cannot move {remote!r} into itself ({target!r})")
        with self.sessions() as s:
            source_name = get_row(s, SourceRow, source_id, "source").name
        if kind != "download":
            self.sources.check_writable(source_id)  # fails now, not later in the queue
        local: str | None = None
        if kind == "download":
            dest = self.local_target(source_name, remote, local_path, source_id=source_id)
            if dest.is_dir():  # refused now: the download would be read whole, then not renamed
                where = dest.relative_to(self.store.resolve()).as_posix()
                raise Conflict(f"{where!r} is a folder in the library store; a download needs "
                               "a file's name")
            local = str(dest)
        elif kind == "upload":
            if local_path is None:
                raise InvalidInput("an upload needs local_path")
            if "\x00" in str(local_path):
                raise InvalidInput("local_path contains a NUL byte")
            path = Path(local_path).expanduser()
            if path.is_dir():  # "no such local file" sent the user looking for a typo
                raise InvalidInput(f"{path} is a folder: an upload sends one file (upload its files one by one)")
            if path.exists() and not path.is_file():  # <(…) is /dev/fd/63: it exists
                raise InvalidInput(f"{path} is not a regular file (a pipe, a device or a socket): "
                                   "an upload sends a file whose size it knows; save it to a file first")
            if not path.is_file():
                raise NotFound(f"no such local file: {path}")
            local = str(path.resolve())
        made: list[Transfer] = []

        def attach(s: Session, job: Job) -> None:
            if max_open is not None and user_id is not None:
                self._check_open(s, user_id, max_open)
            row = Transfer(kind=kind, source_id=source_id, remote_path=remote,
                           target_path=target, local_path=local, priority=priority,
                           state="queued", bytes_done=0, attempts=0, user_id=user_id,
                           remove_local=remove_local, job_id=job.id)
            s.add(row)
            s.flush()
            made.append(row)

        with self._admit if max_open is not None else contextlib.nullcontext():
            self.jobs.submit("transfer", source_id=source_id, priority=priority, attach=attach)
        return made[0]

    @staticmethod
    def _check_open(s: Session, user_id: int, max_open: int) -> None:
        """In the transaction that queues a transfer of ``user_id``: Conflict when
        ``max_open`` of theirs are queued or running. The user's row is locked first
        (``SELECT … FOR UPDATE`` on PostgreSQL, held until the transaction ends), so a
        submit of theirs on another node waits for this one to commit and then counts
        it: the cap holds over the cluster (issue 14). SQLite has no row locks and
        serves one node; there the caller's lock (``_admit``) makes count and insert
        one step."""
        s.execute(select(User.id).where(User.id == user_id).with_for_update())
        have = int(s.scalar(select(func.count()).select_from(Transfer).where(
            Transfer.user_id == user_id, Transfer.state.in_(("queued", "running")))) or 0)
        if have >= max_open:
            raise Conflict(f"you have {max_open} transfers waiting or running, the most one user "
                           "may have; wait for some to end, or cancel some")

    def local_target(self, source_name: str, remote: str, local_path: str | Path | None,
                     source_id: int | None = None) -> Path:
        """Where a download is written: inside the store, never outside it; by default
        ``<store>/<source folder>/<remote>`` (:func:`source_folder`). Raises InvalidInput
        for a path outside it (or with a NUL byte)."""
        if local_path is not None and "\x00" in str(local_path):
            raise InvalidInput("local_path contains a NUL byte")
        if Path(str(local_path or remote)).name.endswith(TEMP_SUFFIX):
            raise InvalidInput(f"a download may not be written to a name ending with {TEMP_SUFFIX!r}: "
                               "reelhouse writes files under such names until they are whole")
        store = self.store.resolve()
        if local_path is None:
            rel = normalize_path(f"{source_folder(source_name, source_id)}/{local_name(remote)}")
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
            return get_row(s, Transfer, transfer_id, "transfer")

    def list(self, state: str | None = None, limit: int = 200, user_id: int | None = None) -> list[Transfer]:
        """Transfers (``user_id``'s only, if given), running and queued first (by
        priority), then the most recent; ``limit`` rows at most."""
        if state is not None and state not in STATES:
            raise InvalidInput(f"state must be one of {', '.join(STATES)}")
        with self.sessions() as s:
            q = select(Transfer)
            if state:
                q = q.where(Transfer.state == state)
            if user_id is not None:
                q = q.where(Transfer.user_id == user_id)
            rows = list(s.scalars(q.order_by(Transfer.id.desc()).limit(limit)))
        order = {"running": 0, "queued": 1}
        return sorted(rows, key=lambda t: (order.get(t.state, 2), -t.priority if t.state ==
                                           "queued" else 0, -t.id))

    def open_count(self, user_id: int) -> int:
        """How many of ``user_id``'s transfers are queued or running."""
        with self.sessions() as s:
            return int(s.scalar(select(func.count()).select_from(Transfer).where(
                Transfer.user_id == user_id, Transfer.state.in_(("queued", "running")))) or 0)

    def cancel(self, transfer_id: int, reason: str = "cancelled by a user") -> Transfer:
        """Cancel a queued or running transfer (a running one stops at its next chunk);
        Conflict when it has ended already. ``reason`` is kept as its error."""
        with self.sessions() as s:
            row = get_row(s, Transfer, transfer_id, "transfer")
            if row.state in _ENDED:
                raise Conflict(f"transfer {transfer_id} has ended already ({row.state})")
            was = row.state
            s.execute(update(Transfer).where(Transfer.id == transfer_id,
                                             Transfer.state.in_(("queued", "running")))
                      .values(state="cancelled", finished_at=utcnow(), error=reason))
            s.commit()
        if row.job_id is not None:
            try:
                self.jobs.cancel(row.job_id)
            except (Conflict, NotFound):
                pass
        if was == "queued" and row.attempts > 0:  # a retry's .part: no attempt will clean it
            self.runner.cleanup(row, remote_in_background=True)
        elif was == "queued" and row.remove_local and row.local_path:  # a spooled upload
            Path(row.local_path).unlink(missing_ok=True)
        return self.get(transfer_id)

    def cancel_owned(self, user_id: int, reason: str = "cancelled: its user was deleted") -> int:
        """Cancel every queued or running transfer of ``user_id`` (a user being
        deleted or disabled; ``reason`` says which): running ones stop at their next
        chunk and, like queued ones that had started, leave no ``.part``. Returns how
        many were cancelled."""
        return self._cancel_all(Transfer.user_id == user_id, reason)

    def cancel_of_source(self, source_id: int, reason: str = "cancelled: its source was removed") -> int:
        """Cancel every queued or running transfer on ``source_id`` (a source being
        removed), as :meth:`cancel_owned`: no ``.part`` and no spooled upload is left."""
        return self._cancel_all(Transfer.source_id == source_id, reason)

    def _cancel_all(self, which: ColumnElement[bool], reason: str) -> int:
        with self.sessions() as s:
            ids = list(s.scalars(select(Transfer.id).where(
                which, Transfer.state.in_(("queued", "running")))))
        done = 0
        for tid in ids:
            try:
                self.cancel(tid, reason)
                done += 1
            except (Conflict, NotFound):  # ended meanwhile
                continue
        return done

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


def source_folder(name: str, source_id: int | None) -> str:
    """A source's folder in the store, its downloads' default home: its name as one
    folder name (``/`` → ``_``), but never ``.``, ``..`` or another name of dots (the
    store itself, its parent: ``source <id>``) nor one of :data:`OWN_FOLDERS`
    (``offline (source <id>)``): a source named ``offline`` wrote into the offline
    copies' folder."""
    folder = name.replace("/", "_").replace("\x00", "")
    ident = "?" if source_id is None else str(source_id)
    if not folder.strip("."):
        return f"source {ident}"
    if folder.casefold() in OWN_FOLDERS:
        return f"{folder} (source {ident})"
    return folder


def check_not_own(store: Path, local: Path) -> None:
    """InvalidInput when ``local`` (a path inside ``store``, as confine() gives it) is
    in one of the folders reelhouse keeps for itself (:data:`OWN_FOLDERS`): a download
    there would replace an offline copy or an upload claim, or be replaced by one."""
    rel = local.relative_to(store.resolve()).parts
    if rel and rel[0].casefold() in OWN_FOLDERS:
        raise InvalidInput(f"{rel[0]}/ in the library store is reelhouse's own (offline copies, "
                           "upload claims); choose another folder")
