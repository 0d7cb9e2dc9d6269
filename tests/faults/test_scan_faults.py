"""Scans against real FTP daemons that misbehave between two scans (issue 14): a folder
that becomes unreadable, a server whose listed times jump (its time zone changed). The
invariants: a failing folder hides nothing (no row marked missing, no title, episode or
watch state lost), the scan ends ``partial``/``failed`` naming the folder, never
``done``; a listing whose times jump re-probes nothing; the next good scan restores all.
On SQLite, and on PostgreSQL when ``REELHOUSE_TEST_POSTGRES_URL`` is set."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reelhouse.core import Core
from reelhouse.db.models import Episode, MediaFile, Movie, Show, WatchProgress
from reelhouse.library.probing import Pending
from reelhouse.library.scanner import ScanReport, scan_source
from reelhouse.sources.ftp import FtpConfig, FtpSource
from reelhouse.sources.registry import SourceSpec

from helpers import ENGINES, PURE_PASSWORD, PURE_USER, core_on, pure_ftpd, vsftpd

pytestmark = pytest.mark.ftpd

FILES = ["Films/Sintel (2010)/Sintel.2010.720p.mkv", "Films/Tears.of.Steel.2012.mkv",
         "Shows/The Office (US)/Season 01/The.Office.S01E01.mkv", "Big.Buck.Bunny.2008.mkv"]


def fill(home: Path) -> None:
    for i, rel in enumerate(FILES):
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_bytes(bytes([65 + i]) * (1000 + i))


@pytest.fixture(params=ENGINES)
def lib(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Core]:
    with core_on(request.param, tmp_path / "data", "rh_scanfault") as core:
        yield core


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder that user nobody can reach (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="rh-scanfault-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _no_phase2(pending: Pending, report: ScanReport, progress: object) -> None:
    """Phase 1 only: the rows and their titles, no probing."""


def scan(core: Core, sid: int, config: FtpConfig, probe: bool = False) -> ScanReport:
    src = FtpSource(config)
    try:
        return scan_source(core.sessions, sid, src, probe_budget=64 * 1024, phase2=None if probe else _no_phase2)
    finally:
        src.close()


def library(core: Core, sid: int) -> dict[str, object]:
    """What a user sees: present and missing paths, titles, episodes, watch rows."""
    with core.sessions() as s:
        rows = s.scalars(select(MediaFile).where(MediaFile.source_id == sid)).all()
        return {
            "present": sorted(r.path for r in rows if r.missing_since is None),
            "missing": sorted(r.path for r in rows if r.missing_since is not None),
            "movies": s.scalar(select(func.count()).select_from(Movie)),
            "shows": s.scalar(select(func.count()).select_from(Show)),
            "episodes": s.scalar(select(func.count()).select_from(Episode)),
            "progress": s.scalar(select(func.count()).select_from(WatchProgress)),
        }


def watch_everything(core: Core, sid: int) -> None:
    user = core.users.add("viewer", "viewer-password")
    with core.sessions() as s:
        for f in s.scalars(select(MediaFile).where(MediaFile.source_id == sid)):
            s.add(WatchProgress(user_id=user.id, media_file_id=f.id, position=42.0, duration=100.0))
        s.commit()


def _vsftpd(folder: Path) -> AbstractContextManager[tuple[FtpConfig, Path]]:
    from contextlib import contextmanager

    @contextmanager
    def run() -> Iterator[tuple[FtpConfig, Path]]:
        anon = folder / "anon"
        anon.mkdir()
        fill(anon)
        subprocess.run(["chown", "-R", "nobody:nogroup", str(anon)], check=True)
        with vsftpd(folder, anon, as_nobody=True) as port:
            yield FtpConfig("127.0.0.1", port, connect_timeout=3, read_timeout=3), anon

    return run()


def _pure(folder: Path) -> AbstractContextManager[tuple[FtpConfig, Path]]:
    from contextlib import contextmanager

    @contextmanager
    def run() -> Iterator[tuple[FtpConfig, Path]]:
        with pure_ftpd(folder, fill) as (port, home):
            yield FtpConfig("127.0.0.1", port, PURE_USER, PURE_PASSWORD, connect_timeout=3, read_timeout=3), home

    return run()


@pytest.mark.parametrize("server", ["vsftpd", "pure-ftpd"])
def test_a_folder_that_becomes_unreadable_hides_nothing(
        server: str, lib: Core, open_dir: Path, fresh_stat_verdicts: None) -> None:
    """vsftpd lists a folder it may enter but not read (mode 0311) as empty, "226
    Transfer done (but failed to open directory)", and its STAT says nothing at all:
    both were taken for an empty folder, so its files were marked missing by a scan
    that ended "done"."""
    sid = lib.sources.create(SourceSpec(name="ftp", kind="local", path=str(open_dir))).id
    with (_vsftpd if server == "vsftpd" else _pure)(open_dir) as (config, home):
        assert scan(lib, sid, config).outcome == "done"
        assert scan(lib, sid, config).outcome == "done"  # vsftpd: listed by STAT from now on
        watch_everything(lib, sid)
        before = library(lib, sid)
        assert before["present"] == sorted(FILES) and before["movies"] == 3 and before["episodes"] == 1
        (home / "Films").chmod(0o311)  # may enter, may not read
        (home / "Shows/The Office (US)").chmod(0o000)
        try:
            report = scan(lib, sid, config)
            assert report.outcome in ("partial", "failed"), report.counts()
            assert report.missing == 0
            assert {line.split(":")[0] for line in report.folder_errors} == {"Films", "Shows/The Office (US)"}
            assert library(lib, sid) == before
        finally:
            (home / "Films").chmod(0o755)
            (home / "Shows/The Office (US)").chmod(0o755)
        back = scan(lib, sid, config)
        assert back.outcome == "done" and back.missing == 0 and back.restored == 0
        assert library(lib, sid) == before


def test_a_time_zone_change_on_the_server_reprobes_nothing(
        lib: Core, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_stat_verdicts: None) -> None:
    """vsftpd with ``use_localtime`` lists times in its own zone: when that zone changes
    (a daylight saving switch, a moved server) every listed time moves by whole hours.
    Every file was "updated" then: its probe results dropped and probed again (over FTP,
    a whole library's worth of reads twice a year)."""
    anon = tmp_path / "anon"
    anon.mkdir()
    fill(anon)
    old = time.time() - 400 * 86400  # listed with a year and no time of day
    os.utime(anon / FILES[1], (old, old))
    sid = lib.sources.create(SourceSpec(name="ftp", kind="local", path=str(tmp_path))).id
    for zone, probe in (("UTC", True), ("EST5EDT", False), ("EST5EDT", False), ("UTC-14", False)):
        monkeypatch.setenv("TZ", zone)  # the daemon's zone (it inherits this environment)
        with vsftpd(tmp_path, anon, options={"use_localtime": "YES"}) as port:
            report = scan(lib, sid, FtpConfig("127.0.0.1", port, connect_timeout=3, read_timeout=3), probe=probe)
        assert report.outcome == "done" and report.missing == 0
        if probe:
            assert report.added == 4 and report.probe_done == 4
            continue
        assert report.updated == 0 and report.to_probe == 0 and report.unchanged == 4, (zone, report.counts())
    with lib.sessions() as s:
        assert all(f.probe_bytes is not None or f.probe_error is not None
                   for f in s.scalars(select(MediaFile).where(MediaFile.source_id == sid)))
