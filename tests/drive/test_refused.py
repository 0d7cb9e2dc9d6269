"""Writes a server refuses, through real mounts: the writer gets the errno once, nothing
sends the file again by itself (not a close that wrote nothing, not the unmount, not
the next mount), a refused file with bytes stays in the spool listed as ``refused``
with the server's reply until ``rm`` on the mount drops it, an empty one is dropped;
a transient failure is logged once per try. pyftpdlib (counting the server's commands)
and pure-ftpd."""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from drive.support import Commands, Mount, Mounter, run_cli, status_until, until

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER, PURE_PASSWORD, PURE_USER, free_port, pure_ftpd, stop_without_leaks

pytestmark = pytest.mark.requires_fuse


def _uploads(m: Mount, check: Callable[[list[dict[str, Any]]], bool] = lambda _: True) -> list[dict[str, Any]]:
    """The mount's pending uploads once ``check`` holds for them (the status is published
    every second), or as they are after 15 s."""
    seen = status_until(m.env, lambda st: check([u for s in st for u in s["pending_uploads"]]))
    return [u for s in seen for u in s["pending_uploads"]]


def _spool_files(env: dict[str, str]) -> list[str]:
    root = Path(env["REELHOUSE_DATA_DIR"]) / "drive-spool"
    return sorted(p.name for p in root.rglob("*") if p.is_file() and p.suffix in (".data", ".json"))


def _stors(commands: Commands) -> list[str]:
    return [line for line in commands.changes() if line.startswith("STOR")]


def _stor_server(ftp_root: Path, stor: Callable[..., None], conf: Path,
                 more: str = "") -> tuple[EmbeddedFtpServer, Commands, list[str]]:
    """A pyftpdlib server of ``ftp_root`` whose STOR is ``stor``, the commands it gets
    (kept), and the mount's options for it: 3 tries 0.2 s apart (``conf``, with ``more``
    lines of its [connection])."""
    commands = Commands()
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, port=free_port(),
                               handler_overrides={**commands.overrides, "ftp_STOR": stor}).start()
    conf.write_text(f"[connection]\nretry_attempts = 3\nretry_delay_seconds = 0.2\n{more}")
    args = ["--host", "127.0.0.1", "--port", str(server.port), "--user", FTP_USER, "--password", FTP_PASSWORD,
            "--config", str(conf)]
    return server, commands, args


def _states(m: Mount, n: int) -> dict[str, tuple[str, str]]:
    """The mount's pending uploads once there are ``n`` (or after 15 s): path → (state,
    the server's last reply)."""
    return {u["path"]: (u["state"], u["error"].rpartition(": ")[2]) for u in _uploads(m, lambda ups: len(ups) == n)}


def test_an_anonymous_server_refusing_writes(ftp_root: Path, mount: Mounter) -> None:
    """Anonymous pyftpdlib without write permission ("550 Not enough privileges."):
    ``touch`` of a new name fails (EROFS: the server refuses every write) after one
    STOR, and the empty file is gone (nothing was written). A file with bytes fails the
    same way and stays, listed as refused with the server's reply; closes that wrote
    nothing, the unmount and the next mount send nothing; ``rm`` on the mount drops it,
    also once the server is known to refuse every write and while it is open (libfuse
    first moves it to a ``.fuse_hidden…`` name: no upload is tried there)."""
    (ftp_root / "film.txt").write_text("a film")
    commands = Commands()
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, port=free_port(),
                               handler_overrides=commands.overrides)
    server.server.handler.authorizer.add_anonymous(str(ftp_root), perm="elr")  # type: ignore[attr-defined]
    server.start()
    anonymous = ["--host", "127.0.0.1", "--port", str(server.port)]
    try:
        m = mount(*anonymous)
        done = subprocess.run(["touch", str(m.path / "empty.txt")], capture_output=True, text=True)
        assert done.returncode != 0 and "Read-only file system" in done.stderr, done
        assert len(_stors(commands)) == 1
        assert until(lambda: not (m.path / "empty.txt").exists())  # the last close drops it
        assert _uploads(m, lambda ups: ups == []) == []
        assert m.stop() == 0  # nothing kept
        assert _spool_files(m.env) == [] and _stors(commands) == ["STOR /empty.txt.part"]

        commands.clear()
        m = mount(*anonymous)
        with pytest.raises(OSError) as info:
            (m.path / "draft.txt").write_text("a draft")
        assert info.value.errno == errno.EROFS
        fd = os.open(m.path / "draft.txt", os.O_RDONLY)  # kept, and shown
        assert os.read(fd, 100) == b"a draft"
        os.close(fd)
        [upload] = _uploads(m, lambda ups: len(ups) == 1)
        assert upload["path"] == "draft.txt" and upload["state"] == "refused", upload
        assert "550 Not enough privileges" in upload["error"], upload
        assert m.stop() != 0  # something is kept
        assert len(_stors(commands)) == 1, commands.changes()  # not again at the last close or unmount
        assert "refused by the server" in m.output() and m.output().count("try 1 of") == 0, m.output()
        said = " ".join(run_cli(m.env, "drive", "status").stdout.split())  # what the ended mount kept
        assert "refused by the server: draft.txt (" in said and "550 Not enough privileges" in said, said
        assert "the next mount of this server sends them" not in said, said

        commands.clear()
        m = mount(*anonymous)
        seen = status_until(m.env, lambda st: [u["state"] for s in st for u in s["pending_uploads"]] == ["refused"])
        assert [(u["path"], u["state"]) for s in seen for u in s["pending_uploads"]] == [("draft.txt", "refused")]
        assert (m.path / "draft.txt").read_text() == "a draft"
        with pytest.raises(OSError) as info:
            os.mkdir(m.path / "folder")  # the server is found to refuse every write
        assert info.value.errno == errno.EROFS
        held = (m.path / "draft.txt").open("rb")  # rm while a program holds it open
        os.unlink(m.path / "draft.txt")  # dropped all the same: the server has no such file
        assert not (m.path / "draft.txt").exists()
        assert held.read() == b"a draft"
        held.close()
        assert _uploads(m, lambda ups: ups == []) == []
        assert until(lambda: _spool_files(m.env) == []), _spool_files(m.env)
        assert m.stop() == 0
        assert commands.changes() == []  # nothing tried again, nothing deleted
        assert sorted(os.listdir(ftp_root)) == ["film.txt"]
    finally:
        stop_without_leaks(server)


