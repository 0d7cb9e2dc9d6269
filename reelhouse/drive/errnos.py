"""reelhouse errors as errno values: the drive's only translation table.

The FUSE adapter returns ``-errno``; WinFsp (through the same binding) maps errno to
NTSTATUS the way :data:`NTSTATUS` lists (the README's table). The order of
:data:`ERRNO_BY_ERROR` matters: the most specific class first.
"""

from __future__ import annotations

import errno

from reelhouse import errors as e

__all__ = ["ERRNO_BY_ERROR", "NTSTATUS", "errno_for", "os_error"]

#: ``(error class, errno)``, most specific first. FTP reply codes reach here through
#: ``sources/ftp/client.translate_error`` (550 → NotFound or PermissionDenied, 452/552 →
#: StorageFull, 421 → SourceBusy, 530 → AuthenticationFailed).
ERRNO_BY_ERROR: list[tuple[type[e.ReelhouseError], int]] = [
    (e.NotFound, errno.ENOENT),
    (e.PermissionDenied, errno.EACCES),
    (e.AuthenticationFailed, errno.EACCES),
    (e.Conflict, errno.EEXIST),
    (e.StorageFull, errno.ENOSPC),
    (e.SourceBusy, errno.EAGAIN),
    (e.SourceUnavailable, errno.ENOTCONN),
    (e.InvalidInput, errno.EINVAL),
    (e.Cancelled, errno.EINTR),
]

#: errno → (NTSTATUS name, value) that WinFsp's FUSE layer reports for it
#: (winfsp/src/dll/fuse/fuse_intf.c, ``fsp_fuse_ntstatus_from_errno``).
NTSTATUS: dict[int, tuple[str, int]] = {
    errno.ENOENT: ("STATUS_OBJECT_NAME_NOT_FOUND", 0xC0000034),
    errno.EACCES: ("STATUS_ACCESS_DENIED", 0xC0000022),
    errno.EPERM: ("STATUS_ACCESS_DENIED", 0xC0000022),
    errno.EEXIST: ("STATUS_OBJECT_NAME_COLLISION", 0xC0000035),
    errno.ENOTEMPTY: ("STATUS_DIRECTORY_NOT_EMPTY", 0xC0000101),
    errno.ENOTDIR: ("STATUS_NOT_A_DIRECTORY", 0xC0000103),
    errno.EISDIR: ("STATUS_FILE_IS_A_DIRECTORY", 0xC00000BA),
    errno.EROFS: ("STATUS_MEDIA_WRITE_PROTECTED", 0xC00000A2),
    errno.ENOSPC: ("STATUS_DISK_FULL", 0xC000007F),
    errno.ETIMEDOUT: ("STATUS_IO_TIMEOUT", 0xC00000B5),
    errno.ENOTCONN: ("STATUS_CONNECTION_DISCONNECTED", 0xC000020C),
    errno.EIO: ("STATUS_UNEXPECTED_IO_ERROR", 0xC00000E9),
    errno.EAGAIN: ("STATUS_CANT_WAIT", 0xC00000D8),
    errno.EINVAL: ("STATUS_INVALID_PARAMETER", 0xC000000D),
    errno.ENAMETOOLONG: ("STATUS_OBJECT_NAME_INVALID", 0xC0000033),
    errno.EINTR: ("STATUS_CANCELLED", 0xC0000120),
    errno.ENOSYS: ("STATUS_INVALID_DEVICE_REQUEST", 0xC0000010),
}


def errno_for(exc: BaseException) -> int:
    """The errno for a reelhouse error (or an ``OSError``'s own), never 0.

    A ``SourceUnavailable`` caused by a timeout is ``ETIMEDOUT``; any other is
    ``ENOTCONN`` (the server stayed away after the retries). An error we do not know is
    ``EIO``.
    """
    if isinstance(exc, OSError) and isinstance(exc.errno, int) and exc.errno > 0:
        return exc.errno
    if isinstance(exc, e.SourceUnavailable) and not isinstance(exc, e.SourceBusy):
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, TimeoutError):
                return errno.ETIMEDOUT
            cause = cause.__cause__
        if "timed out" in exc.message:
            return errno.ETIMEDOUT
    for cls, code in ERRNO_BY_ERROR:
        if isinstance(exc, cls):
            return code
    return errno.EIO


def os_error(code: int, path: str = "") -> OSError:
    """An ``OSError`` carrying ``code`` (what the adapter turns into ``-code``)."""
    import os

    return OSError(code, os.strerror(code), path) if path else OSError(code, os.strerror(code))
