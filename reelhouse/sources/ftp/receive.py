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
A file is read the same way (:func:`open_transfer`), and a server seen skipping the
``1xx`` gets its uploads' data at once (:func:`open_upload`: it would wait for the data
without a word).

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
from typing import NamedTuple

from reelhouse.sources.ftp.limits import ListingBudget

__all__ = ["FINAL", "Opened", "await_reply", "open_transfer", "open_upload", "read_rest", "skips_preliminary"]

#: Replies that end a transfer (RFC 959 §4.2: 226 closing the data connection, 250
#: requested file action completed, 225 data connection open, no transfer in progress).
FINAL = ("225", "226", "250")

#: Bytes asked of one recv on a listing's data connection.
_RECV = 1 << 20

#: Servers (host, port) seen answering a transfer with its final reply and no 1xx
#: before: an upload to them does not wait for a 1xx (:func:`open_upload`).
_NO_PRELIMINARY: set[tuple[str, int]] = set()


def skips_preliminary(ftp: ftplib.FTP) -> bool:
    """Whether ``ftp``'s server was seen sending a transfer's final reply with no 1xx."""
    return (ftp.host, ftp.port) in _NO_PRELIMINARY


def _final_first(ftp: ftplib.FTP, reply: str) -> str:
    """Note ``ftp``'s server as one that skips the 1xx (its final ``reply`` came first)."""
    _NO_PRELIMINARY.add((ftp.host, ftp.port))
    return reply


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
        if reply[:3] in FINAL:
            return _final_first(ftp, reply), ended
        if reply[:1] != "2":
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


class Opened(NamedTuple):
    """A transfer opened by :func:`open_transfer`: its data connection; ``final``, the
    final reply when it came before the data was read (a server without the 1xx that
    sent a small file whole: nothing more to wait for at its end); ``preliminary_due``,
    the data came before any reply (a server without the 1xx, or a 1xx still on its
    way: one read at the end before the final reply is skipped)."""

    conn: socket.socket
    final: str | None
    preliminary_due: bool


def open_transfer(ftp: ftplib.FTP, cmd: str) -> Opened:
    """Open a passive data connection and send ``cmd`` (``RETR path``, after any
    ``REST``) on a plain connection, without waiting for a 1xx the server may never
    send (:func:`await_reply`'s rule: a final 2xx first is the transfer done, another
    2xx is skipped); the data is not read. On TLS, ftplib's way (the data connection's
    handshake follows the 1xx). Raises ftplib's errors (a 4xx/5xx reply: the data
    connection is closed), TimeoutError as :func:`await_reply`."""
    if isinstance(ftp, ftplib.FTP_TLS):
        return Opened(ftp.ntransfercmd(cmd)[0], None, False)
    host, port = ftp.makepasv()  # the control connection's peer, as ftplib's (NAT)
    conn = socket.create_connection((host, port), ftp.timeout, source_address=ftp.source_address)
    try:
        ftp.putcmd(cmd)
        ctrl = ftp.sock
        assert ctrl is not None
        poller = select.poll()
        poller.register(ctrl, select.POLLIN)
        watch_data = True
        poller.register(conn, select.POLLIN)
        wait_ms = None if ftp.timeout is None else max(1, int(ftp.timeout * 1000))
        while True:
            if not _reply_waiting(ftp, ctrl):
                ready = {fd for fd, _ in poller.poll(wait_ms)}
                if not ready:
                    raise TimeoutError("timed out")
                if ctrl.fileno() not in ready and watch_data:
                    try:
                        sent = conn.recv(1, socket.MSG_PEEK)
                    except OSError:
                        sent = b""  # reset: as closed
                    if sent:
                        return Opened(conn, None, True)  # data, no reply yet
                    poller.unregister(conn)  # closed with nothing sent: the reply says why
                    watch_data = False
                    continue
            reply = ftp.getresp()  # a 4xx/5xx raises
            if reply[:1] == "1":
                return Opened(conn, None, False)
            if reply[:3] in FINAL:
                return Opened(conn, _final_first(ftp, reply), False)
            if reply[:1] != "2":
                raise ftplib.error_reply(reply)
    except BaseException:
        conn.close()
        raise


def open_upload(ftp: ftplib.FTP, cmd: str, rest: int | None = None) -> Opened:
    """Open a passive data connection and send ``cmd`` (``STOR``/``APPE``, after ``REST
    rest`` when given) to a server that skips the 1xx (:func:`skips_preliminary`; on
    TLS, or another server, ftplib's way: the 1xx awaited): the server waits for the
    data without a word, so none is awaited; its final reply, and any 1xx before it
    (``preliminary_due``), is read after the data. Raises ftplib's errors."""
    if isinstance(ftp, ftplib.FTP_TLS) or not skips_preliminary(ftp):
        return Opened(ftp.ntransfercmd(cmd, rest)[0], None, False)
    host, port = ftp.makepasv()
    conn = socket.create_connection((host, port), ftp.timeout, source_address=ftp.source_address)
    try:
        if rest is not None:
            reply = ftp.sendcmd(f"REST {rest}")
            if reply[:1] != "3":  # as ftplib's ntransfercmd: 350 expected
                raise ftplib.error_reply(reply)
        ftp.putcmd(cmd)
    except BaseException:
        conn.close()
        raise
    return Opened(conn, None, True)
