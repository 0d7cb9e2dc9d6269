"""A server that skips the preliminary reply of a transfer (no ``150`` before ``LIST``,
``MLSD``, ``RETR`` or ``STOR``: the data connection, then ``226``), on a real pyftpdlib
server whose handler is made to do so (reelhouse/sources/ftp/receive.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import NotFound
from reelhouse.sources.ftp import FtpConfig, FtpSource, pipeline

from helpers import FTP_PASSWORD, FTP_USER, stop_without_leaks


def _no_preliminary(first: str | None = None, commands: tuple[str, ...] = ("LIST", "MLSD")) -> Any:
    """pyftpdlib's ``push_dtp_data`` without the ``150``/``125`` before the data of
    ``commands`` (``first``: a reply sent instead, e.g. ftplib's "200 before the 150")."""
    from pyftpdlib.handlers import FTPHandler

    def push_dtp_data(self: Any, data: Any, isproducer: bool = False, file: Any = None, cmd: Any = None) -> None:
        if cmd not in commands:
            FTPHandler.push_dtp_data(self, data, isproducer, file, cmd)
            return
        if first is not None:
            self.respond(first)
            self.respond("150 File status okay. About to open data connection.")
        if self.data_channel is None:
            self._out_dtp_queue = (data, isproducer, file, cmd)
            return
        self.data_channel.cmd = cmd
        if file:
            self.data_channel.file_obj = file
        if isproducer:
            self.data_channel.push_with_producer(data)
        else:
            self.data_channel.push(data)
        self.data_channel.close_when_done()

    return push_dtp_data


@pytest.mark.parametrize("facts", ["MLSD", "LIST"])
@pytest.mark.parametrize("first", [None, "200 Listing follows."])
def test_a_server_without_the_150_before_a_listing_lists(ftp_root: Path, facts: str, first: str | None) -> None:
    """No 150 before the listing: ftplib read the 226 as a reply come early and waited
    for the 150 (every folder failed after ``read_timeout``: SourceTimeout), and a
    listing bigger than the socket buffers left the server blocked on it. Now small and
    big folders (6,000 entries, ~500 KB of LIST) list whole, pipelined and command by
    command, and then a read works on the same connection; a missing folder is still
    NotFound. A "200" before the 150 (ftplib's tolerance) still lists too."""
    from pyftpdlib.handlers import FTPHandler

    (ftp_root / "Small").mkdir()
    (ftp_root / "Small" / "a.mkv").write_bytes(b"a" * 1000)
    big = ftp_root / "Big"
    big.mkdir()
    for i in range(6000):
        (big / f"Some.Show.S01E{i:04d}.1080p.WEB-DL.x264-GROUP.mkv").write_bytes(b"")
    overrides: dict[str, Any] = {"push_dtp_data": _no_preliminary(first)}
    if facts == "LIST":
        overrides["proto_cmds"] = {k: v for k, v in FTPHandler.proto_cmds.items() if k not in ("MLST", "MLSD")}
        overrides["ftp_STAT"] = lambda self, path: self.respond("502 STAT not implemented.")  # data connections
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, handler_overrides=overrides).start()
    key = ("127.0.0.1", server.port)
    src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, pool_size=1,
                              connect_timeout=5, read_timeout=30))
    try:
        for pipelined in (True, False):
            if not pipelined:
                pipeline._NO_PIPELINING.add(key)
            assert [(e.name, e.size) for e in src.list("Small")] == [("a.mkv", 1000)]
            assert len(src.list("Big")) == 6000
            with pytest.raises(NotFound):
                src.list("Missing")
            assert b"".join(src.read_range("Small/a.mkv", 10, 20)) == b"a" * 20
            walked = dict(src.walk(""))
            assert sorted(walked) == ["", "Big", "Small"]
            assert len(walked["Big"]) == 6000  # type: ignore[arg-type]
    finally:
        src.close()
        pipeline._NO_PIPELINING.discard(key)
        stop_without_leaks(server)



