"""Server quirks, each on a real pyftpdlib server configured to have it: UTF-8 off
(latin-1 names), no SIZE/MDTM/MLST (values from the LIST listing), and a PASV reply
carrying an unroutable address (NAT): reads and writes still work."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.ftp import FtpConfig, FtpSource
from reelhouse.transfers.copy import download, upload

from helpers import FTP_PASSWORD, FTP_USER, stop_without_leaks

DATA = os.urandom(300_000)


def _no_pipelining() -> dict[str, Any]:
    """pyftpdlib refusing (425) a listing command that came in the same read as its
    PASV: a server or proxy that does not take pipelined commands."""
    from pyftpdlib.handlers import FTPHandler

    def handle_read(self: Any) -> None:
        self.reads = getattr(self, "reads", 0) + 1
        FTPHandler.handle_read(self)

    def ftp_PASV(self: Any, line: str) -> Any:
        self.pasv_read = getattr(self, "reads", 0)
        return FTPHandler.ftp_PASV(self, line)

    def refusing(base: Any) -> Any:
        def command(self: Any, path: str) -> Any:
            if getattr(self, "pasv_read", -1) == getattr(self, "reads", 0):
                self.respond("425 Pipelined commands are not supported.")
                return None
            return base(self, path)
        return command

    return {"handle_read": handle_read, "ftp_PASV": ftp_PASV,
            "ftp_MLSD": refusing(FTPHandler.ftp_MLSD), "ftp_LIST": refusing(FTPHandler.ftp_LIST)}


def _serve(root: Path, **overrides: Any) -> EmbeddedFtpServer:
    return EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD, handler_overrides=overrides).start()


@pytest.fixture
def quirky(request: pytest.FixtureRequest, ftp_root: Path) -> Iterator[tuple[FtpSource, Path]]:
    from pyftpdlib.handlers import FTPHandler

    overrides: dict[str, Any] = {
        "latin1": {"encoding": "latin-1"},
        "no-size-mdtm-mlst": {"proto_cmds": {k: v for k, v in FTPHandler.proto_cmds.items()
                                             if k not in ("SIZE", "MDTM", "MLST", "MLSD")}},
        "nat-pasv": {"masquerade_address": "10.255.255.1"},
        "no-pipelining": _no_pipelining(),
    }[request.param]
    (ftp_root / "Films").mkdir()
    (ftp_root / "Films" / "Amélie.2001.mkv").write_bytes(DATA)
    server = _serve(ftp_root, **overrides)
    src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, pool_size=2,
                              connect_timeout=5, read_timeout=5))
    try:
        yield src, ftp_root
    finally:
        src.close()
        stop_without_leaks(server)


@pytest.mark.parametrize("quirky", ["latin1", "no-size-mdtm-mlst", "nat-pasv", "no-pipelining"], indirect=True)
def test_list_stat_read_write(quirky: tuple[FtpSource, Path], tmp_path: Path) -> None:
    src, root = quirky
    assert [e.name for e in src.list("Films")] == ["Amélie.2001.mkv"]
    entry = src.stat("Films/Amélie.2001.mkv")
    assert entry.size == len(DATA) and not entry.is_dir
    assert src.size("Films/Amélie.2001.mkv") == len(DATA)
    # several SIZEs in one round trip (pipelined; one by one without SIZE); a missing
    # file left out, and the connection in step after it
    assert src.sizes(["Films/none.mkv", "Films/Amélie.2001.mkv", "none"]) == {"Films/Amélie.2001.mkv": len(DATA)}
    assert src.sizes(["Films/Amélie.2001.mkv", "Films/Amélie.2001.mkv"]) == {"Films/Amélie.2001.mkv": len(DATA)}
    assert b"".join(src.read_range("Films/Amélie.2001.mkv", 1000, 5000)) == DATA[1000:6000]
    # transfers: upload a name with accents, download it back
    local = tmp_path / "in.bin"
    local.write_bytes(DATA[:100_000])
    assert upload(src, local, "Séries/Été.mkv") == 100_000
    assert (root / "Séries" / "Été.mkv").read_bytes() == DATA[:100_000]
    assert download(src, "Séries/Été.mkv", tmp_path / "out.bin") == 100_000
    assert (tmp_path / "out.bin").read_bytes() == DATA[:100_000]


@pytest.mark.parametrize("quirky", ["latin1", "no-size-mdtm-mlst"], indirect=True)
def test_names_with_unicode_line_breaks_list_whole(quirky: tuple[FtpSource, Path],
                                                   request: pytest.FixtureRequest) -> None:
    """A listing is split at LF only: U+0085 (the byte 0x85 of a latin-1 name, "…" in
    cp1252), U+2028 and FS are parts of names (str.splitlines cut them), over MLSD
    and over LIST (which no longer asks TYPE A: the connection stays in TYPE I)."""
    src, root = quirky
    names = {"Wait\x85.2001.mkv", "Sep\x1crated.mkv"}
    if request.node.callspec.params["quirky"] != "latin1":  # UTF-8 names
        names.add("Line\u2028Sep.mkv")
    for name in names:
        (root / "Films" / name).write_bytes(b"x" * 10)
    assert {e.name for e in src.list("Films")} == names | {"Amélie.2001.mkv"}
    assert [e.size for e in src.list("Films") if e.name == "Wait\x85.2001.mkv"] == [10]
    assert b"".join(src.read_range("Films/Amélie.2001.mkv", 0, 10)) == DATA[:10]


@pytest.mark.parametrize("quirky", ["latin1", "no-size-mdtm-mlst", "nat-pasv"], indirect=True)
def test_pipelined_listing_of_a_missing_folder(quirky: tuple[FtpSource, Path]) -> None:
    """Listings are pipelined (``[CWD] PASV MLSD|LIST`` in one write): a missing folder
    is NotFound and the next listings on the pool are right (a refused CWD drops its
    connection: the PASV and LIST replies were still in flight)."""
    from reelhouse.errors import NotFound

    src, _root = quirky
    for _ in range(3):
        with pytest.raises(NotFound):
            src.list("No Such Folder")
        assert [e.name for e in src.list("Films")] == ["Amélie.2001.mkv"]
        assert [e.name for e in src.list("")] == ["Films"]


@pytest.mark.parametrize("quirky", ["no-pipelining"], indirect=True)
def test_a_server_refusing_pipelined_commands_is_listed_command_by_command(
        quirky: tuple[FtpSource, Path]) -> None:
    """The first pipelined listing gets a 425: the client lists that server command by
    command from then on, and no listing fails (no user ever sees the 425)."""
    from reelhouse.sources.ftp import pipeline

    src, _root = quirky
    server = (src.config.host, src.config.port)
    pipeline._NO_PIPELINING.discard(server)
    try:
        for _ in range(3):
            assert [e.name for e in src.list("Films")] == ["Amélie.2001.mkv"]
            assert [e.name for e in src.list("")] == ["Films"]
        assert server in pipeline._NO_PIPELINING
    finally:
        pipeline._NO_PIPELINING.discard(server)


def test_list_hidden_asks_list_a_and_falls_back_to_list(ftp_root: Path) -> None:
    """``list_hidden`` (the drive: vsftpd lists dot files such as .git only for
    ``LIST -a``) on a LIST-only server that takes "-a" for a file name: the listing falls
    back to plain LIST, which the connection uses from then on."""
    from pyftpdlib.handlers import FTPHandler

    asked: list[str] = []

    def pre_process_command(self: Any, line: str, cmd: str, arg: str) -> Any:
        if cmd == "LIST":
            asked.append(arg)
            if arg.startswith("-"):
                self.respond(f"550 {arg}: No such file or directory.")
                return None
        return FTPHandler.pre_process_command(self, line, cmd, arg)

    (ftp_root / ".git").mkdir()
    (ftp_root / "a.mkv").write_bytes(b"x")
    server = _serve(ftp_root, pre_process_command=pre_process_command,
                    proto_cmds={k: v for k, v in FTPHandler.proto_cmds.items() if k not in ("MLST", "MLSD")})
    src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, pool_size=1,
                              connect_timeout=5, read_timeout=5, list_hidden=True))
    try:
        for _ in range(2):
            assert sorted(e.name for e in src.list("")) == [".git", "a.mkv"]
        assert asked == ["-a", "", ""]
    finally:
        src.close()
        stop_without_leaks(server)


def test_an_ipv6_server_without_epsv_takes_pasv(ftp_root: Path) -> None:
    """ftplib asks only EPSV (RFC 2428) over IPv6: a server without it ("500 Command
    not understood") could not list or send a file ("FTP server refused the request").
    PASV is asked then, its port used at the control connection's address (pyftpdlib
    answers "227 Entering passive mode (::1,p1,p2)."), and reads and listings work."""
    import socket

    from pyftpdlib.handlers import FTPHandler

    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    (ftp_root / "Films").mkdir()
    (ftp_root / "Films" / "a.mkv").write_bytes(DATA)
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, host="::1", handler_overrides={
        "proto_cmds": {k: v for k, v in FTPHandler.proto_cmds.items() if k != "EPSV"}}).start()
    src = FtpSource(FtpConfig("::1", server.port, FTP_USER, FTP_PASSWORD, pool_size=1,
                              connect_timeout=5, read_timeout=5))
    try:
        assert [e.name for e in src.list("Films")] == ["a.mkv"]
        assert b"".join(src.read_range("Films/a.mkv", 1000, 50_000)) == DATA[1000:51_000]
        assert b"".join(src.read_range("Films/a.mkv", 0, 10)) == DATA[:10]
    finally:
        src.close()
        stop_without_leaks(server)


@pytest.mark.parametrize("refusal", ["500", "502"])
def test_an_epsv_only_ipv4_server_is_listed_read_and_written(ftp_root: Path, tmp_path: Path, refusal: str) -> None:
    """A server that refuses PASV over IPv4 and takes only EPSV (RFC 2428 §3; "EPSV
    ALL" set-ups, firewalls that only open EPSV ports): ftplib asks only PASV there,
    so every listing and read failed ("502 PASV not allowed"). EPSV is asked then, on
    that connection from then on, pipelined listings too; reads at an offset and
    uploads work."""
    from pyftpdlib.handlers import FTPHandler

    from reelhouse.sources.ftp import passive, pipeline

    asked: list[str] = []

    def ftp_PASV(self: Any, line: str) -> None:
        asked.append("PASV")
        self.respond(f"{refusal} PASV not allowed, use EPSV.")

    def ftp_EPSV(self: Any, line: str) -> Any:
        asked.append("EPSV")
        return FTPHandler.ftp_EPSV(self, line)

    (ftp_root / "Films").mkdir()
    (ftp_root / "Films" / "a.mkv").write_bytes(DATA)
    server = _serve(ftp_root, ftp_PASV=ftp_PASV, ftp_EPSV=ftp_EPSV)
    src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, pool_size=1,
                              connect_timeout=5, read_timeout=5))
    try:
        for _ in range(2):
            assert [e.name for e in src.list("Films")] == ["a.mkv"]
            assert b"".join(src.read_range("Films/a.mkv", 1000, 50_000)) == DATA[1000:51_000]
        local = tmp_path / "in.bin"
        local.write_bytes(DATA[:10_000])
        assert upload(src, local, "Films/b.mkv") == 10_000
        assert (ftp_root / "Films" / "b.mkv").read_bytes() == DATA[:10_000]
        assert asked.count("EPSV") >= 3
    finally:
        src.close()
        pipeline._NO_PIPELINING.discard(("127.0.0.1", server.port))
        passive._EPSV_ONLY.discard(("127.0.0.1", server.port))
        stop_without_leaks(server)


@pytest.mark.parametrize("reply", ["550 No files found.", "450 No files found", "550 No such file or directory."])
def test_an_empty_folder_answered_450_or_550_lists_empty(ftp_root: Path, reply: str) -> None:
    """Servers that answer LIST of an empty folder with an error (wu-ftpd, Serv-U, some
    NAS firmwares: "550 No files found.", "450 No files found"): the folder was entered
    (its CWD said 250), so it is empty, not missing: an empty listing, pipelined and
    command by command, and a 450 does not turn pipelining off for the server. A
    refusal for permission stays PermissionDenied, a missing folder NotFound."""
    from pyftpdlib.handlers import FTPHandler

    from reelhouse.errors import NotFound, PermissionDenied
    from reelhouse.sources.ftp import pipeline

    def ftp_LIST(self: Any, path: str) -> Any:
        if os.path.basename(path) == "Locked":
            self.respond("550 Permission denied.")
            return None
        if not os.listdir(path):
            self.respond(reply)
            return None
        return FTPHandler.ftp_LIST(self, path)

    for name in ("Empty", "Locked", "Films"):
        (ftp_root / name).mkdir()
    (ftp_root / "Films" / "a.mkv").write_bytes(b"x" * 10)
    server = _serve(ftp_root, ftp_LIST=ftp_LIST,
                    proto_cmds={k: v for k, v in FTPHandler.proto_cmds.items() if k not in ("MLST", "MLSD")})
    src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, pool_size=1,
                              connect_timeout=5, read_timeout=5))
    key = ("127.0.0.1", server.port)
    try:
        for pipelined in (True, False):
            if not pipelined:
                pipeline._NO_PIPELINING.add(key)
            for _ in range(2):
                assert list(src.list("Empty")) == []
                assert [e.name for e in src.list("Films")] == ["a.mkv"]
                with pytest.raises(PermissionDenied):
                    src.list("Locked")
                with pytest.raises(NotFound):
                    src.list("Missing")
            assert (key in pipeline._NO_PIPELINING) is not pipelined
    finally:
        src.close()
        pipeline._NO_PIPELINING.discard(key)
        stop_without_leaks(server)


def test_a_session_the_server_timed_out_is_relisted_and_pipelining_stays_on(ftp_root: Path) -> None:
    """A server that ends idle sessions ("421 Control connection timed out.", then
    closes: pyftpdlib's ``timeout``, vsftpd's ``idle_session_timeout``, pure-ftpd's
    ``-I``): the next listing on the pooled connection reads that 421. It is listed on
    a fresh connection without a user-visible error, and the 421 (the session's end,
    not a refusal of pipelined commands) leaves pipelining on for the server."""
    import threading

    from pyftpdlib.handlers import FTPHandler

    from reelhouse.sources.ftp import pipeline

    timed_out = threading.Event()

    def handle_timeout(self: Any) -> None:
        FTPHandler.handle_timeout(self)
        timed_out.set()

    (ftp_root / "Films").mkdir()
    (ftp_root / "Films" / "a.mkv").write_bytes(DATA)
    server = _serve(ftp_root, timeout=1, handle_timeout=handle_timeout)
    src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, pool_size=1,
                              connect_timeout=5, read_timeout=5))
    key = ("127.0.0.1", server.port)
    try:
        for _ in range(2):
            timed_out.clear()
            assert [e.name for e in src.list("Films")] == ["a.mkv"]
            assert timed_out.wait(60)  # the server said 421 and closed the idle session
            timed_out.clear()
            assert [e.name for e in src.list("Films")] == ["a.mkv"]
            assert key not in pipeline._NO_PIPELINING
            assert timed_out.wait(60)
            assert b"".join(src.read_range("Films/a.mkv", 1000, 5000)) == DATA[1000:6000]
    finally:
        src.close()
        pipeline._NO_PIPELINING.discard(key)
        stop_without_leaks(server)


def test_a_server_that_ignores_rest_is_detected_and_read_by_skipping(ftp_root: Path) -> None:
    """A server that answers ``REST n`` with 350 but sends the file from byte 0 (some
    embedded and old Windows servers, proxies that drop REST): a read at an offset got
    the file's first bytes as if they were those at the offset (a player showed
    garbage, a probe read the wrong header, silently). The first read at an offset on
    a server checks it once (REST 1 against a read from 0): such a server is named
    (:func:`~reelhouse.sources.ftp.restcheck.rest_ignored`) and read as one that refuses
    REST: from byte 0, the bytes before the offset skipped (up to ``max_skip``, past
    it SeekRefused). A server that honours REST passes the check, a file starting with
    32 KiB of zeros (an ISO image) included."""
    from reelhouse.errors import SeekRefused
    from reelhouse.sources.ftp import restcheck

    def ftp_REST(self: Any, line: str) -> None:
        self.respond(f"350 Restarting at {line}. Send STORE or RETRIEVE to initiate transfer.")

    (ftp_root / "a.mkv").write_bytes(DATA)
    iso = bytes(32 * 1024) + DATA
    (ftp_root / "b.iso").write_bytes(iso)
    ignoring = _serve(ftp_root, ftp_REST=ftp_REST)
    honest = _serve(ftp_root)
    sources = [FtpSource(FtpConfig("127.0.0.1", s.port, FTP_USER, FTP_PASSWORD, pool_size=1, connect_timeout=5,
                                   read_timeout=5, max_skip=100_000)) for s in (ignoring, honest)]
    bad, good = sources
    try:
        assert b"".join(bad.read_range("a.mkv", 1000, 5000)) == DATA[1000:6000]
        assert restcheck.rest_ignored("127.0.0.1", ignoring.port)
        assert b"".join(bad.read_range("b.iso", 40_000, 10)) == iso[40_000:40_010]
        with pytest.raises(SeekRefused):
            b"".join(bad.read_range("b.iso", 100_001, 10))
        assert b"".join(bad.read_range("a.mkv", 0, 5000)) == DATA[:5000]
        assert b"".join(good.read_range("b.iso", 40_000, 5000)) == iso[40_000:45_000]
        assert b"".join(good.read_range("a.mkv", 1000, 5000)) == DATA[1000:6000]
        assert not restcheck.rest_ignored("127.0.0.1", honest.port)
    finally:
        for src in sources:
            src.close()
        for server in (ignoring, honest):
            restcheck.forget("127.0.0.1", server.port)
            stop_without_leaks(server)


def test_a_server_refusing_rest_is_not_taken_for_one_that_ignores_it(ftp_root: Path) -> None:
    """REST refused (502) is the read's own matter (it meets the same reply): the
    check records the server as not ignoring REST and asks nothing more of it."""
    from reelhouse.errors import ReelhouseError
    from reelhouse.sources.ftp import restcheck

    asked: list[str] = []

    def ftp_REST(self: Any, line: str) -> None:
        asked.append(line)
        self.respond("502 Command not implemented.")

    (ftp_root / "a.mkv").write_bytes(DATA)
    server = _serve(ftp_root, ftp_REST=ftp_REST)
    src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, pool_size=1, connect_timeout=5,
                              read_timeout=5))
    try:
        for _ in range(2):
            try:
                b"".join(src.read_range("a.mkv", 1000, 5000))
            except ReelhouseError as exc:  # refused REST: a clear error (or a fallback that reads)
                assert "ignores REST" not in str(exc)
        assert restcheck.known("127.0.0.1", server.port)
        assert not restcheck.rest_ignored("127.0.0.1", server.port)
        assert asked[0] == "1" and "1" not in asked[1:]
        assert b"".join(src.read_range("a.mkv", 0, 10)) == DATA[:10]
    finally:
        src.close()
        restcheck.forget("127.0.0.1", server.port)
        stop_without_leaks(server)


def test_a_greeting_of_120_then_220_logs_in(ftp_root: Path) -> None:
    """RFC 959 §5.4: a server may greet with ``120 Service ready in nnn minutes`` and
    then ``220``. The 220 was read as the answer to USER, every later reply one
    behind: the login failed as "530 Log in with USER and PASS first" (a wrong
    password, said the source's status)."""
    from pyftpdlib.handlers import FTPHandler

    def handle(self: Any) -> None:
        self.push("120-The server starts.\r\n120 Service ready in 1 minute.\r\n")
        FTPHandler.handle(self)

    (ftp_root / "Films").mkdir()
    (ftp_root / "Films" / "Heat (1995).mkv").write_bytes(DATA)
    server = _serve(ftp_root, handle=handle)
    src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, pool_size=1,
                              connect_timeout=5, read_timeout=5))
    try:
        assert [e.name for e in src.list("Films")] == ["Heat (1995).mkv"]
        assert b"".join(src.read_range("Films/Heat (1995).mkv", 1000, 100)) == DATA[1000:1100]
    finally:
        src.close()
        stop_without_leaks(server)


