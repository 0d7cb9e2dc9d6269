"""Links to folders through the drive, on vsftpd (LIST only): shown as folders with
their files, but not the links that lead to a folder above them, so a program walking
the mount ends (reelhouse/sources/linkwalk.py ``without_loops``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from compat.test_vsftpd_links import _fill
from drive.support import Mounter

from helpers import vsftpd

pytestmark = pytest.mark.ftpd


def test_a_mount_shows_links_to_folders_but_not_loops(tmp_path: Path, mount: Mounter) -> None:
    """The drive lists ``Films -> ../disk/Films`` as a folder with its files (it was
    missing), and leaves out the links that lead to a folder above them, so ``find``
    on the mount ends (before: it was not there to loop; with links shown and loops
    kept, ``find`` would go round until the path is too long)."""
    anon = tmp_path / "anon"
    anon.mkdir()
    _fill(anon)
    with vsftpd(tmp_path, anon) as port:
        m = mount("--host", "127.0.0.1", "--port", str(port), "--root", "library", "--read-only")
        assert sorted(os.listdir(m.path)) == ["Films", "Films again", "Mine", "Own"]
        assert sorted(os.listdir(m.path / "Own")) == ["Up (2009).mkv"]  # up -> .., self -> .: loops
        assert (m.path / "Films/Sub/Heat (1995).mkv").read_bytes() == b"h" * 1000
        found = subprocess.run(["find", str(m.path), "-type", "f"], capture_output=True, text=True, timeout=120,
                               check=True).stdout.split("\n")
        names = sorted(os.path.relpath(f, m.path) for f in found if f)
        assert names == ["Films again/Alien (1979).mkv", "Films again/Sub/Heat (1995).mkv",
                         "Films/Alien (1979).mkv", "Films/Sub/Heat (1995).mkv",
                         "Mine/Up (2009).mkv", "Own/Up (2009).mkv"], names
