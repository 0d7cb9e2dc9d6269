"""Reading a file over one control connection: ``REST`` + ``RETR`` (RFC 959, RFC 3659
§5) into a data connection, and the end of that transfer (:class:`Retrieval`, the
reading half of :class:`~.client.FtpClient`).

A server that refuses ``REST`` (500/502/504) is read from byte 0 and the bytes before
the offset thrown away, up to a limit the caller gives (sources/ftp/reads.py: the
source's ``max_skip`` and the caller's :class:`~reelhouse.sources.skipping.SkipAllowance`).
"""

from __future__ import annotations

import ftplib
import logging
import socket
import ssl
import time
from collections.abc import Callable
from typing import NamedTuple

from reelhouse.errors import Cancelled, InvalidInput, ReelhouseError, SeekRefused
from reelhouse.sources.base import normalize_path
from reelhouse.sources.ftp import restcheck
from reelhouse.sources.ftp.lister import FtpLister
from reelhouse.sources.ftp.receive import Opened, open_transfer
from reelhouse.sources.ftp.replies import final_reply, translate_error
from reelhouse.sources.skipping import SkipAllowance

__all__ = ["Retrieval", "TransferEnd"]

log = logging.getLogger(__name__)

#: Replies to ``REST n`` that say the server does not do it (RFC 959 §4.2: 500 command
#: not recognised, 502 not implemented, 504 not implemented for that parameter).
_REST_REFUSALS = ("500", "502", "504")

#: Bytes read per recv while skipping to an offset (:meth:`Retrieval._skip`).
_SKIP_CHUNK = 1024 * 1024


class _RestRefused(ftplib.error_perm):
    """The server refused ``REST`` (:data:`_REST_REFUSALS`); a permanent reply, so the
    control connection stays in sync."""


class TransferEnd(NamedTuple):
    """How a RETR ended (:meth:`Retrieval.end_transfer`): ``in_sync``, the control
    connection may be reused; ``done``, the server's final reply was 2xx."""

    in_sync: bool
    done: bool


