"""Which spool folder a drive mount owns: one per live mount of a server, locked with
``flock`` for as long as the process lives (a second mount of the same server takes
``folder.2``; a later mount adopts the uploads of a folder whose mount has ended)."""

from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["claim_folder", "release_folder"]


def claim_folder(folder: Path, create: bool = True) -> tuple[Path, int | None]:
    """``(folder, lock)``: ``folder``, or ``folder.2``, ``folder.3`` … where another live
    mount of the same server holds it, made and locked for this process (``flock`` on
    the folder itself, released when the process ends, however it ends). With
    ``create`` false, only ``folder`` (BlockingIOError while its mount lives). Where
    there is no ``flock`` (Windows) nothing is locked."""
    n = 1
    while True:
        candidate = folder if n == 1 else folder.with_name(f"{folder.name}.{n}")
        if create:
            candidate.mkdir(parents=True, exist_ok=True, mode=0o700)
        if fcntl is None:
            return candidate, None
        fd = os.open(candidate, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if not create:
                raise
            n += 1
            continue
        return candidate, fd


def release_folder(claim: int | None) -> None:
    """Unlock a folder :func:`claim_folder` locked (None: nothing was locked)."""
    if claim is not None:
        os.close(claim)  # also releases the flock
