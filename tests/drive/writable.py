"""The three writable FTP servers a drive scenario runs on (pyftpdlib in process,
pure-ftpd with MLSD, vsftpd with LIST only), each as a :class:`Writable`: what the mount
is started with, the folder on disk that is the mount's root, and another FTP client
(ftplib, as another machine) logged in to that root."""

from __future__ import annotations

import ftplib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER, PURE_PASSWORD, PURE_USER, pure_ftpd, vsftpd


@dataclass(frozen=True)
class Writable:
    """A writable FTP server on 127.0.0.1:``port``; ``home``: the mount's root on disk
    (``folder`` on the server, "" for the login folder); ``user`` None: anonymous."""

    port: int
    home: Path
    user: str | None = None
    password: str = ""
    folder: str = ""

    def options(self) -> tuple[str, ...]:
        """The options of ``reelhouse drive mount`` for this server."""
        login = ("--user", self.user, "--password", self.password) if self.user is not None else ()
        root = ("--root", self.folder) if self.folder else ()
        return ("--host", "127.0.0.1", "--port", str(self.port), *login, *root)

    def other_client(self) -> ftplib.FTP:
        """Another client, logged in and in the mount's root; the caller quits it."""
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", self.port, timeout=30)
        try:
            ftp.login(self.user or "anonymous", self.password)
            if self.folder:
                ftp.cwd(self.folder)
        except BaseException:
            ftp.close()
            raise
        return ftp


def embedded(server: EmbeddedFtpServer, root: Path) -> Writable:
    """The ``ftp_server`` fixture (pyftpdlib serving ``root`` to FTP_USER)."""
    return Writable(server.port, root, FTP_USER, FTP_PASSWORD)


@contextmanager
def pure_writable(tmp_path: Path, fill: Callable[[Path], None] = lambda home: None) -> Iterator[Writable]:
    """A pure-ftpd (:func:`helpers.pure_ftpd`) whose user's home ``fill`` fills first."""
    with pure_ftpd(tmp_path, fill) as (port, home):
        yield Writable(port, home, PURE_USER, PURE_PASSWORD)


@contextmanager
def vsftpd_writable(tmp_path: Path) -> Iterator[Writable]:
    """A vsftpd (:func:`helpers.vsftpd`) whose anonymous users write in ``incoming``
    (0777: vsftpd refuses a world-writable anonymous root), the mount's root."""
    anon = tmp_path / "anon"
    (anon / "incoming").mkdir(parents=True)
    (anon / "incoming").chmod(0o777)
    with vsftpd(tmp_path, anon, writable=True) as port:
        yield Writable(port, anon / "incoming", folder="incoming")