def test_553_and_532_are_refusals_never_tried_again(ftp_root: Path, tmp_path: Path, mount: Mounter) -> None:
    """A STOR answered 553 ("File name not allowed", RFC 959) is EINVAL and 532 ("Need
    account for storing files") EACCES, at once: one STOR each, no retries (the mount
    retries 3 times, 0.2 s apart, what fails for a connection), one log line each;
    kept as refused through an unmount and the next mount."""
    from pyftpdlib.handlers import FTPHandler

    def stor(self: FTPHandler, file: str, mode: str = "w") -> None:
        if "bad" in os.path.basename(file):
            self.respond("553 File name not allowed.")
        elif "acct" in os.path.basename(file):
            self.respond("532 Need account for storing files.")
        else:
            FTPHandler.ftp_STOR(self, file, mode)

    server, commands, args = _stor_server(ftp_root, stor, tmp_path / "drive.toml")
    try:
        m = mount(*args)
        for name, code in (("bad.txt", errno.EINVAL), ("acct.txt", errno.EACCES)):
            with pytest.raises(OSError) as info:
                (m.path / name).write_text(name)
            assert info.value.errno == code, name
        (m.path / "fine.txt").write_text("fine")  # the server takes other names
        assert (ftp_root / "fine.txt").read_text() == "fine"
        assert sorted(_stors(commands)) == ["STOR /acct.txt.part", "STOR /bad.txt.part", "STOR /fine.txt.part"]
        states = _states(m, 2)
        assert states == {"bad.txt": ("refused", "553 File name not allowed."),
                          "acct.txt": ("refused", "532 Need account for storing files.")}, states
        m.stop()
        log = m.output()
        assert len(re.findall(r"upload of 'bad.txt' refused by the server", log)) == 1, log
        assert len(re.findall(r"upload of 'acct.txt' refused by the server", log)) == 1, log
        assert "try 1 of" not in log, log
        commands.clear()
        m = mount(*args)
        seen = status_until(m.env, lambda st: len([u for s in st for u in s["pending_uploads"]]) == 2)
        assert sorted(u["state"] for s in seen for u in s["pending_uploads"]) == ["refused", "refused"]
        assert (m.path / "bad.txt").read_text() == "bad.txt"
        m.stop()
        assert commands.changes() == []
    finally:
        stop_without_leaks(server)


