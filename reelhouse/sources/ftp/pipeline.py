"""A folder listing in one round trip: ``[CWD dir] PASV MLSD|LIST`` written at once.

RFC 959 §4.2 has the server answer commands in the order they came, and nothing stops a
client from sending the next one before the last reply (servers read a stream: vsftpd,
pure-ftpd, proftpd and pyftpdlib all take pipelined commands). A passive listing command
may come before its data connection: the server waits for it (RFC 959 §3.2 "the
server-DTP ... waits for a connection"). So instead of CWD → reply, PASV → reply,
LIST → 150, data, 226 (four waits on the server), the client writes the three commands
together, reads the replies as they come, and connects when the 227 arrives
(benchmarks/listing.py: the walk is bound by these waits).

A server (or a proxy before it) that answers a pipelined listing with a 4xx or an
out-of-order reply is listed command by command from then on (``client._listing``);
a 426/451 after the listing's 150 is the transfer failing (the folder's error), not that.
A server that sends the listing with no 1xx before (a 226 at once) is read all the same
(:mod:`.receive`). A server that refuses PASV (500/502) is asked EPSV instead
(:mod:`.passive`), pipelined too; the listing that found out goes command by command, once. A 450/550 to a plain LIST
after its CWD entered the folder, saying there is nothing to list ("450 No files
found": :func:`~.replies.empty_folder_reply`), is an empty folder, not a refusal.

Plain IPv4 connections only (FTPS wraps each data connection in TLS, IPv6 uses EPSV):
:func:`pipelined_listing` returns ``None`` for the others and the caller goes the
ordinary way. Any unexpected reply closes the control connection (the replies still in
flight would be read as the answers of the next commands) and raises the ftplib error.
"""

from __future__ import annotations

import ftplib
import logging
import socket
import ssl

from reelhouse.errors import PermissionDenied, SourceUnavailable
from reelhouse.sources.ftp.limits import ListingBudget
from reelhouse.sources.ftp.passive import epsv_only, refused_pasv
from reelhouse.sources.ftp.receive import FINAL, await_reply, read_rest
from reelhouse.sources.ftp.replies import empty_folder_reply

__all__ = ["CwdRefused", "PipeliningRefused", "SessionEnded", "check_complete", "pipelined_listing",
           "pipelined_transfer", "retr_all", "transfer_all"]

log = logging.getLogger(__name__)

#: Servers (host, port) that refused a pipelined listing: listed command by command.
_NO_PIPELINING: set[tuple[str, int]] = set()


class PipeliningRefused(Exception):
    """A 4xx or an out-of-order reply to pipelined commands: the server (or a proxy in
    front of it) may not take them. A 5xx is an answer (no such folder), not this."""


class SessionEnded(PipeliningRefused):
    """A 421 to pipelined commands: the server ended the session (an idle timeout,
    RFC 959 §4.2 "Service not available, closing control connection"), which says
    nothing of pipelining: the listing goes on a fresh connection, the server is not
    remembered as refusing pipelined commands."""

class CwdRefused(ftplib.error_perm):
    """The ``CWD`` before a pipelined listing was refused (5xx: no such folder, no
    permission); the listing commands sent after it were answered and the connection
    is still in step (:func:`_drain_after_refused_cwd`)."""


def pipelined_listing(ftp: ftplib.FTP, cmd: str, budget: ListingBudget, cwd: str | None = None,
                      server: tuple[str, int] = ("", 0)) -> bytes | None:
    """The bytes of ``cmd`` (``MLSD path`` or ``LIST``), after ``CWD cwd`` when given, or
    ``None`` when this connection cannot pipeline (TLS, IPv6, a ``server`` (host, port)
    that refused it before). Raises ftplib errors, and PipeliningRefused (the server is
    remembered: ``None`` from then on); after an error the control connection is closed
    unless its replies are all read."""
    got = pipelined_transfer(ftp, cmd, budget, cwd, server)
    if got is None:
        return None
    check_complete(got[1])
    return got[0]


