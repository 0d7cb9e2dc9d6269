"""How to reach one FTP server: :class:`FtpConfig` (validated on creation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reelhouse.errors import InvalidInput

__all__ = ["FtpConfig", "TlsMode"]

TlsMode = Literal["none", "explicit", "implicit"]


@dataclass(frozen=True)
class FtpConfig:
    """How to reach one FTP server. ``timeout`` values are seconds.

    ``root`` is the folder on the server that the source exposes: "" (the default) is
    the folder the server puts the user in at login (its PWD, as FileZilla starts
    there), "/media" is absolute, "media" is relative to the login folder. Servers that
    do not chroot their users (vsftpd's default) make the difference.
    The password is kept out of ``repr`` so it can never reach a log line.
    TLS: ``verify_tls`` (default) checks the server's certificate against the system's
    CAs and the host name; ``trusted_cert`` (PEM) trusts that certificate instead — a
    self-signed server's own — whatever its name; ``verify_tls=False`` checks nothing.
    """

    host: str
    port: int = 21
    user: str = "anonymous"
    password: str = field(default="", repr=False)
    tls: TlsMode = "none"
    root: str = ""
    verify_tls: bool = True
    trusted_cert: str | None = field(default=None, repr=False)  # PEM: pin this certificate
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    pool_size: int = 5
    user_limit: int = 0  # most pooled connections one user holds; 0: pool_size - 1
    max_listing_bytes: int = 64 * 1024 * 1024  # one listing (MLSD/LIST data), bytes; see limits.py
    user_waiters: int = 8  # most requests of one user waiting for a connection
    #: On a server that refuses REST, most bytes one range read throws away to reach its
    #: offset (reads.py); a read further in is refused (SeekRefused). 1 GiB: seconds on
    #: a LAN, and past it the cost of a seek is more than a player waits for.
    max_skip: int = 1024 * 1024 * 1024
    list_hidden: bool = False  # "LIST -a" without MLSD: vsftpd lists no dot files otherwise

    def __post_init__(self) -> None:
        if not self.host:
            raise InvalidInput("FTP host is required")
        if not 0 < self.port < 65536:
            raise InvalidInput(f"FTP port out of range: {self.port}")
        if self.tls not in ("none", "explicit", "implicit"):
            raise InvalidInput(f"FTP TLS mode must be none, explicit or implicit: {self.tls!r}")
