"""TLS for FTP (RFC 4217): the client context (system CAs, a pinned certificate, or no
verification) and an ``ftplib.FTP_TLS`` that reuses the control connection's TLS
session on data connections and can speak implicit FTPS."""

from __future__ import annotations

import ftplib
import socket
import ssl
from typing import Any

from reelhouse.errors import InvalidInput
from reelhouse.sources.ftp.limits import BoundedReplies
from reelhouse.sources.ftp.passive import PassiveFallback

__all__ = ["SessionReusingTLS", "tls_context"]


def tls_context(verify: bool, trusted_cert: str | None) -> ssl.SSLContext:
    """The client TLS context: system CAs and host name check; or only the pinned
    ``trusted_cert`` (PEM) (a leaf accepted as its own anchor, OpenSSL's
    ``X509_V_FLAG_PARTIAL_CHAIN``; no name check: the pin is the identity); or no
    verification at all. Raises InvalidInput for a PEM that is not a certificate."""
    if not verify:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if not trusted_cert:
        return ssl.create_default_context()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    try:
        ctx.load_verify_locations(cadata=trusted_cert)
    except (ssl.SSLError, ValueError) as exc:
        raise InvalidInput(f"the trusted certificate is not a PEM certificate: {exc}") from exc
    return ctx


class SessionReusingTLS(PassiveFallback, BoundedReplies, ftplib.FTP_TLS):
    """FTP_TLS that reuses the control connection's TLS session on data connections
    (vsftpd's ``require_ssl_reuse``) and can speak implicit FTPS (TLS from byte one)."""

    implicit = False

    def connect(
        self, host: str = "", port: int = 0, timeout: float = -999, source_address: Any = None
    ) -> str:
        if not self.implicit:
            return super().connect(host, port, timeout, source_address)
        if host:
            self.host = host
        if port:
            self.port = port
        if timeout != -999:
            self.timeout = timeout
        raw = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self.context.wrap_socket(raw, server_hostname=self.host)
        self.af = self.sock.family
        self.file = self.sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()
        return self.welcome

    def login(self, user: str = "", passwd: str = "", acct: str = "", secure: bool = True) -> str:
        if self.implicit:
            return ftplib.FTP.login(self, user, passwd, acct)
        if secure and not isinstance(self.sock, ssl.SSLSocket):
            try:
                self.auth()
            except ftplib.error_perm as exc:  # vsftpd without TLS: "530 Please login with USER and PASS."
                raise InvalidInput(f"the FTP server does not offer explicit TLS (AUTH TLS: {exc})") from exc
        return super().login(user, passwd, acct, secure)

    def ntransfercmd(
        self, cmd: str, rest: int | str | None = None
    ) -> tuple[socket.socket, int | None]:
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:  # type: ignore[attr-defined]
            session = getattr(self.sock, "session", None)
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=session)
        return conn, size
