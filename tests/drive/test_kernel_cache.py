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
