"""The one exception tree of reelhouse.

Every error that crosses a module boundary is a :class:`ReelhouseError`. Third-party
errors (``ftplib.error_perm``, ``OSError``, ``av.FFmpegError`` …) are translated where
the library is called, with ``raise OurError(...) from exc``; the edges map this tree to
the outside world once: HTTP status in ``api/errors.py``, exit codes in ``cli/errors.py``.

::

    ReelhouseError
    ├── InvalidInput              bad argument, bad setting, bad request body
    │   └── RangeNotSatisfiable   a Range that selects no byte of the file (RFC 9110 §15.5.17)
    │       └── SeekRefused       a read that would start too far in for the source (FTP without REST)
    ├── NotFound                  no such file, folder, row
    ├── PermissionDenied          the server or OS refused access
    ├── AuthenticationFailed      bad login (ours or the source's, e.g. FTP 530)
    ├── Conflict                  already exists / state does not allow it
    │   └── PreconditionFailed    If-Match / If-Unmodified-Since did not hold (RFC 9110 §15.5.13)
    ├── StorageFull               no space left (FTP 452/552, ENOSPC)
    ├── SourceUnavailable         the source cannot be used now
    │   ├── SourceUnreachable     its server is down: refused, reset, name unknown
    │   ├── SourceTimeout         its server did not answer in time
    │   └── SourceBusy            its connections are all taken (FTP 421, the pool's wait)
    │       └── QueueFull         too many of one user's requests wait for it already
    ├── ProbeFailed               a file could not be read as media
    ├── Cancelled                 a job was cancelled by a user
    ├── ServiceBusy               reelhouse is at a limit it set itself (concurrent encoders)
    ├── TooManyRequests           a client must slow down (failed logins); has retry_after
    ├── TranscodeFailed           ffmpeg is missing, unfit, or failed on a file
    └── ConfigError               settings that stop start-up
"""

from __future__ import annotations

__all__ = [
    "AuthenticationFailed",
    "Cancelled",
    "ConfigError",
    "Conflict",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "PreconditionFailed",
    "ProbeFailed",
    "QueueFull",
    "RangeNotSatisfiable",
    "ReelhouseError",
    "SeekRefused",
    "ServiceBusy",
    "SourceBusy",
    "SourceLoginRefused",
    "SourceTimeout",
    "SourceUnavailable",
    "SourceUnreachable",
    "StorageFull",
    "TooManyRequests",
    "TranscodeFailed",
]


class ReelhouseError(Exception):
    """Base of every reelhouse error; ``str(err)`` is a message fit for a user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ReelhouseError):
    """The caller gave something malformed or out of range."""


class RangeNotSatisfiable(InvalidInput):
    """A Range header selects no byte of a representation of ``size`` bytes."""

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


class SeekRefused(RangeNotSatisfiable):
    """A read cannot start at its offset on this source at a bounded cost: an FTP server
    that refuses ``REST`` is read from byte 0 and the bytes before the offset thrown
    away, up to a limit (``ftp_max_skip``; sources/ftp/reads.py). A 416 at the API (RFC
    9110 §15.5.17 lets a server refuse ranges that cost it too much), EINVAL at the
    drive. ``size`` is the file's size when the raiser knows it, else -1 (the stream
    fills it in)."""

    def __init__(self, message: str, size: int = -1) -> None:
        super().__init__(message, size)


class NotFound(ReelhouseError):
    """The file, folder or row does not exist."""


class PermissionDenied(ReelhouseError):
    """Access was refused (by the OS, the FTP server or our own rules)."""


class AuthenticationFailed(ReelhouseError):
    """Credentials were refused (a reelhouse login, or an FTP server's 530)."""


class SourceLoginRefused(AuthenticationFailed):
    """A source refused the credentials stored for it (an FTP server's 530, a Jellyfin
    server's 401): the server's problem, not the user's session, so the API answers 502
    (a 401 would log the user out of the web UI and of Jellyfin apps)."""


class Conflict(ReelhouseError):
    """The thing exists already, or its state does not allow the operation."""


class PreconditionFailed(Conflict):
    """A conditional request's precondition is false: the representation is not the one
    the client named (If-Match) or changed since (If-Unmodified-Since)."""


class StorageFull(ReelhouseError):
    """No space left on the target (FTP 452/552, ENOSPC)."""


class SourceUnavailable(ReelhouseError):
    """The source cannot be reached now: refused, timed out, reset, TLS failure."""


class SourceUnreachable(SourceUnavailable):
    """The source's server cannot be reached: it refused the connection, reset or
    dropped it, or its name does not resolve (the server or its network is down)."""


class SourceTimeout(SourceUnavailable):
    """The source's server did not answer within its timeout (connect or read)."""


class SourceBusy(SourceUnavailable):
    """The source has no connection for this request now: the server refuses more
    (FTP 421 "too many connections"), or every pooled connection stayed in use for the
    pool's whole wait. Waiting helps: ``retry_after`` seconds is a fair guess.
    ``public``: the message names no server, so any user may read it as it is (else
    the API shows users a generic "busy" message and admins this one)."""

    def __init__(self, message: str, retry_after: int = 10, public: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.public = public


class QueueFull(SourceBusy):
    """Too many requests of this user wait for a connection of the source already
    (``ftp_user_waiters``); one of theirs ending makes room. ``message`` names no
    server (a user reads it as it is)."""

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message, retry_after, public=True)


class ProbeFailed(ReelhouseError):
    """A file could not be read as media (damaged, not media, or over the byte budget)."""


class Cancelled(ReelhouseError):
    """A job (a scan) was cancelled before it finished."""


class ServiceBusy(ReelhouseError):
    """reelhouse is at a limit of its own (e.g. ``hls_max_encoders``); retry shortly."""


class TooManyRequests(ReelhouseError):
    """A client must wait ``retry_after`` seconds before trying again (RFC 6585 §4)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TranscodeFailed(ReelhouseError):
    """ffmpeg is missing or lacks an encoder, or it failed on this file."""


class ConfigError(ReelhouseError):
    """A setting is invalid; the message names the setting."""