def test_each_try_of_a_failing_upload_is_logged_once(ftp_root: Path, tmp_path: Path, mount: Mounter) -> None:
    """A server that answers STOR "451" (a transient failure) until the test lets it
    through: each round of tries logs each failed try once, with its number, the
    server's reply and the wait before the next, then "failed after 3 tries" once
    (the close's own upload and the release's no longer both ran a round); the file
    reaches the server once it takes it (failed uploads are tried again once per
    keepalive interval while the server is up: its listings never failed)."""
    from pyftpdlib.handlers import FTPHandler

    failing = [True]

    def stor(self: FTPHandler, file: str, mode: str = "w") -> None:
        if failing[0]:
            self.respond("451 Requested action aborted: local error in processing.")
        else:
            FTPHandler.ftp_STOR(self, file, mode)

    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, port=free_port(),
                               handler_overrides={"ftp_STOR": stor}).start()
    conf = tmp_path / "drive.toml"
    conf.write_text("[connection]\nretry_attempts = 3\nretry_delay_seconds = 0.2\nkeepalive_interval_seconds = 1\n")
    try:
        m = mount("--host", "127.0.0.1", "--port", str(server.port), "--user", FTP_USER, "--password",
                  FTP_PASSWORD, "--config", str(conf))
        with pytest.raises(OSError) as info:
            (m.path / "log.txt").write_text("lines")
        assert info.value.errno == errno.ENOTCONN
        failing[0] = False
        assert until(lambda: (ftp_root / "log.txt").exists() and (ftp_root / "log.txt").read_text() == "lines")
        m.stop()
        lines = [line for line in m.output().splitlines() if "upload of 'log.txt'" in line]
        kinds = ""
        for line in lines:
            if "try 1 of 3 failed: " in line and line.endswith("; next try in 0.2 s"):
                kinds += "1"
            elif "try 2 of 3 failed: " in line and line.endswith("; next try in 0.4 s"):
                kinds += "2"
            elif "failed after 3 tries: " in line:
                kinds += "F"
            else:
                kinds += "?"
            assert "451 Requested action aborted" in line, line
        # whole rounds (the close's first), then maybe one that succeeded at its 2nd or 3rd try
        assert re.fullmatch(r"12F(12F)*(1|12)?", kinds), lines
    finally:
        stop_without_leaks(server)


def test_a_big_file_refused_while_written_is_not_sent_again_at_close(ftp_root: Path, mount: Mounter) -> None:
    """A file past 8 MiB is uploaded while it is written; refused then (a folder without
    write permission), the close does not STOR it again: one STOR, EACCES, kept with
    every byte, listed as refused."""
    (ftp_root / "locked").mkdir()
    commands = Commands()
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, port=free_port(),
                               handler_overrides=commands.overrides)
    server.server.handler.authorizer.override_perm(  # type: ignore[attr-defined]
        FTP_USER, str(ftp_root / "locked"), perm="elr", recursive=True)
    server.start()
    try:
        m = mount("--host", "127.0.0.1", "--port", str(server.port), "--user", FTP_USER, "--password",
                  FTP_PASSWORD)
        big = os.urandom(12 * 1024 * 1024 + 7)
        with pytest.raises(PermissionError):
            with (m.path / "locked" / "film.mkv").open("wb") as f:
                for i in range(0, len(big), 1024 * 1024):
                    f.write(big[i:i + 1024 * 1024])
        assert _stors(commands) == ["STOR /locked/film.mkv.part"], commands.changes()
        assert (m.path / "locked" / "film.mkv").read_bytes() == big
        [upload] = _uploads(m, lambda ups: len(ups) == 1)
        assert (upload["state"], upload["size"]) == ("refused", len(big)), upload
        m.stop()
        assert _stors(commands) == ["STOR /locked/film.mkv.part"], commands.changes()
    finally:
        stop_without_leaks(server)


@pytest.mark.ftpd
def test_pureftpd_refusals_are_kept_and_not_tried_again(tmp_path: Path, mount: Mounter) -> None:
    """pure-ftpd refusing a folder it cannot write ("553 Can't open that file: Permission
    denied") and dot files (``-x``: "553 Prohibited file name"): EACCES and EINVAL at
    close, one log line each, listed as refused; the next mount sends nothing (no
    further refusal in its log) and ``rm`` there drops them."""
    def fill(home: Path) -> None:
        (home / "locked").mkdir()

    with pure_ftpd(tmp_path, fill, args=["-x"]) as (port, home):
        subprocess.run(["chown", "root:root", str(home / "locked")], check=True)
        (home / "locked").chmod(0o755)
        args = ["--host", "127.0.0.1", "--port", str(port), "--user", PURE_USER, "--password", PURE_PASSWORD]
        m = mount(*args)
        with pytest.raises(OSError) as info:
            (m.path / "locked" / "draft.txt").write_text("a draft")
        assert info.value.errno == errno.EACCES
        with pytest.raises(OSError) as info:
            (m.path / ".env").write_text("SECRET=1")
        assert info.value.errno == errno.EINVAL
        (m.path / "open.txt").write_text("taken")
        assert (home / "open.txt").read_text() == "taken"
        states = {u["path"]: u["state"] for u in _uploads(m, lambda ups: len(ups) == 2)}
        assert states == {"locked/draft.txt": "refused", ".env": "refused"}, states
        m.stop()
        assert m.output().count("refused by the server:") == 2, m.output()
        m = mount(*args)
        seen = status_until(m.env, lambda st: len([u for s in st for u in s["pending_uploads"]]) == 2)
        assert sorted(u["path"] for s in seen for u in s["pending_uploads"]) == [".env", "locked/draft.txt"]
        assert (m.path / "locked" / "draft.txt").read_text() == "a draft"
        os.unlink(m.path / "locked" / "draft.txt")
        os.unlink(m.path / ".env")
        assert _uploads(m, lambda ups: ups == []) == []
        assert m.stop() == 0
        assert "refused by the server:" not in m.output(), m.output()
        assert _spool_files(m.env) == []
        assert sorted(os.listdir(home)) == ["locked", "open.txt"] and os.listdir(home / "locked") == []


