"""The local store's side of a download: whether the disk has room for it (the reserve
of ``store_min_free``) and what an ``OSError`` writing into the store means (a full
disk, a folder or a file in the way, no permission), as the domain error a transfer
ends with."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from reelhouse.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ReelhouseError,
    StorageFull,
)

__all__ = ["ROOM_CHECK_EVERY", "check_room", "local_error"]


def local_error(exc: OSError, path: Path) -> ReelhouseError:
    """The domain error of ``exc``, raised using the local file ``path`` (a download's
    destination, an upload's file): StorageFull, NotFound, PermissionDenied, Conflict
    (a folder where the file goes, a file where a folder goes), else InvalidInput."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull(f"no space left in the local store for {path.name!r}")
    if isinstance(exc, FileNotFoundError):
        return NotFound(f"no such local file: {path}")
    if isinstance(exc, PermissionError):
        return PermissionDenied(f"permission denied: {path}")
    if exc.errno in (errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
        if path.is_dir():  # (a file replaced by a folder of its name on the server, or the reverse)
            return Conflict(f"cannot write {path}: it is a folder")
        for folder in path.parents:
            if folder.exists() and not folder.is_dir():
                return Conflict(f"cannot write {path}: {folder} is a file (an earlier download?)")
    return InvalidInput(f"cannot use local file {path}: {exc.strerror or exc}")


#: Bytes written between two checks of the disk's free space during a download.
ROOM_CHECK_EVERY = 64 * 1024 * 1024


def check_room(folder: Path, need: int, min_free: int, name: str) -> None:
    """StorageFull unless writing ``need`` more bytes in ``folder`` leaves ``min_free``
    bytes free on its disk (``shutil.disk_usage``)."""
    if min_free <= 0:
        return
    free = shutil.disk_usage(folder).free
    if free - need < min_free:
        raise StorageFull(f"no space left in the local store for {name!r} (the disk's last "
                          f"{min_free} bytes are kept free for the server)")
