"""An embedded FTP/FTPS server (pyftpdlib) on a loopback port, run in a thread.

Used by ``reelhouse demo`` and by the test suite as a real FTP server. ``port=0`` picks
a free port; read it back from :attr:`EmbeddedFtpServer.port` after :meth:`start`.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

__all__ = ["EmbeddedFtpServer"]

logging.getLogger("pyftpdlib").setLevel(logging.WARNING)


def _tls_handler(implicit: bool) -> type[FTPHandler]:
    """pyftpdlib's FTPS handler (needs pyOpenSSL, a dev dependency), or an implicit-TLS
    variant: pyftpdlib speaks only explicit FTPS, so that one starts the handshake at
    connect."""
    from pyftpdlib.handlers import TLS_FTPHandler

    if not implicit:
        return TLS_FTPHandler  # type: ignore[no-any-return]

    class ImplicitTLSHandler(TLS_FTPHandler):  # type: ignore[misc]
        def handle(self) -> None:
            self.secure_connection(self.ssl_context)
            super().handle()

    return ImplicitTLSHandler


class EmbeddedFtpServer:
    """A pyftpdlib server for one user, serving ``root`` read-write.

    ``certfile`` (PEM with key and certificate) turns on explicit FTPS (AUTH TLS), or
    implicit FTPS (TLS from the first byte, RFC 4217 §2 "implicit") with ``implicit_tls``.
    ``handler_overrides`` sets handler class attributes (e.g. ``use_sendfile``,
    ``max_cons_per_ip``) for tests of server quirks.
    """

    def __init__(
        self,
        root: str | Path,
        user: str = "reel",
        password: str = "house",
        host: str = "127.0.0.1",
        port: int = 0,
        certfile: str | Path | None = None,
        implicit_tls: bool = False,
        handler_overrides: dict[str, Any] | None = None,
    ) -> None:
        self.root = Path(root)
        self.user = user
        self.password = password
        authorizer = DummyAuthorizer()
        authorizer.add_user(user, password, str(self.root), perm="elradfmwMT")
        base: type[FTPHandler] = _tls_handler(implicit_tls) if certfile else FTPHandler
        # Names go out as the bytes they are on disk, as pure-ftpd and vsftpd send them:
        # pyftpdlib's default ("replace") lists a latin-1 "Caf\xe9" as "Caf?", a name no
        # RETR or CWD can open.
        attrs: dict[str, Any] = {"authorizer": authorizer, "banner": "reelhouse embedded FTP",
                                 "unicode_errors": "surrogateescape"}
        if certfile:
            attrs["certfile"] = str(certfile)
        attrs.update(handler_overrides or {})
        handler = type("Handler", (base,), attrs)
        # An IOLoop of its own: pyftpdlib's default is one process-wide singleton, so two
        # servers (or one stopping while the next starts) would share and close sockets.
        self.server = FTPServer((host, port), handler, ioloop=IOLoop())
        self.host = host
        self.port: int = self.server.socket.getsockname()[1]
        self._serving = False
        self._thread: threading.Thread | None = None

    def start(self) -> EmbeddedFtpServer:
        """Serve in a daemon thread; returns self."""
        self._serving = True
        self._thread = threading.Thread(target=self._loop, name=f"ftpd:{self.port}", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        # pyftpdlib configures root-less logging at INFO on its first loop (one line per
        # command); mark it started so it leaves logging to us (WARNING and up).
        from pyftpdlib.ioloop import _IOLoop

        _IOLoop._started_once = True
        while self._serving:
            self.server.ioloop.loop(timeout=0.05, blocking=False)
        self.server.close_all()

    def stop(self) -> None:
        """Stop serving and disconnect every client (waits for the thread)."""
        self._serving = False
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> EmbeddedFtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