def test_a_server_without_the_150_before_a_file_is_read(ftp_root: Path) -> None:
    """No 150 before RETR's data either (such servers skip it for every transfer):
    every read, and the check of REST before the first read at an offset, failed after
    ``read_timeout``. Now a file streams whole (3 MB: more than the socket buffers), from
    an offset, in part (the transfer cut, the 226 or 426 read), and the connection
    goes on serving listings and reads."""
    data = os.urandom(3_000_000)
    (ftp_root / "Films").mkdir()
    (ftp_root / "Films" / "a.mkv").write_bytes(data)
    (ftp_root / "Films" / "tiny.nfo").write_bytes(b"<movie/>")
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, handler_overrides={
        "push_dtp_data": _no_preliminary(commands=("LIST", "MLSD", "RETR"))}).start()
    src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, pool_size=1,
                              connect_timeout=5, read_timeout=30))
    try:
        for _ in range(2):
            assert b"".join(src.read_range("Films/a.mkv", 0, len(data))) == data
            assert b"".join(src.read_range("Films/a.mkv", 1_000_000, 70_000)) == data[1_000_000:1_070_000]
            assert b"".join(src.read_range("Films/a.mkv", 5, 10)) == data[5:15]
            assert b"".join(src.read_range("Films/tiny.nfo", 0, 8)) == b"<movie/>"
            assert b"".join(src.read_range("Films/tiny.nfo", 2, 3)) == b"ovi"
            assert sorted(e.name for e in src.list("Films")) == ["a.mkv", "tiny.nfo"]
            with pytest.raises(NotFound):
                b"".join(src.read_range("Films/missing.mkv", 0, 10))
    finally:
        src.close()
        stop_without_leaks(server)


def test_a_server_without_any_150_takes_uploads_once_known(ftp_root: Path) -> None:
    """A server that sends no 150 for any transfer waits for an upload's data without a
    word: the upload waited for a 150 until ``read_timeout`` (SourceTimeout; the drive's
    and the transfer queue's writes to it all failed). Once a listing has shown the
    server answers with no 150 (every scan lists first), uploads send at once: a new
    file, a resumed one (REST + STOR, and APPE), and a refused one still names its error."""
    from reelhouse.errors import PermissionDenied
    from reelhouse.sources.ftp import receive

    (ftp_root / "Films").mkdir()
    (ftp_root / "Films" / "a.mkv").write_bytes(b"a" * 10)
    data = os.urandom(2_000_000)

    def respond(self: Any, resp: str, logfun: Any = None) -> None:
        from pyftpdlib.handlers import FTPHandler

        if resp[:3] not in ("150", "125"):
            FTPHandler.respond(self, resp)

    def ftp_STOR(self: Any, file: str, mode: str = "w") -> Any:
        from pyftpdlib.handlers import FTPHandler

        if os.path.basename(file) == "refused.mkv":
            self.respond("553 Could not create file.")
            return None
        return FTPHandler.ftp_STOR(self, file, mode)

    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD,
                               handler_overrides={"respond": respond, "ftp_STOR": ftp_STOR}).start()
    key = ("127.0.0.1", server.port)
    src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, pool_size=1,
                              connect_timeout=5, read_timeout=30))
    try:
        assert [e.name for e in src.list("Films")] == ["a.mkv"]
        assert key in receive._NO_PRELIMINARY
        assert src.write("Films/new.mkv", [data[:700_000], data[700_000:]]) == len(data)
        assert (ftp_root / "Films" / "new.mkv").read_bytes() == data
        assert src.write("Films/part.mkv", [data[:1000]]) == 1000
        assert src.write("Films/part.mkv", [data[1000:]], offset=1000) == len(data) - 1000  # APPE
        assert (ftp_root / "Films" / "part.mkv").read_bytes() == data
        with pytest.raises(PermissionDenied, match="553 Could not create file"):
            src.write("Films/refused.mkv", [b"x" * 1000])
        assert b"".join(src.read_range("Films/new.mkv", 5, 10)) == data[5:15]
        assert sorted(e.name for e in src.list("Films")) == ["a.mkv", "new.mkv", "part.mkv"]
    finally:
        src.close()
        receive._NO_PRELIMINARY.discard(key)
        stop_without_leaks(server)