def pipelined_transfer(ftp: ftplib.FTP, cmd: str, budget: ListingBudget, cwd: str | None = None,
                       server: tuple[str, int] = ("", 0)) -> tuple[bytes, str] | None:
    """As :func:`pipelined_listing`, with the final reply (its text unchecked: the caller
    reads what it says, e.g. pure-ftpd's match count)."""
    try:
        return _pipelined(ftp, cmd, budget, cwd) if server not in _NO_PIPELINING else None
    except (ftplib.error_temp, ftplib.error_reply) as exc:
        if str(exc).startswith("421"):
            ftp.close()
            raise SessionEnded(str(exc)) from exc
        _NO_PIPELINING.add(server)
        log.warning("ftp %s:%s: pipelined listing refused (%s); listing command by command", *server, exc)
        raise PipeliningRefused(str(exc)) from exc


def _pipelined(ftp: ftplib.FTP, cmd: str, budget: ListingBudget, cwd: str | None) -> tuple[bytes, str] | None:
    sock = ftp.sock
    if isinstance(ftp, ftplib.FTP_TLS) or sock is None or ftp.af != socket.AF_INET:
        return None
    passive = "EPSV" if epsv_only(ftp) else "PASV"
    commands = ([f"CWD {cwd}"] if cwd is not None else []) + [passive, cmd]
    sock.sendall("".join(c + "\r\n" for c in commands).encode(ftp.encoding, "surrogateescape"))
    pending = len(commands)  # replies not asked for yet (an error reply is read whole)
    conn: socket.socket | None = None
    try:
        if cwd is not None:
            pending -= 1
            ftp.voidresp()
        pending -= 1
        try:
            passive_reply = ftp.getresp()
        except ftplib.error_perm as exc:
            if passive == "PASV" and refused_pasv(ftp, exc):  # EPSV only: asked from now on
                raise PipeliningRefused(str(exc)) from exc
            raise
        conn = _data_connection(ftp, sock, passive_reply)
        pending -= 1
        chunks: list[bytes] = []
        try:  # the data read meanwhile: a server may send it with no 1xx before (:mod:`.receive`)
            first, ended = await_reply(ftp, conn, budget, chunks)
        except (ftplib.error_temp, ftplib.error_perm) as exc:
            if cwd is None or cmd != "LIST" or not empty_folder_reply(exc):
                raise
            conn.close()  # the server never used it
            return b"", str(exc)  # an empty folder (the CWD entered it): not a refusal
        if first[0] != "1" and first[:3] not in FINAL:
            raise ftplib.error_reply(first)
        if not ended:
            read_rest(conn, budget, chunks)
        conn.close()
        conn = None
        if first[:3] in FINAL:  # no 1xx: that was the final reply
            return b"".join(chunks), first
        try:
            final = ftp.voidresp()
        except ftplib.error_temp as exc:  # 426/451 after the 150: the transfer failed, not pipelining
            raise SourceUnavailable(f"the FTP server cut the listing short: {exc}") from exc
        return b"".join(chunks), final
    except BaseException as exc:
        if conn is not None:
            conn.close()
        refused_cwd = isinstance(exc, ftplib.error_perm) and cwd is not None and pending == 2
        if refused_cwd and _drain_after_refused_cwd(ftp, sock):
            raise CwdRefused(*exc.args) from exc
        if pending:
            ftp.close()  # replies in flight: the connection is out of step
        raise


def _data_connection(ftp: ftplib.FTP, sock: socket.socket, pasv_reply: str) -> socket.socket:
    """Connect to the passive port a 227 (PASV) or 229 (EPSV, RFC 2428 §3) reply names
    (ftplib.error_reply for another reply); as ftplib, at the control connection's peer
    address: a NAT'd server's PASV address is ignored unless
    ``trust_server_pasv_ipv4_address`` (not in typeshed)."""
    if pasv_reply.startswith("229"):
        host, port = ftplib.parse229(pasv_reply, sock.getpeername())
    else:
        host, port = ftplib.parse227(pasv_reply)
    if not getattr(ftp, "trust_server_pasv_ipv4_address", False):
        host = sock.getpeername()[0]
    return socket.create_connection((host, port), ftp.timeout, source_address=ftp.source_address)


