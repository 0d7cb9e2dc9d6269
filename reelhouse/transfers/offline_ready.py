"""Which offline copies are ready to play, from memory, and which sources failed a
stream a moment ago (the half of ``transfers/offline.py`` that playback asks, on every
stream, without I/O: :class:`~reelhouse.playback.service.OfflineStore`)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import OfflineCopy
from reelhouse.errors import ReelhouseError
from reelhouse.sources.local import LocalSource

__all__ = ["DOWN_FOR", "LocalCopy", "ReadyCopies"]

log = logging.getLogger(__name__)

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


class ReadyCopies:
    """The ready copies in ``store`` (``local``: the store as a source), read once from
    the database and again after each change this process makes, or after a stream
    found one gone (:meth:`copy_gone`); and the sources taken as down."""

    def __init__(self, sessions: sessionmaker[Session], store: Path) -> None:
        self.sessions = sessions
        self.store = store
        store.mkdir(parents=True, exist_ok=True)
        self.local = LocalSource(store)
        self._ready: dict[int, LocalCopy] | None = None
        self._down: dict[int, float] = {}
        self._lock = threading.Lock()

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

    def copy_gone(self, media_file_id: int) -> None:
        """A stream found the ready copy of ``media_file_id`` gone from the store
        (removed by another process, or by hand): the ready copies are read again."""
        log.info("the offline copy of file %s is gone from the store", media_file_id)
        self._forget_ready()

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
