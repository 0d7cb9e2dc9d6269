"""One FTP control connection: connect, TLS, login, features, the command wrapper.

Built on :mod:`ftplib`; every ftplib/socket/ssl error is translated into the reelhouse
error tree as it leaves :meth:`FtpConnection._call`
(:func:`~reelhouse.sources.ftp.replies.translate_error`). Commands and replies follow
RFC 959; FEAT/OPTS follow RFC 2389, MLST facts RFC 3659 §7.9, AUTH TLS / PROT P RFC 4217.
Listings build on it in :mod:`.lister`, reads and writes in :mod:`.client`.
"""

from __future__ import annotations

import ftplib
import posixpath
import socket
import time
from collections.abc import Callable
from typing import Any

from reelhouse.errors import InvalidInput, SourceUnavailable
from reelhouse.sources.base import bad_name_characters, normalize_path
from reelhouse.sources.ftp.config import FtpConfig
from reelhouse.sources.ftp.limits import BoundedFTP
from reelhouse.sources.ftp.replies import pwd_path, translate_error, use_encoding
from reelhouse.sources.ftp.tls import SessionReusingTLS, tls_context

__all__ = ["MLST_FACTS", "FtpConnection", "path_error"]

#: The MLSD/MLST facts a connection asks for (RFC 3659 §7.9, ``OPTS MLST``): those the
#: listings read.
MLST_FACTS = "type;size;modify;"


def path_error(path: str, encoding: str) -> str | None:
    """Why ``path`` cannot be sent to a server whose names are in ``encoding``, else
    None: CR or LF (:func:`~reelhouse.sources.base.bad_name_characters`), or a character
    the encoding lacks (``€`` on a latin-1 server)."""
    if why := bad_name_characters(path, line_breaks_only=True):
        return f"an FTP path cannot contain {why}"
    try:
        path.encode(encoding, "surrogateescape")  # latin-1 bytes listed on a UTF-8 server
    except UnicodeEncodeError:
        return f"the FTP server's names are {encoding}: {path!r} cannot be sent"
    return None


#: Most preliminary (1xx) greetings read before the 220 (a server stuck at 120 says
#: so until ``connect_timeout`` per reply; then the login fails).
_MAX_PRELIMINARY = 5


