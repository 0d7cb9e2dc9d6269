"""What the drive may change, and how failures become errno values.

:class:`Guard` maps reelhouse errors raised by an operation to ``OSError(errno)``
(:mod:`reelhouse.drive.errnos`), marks the server unhealthy on a connection failure,
refuses changes on a read-only mount or a server that refuses every write (EROFS), and
refuses new names the server cannot take (:mod:`reelhouse.drive.names`).
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from reelhouse.drive.errnos import errno_for, os_error
from reelhouse.drive.names import keeps_trailing_spaces, new_name_errno, risky_name
from reelhouse.drive.status import Health
from reelhouse.errors import PermissionDenied, ReelhouseError, SourceUnavailable
from reelhouse.sources.base import Source

__all__ = ["Guard"]

log = logging.getLogger(__name__)


class Guard:
    """Error mapping and write refusal for one mount of ``source``. Thread-safe.
    ``read_only`` refuses every change with EROFS, and so does a server found to refuse
    every write (:meth:`refused`)."""

    def __init__(self, source: Source, health: Health, read_only: bool) -> None:
        self.source = source
        self.health = health
        self.read_only = read_only
        #: the server refuses every write for this login (found by :meth:`refused`)
        self.server_read_only = False
        #: the server stored an upload under another name (uploader.NameRewritten), or
        #: a name ending with a space as another (:meth:`new_name`'s check)
        self.names_rewritten = False
        self._names_checked = False
        self._probed = False
        self._lock = threading.Lock()

    @contextmanager
    def errors(self, path: str = "", *, write: bool = False) -> Iterator[None]:
        """Map reelhouse errors to ``OSError(errno)``; a connection failure marks the
        server unhealthy (answers from the server mark it healthy again: listings,
        uploads, the mount's probe). In a ``write``, a permission refusal is EROFS when
        the server refuses every write (:meth:`refused`), else EACCES."""
        try:
            yield
        except OSError:
            raise
        except SourceUnavailable as exc:
            self.health.failed(exc.message)
            raise os_error(errno_for(exc), path) from exc
        except PermissionDenied as exc:
            code = errno.EROFS if write and self.refused() else errno_for(exc)
            raise os_error(code, path) from exc
        except ReelhouseError as exc:
            raise os_error(errno_for(exc), path) from exc

    @property
    def writes_refused(self) -> bool:
        """Every change gets EROFS: a read-only mount, or a server refusing every write."""
        return self.read_only or self.server_read_only

    def refused(self) -> bool:
        """After a write was refused: does the server refuse *every* write for this login?

        Asked once per mount by renaming a name that does not exist at the mount's root
        (RNFR changes nothing): a server that allows writes looks the name up and answers
        "not found"; one that refuses writes to this login (vsftpd ``write_enable=NO``,
        anonymous FTP without uploads, pyftpdlib without the ``f`` permission) answers
        "permission denied" before looking. A per-folder refusal on a writable server
        thus stays EACCES. Limit: a server whose root is read-only while a subfolder is
        writable is taken as read-only once a write was refused.
        """
        with self._lock:
            if self._probed:
                return self.server_read_only
            self._probed = True
        probe = f".reelhouse-write-probe-{os.getpid()}-{time.monotonic_ns()}"
        try:
            self.source.rename(probe, probe + ".to")
        except PermissionDenied:
            self.server_read_only = True
            log.warning("the FTP server refuses every write for this login: changes get EROFS")
        except ReelhouseError:
            pass  # not found (writes allowed), or no answer: a plain permission refusal
        return self.server_read_only

    def writable(self, path: str) -> None:
        """Raise ``OSError(EROFS)`` when changes are refused."""
        if self.writes_refused:
            raise os_error(errno.EROFS, path)

    def reachable(self, path: str) -> None:
        """Raise ``OSError(ENOTCONN)`` while the server is down (``drive status`` says
        "down"). A file opened for writing then fails at once, as a listing does,
        whether or not the folder's listing is still cached: bytes accepted now could
        only wait in the spool for the server, and an open that works or fails by the
        cache's age is no rule a user can follow. Handles already open keep writing to
        the spool (nothing accepted is lost: a failed upload stays there and is retried
        when the server is back). While it is only "reconnecting", writes go on."""
        if self.health.state == "down":
            raise os_error(errno.ENOTCONN, path)

    def new_name(self, rel: str, path: str) -> None:
        """A name about to be made that the server cannot take fails now, not at the
        upload (:func:`~reelhouse.drive.names.new_name_errno`). Before the mount's first
        :func:`~reelhouse.drive.names.risky_name`, whether the server keeps a trailing
        space is asked once (:func:`~reelhouse.drive.names.keeps_trailing_spaces`): on
        pure-ftpd that first name too is EINVAL at once (it was uploaded, stored as
        ``name_``, and EINVAL only at its close)."""
        if not self.names_rewritten and not self._names_checked and risky_name(rel):
            with self._lock:
                if not self._names_checked:
                    kept = keeps_trailing_spaces(self.source, rel.rpartition("/")[0])
                    self._names_checked = kept is not None
                    self.names_rewritten = self.names_rewritten or kept is False
        refused = new_name_errno(self.source, rel, self.names_rewritten)
        if refused is not None:
            log.info("refused the name %r: %s", rel, refused[1])
            raise os_error(refused[0], path)