def _vanished_folder_is_refused(m: Mount, folder: Path, stors: Callable[[], int]) -> None:
    """Write ``gone/draft.txt`` through ``m`` while another client deletes ``gone``
    (``folder``) on the server: the close's STOR is answered "not found" (ENOENT), once;
    the file is kept, listed as refused with the reply, and not sent again by itself
    (the mount retries what failed once per keepalive second: none comes)."""
    f = (m.path / "gone" / "draft.txt").open("w")
    f.write("a draft")
    f.flush()
    shutil.rmtree(folder)  # another client removes the folder meanwhile
    with pytest.raises(OSError) as info:
        f.close()
    assert info.value.errno == errno.ENOENT, info.value
    [upload] = _uploads(m, lambda ups: len(ups) == 1 and ups[0]["state"] == "refused")
    assert (upload["path"], upload["state"], upload["size"]) == ("gone/draft.txt", "refused", 7), upload
    time.sleep(3.5)  # three keepalive rounds, each of which retries a failed upload
    assert stors() == 1
    assert m.stop() != 0  # kept in the spool, said at exit
    assert stors() == 1
    assert m.output().count("upload of 'gone/draft.txt' refused by the server") == 1, m.output()
    assert "try 1 of" not in m.output() and "failed after" not in m.output(), m.output()


def test_a_stor_into_a_vanished_folder_is_refused_not_retried(ftp_root: Path, tmp_path: Path,
                                                            mount: Mounter) -> None:
    """pyftpdlib answers a STOR into a folder another client deleted "550 No such file or
    directory.": a refusal (the folder will not come back by itself), not a failure
    retried forever; the next mount keeps it as refused and sends nothing. A 550 for a
    name (a server's own rule) is the same."""
    from pyftpdlib.handlers import FTPHandler

    def stor(self: FTPHandler, file: str, mode: str = "w") -> None:
        if "nope" in os.path.basename(file):
            self.respond("550 Prohibited file name.")
        else:
            FTPHandler.ftp_STOR(self, file, mode)

    (ftp_root / "gone").mkdir()
    server, commands, args = _stor_server(ftp_root, stor, tmp_path / "drive.toml", "keepalive_interval_seconds = 1\n")
    try:
        m = mount(*args)
        _vanished_folder_is_refused(m, ftp_root / "gone", lambda: len(_stors(commands)))
        commands.clear()
        m = mount(*args)
        with pytest.raises(OSError) as info:
            (m.path / "nope.txt").write_text("x")
        assert info.value.errno == errno.ENOENT
        states = _states(m, 2)
        assert states == {"gone/draft.txt": ("refused", "550 No such file or directory."),
                          "nope.txt": ("refused", "550 Prohibited file name.")}, states
        time.sleep(2.5)
        assert _stors(commands) == ["STOR /nope.txt.part"], commands.changes()
        m.stop()
    finally:
        stop_without_leaks(server)


@pytest.mark.ftpd
def test_pureftpd_stor_into_a_vanished_folder_is_refused(tmp_path: Path, mount: Mounter) -> None:
    """pure-ftpd answering a STOR into a folder deleted behind the mount: refused
    (ENOENT), kept, not tried again by the keepalive rounds or the unmount."""
    def fill(home: Path) -> None:
        (home / "gone").mkdir()

    with pure_ftpd(tmp_path, fill) as (port, home):
        conf = tmp_path / "drive.toml"
        conf.write_text("[connection]\nretry_attempts = 3\nretry_delay_seconds = 0.2\n"
                        "keepalive_interval_seconds = 1\n[logging]\nlevel = \"info\"\n")
        m = mount("--host", "127.0.0.1", "--port", str(port), "--user", PURE_USER, "--password", PURE_PASSWORD,
                  "--config", str(conf))
        _vanished_folder_is_refused(  # each try logs once (pure-ftpd's commands are not counted)
            m, home / "gone", lambda: len(re.findall(r"upload of 'gone/draft.txt' (refused|failed)", m.output())))
        assert sorted(os.listdir(home)) == []
