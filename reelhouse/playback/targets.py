"""What the stream endpoint needs to know of a media file, cached for a few seconds.

A browser seeking through a film sends a Range request per seek; looking the file up in
the database each time cost ~1.5 ms of a ~6 ms time-to-first-byte
(benchmarks/seek_latency.py). Entries live ``ttl`` seconds (10 s), so a rescan's new
size or a file gone missing is seen within that time; a scan in this process clears
the cache when it ends, and a target the source no longer has (another process's scan
moved the file: the CLI's ``reelhouse scan``, another node) is read again at once
(:meth:`StreamTargets.fresh`, playback/service.py; HLS: playback/hls/service.py).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reelhouse.db.models import MediaFile
from reelhouse.errors import NotFound

__all__ = ["StreamTarget", "StreamTargets"]


@dataclass(frozen=True, slots=True)
class StreamTarget:
    """A media file's source id, source-relative path, size (bytes), mtime (epoch s),
    and the container its probe read (``mp4``, ``mkv`` …; None before a probe)."""

    file_id: int
    source_id: int
    path: str
    size: int
    mtime: float | None
    missing: bool
    container: str | None = None


class StreamTargets:
    """Thread-safe TTL cache of :class:`StreamTarget` by media file id."""

    def __init__(self, sessions: sessionmaker[Session], ttl: float = 10.0, max_entries: int = 4096):
        self.sessions = sessions
        self.ttl = ttl
        self.max_entries = max_entries
        self._cache: OrderedDict[int, tuple[float, StreamTarget]] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, file_id: int) -> StreamTarget | None:
        """The cached target if fresh (no I/O: safe on the event loop)."""
        with self._lock:
            hit = self._cache.get(file_id)
            if hit is None or hit[0] < time.monotonic():
                return None
            return hit[1]

    def get(self, file_id: int) -> StreamTarget:
        """The target, from the cache or the database; raises NotFound."""
        hit = self.cached(file_id)
        if hit is not None:
            return hit
        with self.sessions() as s:
            row = s.execute(
                select(MediaFile.source_id, MediaFile.path, MediaFile.size, MediaFile.mtime,
                       MediaFile.missing_since, MediaFile.container).where(MediaFile.id == file_id)
            ).first()
        if row is None:
            raise NotFound(f"no media file with id {file_id}")
        target = StreamTarget(file_id, row[0], row[1], row[2], row[3], row[4] is not None, row[5])
        with self._lock:
            self._cache[file_id] = (time.monotonic() + self.ttl, target)
            self._cache.move_to_end(file_id)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return target

    def forget(self, file_id: int) -> None:
        """Drop ``file_id``'s cached target (no I/O)."""
        with self._lock:
            self._cache.pop(file_id, None)

    def fresh(self, file_id: int) -> StreamTarget:
        """The target read from the database now (and cached again); raises NotFound."""
        self.forget(file_id)
        return self.get(file_id)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
