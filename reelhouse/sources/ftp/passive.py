"""Passive data connections over IPv6 to a server without ``EPSV``.

ftplib asks ``EPSV`` (RFC 2428 §3) on an IPv6 control connection, and only that: a
server that does not know it ("500 Command not understood", "502 not implemented")
could not list or send a file. Such a server often answers ``PASV`` (RFC 959 §4.1.2)
all the same, with a port in its last two numbers ("227 Entering passive mode
(::1,220,121)" from pyftpdlib, or an IPv4 tuple); the data connection goes to the
control connection's peer, as for every passive reply here (a NAT'd server's address
is never used)."""

from __future__ import annotations

import ftplib
import re
import socket

__all__ = ["PassiveFallback"]

#: The port of a 227 reply: the last two numbers of its tuple (RFC 959 §4.1.2: p1,p2).
_PORT = re.compile(r"(\d{1,3})\s*,\s*(\d{1,3})\s*\)")


class PassiveFallback:
    """Mixin for ``ftplib.FTP`` subclasses: over IPv6, ``PASV`` when ``EPSV`` is
    refused with 500/502 (and from then on, on this connection)."""

    _no_epsv = False

    def makepasv(self) -> tuple[str, int]:
        ftp: ftplib.FTP = self  # type: ignore[assignment]
        if ftp.af == socket.AF_INET or not self._no_epsv:  # IPv4: ftplib's own PASV (peer address)
            try:
                return ftplib.FTP.makepasv(ftp)
            except ftplib.error_perm as exc:
                if ftp.af == socket.AF_INET or str(exc)[:3] not in ("500", "502"):
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
