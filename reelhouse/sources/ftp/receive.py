"""A listing's data connection read while the control connection is watched for its
replies, so a server that skips the preliminary reply still lists.

RFC 959 §5.4 has a listing command (``LIST``, ``MLSD``: RFC 3659 §7) answered
``125``/``150`` before its data and ``226``/``250`` after. Some servers (embedded NAS
and camera firmwares, small Windows servers) open the data connection, send the listing
and answer ``226`` at once, with no ``1xx``. ftplib waits for the ``1xx`` first (and
reads a ``2xx`` there as one that came early, waiting for the ``1xx`` after it): the
folder failed after ``read_timeout``, and a listing bigger than the socket buffers
could not even reach its ``226`` (the server blocked writing data nobody read).

Here the data connection is read from the moment the command is sent, and the control
connection answers when it has a reply: a ``1xx`` is the ordinary way (the data to its
end, then the final reply); a final ``2xx`` first (225, 226, 250) is a server without
the ``1xx`` (the data to its end, and that reply is the final one); another ``2xx``
(ftplib's "200 before the 150") is skipped. Plain data connections only: a TLS data
connection (RFC 4217) needs its handshake first, which ftplib does after the ``1xx``.

A reply may be read already when the command is sent: it came with the one before
(pipelined commands, :mod:`.pipeline`: a ``550`` right behind the ``227``), held by the
control connection's :class:`~.limits.ReplyReader`, or decrypted by TLS
(``SSLSocket.pending``); it is read at once. Else both sockets are polled.
"""

from __future__ import annotations

import ftplib
import select
import socket
import ssl

from reelhouse.sources.ftp.limits import ListingBudget

__all__ = ["FINAL", "await_reply", "read_rest"]

#: Replies that end a transfer (RFC 959 §4.2: 226 closing the data connection, 250
#: requested file action completed, 225 data connection open, no transfer in progress).
FINAL = ("225", "226", "250")

#: Bytes asked of one recv on a listing's data connection.
_RECV = 1 << 20


def await_reply(ftp: ftplib.FTP, conn: socket.socket, budget: ListingBudget, chunks: list[bytes]) -> tuple[str, bool]:
    """The next reply on ``ftp``'s control connection after a listing command was sent
    on it, the listing's data connection ``conn`` read into ``chunks`` (counted by
    ``budget``) meanwhile; with whether ``conn`` reached its end. A ``2xx`` other than
    :data:`FINAL` (a reply that came before the ``1xx``, as ftplib's ``ntransfercmd``
    allows) is skipped. Raises ftplib's errors for a 4xx/5xx reply, TimeoutError when
    neither connection says anything for the control connection's timeout (seconds),
    SourceUnavailable past the budget."""
    ctrl = ftp.sock
    assert ctrl is not None
    poller = select.poll()  # any fd number (select() stops at 1024)
    poller.register(ctrl, select.POLLIN)
    poller.register(conn, select.POLLIN)
    wait_ms = None if ftp.timeout is None else max(1, int(ftp.timeout * 1000))
    ended = False
    while True:
        while not ended and not _reply_waiting(ftp, ctrl):
            ready = {fd for fd, _ in poller.poll(wait_ms)}
            if not ready:
                raise TimeoutError("timed out")
            if ctrl.fileno() in ready:
                break
            chunk = conn.recv(_RECV)
            if not chunk:
                ended = True
                break
            budget.take(len(chunk))
            chunks.append(chunk)
        reply = ftp.getresp()
        if reply[:1] != "2" or reply[:3] in FINAL:
            return reply, ended


def _reply_waiting(ftp: ftplib.FTP, ctrl: socket.socket) -> bool:
    """Whether bytes of a reply are read already: held by the reply reader
    (:class:`~.limits.ReplyReader`: replies that came together with the one before), or
    decrypted by TLS and not read yet. A reader that cannot tell counts as holding one
    (the reply is waited for as ftplib does)."""
    buffered = getattr(ftp.file, "buffered", None)
    if buffered is None or buffered():
        return True
    return isinstance(ctrl, ssl.SSLSocket) and ctrl.pending() > 0


def read_rest(conn: socket.socket, budget: ListingBudget, chunks: list[bytes]) -> None:
    """Read ``conn`` to its end into ``chunks``, counted by ``budget``."""
    while chunk := conn.recv(_RECV):
        budget.take(len(chunk))
        chunks.append(chunk)
