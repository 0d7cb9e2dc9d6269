"""The kernel's own cache of names and attributes on a real mount follows the drive's
TTLs: a TTL of 0 (or ``[cache] enabled = false``) shows another client's change at once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from drive.support import Mounter

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER

pytestmark = pytest.mark.requires_fuse


@pytest.mark.parametrize("cache", ["directory_ttl_seconds = 0\nmetadata_ttl_seconds = 0\n", "enabled = false\n"])
def test_no_ttl_shows_another_clients_change_at_once(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                                     tmp_path: Path, mount: Mounter, cache: str) -> None:
    conf = tmp_path / "drive.ini"
    conf.write_text("[cache]\n" + cache)
    (ftp_root / "a.txt").write_text("one")
    (ftp_root / "b.txt").write_text("b")
    m = mount("--host", "127.0.0.1", "--port", str(ftp_server.port), "--user", FTP_USER,
              "--password", FTP_PASSWORD, "--config", str(conf))
    for _ in range(3):  # each change right after the mount has seen the file
        assert (m.path / "a.txt").stat().st_size == 3
        (ftp_root / "a.txt").write_text("longer")  # another client changes it
        assert (m.path / "a.txt").stat().st_size == 6
        assert (m.path / "a.txt").read_text() == "longer"
        (ftp_root / "a.txt").write_text("one")
    assert (m.path / "b.txt").exists()
    (ftp_root / "b.txt").unlink()
    assert not (m.path / "b.txt").exists()
    assert os.listdir(m.path) == ["a.txt"]
    m.stop()


def test_reading_with_no_cache_lists_nothing_per_read(tmp_path: Path, ftp_root: Path, mount: Mounter) -> None:
    """With a kernel TTL of 0 the kernel checks a file's size before each read; an open
    file answers from its handle, not with a listing per read (two mounts of 6 readers
    on a 2-connection server ran out of connections: EAGAIN)."""
    from pyftpdlib.handlers import FTPHandler

    listings: list[str] = []

    def counted_mlsd(self: FTPHandler, path: str) -> None:
        listings.append(path)
        FTPHandler.ftp_MLSD(self, path)

    data = os.urandom(16 * 1024 * 1024)
    (ftp_root / "film.bin").write_bytes(data)
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, handler_overrides={"ftp_MLSD": counted_mlsd}).start()
    try:
        conf = tmp_path / "drive.ini"
        conf.write_text("[cache]\nenabled = false\n")
        m = mount("--host", "127.0.0.1", "--port", str(server.port), "--user", FTP_USER,
                  "--password", FTP_PASSWORD, "--config", str(conf))
        before = len(listings)
        with (m.path / "film.bin").open("rb", buffering=0) as f:
            got = b"".join(iter(lambda: f.read(128 * 1024), b""))
        assert got == data
        assert len(listings) - before <= 4, listings[before:]  # the lookup and open, not one per read
        m.stop()
    finally:
        server.stop()