def test_a_pwd_reply_without_quotes_names_the_login_folder(ftp_root: Path) -> None:
    """RFC 959 quotes the path of a 257 (``257 "/home/me"``); some servers do not
    (``257 /home/me is the current directory``). ftplib reads no path from that, and
    the source's root became the server's ``/`` instead of the login folder: another
    folder's files were listed (and read) as the source's."""
    def ftp_PWD(self: Any, line: str) -> None:
        self.respond("257 /Home is the current directory.")

    (ftp_root / "Home" / "Films").mkdir(parents=True)
    (ftp_root / "Home" / "Films" / "Heat (1995).mkv").write_bytes(DATA)
    (ftp_root / "Other").mkdir()
    server = _serve(ftp_root, ftp_PWD=ftp_PWD)
    src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, pool_size=1,
                              connect_timeout=5, read_timeout=5))
    try:
        assert [e.name for e in src.list("")] == ["Films"]
        assert b"".join(src.read_range("Films/Heat (1995).mkv", 0, 10)) == DATA[:10]
    finally:
        src.close()
        stop_without_leaks(server)


@pytest.mark.parametrize("facts", ["MLSD", "LIST"])
def test_a_name_with_a_cr_is_named_in_every_walk(ftp_root: Path, tmp_path: Path, facts: str) -> None:
    """A file whose name holds a CR (no FTP command can name it, RFC 959 §4.1.3) is
    named in the scan's errors, and the folder's other files are not marked missing.
    Before, only a folder's first listing said so: the walk's listings over the control
    connection (STAT, learnt once it agreed with LIST or MLSD) dropped the name
    silently, so the second scan, and a walk of an MLSD server from the first, hid it."""
    from pyftpdlib.handlers import FTPHandler

    from reelhouse.config import load_settings
    from reelhouse.core import Core
    from reelhouse.sources.base import Listing

    from helpers import scan_ftp

    (ftp_root / "Films").mkdir()
    (ftp_root / "Films" / "Heat (1995).mkv").write_bytes(DATA)
    (ftp_root / "Films" / "Odd\rName (2006).mkv").write_bytes(DATA)
    overrides: dict[str, Any] = {}
    if facts == "LIST":
        overrides["proto_cmds"] = {k: v for k, v in FTPHandler.proto_cmds.items() if k not in ("MLST", "MLSD")}
    server = _serve(ftp_root, **overrides)
    src = FtpSource(FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, pool_size=2,
                              connect_timeout=5, read_timeout=5))
    core = Core(load_settings(data_dir=tmp_path / "data"))
    try:
        for _ in range(3):
            walked = dict(src.walk(""))
            films = walked["Films"]
            assert isinstance(films, Listing) and films.unread == ("Odd\rName (2006).mkv",), films
            assert [e.name for e in films] == ["Heat (1995).mkv"]
        source_id, files = scan_ftp(core, server.port)
        assert [f.path for f in files] == ["Films/Heat (1995).mkv"]
        for _ in range(2):
            report = core.jobs.run_scan_now(source_id)
            assert report.missing == 0 and any("Odd\\rName" in e for e in report.errors), report.errors
    finally:
        core.close()
        src.close()
        stop_without_leaks(server)
