"""A pyftpdlib server that counts the PASV and STAT commands it gets, with an
FtpSource on it: the STAT-listing tests (test_statlist*.py) check by these counts
which listings went over a data connection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.ftp import FtpConfig, FtpSource, statlist

from helpers import FTP_PASSWORD, FTP_USER, stop_without_leaks


class Counting:
    """pyftpdlib counting its PASV and STAT commands; ``mlsd=False``: a LIST-only
    server (no MLST/MLSD); ``pool_size``: the FtpSource's connections; ``overrides``
    change its handler further (an ``ftp_STAT`` is counted too)."""

    def __init__(self, root: Path, *, mlsd: bool, pool_size: int, **overrides: Any) -> None:
        from pyftpdlib.handlers import FTPHandler

        self.counts = {"PASV": 0, "STAT": 0}
        counts = self.counts

        def counted(name: str, base: Any) -> Any:
            def command(handler: Any, arg: str) -> Any:
                counts[name] += 1
                return base(handler, arg)
            return command

        attrs: dict[str, Any] = {
            "ftp_PASV": counted("PASV", FTPHandler.ftp_PASV),
            "ftp_STAT": counted("STAT", overrides.pop("ftp_STAT", FTPHandler.ftp_STAT)),
        }
        if not mlsd:
            attrs["proto_cmds"] = {k: v for k, v in FTPHandler.proto_cmds.items() if k not in ("MLST", "MLSD")}
        attrs.update(overrides)
        self.server = EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD, handler_overrides=attrs).start()
        self.src = FtpSource(FtpConfig("127.0.0.1", self.server.port, FTP_USER, FTP_PASSWORD, pool_size=pool_size))

    def key(self) -> statlist.Key:
        """The server's key in statlist's verdicts (as a LIST server)."""
        client, _ = self.src.pool.acquire()
        try:
            assert client.ftp is not None
            return statlist.server_key(client.ftp, "127.0.0.1", self.server.port)
        finally:
            self.src.pool.release(client)

    def walk(self) -> dict[str, dict[str, tuple[bool, int | None, float | None]]]:
        """Each folder of a walk from the root: name → (is a folder, size, mtime)."""
        out = {}
        for folder, result in self.src.walk(""):
            assert isinstance(result, list), result
            out[folder] = {e.name: (e.is_dir, e.size, e.mtime) for e in result}
        return out

    def close(self) -> None:
        self.src.close()
        stop_without_leaks(self.server)
