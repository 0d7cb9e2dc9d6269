"""Offline copies: a film or a season the user wants to keep playable when its source
is down. Marking one queues a download of each of its files into
``<store>/offline/<source id>/<path>`` (priority -10: after the user's own transfers);
when a download ends the copy becomes ready (or failed). The stream endpoint asks
:meth:`OfflineCopies.ready_copy` (memory only, no I/O) and falls back to the copy
when the source fails (``playback/fallback.py``).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import Episode, MediaFile, Movie, OfflineCopy, Season, Transfer, utcnow
from reelhouse.errors import Conflict, InvalidInput, NotFound, ReelhouseError
from reelhouse.sources.base import normalize_path
from reelhouse.sources.local import LocalSource
from reelhouse.transfers.confine import local_name
from reelhouse.transfers.queue import TransferQueue

__all__ = ["OFFLINE_PRIORITY", "LocalCopy", "OfflineCopies"]

log = logging.getLogger(__name__)

OFFLINE_PRIORITY = -10

#: Seconds a source that failed a stream is taken as down: seeks in that time go to the
#: offline copy at once instead of waiting for the source to fail again.
DOWN_FOR = 15.0


@dataclass(frozen=True, slots=True)
class LocalCopy:
    """A ready offline copy: its path in the store and the source file's signature."""

    media_file_id: int
    path: str  # relative to the store
    size: int
    mtime: float | None


