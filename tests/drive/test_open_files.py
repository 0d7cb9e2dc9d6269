"""Open files that are renamed, renamed over or unlinked (a player reading while a
download replaces the file, ``tail`` on a log rotated away, a folder moved while a file
in it is written): reads keep the file's own bytes, writes land under the new name,
POSIX-like, on a real mount of a real server."""

from __future__ import annotations

import os
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
