"""Open files that are renamed, renamed over or unlinked (a player reading while a
download replaces the file, ``tail`` on a log rotated away, a folder moved while a file
in it is written): reads keep the file's own bytes, writes land under the new name,
POSIX-like, on a real mount of a real server."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest
from drive.support import Mounter

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER

pytestmark = pytest.mark.requires_fuse


def test_open_files_survive_rename_unlink_and_rename_over(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                                          mount: Mounter) -> None:
    old, new = os.urandom(300_000), os.urandom(200_000)
    for name in ("gone.bin", "victim.bin", "moved.bin"):
        (ftp_root / name).write_bytes(old)
    (ftp_root / "Season 01").mkdir()
    (ftp_root / "Season 01" / "e01.bin").write_bytes(old)
    m = mount("--host", "127.0.0.1", "--port", str(ftp_server.port), "--user", FTP_USER,
              "--password", FTP_PASSWORD)
    mp = m.path
    fds = {name: os.open(mp / name, os.O_RDONLY) for name in ("gone.bin", "victim.bin", "moved.bin",
                                                             "Season 01/e01.bin")}
    try:
        assert os.pread(fds["gone.bin"], 10, 0) == old[:10]  # reading has started
        os.unlink(mp / "gone.bin")
        (mp / "new.tmp").write_bytes(new)
        os.rename(mp / "new.tmp", mp / "victim.bin")  # an atomic replace while a reader has it open
        os.rename(mp / "moved.bin", mp / "renamed.bin")
        os.rename(mp / "Season 01", mp / "Season 1")
        for name, fd in fds.items():  # each open file reads its own bytes to the end
            assert os.pread(fd, len(old) + 10, 0) == old, name
            assert os.pread(fd, 1000, 123_456) == old[123_456:124_456], name
        assert not (mp / "gone.bin").exists()
        assert (mp / "victim.bin").read_bytes() == new and (ftp_root / "victim.bin").read_bytes() == new
        assert (mp / "renamed.bin").read_bytes() == old
    finally:
        for fd in fds.values():
            os.close(fd)
    # a file being written in a folder that is moved meanwhile is uploaded under its new path
    os.mkdir(mp / "incoming")
    with (mp / "incoming" / "part1.txt").open("w") as f:
        f.write("first half, ")
        f.flush()
        os.rename(mp / "incoming", mp / "done")
        f.write("second half")
    assert (ftp_root / "done" / "part1.txt").read_text() == "first half, second half"
    assert not (ftp_root / "incoming").exists()
    # libfuse's .fuse_hidden copies of the unlinked and replaced files go at the last close
    left = sorted(p.name for p in ftp_root.iterdir())
    assert left == ["Season 1", "done", "renamed.bin", "victim.bin"], left
    m.stop()


def test_a_file_deleted_on_the_server_while_open_is_an_error_not_an_early_end(
        ftp_server: EmbeddedFtpServer, ftp_root: Path, tmp_path: Path, mount: Mounter) -> None:
    # the kernel retries a failed read-ahead with a small read at once: that retry read
    # the finished stream as the end of the file, and cp made a short copy with exit 0
    for name in ("open.bin", "copied.bin"):
        (ftp_root / name).write_bytes(os.urandom(3_000_000))
    m = mount("--host", "127.0.0.1", "--port", str(ftp_server.port), "--user", FTP_USER,
              "--password", FTP_PASSWORD)
    assert sorted(os.listdir(m.path)) == ["copied.bin", "open.bin"]  # listed: both known to the mount
    fd = os.open(m.path / "open.bin", os.O_RDONLY)
    try:
        (ftp_root / "open.bin").unlink()  # another client deletes it
        for _ in range(2):
            with pytest.raises(OSError) as info:
                os.read(fd, 100_000)
            assert info.value.errno == errno.ENOENT
    finally:
        os.close(fd)
    (ftp_root / "copied.bin").unlink()
    done = subprocess.run(["cp", str(m.path / "copied.bin"), str(tmp_path / "copy.bin")],
                          capture_output=True, text=True)
    assert done.returncode != 0 and "No such file" in done.stderr, done
    m.stop()


def test_a_mount_of_a_server_without_rest_reads_every_offset(tmp_path: Path, mount: Mounter) -> None:
    """A server that refuses REST (502): the mount's reads at any offset (its block
    reads and its sequential stream) and a whole copy still give the file's bytes
    (sources/ftp/reads.py reads from byte 0 and skips)."""
    from helpers import free_port, stop_without_leaks

    root = tmp_path / "norest"
    root.mkdir()
    data = os.urandom(5_000_000)
    (root / "film.mkv").write_bytes(data)

    def refuse(self: object, line: str) -> None:
        self.respond("502 Command not implemented.")  # type: ignore[attr-defined]

    server = EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD, port=free_port(),
                               handler_overrides={"ftp_REST": refuse}).start()
    try:
        m = mount("--host", "127.0.0.1", "--port", str(server.port), "--user", FTP_USER,
                  "--password", FTP_PASSWORD)
        fd = os.open(m.path / "film.mkv", os.O_RDONLY)
        try:
            for offset in (4_000_000, 17, 2_500_001, 4_999_990):
                assert os.pread(fd, 5000, offset) == data[offset:offset + 5000], offset
        finally:
            os.close(fd)
        out = subprocess.run(["sha256sum", str(m.path / "film.mkv")], capture_output=True, text=True,
                             check=True, timeout=120).stdout
        import hashlib

        assert out.split()[0] == hashlib.sha256(data).hexdigest()
        m.stop()
    finally:
        stop_without_leaks(server)