class FtpConnection:
    """One logged-in control connection. Not thread-safe: the pool hands it to one user
    at a time. Raises reelhouse errors only."""

    def __init__(self, config: FtpConfig) -> None:
        self.config = config
        self.ftp: ftplib.FTP | None = None
        self.features: set[str] = set()
        self.last_used = time.monotonic()
        self.in_transfer = False
        #: the data connection of the transfer under way (RETR, STOR), for :meth:`cut`
        self.data: socket.socket | None = None
        #: of that transfer: its final reply, read already (a server without the 1xx
        #: that sent it whole at once), and whether a 1xx may still come before the
        #: final one (its data came first): :mod:`.receive`
        self.transfer_final: str | None = None
        self.preliminary_due = False
        self.home = "/"  # the login folder (PWD), learnt at connect
        #: the server answered ``REST n`` with 500/502/504 (client.py): it does not do REST
        self.rest_refused = False
        self._binary = False  # ftplib's retrlines switches to TYPE A; RETR needs TYPE I

    # -- connection -------------------------------------------------------------------
    def connect(self) -> None:
        """Connect, secure (per ``tls``), log in, switch to UTF-8 (or latin-1 for a
        server without UTF8 in FEAT) and binary mode. A PASV reply's address is not
        used: data connections go to the control host (ftplib's default, which covers
        servers behind NAT that announce a private address)."""
        cfg = self.config
        try:
            ftp: ftplib.FTP
            if cfg.tls == "none":
                ftp = BoundedFTP(timeout=cfg.connect_timeout)
            else:
                ctx = tls_context(cfg.verify_tls, cfg.trusted_cert)
                ftp = SessionReusingTLS(context=ctx, timeout=cfg.connect_timeout)
                ftp.implicit = cfg.tls == "implicit"
            ftp.encoding = "utf-8"
            self.ftp = ftp
            ftp.connect(cfg.host, cfg.port, timeout=cfg.connect_timeout)
            for _ in range(_MAX_PRELIMINARY):
                if not (ftp.welcome or "").startswith("1"):
                    break
                # RFC 959 §5.4: "120 Service ready in nnn minutes", then 220 (read one
                # behind, every reply after answered the command before it)
                ftp.welcome = ftp.getresp()
            if not (ftp.welcome or "").startswith("2"):
                raise ftplib.error_reply(ftp.welcome or "no greeting")
            ftp.login(cfg.user, cfg.password)
            if isinstance(ftp, ftplib.FTP_TLS):
                try:
                    ftp.prot_p()
                except ftplib.error_perm as exc:  # RFC 4217 §9: 534/536; never fall back to clear data
                    raise InvalidInput(f"the FTP server does not encrypt data connections (PROT P: {exc}); "
                                       "files and listings would cross the network in the clear") from exc
            try:
                feat = ftp.sendcmd("FEAT")
                self.features = {
                    line.strip().split(" ")[0].upper() for line in feat.splitlines()[1:-1]
                }
            except ftplib.Error:
                self.features = set()
            if "MLST" in self.features:  # only the facts read (RFC 3659 §7.9): less for the server to do
                try:
                    ftp.sendcmd(f"OPTS MLST {MLST_FACTS}")
                except ftplib.Error:
                    pass
            if "UTF8" in self.features:
                try:
                    ftp.sendcmd("OPTS UTF8 ON")
                except ftplib.Error:
                    pass
            else:
                # UTF-8 off (RFC 2640 §3.2: no UTF8 in FEAT): names are in the server's
                # own 8-bit encoding. latin-1 decodes any byte and encodes back to the
                # same byte, so every name lists, opens and round-trips unchanged.
                use_encoding(ftp, "latin-1")
            try:
                home = pwd_path(ftp.sendcmd("PWD")) or "/"
                self.home = home if home.startswith("/") else "/"
            except ftplib.Error:
                self.home = "/"
            ftp.voidcmd("TYPE I")
            self._binary = True
            ftp.set_pasv(True)
            if ftp.sock is not None:
                ftp.sock.settimeout(cfg.read_timeout)
                ftp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            ftp.timeout = cfg.read_timeout
        except BaseException as exc:
            self.close()
            if not isinstance(exc, Exception):  # Ctrl-C, exit: not the server's failure
                raise
            raise translate_error(exc, f"connecting to {cfg.host}:{cfg.port}") from exc
        self.last_used = time.monotonic()

    def close(self) -> None:
        """Drop the connection without a goodbye (never raises)."""
        ftp, self.ftp = self.ftp, None
        if ftp is not None:
            try:
                ftp.close()
            except Exception:  # noqa: S110 - closing a broken socket must not fail
                pass

    def cut(self) -> None:
        """Shut down the control and data sockets, from any thread (never raises): a
        command or transfer blocked on them (a server that stopped answering) ends at
        once with SourceUnavailable, and the connection is dropped by its user. The
        raw socket's ``shutdown``, not TLS's: that one drops the TLS state under the
        thread still reading."""
        ftp = self.ftp
        for sock in (getattr(ftp, "sock", None), self.data):
            if sock is not None:
                try:
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
                except OSError:
                    pass  # not connected, or closed meanwhile

    def quit(self) -> None:
        """Say QUIT politely, then close (never raises)."""
        if self.ftp is not None:
            try:
                self.ftp.sock.settimeout(2.0)  # type: ignore[union-attr]
                self.ftp.quit()
            except Exception:  # noqa: S110
                pass
        self.close()

    @property
    def alive(self) -> bool:
        return self.ftp is not None

    def _ftp(self) -> ftplib.FTP:
        if self.ftp is None:
            raise SourceUnavailable("FTP connection is closed")
        return self.ftp

    def _binary_ftp(self) -> ftplib.FTP:
        """The connection in binary mode (``TYPE I``, RFC 959 §3.1.1.3: what RETR,
        STOR and SIZE need; ftplib's retrlines leaves it in ``TYPE A``)."""
        ftp = self._ftp()
        if not self._binary:
            ftp.voidcmd("TYPE I")
            self._binary = True
        return ftp

    def _in_transfer(self, conn: socket.socket, final: str | None = None, preliminary_due: bool = False,
                     ) -> socket.socket:
        """Enter the transfer of data connection ``conn`` (for :meth:`cut`), its reads
        and writes timed by ``read_timeout``; returns ``conn``. ``final`` and
        ``preliminary_due``: what :func:`.receive.open_transfer` found."""
        self.in_transfer = True
        self.data = conn
        self.transfer_final, self.preliminary_due = final, preliminary_due
        conn.settimeout(self.config.read_timeout)
        return conn

    def _abs(self, path: str) -> str:
        """The server path of a source-relative path (under the source's root).
        InvalidInput for a path no FTP command can carry (:func:`path_error`: CR or LF,
        RFC 959 §4.1.3, or a character the connection's encoding lacks)."""
        if why := path_error(path, self.ftp.encoding if self.ftp is not None else "utf-8"):
            raise InvalidInput(why)
        rel = normalize_path(path)
        root = self.config.root
        base = root if root.startswith("/") else posixpath.join(self.home, root)
        base = posixpath.normpath(base) if base not in ("", "/") else "/"
        return posixpath.join(base, rel) if rel else base

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            result = fn()
        except ftplib.error_perm as exc:
            # a permanent reply leaves the control connection in sync
            raise translate_error(exc, what) from exc
        except BaseException as exc:
            self.close()  # the connection state is unknown: never reuse it
            if not isinstance(exc, Exception):  # Ctrl-C, exit: never retried as a server failure
                raise
            raise translate_error(exc, what) from exc
        self.last_used = time.monotonic()
        return result

    def noop(self) -> None:
        """Check the connection (NOOP); raises SourceUnavailable if it is dead."""
        self._call("checking the connection", lambda: self._ftp().voidcmd("NOOP"))
