"""Which of two links to one folder a walk goes through, on vsftpd (LIST only, ``PWD``
names a link's folder): the same one every scan, whatever order the listings come
back in (reelhouse/sources/linkwalk.py, ``LinkGuard.release``)."""

from __future__ import annotations

import gc
import subprocess
from pathlib import Path

import pytest

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.sources.ftp import FtpConfig, FtpSource
from reelhouse.sources.walk import LinkedFolderSkipped

from helpers import scan_ftp, vsftpd

pytestmark = pytest.mark.ftpd


def _fill(anon: Path) -> None:
    """``library`` with two links to ``disk/Films`` (``A/deep/er/Films`` three folders
    down, ``B/Films`` one: a walk by levels meets B's first) and, the other way round
    by name, ``Aa -> disk/Shows/Drama`` and ``Zz -> disk/Shows`` (a folder holding it)."""
    films = anon / "disk/Films"
    films.mkdir(parents=True)
    (films / "Alien (1979).mkv").write_bytes(b"a" * 1000)
    drama = anon / "disk/Shows/Drama"
    drama.mkdir(parents=True)
    (drama / "Heat (1995).mkv").write_bytes(b"h" * 1000)
    (anon / "disk/Shows/Up (2009).mkv").write_bytes(b"u" * 1000)
    lib = anon / "library"
    (lib / "A/deep/er").mkdir(parents=True)
    (lib / "A/deep/er/Films").symlink_to("../../../../disk/Films")
    (lib / "B").mkdir()
    (lib / "B/Films").symlink_to("../../disk/Films")
    (lib / "Aa").symlink_to("../disk/Shows/Drama")
    (lib / "Zz").symlink_to("../disk/Shows")
    subprocess.run(["chown", "-R", "nobody:nogroup", str(anon)], check=True)


def test_of_two_links_to_one_folder_the_first_by_path_is_walked(tmp_path: Path) -> None:
    """Before, the first link a walk reached won: ``B/Films`` (listed first, being
    higher up), and which one changed with the parallel listings' timing, so a rescan
    could move a film from one path to the other. Now the links are decided when the
    rest is walked: ``A/deep/er/Films`` (first by path) every time; and a link to a
    folder holding another link's (``Zz -> Shows`` over ``Aa -> Shows/Drama``) is
    walked and the inner one not (its files under ``Zz/Drama``, once)."""
    anon = tmp_path / "anon"
    anon.mkdir()
    _fill(anon)
    with vsftpd(tmp_path, anon) as port:
        for size in (1, 3):
            src = FtpSource(FtpConfig("127.0.0.1", port, root="library", pool_size=size))
            try:
                for _ in range(3):
                    walked = dict(src.walk(""))
                    listed = sorted(f for f, r in walked.items() if not isinstance(r, Exception))
                    assert listed == ["", "A", "A/deep", "A/deep/er", "A/deep/er/Films", "B", "Zz", "Zz/Drama"]
                    skipped = {f: str(r) for f, r in walked.items() if isinstance(r, LinkedFolderSkipped)}
                    assert set(skipped) == {"B/Films", "Aa"}, walked
                    assert "walked already through 'A/deep/er/Films'" in skipped["B/Films"]
                    assert "walked already through 'Zz'" in skipped["Aa"]
            finally:
                src.close()
        core = Core(load_settings(data_dir=tmp_path / "data"))
        try:
            source_id, files = scan_ftp(core, port, username=None, password=None, path="library")
            assert [f.path for f in files] == ["A/deep/er/Films/Alien (1979).mkv", "Zz/Drama/Heat (1995).mkv",
                                               "Zz/Up (2009).mkv"]
            report = core.jobs.run_scan_now(source_id)
            assert (report.outcome, report.added, report.missing) == ("done", 0, 0), report.errors
            assert len(report.notes) == 2, report.notes
        finally:
            core.close()
            gc.collect()