class OfflineCopies:
    """Mark / unmark scopes, follow their downloads, answer "is there a copy"."""

    def __init__(self, sessions: sessionmaker[Session], queue: TransferQueue, store: Path) -> None:
        self.sessions = sessions
        self.queue = queue
        self.store = store
        store.mkdir(parents=True, exist_ok=True)
        self.local = LocalSource(store)
        self._ready: dict[int, LocalCopy] | None = None
        self._down: dict[int, float] = {}
        self._lock = threading.Lock()
        queue.listeners.append(self._transfer_ended)

    # -- marking ---------------------------------------------------------------------
    def keep(self, scope: str, user_id: int | None = None,
             sources: Collection[int] | None = None, max_open: int | None = None) -> list[OfflineCopy]:
        """Keep a scope offline: ``movie:<id>`` or ``season:<id>``. Queues a download of
        every present file (on one of ``sources``, the asking user's granted sources;
        None: any) without a ready, current copy; returns the scope's copies (of those
        files). ``max_open``: how many transfers ``user_id`` may have queued or running
        once these are queued (``transfer_max_open_per_user`` for a non-admin; None: no
        limit). Raises InvalidInput (bad scope), NotFound (no such movie/season, or no
        file), Conflict (past ``max_open``; nothing is queued, unless the user's other
        transfers, on this node or another, were queued while these were: then each
        download is counted as it is queued, with the user's row locked
        (:meth:`TransferQueue.submit`), the cap holds, and those queued before stay)."""
        files = [mf for mf in self._files(scope) if sources is None or mf.source_id in sources]
        if not files:
            raise NotFound(f"nothing to keep offline in {scope}: no file is present")
        if max_open is not None and user_id is not None:
            self._check_room(files, user_id, max_open)
        out = []
        for mf in files:
            with self.sessions() as s:
                copy = s.scalar(select(OfflineCopy).where(OfflineCopy.media_file_id == mf.id))
                if copy is not None and _current(copy, mf):
                    out.append(copy)
                    continue
                rel = self._free_rel(mf.source_id, mf.id, mf.path)
                transfer = self.queue.submit("download", mf.source_id, mf.path,
                                             local_path=self.store / rel,
                                             priority=OFFLINE_PRIORITY, user_id=user_id, max_open=max_open)
                if copy is None:
                    copy = OfflineCopy(media_file_id=mf.id, user_id=user_id)
                    s.add(copy)
                elif user_id is not None:
                    copy.user_id = user_id  # who asked last owns the new copy
                copy.scope, copy.local_path, copy.size, copy.mtime = scope, rel, mf.size, mf.mtime
                copy.state, copy.transfer_id, copy.error, copy.ready_at = (
                    "pending", transfer.id, None, None)
                s.commit()
                out.append(copy)
        self._forget_ready()
        # a download may have ended before the copy row pointed at it
        for copy in out:
            if copy.transfer_id is not None and copy.state == "pending":
                self._transfer_ended(self.queue.get(copy.transfer_id))
        kept = {mf.id for mf in files}
        return [c for c in self.copies(scope) if sources is None or c.media_file_id in kept]

    def _check_room(self, files: list[MediaFile], user_id: int, max_open: int) -> None:
        """Conflict when queuing a download of each of ``files`` without a current copy
        would give ``user_id`` more than ``max_open`` open transfers (their own downloads
        and offline copies share the one cap: both hold places in the one queue)."""
        with self.sessions() as s:
            copies = {c.media_file_id: c for c in s.scalars(select(OfflineCopy).where(
                OfflineCopy.media_file_id.in_([mf.id for mf in files])))}
        new = sum(1 for mf in files if not _current(copies.get(mf.id), mf))
        have = self.queue.open_count(user_id)
        if new and have + new > max_open:
            raise Conflict(f"keeping this offline queues {new} downloads and you have {have} transfers "
                           f"waiting or running; one user may have {max_open} at once: wait for some to "
                           "end, or cancel some")

    def _free_rel(self, source_id: int, file_id: int, path: str) -> str:
        """Where the copy of file ``file_id`` (at ``path`` on its source) goes in the
        store: ``offline/<source>/<path>``, unless another copy is in its way — a file
        where its folder would be, or a folder where it would be (a file replaced by a
        folder of its name on the server, or the reverse: the old copy stays until it is
        removed) — then ``offline/<source>/_apart/<file id>/<name>``."""
        rel = normalize_path(f"offline/{source_id}/{local_name(path)}")
        full = self.store / rel
        folders = [self.store / p for p in PurePosixPath(rel).parents if str(p) != "."]
        if full.is_dir() or any(f.exists() and not f.is_dir() for f in folders):
            name = local_name(path.rpartition("/")[2])
            rel = normalize_path(f"offline/{source_id}/_apart/{file_id}/{name}")
        return rel

    def drop(self, scope: str) -> int:
        """Stop keeping a scope offline: cancel pending downloads, delete the copies and
        their files. Returns how many copies were removed."""
        _parse(scope)
        with self.sessions() as s:
            copies = list(s.scalars(select(OfflineCopy).where(OfflineCopy.scope == scope)))
            s.execute(delete(OfflineCopy).where(OfflineCopy.scope == scope))
            s.commit()
        for copy in copies:
            if copy.state == "pending" and copy.transfer_id is not None:
                try:
                    self.queue.cancel(copy.transfer_id)
                except (Conflict, NotFound):
                    pass
            try:
                full = self.local._resolve(copy.local_path)
                full.unlink(missing_ok=True)
            except (OSError, InvalidInput):
                pass
        self._forget_ready()
        return len(copies)

    def source_removed(self, source_id: int) -> None:
        """A source was removed (its files' copies rows went with them): delete the
        copies' files, ``<store>/offline/<source id>/``, which nothing would ever list or
        serve again (a later source given the same id would find them in its way)."""
        folder = self.store / "offline" / str(source_id)
        shutil.rmtree(folder, ignore_errors=True)
        self._forget_ready()

    def refresh_stale(self) -> int:
        """Download again the copies whose source file changed (size or mtime) since
        they were made, e.g. after a sync found it updated; returns how many scopes
        were queued again. A copy of an older version is never served meanwhile."""
        with self.sessions() as s:
            rows = s.execute(select(OfflineCopy.scope).join(MediaFile)
                             .where(MediaFile.missing_since.is_(None),
                                    OfflineCopy.state != "pending",
                                    (OfflineCopy.size != MediaFile.size)
                                    | (OfflineCopy.mtime != MediaFile.mtime)))
            scopes = sorted({str(r[0]) for r in rows})
        for scope in scopes:
            try:
                self.keep(scope)
            except (NotFound, InvalidInput):
                continue
        return len(scopes)

    def copies(self, scope: str | None = None) -> list[OfflineCopy]:
        with self.sessions() as s:
            q = select(OfflineCopy)
            if scope is not None:
                q = q.where(OfflineCopy.scope == scope)
            return list(s.scalars(q.order_by(OfflineCopy.id)))

    def states(self, file_ids: list[int]) -> dict[int, str]:
        """``{media_file_id: "pending" | "ready" | "failed"}`` for the given files."""
        if not file_ids:
            return {}
        with self.sessions() as s:
            rows = s.execute(select(OfflineCopy.media_file_id, OfflineCopy.state)
                             .where(OfflineCopy.media_file_id.in_(file_ids)))
            return {int(r[0]): str(r[1]) for r in rows}

    def _files(self, scope: str) -> list[MediaFile]:
        kind, ident = _parse(scope)
        with self.sessions() as s:
            if kind == "movie":
                if s.get(Movie, ident) is None:
                    raise NotFound(f"no movie with id {ident}")
                q = select(MediaFile).where(MediaFile.movie_id == ident, MediaFile.kind != "extra")
            else:
                if s.get(Season, ident) is None:
                    raise NotFound(f"no season with id {ident}")
                q = select(MediaFile).join(Episode).where(Episode.season_id == ident)
            return [mf for mf in s.scalars(q) if mf.missing_since is None]

    # -- following downloads -----------------------------------------------------------
    def _transfer_ended(self, transfer: Transfer) -> None:
        with self.sessions() as s:
            copy = s.scalar(select(OfflineCopy).where(OfflineCopy.transfer_id == transfer.id))
            if copy is None or copy.state != "pending":
                return
            if transfer.state == "done":
                copy.state, copy.ready_at, copy.error = "ready", utcnow(), None
            elif transfer.state in ("failed", "cancelled"):
                copy.state, copy.error = "failed", transfer.error
            else:
                return
            s.commit()
        self._forget_ready()

    # -- serving ---------------------------------------------------------------------
    def ready_copy(self, media_file_id: int) -> LocalCopy | None:
        """The ready copy of a file, from memory (loaded once, refreshed on changes);
        copies whose file is missing or of the wrong size are left out."""
        ready = self._ready
        if ready is None:
            with self.sessions() as s:
                rows = s.scalars(select(OfflineCopy).where(OfflineCopy.state == "ready"))
                ready = {c.media_file_id: LocalCopy(c.media_file_id, c.local_path, c.size, c.mtime)
                         for c in rows if self._intact(c.local_path, c.size)}
            with self._lock:
                self._ready = ready
        return ready.get(media_file_id)

    def _intact(self, rel: str, size: int) -> bool:
        """The copy's file is there with its full size (a crash may have cut it)."""
        try:
            return self.local.stat(rel).size == size
        except ReelhouseError:
            return False

    def _forget_ready(self) -> None:
        with self._lock:
            self._ready = None

    def source_down(self, source_id: int) -> bool:
        """Did a stream from this source fail in the last :data:`DOWN_FOR` seconds?"""
        return self._down.get(source_id, 0.0) > time.monotonic()

    def mark_down(self, source_id: int) -> None:
        log.warning("source %s failed a stream; playing offline copies for %.0f s",
                    source_id, DOWN_FOR)
        self._down[source_id] = time.monotonic() + DOWN_FOR

    def mark_up(self, source_id: int) -> None:
        self._down.pop(source_id, None)


def _current(copy: OfflineCopy | None, mf: MediaFile) -> bool:
    """A ready or coming copy of the file as it is now (same size and mtime)."""
    return (copy is not None and copy.state in ("ready", "pending")
            and copy.size == mf.size and copy.mtime == mf.mtime)


def _parse(scope: str) -> tuple[str, int]:
    kind, _, ident = scope.partition(":")
    if kind not in ("movie", "season") or not ident.isdigit() or len(ident) > 18:
        raise InvalidInput("scope must be movie:<id> or season:<id>")
    return kind, int(ident)