def _drain_after_refused_cwd(ftp: ftplib.FTP, sock: socket.socket) -> bool:
    """After a refused ``CWD``, read the answers to the ``PASV`` and listing command
    written with it; connect to the passive port and close at once, so the server's
    listing ends (426, or 226 for an empty one) instead of waiting for its data
    connection: a control connection closed there left pure-ftpd's and vsftpd's
    session process waiting on it (measured: pure-ftpd for 15 minutes, vsftpd for its
    ``accept_timeout``, 60 s), counting against the server's per-address limit.
    True when every reply was read (the connection is in step), False on anything
    unexpected (the caller closes the connection)."""
    try:
        pasv = ftp.getmultiline()
        if pasv.startswith(("227", "229")):
            _data_connection(ftp, sock, pasv).close()
        reply = ftp.getmultiline()
        while reply[:1] == "1":  # 150, then the listing's final reply
            reply = ftp.getmultiline()
        return reply[:1] in ("2", "4", "5")
    except (OSError, EOFError, ftplib.Error, ValueError):
        return False


def retr_all(ftp: ftplib.FTP, cmd: str, budget: ListingBudget) -> bytes:
    """Send ``cmd`` (MLSD or LIST) command by command, read its whole data connection in
    large recv calls and return the bytes. Unlike ``retrlines`` it sends no ``TYPE A``
    first (MLSD output is not subject to TYPE, RFC 3659 §7.2; LIST output is the same
    lines in TYPE I on vsftpd, pure-ftpd, proftpd and pyftpdlib, and a bare LF is read
    as a line end too): one round trip less per folder, and the connection stays in
    TYPE I for the next read. No line splitting through a text file object
    (benchmarks/listing.py)."""
    raw, final = transfer_all(ftp, cmd, budget)
    check_complete(final)
    return raw


def transfer_all(ftp: ftplib.FTP, cmd: str, budget: ListingBudget) -> tuple[bytes, str]:
    """As :func:`retr_all`, with the final reply (its text unchecked). On a plain
    connection the data is read while the control connection is watched (a server
    may send it with no 1xx before: :mod:`.receive`); a TLS one goes ftplib's way
    (its data connection's handshake comes after the 1xx)."""
    chunks: list[bytes] = []
    if not isinstance(ftp, ftplib.FTP_TLS):
        host, port = ftp.makepasv()  # the control connection's peer, as ftplib's (NAT)
        with socket.create_connection((host, port), ftp.timeout, source_address=ftp.source_address) as plain:
            ftp.putcmd(cmd)
            first, ended = await_reply(ftp, plain, budget, chunks)
            if first[0] != "1" and first[:3] not in FINAL:
                raise ftplib.error_reply(first)
            if not ended:
                read_rest(plain, budget, chunks)
        return b"".join(chunks), first if first[:3] in FINAL else ftp.voidresp()
    with ftp.transfercmd(cmd) as conn:
        read_rest(conn, budget, chunks)
        if isinstance(conn, ssl.SSLSocket):
            conn.unwrap()
    return b"".join(chunks), ftp.voidresp()


def check_complete(reply: str) -> None:
    """Raise SourceUnavailable when a listing's final reply says it was cut short
    (pure-ftpd: ``226 Output truncated to 10000 matches``, its ``-L`` limit), and
    PermissionDenied when it says the folder could not be read at all (vsftpd, a folder
    it may enter but not read: ``226 Transfer done (but failed to open directory).``
    after an empty listing): the entries not listed must not look deleted."""
    low = reply.lower()
    if "failed to open" in low:
        raise PermissionDenied(f"the FTP server could not read the folder ({reply.strip()})")
    if "truncated" in low:
        raise SourceUnavailable(f"the FTP server cut the listing short ({reply.strip()}); "
                                "raise the server's listing limit (pure-ftpd: -L)")
