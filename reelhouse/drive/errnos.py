"""reelhouse errors as errno values: the drive's only translation table.

The FUSE adapter returns ``-errno``; WinFsp (through the same binding) maps errno to
NTSTATUS the way :data:`NTSTATUS` lists (the README's table). The order of
:data:`ERRNO_BY_ERROR` matters: the most specific class first.
"""

from __future__ import annotations

import errno

from reelhouse import errors as e

__all__ = ["ERRNO_BY_ERROR", "NTSTATUS", "errno_for", "os_error", "windows_errno"]

#: ``(error class, errno)``, most specific first. FTP reply codes reach here through
#: ``sources/ftp/client.translate_error`` (550 → NotFound or PermissionDenied, 452/552 →
#: StorageFull, 421 → SourceBusy, 530 → AuthenticationFailed).
ERRNO_BY_ERROR: list[tuple[type[e.ReelhouseError], int]] = [
    (e.NotFound, errno.ENOENT),
    (e.PermissionDenied, errno.EACCES),
    (e.AuthenticationFailed, errno.EACCES),
    (e.Conflict, errno.EEXIST),
    (e.StorageFull, errno.ENOSPC),
    (e.SourceTimeout, errno.ETIMEDOUT),  # the server did not answer in time
    (e.SourceUnreachable, errno.ENOTCONN),  # refused, reset, dropped, name unknown
    (e.QueueFull, errno.EAGAIN),  # too many of this user's requests wait: try again (EBUSY on Windows)
    (e.SourceBusy, errno.EAGAIN),  # 421, every pooled connection in use past the wait
    (e.SourceUnavailable, errno.ENOTCONN),  # any other (TLS trust, a 4xx): see errno_for
    (e.InvalidInput, errno.EINVAL),
    (e.Cancelled, errno.EINTR),
]

#: errno → (NTSTATUS name, value) that WinFsp's FUSE layer reports for it: its table
#: ``fsp_fuse_ntstatus_from_errno`` (winfsp src/dll/fuse/errno.i, MSVC CRT errno numbers;
#: a number it does not list is STATUS_ACCESS_DENIED). The adapter first passes every
#: errno through :func:`windows_errno` there.
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
    errno.ETIMEDOUT: ("STATUS_TRANSACTION_TIMED_OUT", 0xC0000210),
    errno.ENOTCONN: ("STATUS_CONNECTION_INVALID", 0xC000023A),
    errno.EIO: ("STATUS_IO_DEVICE_ERROR", 0xC0000185),
    errno.EAGAIN: ("STATUS_DEVICE_BUSY", 0x80000011),  # sent as EBUSY: WinFsp has no EAGAIN
    errno.EBUSY: ("STATUS_DEVICE_BUSY", 0x80000011),
    errno.EINVAL: ("STATUS_INVALID_PARAMETER", 0xC000000D),
    errno.ENAMETOOLONG: ("STATUS_NAME_TOO_LONG", 0xC0000106),
    errno.EINTR: ("STATUS_CANCELLED", 0xC0000120),
    errno.ENOSYS: ("STATUS_INVALID_DEVICE_REQUEST", 0xC0000010),
    errno.EBADF: ("STATUS_INVALID_HANDLE", 0xC0000008),
}

#: The numbers CPython on Windows gives that WinFsp's table (MSVC CRT ``errno.h``
#: numbering) does not know, with the CRT number to send instead: ETIMEDOUT and ENOTCONN
#: come from Winsock there (WSAETIMEDOUT 10060, WSAENOTCONN 10057; CPython
#: Modules/errnomodule.c), which WinFsp would report as STATUS_ACCESS_DENIED. EAGAIN (11)
#: and EWOULDBLOCK (WSAEWOULDBLOCK 10035) are not in WinFsp's table at all: EBUSY (16,
#: STATUS_DEVICE_BUSY) is the nearest it has.
_CRT_FOR_WINDOWS = {10060: 138, 10057: 126, 10035: 16, 11: 16}


def windows_errno(code: int) -> int:
    """A Windows Python errno as the MSVC CRT number WinFsp's FUSE layer maps to
    NTSTATUS (:data:`NTSTATUS`); the adapter applies it on Windows only."""
    return _CRT_FOR_WINDOWS.get(code, code)


def errno_for(exc: BaseException) -> int:
    """The errno for a reelhouse error (or an ``OSError``'s own), never 0, by its type
    (:data:`ERRNO_BY_ERROR`; issue 12's table): ``SourceTimeout`` is ``ETIMEDOUT``,
    ``SourceUnreachable`` ``ENOTCONN`` (the server stayed away after the retries),
    ``QueueFull`` and ``SourceBusy`` ``EAGAIN``. A plain ``SourceUnavailable`` (no subtype
    says which) is ``ETIMEDOUT`` when a ``TimeoutError`` caused it or, failing that, its
    message says "timed out", else ``ENOTCONN``. An error we do not know is ``EIO``.
    """
    if isinstance(exc, OSError) and isinstance(exc.errno, int) and exc.errno > 0:
        return exc.errno
    if isinstance(exc, e.SourceUnavailable) \
            and not isinstance(exc, e.SourceTimeout | e.SourceUnreachable | e.SourceBusy):  # no subtype says
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