class Retrieval(FtpLister):
    """A control connection's reads: RETR from an offset, the end of a transfer."""

    def start_retr(self, path: str, offset: int, rest: bool = True, max_skip: int = 0,
                   allowance: SkipAllowance | None = None,
                   stop: Callable[[], bool] | None = None) -> socket.socket | None:
        """Open a data connection streaming ``path`` from byte ``offset`` (REST + RETR).

        The caller reads the socket, then calls :meth:`end_transfer`. Returns ``None``
        when the server says the offset is past the end of the file (554, RFC 3659 §5.5):
        there is nothing to read there.

        A server that refuses ``REST`` (500, 502 or 504: RFC 959 §4.2, the command or
        its parameter not implemented; :attr:`rest_refused` then says so), one found to
        answer it and send from byte 0 all the same (:mod:`.restcheck`, checked on the
        first read at an offset on a server; :attr:`rest_refused` too), or a call
        with ``rest=False`` (the caller knows the server refuses it), is read from
        byte 0 and the first ``offset`` bytes thrown away, if ``offset`` is at most
        ``max_skip`` bytes (else :class:`SeekRefused`, before any transfer starts);
        ``allowance`` is charged what was thrown away. Returns ``None`` too when the
        file ends before ``offset``. ``stop`` (called between skipped chunks): True
        when the caller has gone; the skip then ends its transfer (the data connection
        closed, the server's 426 read: the control connection stays in sync, else it
        is closed) and raises :class:`~reelhouse.errors.Cancelled`.
        """
        if offset < 0:
            raise InvalidInput("offset must be >= 0")
        rel = normalize_path(path)
        target = self._abs(rel)
        if offset and rest and not self.rest_refused:
            restcheck.check(self, target)  # once per server: a 350 to REST is not proof
            if self.rest_refused or restcheck.rest_ignored(self.config.host, self.config.port):
                self.rest_refused = True
                log.info("FTP server %s:%d refuses or ignores REST (found by its check): ranges are read "
                         "from byte 0 and the bytes before them skipped, up to %d bytes",
                         self.config.host, self.config.port, max_skip)
        if offset and rest and not self.rest_refused:
            try:
                return self._retr(rel, target, offset)
            except ReelhouseError as exc:
                cause = exc.__cause__
                if isinstance(cause, _RestRefused):
                    self.rest_refused = True
                    log.info("FTP server %s:%d refuses REST (%s): ranges are read from byte 0 and "
                             "the bytes before them skipped, up to %d bytes", self.config.host,
                             self.config.port, cause, max_skip)
                elif isinstance(cause, ftplib.error_perm) and str(cause).startswith("554"):
                    return None
                else:
                    raise
        if offset > max_skip:
            why = ("the reader's budget" if allowance is not None and allowance.left <= max_skip
                   else "setting ftp_max_skip")
            raise SeekRefused(
                f"the FTP server does not support REST (starting a transfer at a byte offset), so "
                f"reading {rel!r} from byte {offset} means reading and throwing away {offset} bytes "
                f"first: more than the {max_skip} bytes allowed ({why})")
        conn = self._retr(rel, target, 0)
        if offset and not self._skip(conn, rel, offset, stop):
            self.end_transfer(conn, complete=True)  # the file ends before the offset
            return None
        if allowance is not None:
            allowance.charge(offset)
        return conn

    def _retr(self, rel: str, target: str, offset: int) -> socket.socket:
        """``REST offset`` (if not 0) and ``RETR``: the data connection, in transfer.
        A REST refusal leaves the control connection in sync (:class:`_RestRefused`)."""

        def _open() -> Opened:
            ftp = self._binary_ftp()
            if offset:
                try:
                    resp = ftp.sendcmd(f"REST {offset}")
                except ftplib.error_perm as exc:
                    if str(exc)[:3] in _REST_REFUSALS:
                        raise _RestRefused(str(exc)) from exc
                    raise
                if not resp.startswith("3"):  # as ftplib's ntransfercmd: 350 expected
                    raise ftplib.error_reply(resp)
            return open_transfer(ftp, f"RETR {target}")  # a server may send no 1xx (:mod:`.receive`)

        opened: Opened = self._call(f"opening {rel!r} at byte {offset}", _open)
        return self._in_transfer(opened.conn, opened.final, opened.preliminary_due)

    def _skip(self, conn: socket.socket, rel: str, count: int, stop: Callable[[], bool] | None = None) -> bool:
        """Read and throw away the first ``count`` bytes of a transfer: True when they
        came, False at an EOF before them. A broken data connection drops the control
        connection too and raises (translate_error: SourceUnreachable, SourceTimeout).
        ``stop`` returning True (the caller has gone) ends the transfer and raises
        Cancelled (:meth:`start_retr`)."""
        buf = bytearray(_SKIP_CHUNK)
        view = memoryview(buf)
        left = count
        try:
            while left:
                if stop is not None and stop():
                    end = self.end_transfer(conn, complete=False)
                    log.info("skip to byte %d of %r stopped at byte %d: its reader has gone (connection %s)",
                             count, rel, count - left, "kept" if end.in_sync else "dropped")
                    raise Cancelled(f"the read of {rel!r} was stopped while skipping to byte {count}: "
                                    "its reader has gone")
                got = conn.recv_into(view, min(left, _SKIP_CHUNK))
                if not got:
                    return False
                left -= got
        except (OSError, EOFError) as exc:
            self._close_data(conn, clean=False)
            self.close()
            raise translate_error(exc, f"skipping to byte {count} of {rel!r}") from exc
        return True

    def _close_data(self, data: socket.socket, clean: bool) -> None:
        """Close a data connection (after a TLS close_notify when the transfer ended
        cleanly; a cut one is just closed) and leave the transfer state."""
        try:
            if isinstance(data, ssl.SSLSocket) and clean:
                try:
                    data.unwrap()
                except (OSError, ValueError):
                    pass
            data.close()
        except OSError:
            pass
        self.in_transfer = False
        self.data = None
        self.transfer_final, self.preliminary_due = None, False

    def end_transfer(self, data: socket.socket, complete: bool) -> TransferEnd:
        """Close a data connection and read the server's final reply.

        ``complete`` says the data connection reached its end (expect 226); otherwise
        the transfer is cut short by closing the data connection, and the server's
        426/451 (or 226 if it had finished sending) is read with a 2 s limit. Returns
        whether the control connection is still in sync and reusable (a 2xx or 4xx
        reply, but not 421: the server is closing it) and whether the reply was 2xx:
        after the end of data only a 2xx says the server sent the whole file; a 4xx
        (421 or 426 from a server that timed a stalled transfer out, RFC 959 §4.2)
        says it gave up partway.
        """
        early, due = self.transfer_final, self.preliminary_due
        self._close_data(data, clean=complete)
        ftp = self.ftp
        if ftp is None or ftp.sock is None:
            return TransferEnd(False, False)
        resp = ""
        try:
            ftp.sock.settimeout(self.config.read_timeout if complete else 2.0)
            resp = early if early is not None else final_reply(ftp)
            if due and resp.startswith("1"):  # the 1xx came after the first data: the final is next
                resp = final_reply(ftp)
            if resp.startswith("1"):
                # pure-ftpd reports a transfer cut by the client with a 1xx statistics
                # line and nothing after it: prove the connection is in sync with NOOP.
                ftp.putcmd("NOOP")
                for _ in range(3):
                    resp = final_reply(ftp)
                    if resp.startswith("200"):
                        break
            # 226 done, or 426/450/451 cut: either way in sync; 421 closes the session
            ok = resp[:1] in ("2", "4") and not resp.startswith("421")
        except Exception:
            ok = False
        if ok:
            try:
                ftp.sock.settimeout(self.config.read_timeout)
            except OSError:
                ok = False
        if not ok:
            self.close()
        self.last_used = time.monotonic()
        return TransferEnd(ok, resp.startswith("2"))
