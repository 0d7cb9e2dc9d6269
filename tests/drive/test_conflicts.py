"""A file made through the mount while another FTP client (ftplib, as another machine)
makes the same name on the server before the mount's upload: the upload stops just
before its rename (one SIZE of the name), the other client's file stays, close() says
EEXIST, and the user's bytes are kept in the spool as a conflict that ``drive spool``
lists and ``retry`` / ``discard`` settle (``mv`` and ``rm`` on the mount too).
pyftpdlib, pure-ftpd (MLSD) and vsftpd (LIST only)."""

from __future__ import annotations

import errno
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from drive.support import Mounter, run_cli, until
from drive.writable import Writable, embedded, pure_writable, vsftpd_writable

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER

pytestmark = pytest.mark.requires_fuse


def _theirs(server: Writable, files: dict[str, bytes]) -> None:
    """Another client stores ``files`` (name → bytes) in the mount's root."""
    ftp = server.other_client()
    try:
        for name, data in files.items():
            ftp.storbinary(f"STOR {name}", io.BytesIO(data))
    finally:
        ftp.quit()


def _kept(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    done = run_cli(env, "drive", "spool", "list", "--json")
    assert done.returncode == 0, done.stderr
    return {f["path"]: f for f in json.loads(done.stdout)}


def _conflicts(mount: Mounter, server: Writable) -> None:
    m, server_dir = mount(*server.options()), server.home
    assert os.listdir(m.path) == []
    names = {"report.txt": os.O_CREAT, "lock": os.O_CREAT | os.O_EXCL, "notes": os.O_CREAT | os.O_APPEND,
             "gone": os.O_CREAT}
    fds = {}
    for name, flags in names.items():  # the server has none of them: made here
        fds[name] = os.open(m.path / name, os.O_WRONLY | flags)
        os.write(fds[name], f"my {name}".encode())
    _theirs(server, {name: f"their {name}".encode() for name in names})
    for name, fd in fds.items():
        with pytest.raises(OSError) as info:
            os.close(fd)
        assert info.value.errno == errno.EEXIST, name
    # nothing of theirs replaced, no .part left behind
    assert sorted(os.listdir(server_dir)) == sorted(names)
    for name in names:
        assert (server_dir / name).read_bytes() == f"their {name}".encode()
    assert until(lambda: sorted(_kept(m.env)) == sorted(names))  # the mount's status, once a second
    kept = _kept(m.env)
    assert {f["state"] for f in kept.values()} == {"conflict"}
    assert "another client made 'lock'" in kept["lock"]["error"]
    assert (m.path / "report.txt").read_bytes() == b"my report.txt"  # the mount shows the user's
    # writing it again does not send it over theirs either
    with pytest.raises(OSError) as info:
        with open(m.path / "report.txt", "ab") as f:
            f.write(b" and more")
    assert info.value.errno == errno.EEXIST
    assert (server_dir / "report.txt").read_bytes() == b"their report.txt"

    done = run_cli(m.env, "drive", "spool", "retry", "report.txt")  # the user's choice: replace theirs
    assert done.returncode == 0, done.stderr
    assert (server_dir / "report.txt").read_bytes() == b"my report.txt and more"
    done = run_cli(m.env, "drive", "spool", "discard", "lock")  # the user's choice: theirs stays
    assert done.returncode == 0, done.stderr
    assert (server_dir / "lock").read_bytes() == b"their lock"
    assert until(lambda: (m.path / "lock").read_bytes() == b"their lock")
    os.rename(m.path / "notes", m.path / "notes-mine")  # mine under another name, theirs stays
    assert (server_dir / "notes-mine").read_bytes() == b"my notes"
    assert (server_dir / "notes").read_bytes() == b"their notes"
    os.unlink(m.path / "gone")  # mine dropped, theirs stays and shows
    assert (server_dir / "gone").read_bytes() == b"their gone"
    assert (m.path / "gone").read_bytes() == b"their gone"
    assert until(lambda: _kept(m.env) == {})
    assert sorted(os.listdir(server_dir)) == ["gone", "lock", "notes", "notes-mine", "report.txt"]
    assert m.stop() == 0


def test_pyftpdlib_a_file_made_elsewhere_before_the_upload_is_not_replaced(
        ftp_server: EmbeddedFtpServer, ftp_root: Path, mount: Mounter) -> None:
    _conflicts(mount, embedded(ftp_server, ftp_root))


@pytest.mark.ftpd
def test_pureftpd_a_file_made_elsewhere_before_the_upload_is_not_replaced(tmp_path: Path, mount: Mounter) -> None:
    with pure_writable(tmp_path) as server:
        _conflicts(mount, server)


@pytest.mark.ftpd
def test_vsftpd_a_file_made_elsewhere_before_the_upload_is_not_replaced(tmp_path: Path, mount: Mounter) -> None:
    with vsftpd_writable(tmp_path) as server:
        _conflicts(mount, server)


def test_a_conflict_outlives_its_mount_and_is_sent_by_the_next_once_asked(
        ftp_server: EmbeddedFtpServer, ftp_root: Path, mount: Mounter) -> None:
    """A conflict still kept at unmount: the unmount says so (exit non-zero), ``drive
    spool list`` shows it with no mount running, the next mount does not send it by
    itself; ``drive spool retry`` (no mount running) has the mount after it send it,
    over the other client's file."""
    login = ("--host", "127.0.0.1", "--port", str(ftp_server.port), "--user", FTP_USER, "--password", FTP_PASSWORD)
    m = mount(*login)
    fd = os.open(m.path / "draft.txt", os.O_WRONLY | os.O_CREAT)
    os.write(fd, b"my draft")
    _theirs(embedded(ftp_server, ftp_root), {"draft.txt": b"their draft"})
    with pytest.raises(OSError) as info:
        os.close(fd)
    assert info.value.errno == errno.EEXIST
    assert m.stop() != 0
    assert "as conflicts" in m.output() and "draft.txt" in m.output()
    assert [(f["path"], f["state"], f["size"]) for f in _kept(m.env).values()] == [("draft.txt", "conflict", 8)]

    again = mount(*login)  # not sent by itself
    assert until(lambda: "draft.txt" in _kept(again.env))
    assert (again.path / "draft.txt").read_bytes() == b"my draft"
    assert again.stop() != 0
    assert (ftp_root / "draft.txt").read_bytes() == b"their draft"

    done = run_cli(m.env, "drive", "spool", "retry", "draft.txt")
    assert done.returncode == 0, done.stderr
    third = mount(*login)
    assert until(lambda: (ftp_root / "draft.txt").read_bytes() == b"my draft")
    assert until(lambda: _kept(third.env) == {})
    assert third.stop() == 0
    assert sorted(os.listdir(ftp_root)) == ["draft.txt"]


def test_a_server_refusing_the_size_of_a_free_name_still_takes_the_file(ftp_root: Path, mount: Mounter) -> None:
    """A server that answers the check's SIZE of the (free) name with "permission
    denied" instead of "not found": the check cannot be made, the file is uploaded as
    before it existed (not refused)."""
    from pyftpdlib.handlers import FTPHandler

    def ftp_SIZE(self: FTPHandler, path: str) -> None:
        if not path.endswith(".part") and not os.path.exists(path):
            self.respond("550 Permission denied.")
            return
        FTPHandler.ftp_SIZE(self, path)

    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, handler_overrides={"ftp_SIZE": ftp_SIZE}).start()
    try:
        m = mount("--host", "127.0.0.1", "--port", str(server.port), "--user", FTP_USER, "--password", FTP_PASSWORD)
        fd = os.open(m.path / "new.txt", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        os.write(fd, b"mine")
        os.close(fd)
        assert (ftp_root / "new.txt").read_bytes() == b"mine"
        assert m.stop() == 0
    finally:
        server.stop()


def test_a_mount_killed_just_after_its_rename_shows_no_false_conflict(ftp_root: Path, mount: Mounter) -> None:
    """The mount process killed (SIGKILL) after the server renamed two new files'
    ``.part`` over their names but before the mount heard it (the server does the RNTO
    and never answers: the mount never removed their manifests). The next mount finds
    ``mine.txt`` on the server with exactly its bytes (its own upload): dropped from the
    spool silently, no conflict. ``theirs.txt`` was replaced meanwhile by another
    client's file of the same size: kept as a conflict, the user's bytes in the spool."""
    import subprocess
    import sys
    import threading

    from pyftpdlib.handlers import FTPHandler

    hang, renamed = threading.Event(), threading.Semaphore(0)

    def hung_rnto(self: FTPHandler, path: str) -> Any:
        if not hang.is_set() or not self._rnfr:
            return FTPHandler.ftp_RNTO(self, path)
        src, self._rnfr = self._rnfr, None
        self.run_as_current_user(self.fs.rename, src, path)  # done; its "250" never sent
        renamed.release()
        return None

    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, handler_overrides={"ftp_RNTO": hung_rnto}).start()
    try:
        login = ("--host", "127.0.0.1", "--port", str(server.port), "--user", FTP_USER, "--password", FTP_PASSWORD)
        m = mount(*login)
        hang.set()
        texts = {"mine.txt": b"my own upload", "theirs.txt": b"mine, replaced"}
        create = "import sys; open(sys.argv[1], 'xb').write(sys.argv[2].encode())"  # O_EXCL: made here
        writers = [subprocess.Popen([sys.executable, "-c", create, str(m.path / name), data.decode()])
                   for name, data in texts.items()]
        for _ in texts:  # both renamed on the server, the mount waiting for the replies
            assert renamed.acquire(timeout=30)
        m.proc.kill()
        m.proc.wait()
        for w in writers:
            w.wait(timeout=30)  # their close() fails: the mount is gone
        subprocess.run(["fusermount3", "-u", "-z", str(m.path)], check=False)
        hang.clear()
        assert {n: (ftp_root / n).read_bytes() for n in texts} == texts  # both uploads complete
        (ftp_root / "theirs.txt").write_bytes(b"their file!!!!")  # another client's, same size
        assert len(texts["theirs.txt"]) == len(b"their file!!!!")
        assert len(list((Path(m.env["REELHOUSE_DATA_DIR"]) / "drive-spool").rglob("*.json"))) == 2

        again = mount(*login, mp=m.path)
        assert until(lambda: "kept in the spool, not sent: another client made 'theirs.txt'"
                     in " ".join(again.output().split()), timeout=30)  # said once the recovery ended
        assert until(lambda: {p: f["state"] for p, f in _kept(again.env).items()} == {"theirs.txt": "conflict"})
        assert (again.path / "mine.txt").read_bytes() == b"my own upload"
        assert (again.path / "theirs.txt").read_bytes() == b"mine, replaced"  # the user's, kept
        assert (ftp_root / "mine.txt").read_bytes() == b"my own upload"
        assert (ftp_root / "theirs.txt").read_bytes() == b"their file!!!!"
        assert "mine.txt" not in again.output()
        assert again.stop() != 0  # the conflict is kept
        assert sorted(os.listdir(ftp_root)) == ["mine.txt", "theirs.txt"]
    finally:
        server.stop()
