"""The on-disk segment cache: ``<root>/<file key>/<track>/<n>.ts``, bounded in bytes,
least recently used first out.

A hit sets the file's access time, so atime order is use order, and leaves its mtime:
the mtime and size are the segment's validators (ETag, Last-Modified: a hit that moved
the mtime made every conditional request miss). :meth:`SegmentCache.trim` deletes the
least recently used segments until the total is under the limit; encoders write through
``.tmp`` names and rename, so a segment on disk is always complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

__all__ = ["SegmentCache"]


class SegmentCache:
    """Segments under ``root``, at most ``max_bytes`` bytes after each :meth:`trim`."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        root.mkdir(parents=True, exist_ok=True)

    def track_dir(self, file_key: str, track: str) -> Path:
        """The folder of one track's segments (created)."""
        path = self.root / file_key / track
        path.mkdir(parents=True, exist_ok=True)
        return path

    def file_dir(self, file_key: str) -> Path:
        path = self.root / file_key
        path.mkdir(parents=True, exist_ok=True)
        return path

    @staticmethod
    def hit(path: Path) -> bool:
        """True if ``path`` exists (and mark it used now: its atime; the mtime stays)."""
        try:
            os.utime(path, ns=(time.time_ns(), os.stat(path).st_mtime_ns))
        except FileNotFoundError:
            return False
        return True

    def usage(self) -> tuple[int, list[tuple[float, int, Path]]]:
        """(total bytes, [(last use: atime, size, path)] of the segments)."""
        total = 0
        files: list[tuple[float, int, Path]] = []
        for dirpath, _, names in os.walk(self.root):
            for name in names:
                if not name.endswith((".ts", ".vtt")):
                    continue
                path = Path(dirpath, name)
                with contextlib.suppress(FileNotFoundError):
                    st = path.stat()
                    total += st.st_size
                    files.append((st.st_atime, st.st_size, path))
        return total, files

    def trim(self) -> int:
        """Delete least recently used segments until under ``max_bytes``; bytes freed."""
        total, files = self.usage()
        freed = 0
        if total <= self.max_bytes:
            return 0
        for _, size, path in sorted(files):
            if total - freed <= self.max_bytes:
                break
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                freed += size
        return freed

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)
