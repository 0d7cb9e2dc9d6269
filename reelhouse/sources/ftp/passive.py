"""Passive data connections to a server without ``EPSV`` (IPv6) or without ``PASV`` (IPv4).

ftplib asks ``EPSV`` (RFC 2428 §3) on an IPv6 control connection, and only that: a
server that does not know it ("500 Command not understood", "502 not implemented")
could not list or send a file. Such a server often answers ``PASV`` (RFC 959 §4.1.2)
all the same, with a port in its last two numbers ("227 Entering passive mode
(::1,220,121)" from pyftpdlib, or an IPv4 tuple); the data connection goes to the
control connection's peer, as for every passive reply here (a NAT'd server's address
is never used).

The other way round, over IPv4 ftplib asks only ``PASV``: a server that refuses it
(500/502: "EPSV ALL" set-ups, firewalls and load balancers that open only EPSV's
port) could not list or send a file either. ``EPSV`` is asked then, and for that
server (host, port) from then on: :func:`epsv_only` tells the pipelined listings
(:mod:`.pipeline`) to ask it too."""

from __future__ import annotations

import ftplib
import re
import socket

__all__ = ["PassiveFallback", "epsv_only"]

#: The port of a 227 reply: the last two numbers of its tuple (RFC 959 §4.1.2: p1,p2).
_PORT = re.compile(r"(\d{1,3})\s*,\s*(\d{1,3})\s*\)")

#: The (host, port) of servers that refused PASV over IPv4 (500/502): asked EPSV since.
_EPSV_ONLY: set[tuple[str, int]] = set()


def epsv_only(ftp: ftplib.FTP) -> bool:
    """Whether ``ftp``'s server refused ``PASV`` before: its passive command is ``EPSV``."""
    return (ftp.host, ftp.port) in _EPSV_ONLY


def refused_pasv(ftp: ftplib.FTP, exc: ftplib.error_perm) -> bool:
    """Whether ``exc``, a reply to ``PASV``, says the command is not there (500/502); if
    so the server is remembered as :func:`epsv_only`."""
    if str(exc)[:3] not in ("500", "502"):
        return False
    _EPSV_ONLY.add((ftp.host, ftp.port))
    return True


class PassiveFallback:
    """Mixin for ``ftplib.FTP`` subclasses: over IPv6, ``PASV`` when ``EPSV`` is
    refused with 500/502 (and from then on, on this connection); over IPv4, ``EPSV``
    when ``PASV`` is refused with 500/502 (and from then on, for this server)."""

    _no_epsv = False

    def makepasv(self) -> tuple[str, int]:
        ftp: ftplib.FTP = self  # type: ignore[assignment]
        if ftp.af == socket.AF_INET:
            if not epsv_only(ftp):
                try:
                    return ftplib.FTP.makepasv(ftp)  # ftplib's own PASV (peer address)
                except ftplib.error_perm as exc:
                    if not refused_pasv(ftp, exc):
                        raise
            assert ftp.sock is not None
            return ftplib.parse229(ftp.sendcmd("EPSV"), ftp.sock.getpeername())
        if not self._no_epsv:
            try:
                return ftplib.FTP.makepasv(ftp)
            except ftplib.error_perm as exc:
                if str(exc)[:3] not in ("500", "502"):
                    raise
                self._no_epsv = True
        reply = ftp.sendcmd("PASV")
        m = _PORT.search(reply.split("\n")[-1])
        if not reply.startswith("227") or m is None:
            raise ftplib.error_proto(reply)
        port = int(m.group(1)) * 256 + int(m.group(2))
        if not 0 < port < 65536:
            raise ftplib.error_proto(reply)
        assert ftp.sock is not None  # the reply came on it
        return ftp.sock.getpeername()[0], port
