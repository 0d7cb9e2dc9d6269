"""The drive's open file handles: what each number the kernel holds stands for.

A handle reads the server (a :class:`~reelhouse.drive.reading.FileReader`) or writes a
spool file (a :class:`~reelhouse.drive.spoolfile.SpoolFile`); it follows its file through
renames (:meth:`Handles.moved`).
"""

from __future__ import annotations

import errno
import itertools
import threading
from dataclasses import dataclass

from reelhouse.drive.errnos import os_error
from reelhouse.drive.reading import FileReader
from reelhouse.drive.spoolfile import SpoolFile

__all__ = ["Handle", "Handles"]


@dataclass
class Handle:
    """One open file: its path on the source, and a reader or a spool file (or both,
    for a file read after it was written)."""

    path: str
    reader: FileReader | None = None
    node: SpoolFile | None = None
    #: the number of the last change made through this handle (:attr:`SpoolFile.changes`;
    #: 0: none): its close uploads when that change is unsent (:meth:`SpoolFile.unsent_since`)
    change: int = 0
    #: opened with O_APPEND: every write lands at the file's end as the drive knows it
    append: bool = False


class Handles:
    """Open handles by number (1, 2, …; never reused within a mount). Thread-safe."""

    def __init__(self) -> None:
        self._handles: dict[int, Handle] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, handle: Handle) -> int:
        """Register ``handle``; returns its number."""
        with self._lock:
            fh = next(self._ids)
            self._handles[fh] = handle
        return fh

    def get(self, fh: int) -> Handle:
        """The handle numbered ``fh``; raises ``OSError(EBADF)`` for an unknown one."""
        with self._lock:
            handle = self._handles.get(fh)
        if handle is None:
            raise os_error(errno.EBADF)
        return handle

    def find(self, fh: int) -> Handle | None:
        """The handle numbered ``fh``, or None."""
        with self._lock:
            return self._handles.get(fh)

    def pop(self, fh: int) -> Handle | None:
        """Forget handle ``fh`` (None if it was not open)."""
        with self._lock:
            return self._handles.pop(fh, None)

    def numbers(self) -> list[int]:
        """The numbers of every open handle."""
        with self._lock:
            return list(self._handles)

    def moved(self, src: str, dst: str) -> None:
        """Open handles of ``src`` (or of files under the folder ``src``) follow it to
        ``dst``: a file read while renamed keeps its bytes, which is also how an open file
        survives ``unlink`` and being renamed over (libfuse first renames it to
        ``.fuse_hidden…``, then unlinks that at the last close)."""
        with self._lock:
            for handle in self._handles.values():
                if handle.path == src or handle.path.startswith(src + "/"):
                    handle.path = dst + handle.path[len(src):]
                    if handle.reader is not None:
                        handle.reader.path = handle.path
