"""Links to folders on vsftpd (LIST only, no MLSD): a seedbox's ``Films -> ../disk/Films``
is walked and scanned, a link loop and a link to a parent are not, and neither is a
second link to a folder walked already or a link into the walked folders: each of
those is a note of the scan, not an error (reelhouse/sources/linkwalk.py)."""

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
    """``library`` (the source's root) with links out of it and loops; ``disk`` beside it."""
    films = anon / "disk/Films"
    (films / "Sub").mkdir(parents=True)
    (films / "Alien (1979).mkv").write_bytes(b"a" * 1000)
    (films / "Sub/Heat (1995).mkv").write_bytes(b"h" * 1000)
    (films / "loop").symlink_to("../Films")  # a loop outside the source's root
    lib = anon / "library"
    (lib / "Own").mkdir(parents=True)
    (lib / "Own/Up (2009).mkv").write_bytes(b"u" * 1000)
    (lib / "Own/up").symlink_to("..")  # a link to a parent
    (lib / "Own/self").symlink_to(".")  # a link to itself
    (lib / "Films").symlink_to("../disk/Films")  # a folder outside the root: walked
    (lib / "Films again").symlink_to("../disk/Films")  # the same folder: walked already
    (lib / "Mine").symlink_to("Own")  # into the walked folders
    subprocess.run(["chown", "-R", "nobody:nogroup", str(anon)], check=True)


def test_links_to_folders_are_walked_without_going_round(tmp_path: Path) -> None:
    """Before: every link to a folder was left out of vsftpd's listings (SIZE refuses
    a folder), so ``Films -> /mnt/...`` was never scanned."""
    anon = tmp_path / "anon"
    anon.mkdir()
    _fill(anon)
    with vsftpd(tmp_path, anon) as port:
        src = FtpSource(FtpConfig("127.0.0.1", port, root="library", pool_size=3))
        try:
            listing = {e.name: (e.is_dir, e.link) for e in src.list("")}
            assert listing == {"Own": (True, False), "Films": (True, True), "Films again": (True, True),
                               "Mine": (True, True)}, listing
            walked = dict(src.walk(""))
            folders = sorted(f for f, r in walked.items() if not isinstance(r, Exception))
            assert folders == ["", "Films", "Films/Sub", "Own"], walked
            skipped = {f: str(r) for f, r in walked.items() if isinstance(r, LinkedFolderSkipped)}
            assert set(skipped) == {"Films again", "Mine", "Own/up", "Own/self", "Films/loop"}, walked
            assert "walked already through 'Films'" in skipped["Films again"]
            assert "lists anyway" in skipped["Mine"]
            assert all("link loop" in skipped[f] for f in ("Own/up", "Own/self", "Films/loop"))
            assert not [r for r in walked.values() if isinstance(r, Exception)
                        and not isinstance(r, LinkedFolderSkipped)], walked
        finally:
            src.close()


def test_a_scan_indexes_files_behind_a_link_and_notes_the_loops(tmp_path: Path) -> None:
    anon = tmp_path / "anon"
    anon.mkdir()
    _fill(anon)
    with vsftpd(tmp_path, anon) as port:
        core = Core(load_settings(data_dir=tmp_path / "data"))
        try:
            source_id, files = scan_ftp(core, port, username=None, password=None, path="library")
            assert [f.path for f in files] == ["Films/Alien (1979).mkv", "Films/Sub/Heat (1995).mkv",
                                               "Own/Up (2009).mkv"]
            report = core.jobs.run_scan_now(source_id)  # a rescan changes nothing, hides nothing
            assert report.outcome == "done", report.errors
            assert not [e for e in report.errors if "link" in e], report.errors  # (the files are no media)
            assert len(report.notes) == 5 and report.counts()["notes"] == 5, report.notes
            assert (report.added, report.missing) == (0, 0)
        finally:
            core.close()
            gc.collect()

