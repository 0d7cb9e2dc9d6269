"""Size limits on what an FTP server sends, so a hostile or broken server cannot grow
our memory without bound (DESIGN.md: "size limits on everything read").

- A control reply (RFC 959 §4.2: multi-line replies end with ``NNN<space>``) may have
  at most :data:`MAX_REPLY_BYTES`; ftplib already caps one line at 8192 bytes
  (``FTP.maxline``) but not the number of lines of a multi-line reply.
- A listing (MLSD, RFC 3659 §7, or LIST) may have at most ``FtpConfig.max_listing_bytes``
  (``Settings.ftp_listing_limit``): :class:`ListingBudget` counts it as it arrives.
"""

from __future__ import annotations

import ftplib
import io
import socket
import sys
from typing import Any

from reelhouse.errors import SourceUnavailable
from reelhouse.sources.ftp.passive import PassiveFallback

__all__ = ["MAX_REPLY_BYTES", "BoundedFTP", "BoundedReplies", "ListingBudget", "ReplyReader"]

MAX_REPLY_BYTES = 256 * 1024


class ReplyReader:
    """The reply lines of a control connection, read from its socket: what ftplib reads
    through ``socket.makefile`` (``readline``), with the bytes it holds unread known
    (:meth:`buffered`: a reply that came with the one before is not on the socket any
    more, :mod:`.receive`). A line ends at LF (RFC 959 §4.2: CRLF); a lone CR stays in
    its line (a text file's universal newlines split a reply echoing a name with a CR
    in two, and the second half was read as the next reply). Names not in ``encoding``
    keep their bytes (PEP 383 lone surrogates)."""

    def __init__(self, sock: socket.socket, encoding: str) -> None:
        self._sock = sock
        self._encoding = encoding
        self._buf = bytearray()

    def readline(self, limit: int = -1) -> str:
        """The next line with its line end, or up to ``limit`` bytes of it; ``""`` at the
        end of the stream. Raises the socket's errors (TimeoutError after its timeout)."""
        scanned = 0
        while True:
            end = self._buf.find(b"\n", scanned)
            if end >= 0 and (limit < 0 or end < limit):
                return self._take(end + 1)
            if 0 <= limit <= len(self._buf):
                return self._take(limit)
            scanned = len(self._buf)
            chunk = self._sock.recv(_LINE_RECV)
            if not chunk:
                return self._take(len(self._buf))
            self._buf += chunk

    def _take(self, n: int) -> str:
        line = bytes(self._buf[:n])
        del self._buf[:n]
        return line.decode(self._encoding, "surrogateescape")

    def buffered(self) -> int:
        """Bytes read from the socket and not returned yet."""
        return len(self._buf)

    def close(self) -> None:
        """Nothing to release: the socket is ftplib's to close."""


#: Bytes asked of one recv of a control connection's replies.
_LINE_RECV = 8192


class BoundedReplies:
    """Mixin for ``ftplib.FTP`` subclasses: replies are read by a :class:`ReplyReader`;
    multi-line replies are capped; a name that is not in the connection's encoding
    (latin-1 bytes on a UTF-8 server) travels as its bytes both ways (PEP 383 lone
    surrogates, as listings decode it: a reply echoing it no longer breaks the
    connection, and the name can be sent back)."""

    _reply_file: Any = None

    @property
    def file(self) -> Any:
        """ftplib's reply reader (set at connect, AUTH TLS, an encoding switch)."""
        return self._reply_file

    @file.setter
    def file(self, reader: Any) -> None:
        ftp: ftplib.FTP = self  # type: ignore[assignment]
        if isinstance(reader, io.TextIOWrapper) and ftp.sock is not None:
            reader.close()  # just made by socket.makefile: nothing read (frees its hold on the socket)
            reader = ReplyReader(ftp.sock, ftp.encoding)
        self._reply_file = reader

    def putline(self, line: str) -> None:
        ftp: ftplib.FTP = self  # type: ignore[assignment]
        if "\r" in line or "\n" in line:
            raise ValueError("an illegal newline character should not be contained")
        sys.audit("ftplib.sendcmd", ftp, line)
        ftp.sock.sendall((line + "\r\n").encode(ftp.encoding, "surrogateescape"))  # type: ignore[union-attr]

    def getmultiline(self) -> str:
        ftp: ftplib.FTP = self  # type: ignore[assignment]
        line = ftp.getline()
        if line[3:4] != "-":
            return line
        code, parts, size = line[:3], [line], len(line)
        while True:
            nextline = ftp.getline()
            size += len(nextline) + 1
            if size > MAX_REPLY_BYTES:
                raise ftplib.error_proto(f"reply over {MAX_REPLY_BYTES} bytes; the server misbehaves")
            parts.append(nextline)
            if nextline[:3] == code and nextline[3:4] != "-":
                return "\n".join(parts)


class BoundedFTP(PassiveFallback, BoundedReplies, ftplib.FTP):
    """Plain FTP with bounded replies (and PASV where an IPv6 server lacks EPSV)."""


class ListingBudget:
    """Counts the bytes of one listing; raises SourceUnavailable past ``limit`` bytes."""

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.used = 0
        self.what = what

    def take(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise SourceUnavailable(f"the FTP server sent over {self.limit} bytes while {self.what}; "
                                    "listing refused (raise ftp_listing_limit if the folder is that big)")
