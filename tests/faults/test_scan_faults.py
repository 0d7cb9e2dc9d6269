"""Scans against real FTP daemons that misbehave between two scans (issue 14): a folder
that becomes unreadable, a server whose listed times jump (its time zone changed). The
invariants: a failing folder hides nothing (no row marked missing, no title, episode or
watch state lost), the scan ends ``partial``/``failed`` naming the folder, never
``done``; a listing whose times jump re-probes nothing; the next good scan restores all.
On SQLite, and on PostgreSQL when ``REELHOUSE_TEST_POSTGRES_URL`` is set."""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from pyftpdlib.handlers import FTPHandler
from sqlalchemy import func, select

from reelhouse.core import Core
from reelhouse.db.models import Episode, MediaFile, Movie, Show, WatchProgress
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import NotFound, ReelhouseError, SourceLoginRefused
from reelhouse.library.probing import Pending
from reelhouse.library.scanner import ScanReport, scan_source
from reelhouse.sources.base import Entry
from reelhouse.sources.ftp import FtpConfig, FtpSource
from reelhouse.sources.registry import SourceSpec

from helpers import ENGINES, FTP_PASSWORD, FTP_USER, PURE_PASSWORD, PURE_USER, core_on, daemon_of, pure_ftpd, vsftpd

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
        folder.mkdir(exist_ok=True)
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
        folder.mkdir(exist_ok=True)
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


def _kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and every process below it (a daemon and its sessions), by id."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    todo, found = [pid], []
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    for p in found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)


class _KilledAfterRoot(FtpSource):
    """A real FtpSource whose daemon (and every session of it) is killed right after the
    root folder is listed: every other folder of the walk fails."""

    kill: Callable[[], None]

    def _list_many(self, paths: builtins.list[str], tree: dict[str, builtins.list[Entry] | None] | None = None,
                   ) -> builtins.list[builtins.list[Entry] | ReelhouseError]:
        listed = super()._list_many(paths, tree)
        if "" in paths:
            self.kill()
        return listed


@pytest.mark.parametrize("server", ["vsftpd", "pure-ftpd"])
def test_a_daemon_killed_mid_scan_then_a_wrong_password_then_a_missing_root_hide_nothing(
        server: str, lib: Core, open_dir: Path, fresh_stat_verdicts: None) -> None:
    """Real daemons, killed (with their sessions) after the root listing; then the
    stored password refused; then the source's root folder renamed away. Each scan
    fails, none hides anything; the next good one restores everything."""
    sid = lib.sources.create(SourceSpec(name="ftp", kind="local", path=str(open_dir))).id
    with (_vsftpd if server == "vsftpd" else _pure)(open_dir) as (config, home):
        (home / "media").mkdir()
        for top in ("Films", "Shows", FILES[-1]):
            (home / top).rename(home / "media" / top)
        config = dataclasses.replace(config, root="media")
        assert scan(lib, sid, config).outcome == "done"
        watch_everything(lib, sid)
        before = library(lib, sid)
        assert before["present"] == sorted(FILES)

        src = _KilledAfterRoot(config)
        src.kill = lambda: _kill_tree(daemon_of(config.port))
        try:
            report = scan_source(lib.sessions, sid, src, phase2=_no_phase2)
        finally:
            src.close()
        assert report.outcome == "failed" and report.missing == 0, report.counts()
        assert {line.split(":")[0] for line in report.folder_errors} == {"Films", "Shows"}
        assert library(lib, sid) == before
    with (_vsftpd if server == "vsftpd" else _pure)(open_dir / "again") as (fresh, home):
        if server == "pure-ftpd":
            with pytest.raises(SourceLoginRefused):  # pure-ftpd answers a wrong password after ~4 s
                scan(lib, sid, dataclasses.replace(fresh, password="not-the-password", connect_timeout=8,
                                                   read_timeout=8))
            assert library(lib, sid) == before
        # the root is home/media, not yet there
        with pytest.raises(NotFound, match="source folder is missing"):
            scan(lib, sid, dataclasses.replace(fresh, root="media"))
        assert library(lib, sid) == before
        (home / "media").mkdir()
        for top in ("Films", "Shows", FILES[-1]):
            (home / top).rename(home / "media" / top)
        back = scan(lib, sid, dataclasses.replace(fresh, root="media"))
        assert back.outcome == "done" and back.missing == 0
        assert library(lib, sid) == before


def test_a_symlink_back_to_an_ancestor_is_walked_once(ftp_server: object, ftp_root: Path, lib: Core) -> None:
    """pyftpdlib's MLSD (as ProFTPD's with links followed) lists a link to a folder as a
    folder: ``Films/loop -> ..`` made the walk go round, 40 levels deep until the path
    grew too long, indexing every file once per level, and the scan ended "partial"."""
    assert isinstance(ftp_server, EmbeddedFtpServer)
    fill(ftp_root)
    os.symlink("..", ftp_root / "Films/loop")
    os.symlink("../..", ftp_root / "Shows/The Office (US)/Season 01/up")
    sid = lib.sources.create(SourceSpec(name="ftp", kind="local", path=str(ftp_root))).id
    report = scan(lib, sid, FtpConfig("127.0.0.1", ftp_server.port, FTP_USER, FTP_PASSWORD,
                                      connect_timeout=3, read_timeout=3))
    assert report.outcome == "done" and not report.folder_errors, report.folder_errors[:3]
    assert library(lib, sid)["present"] == sorted(FILES)
    assert sorted(line.split(":")[0] for line in report.errors) == [
        "Films/loop", "Shows/The Office (US)/Season 01/up"]


@pytest.mark.parametrize("server", ["pyftpdlib", "pure-ftpd", "vsftpd"])
def test_folders_named_like_their_parent_are_no_loop(server: str, ftp_server: object, ftp_root: Path, lib: Core,
                                                     tmp_path: Path) -> None:
    """``Films/Films/Films/…`` made in one go (an archive unpacked into a folder of its
    name, a copy into itself) lists each level exactly as the one above it (one folder,
    same name, same time): the walk took it for a link back up, skipped it ("a folder
    above it (a link back up?): not walked") and its films were not in the library.
    The server's ``unique`` fact (RFC 3659 §7.5.2, asked by MLST) tells the folders
    apart; a real link back up (``loop -> ..``) is still walked once. vsftpd has no
    MLST (LIST dates have minutes, or days: each level of a chain made within a minute
    lists alike) and skipped the chain the same way: its ``PWD`` names the folder a
    ``CWD`` reached, links resolved (getcwd(3)), which tells them apart."""
    chain = "Films/" + "/".join(["Deep"] * 6)
    files = [f"{chain}/Deep Film (2015).mkv", "Films/Deep/Deep/Other (2016).mkv", *FILES]

    def fill_chain(home: Path) -> None:
        fill(home)
        for i, rel in enumerate(files[:2]):
            (home / rel).parent.mkdir(parents=True, exist_ok=True)
            (home / rel).write_bytes(b"x" * (2000 + i))
        stamp = 1_700_000_000
        for folder in sorted((p for p in home.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            os.utime(folder, (stamp, stamp))  # every level listed alike, to the second
        os.symlink("..", home / "Films/Deep/Deep/loop")

    sid = lib.sources.create(SourceSpec(name="ftp", kind="local", path=str(ftp_root))).id
    if server == "pyftpdlib":
        assert isinstance(ftp_server, EmbeddedFtpServer)
        fill_chain(ftp_root)
        report = scan(lib, sid, FtpConfig("127.0.0.1", ftp_server.port, FTP_USER, FTP_PASSWORD,
                                          connect_timeout=3, read_timeout=3))
    elif server == "pure-ftpd":
        (tmp_path / "pure").mkdir()
        with pure_ftpd(tmp_path / "pure", fill_chain) as (port, _home):
            report = scan(lib, sid, FtpConfig("127.0.0.1", port, PURE_USER, PURE_PASSWORD,
                                              connect_timeout=3, read_timeout=3))
    else:
        (anon := tmp_path / "anon").mkdir()
        fill_chain(anon)
        with vsftpd(tmp_path, anon) as port:
            report = scan(lib, sid, FtpConfig("127.0.0.1", port, connect_timeout=3, read_timeout=3))
    assert library(lib, sid)["present"] == sorted(files), report.errors
    assert report.outcome == "done" and not report.folder_errors, report.folder_errors[:3]
    if server == "pyftpdlib":  # pure-ftpd lists the link as a link, to a folder it skips
        assert [line.split(":")[0] for line in report.errors] == ["Films/Deep/Deep/loop"]


#: an MLSD handler of pyftpdlib's: ``(handler, path)``, what ``FTPHandler.ftp_MLSD`` returns
Mlsd = Callable[[FTPHandler, str], object]
#: the :func:`films_fault` fixture: ``(fault, timeout)`` -> the report during the fault, the port
FilmsFault = Callable[..., tuple[ScanReport, int]]


@pytest.fixture
def films_fault(ftp_root: Path, lib: Core) -> Iterator[FilmsFault]:
    """``films_fault(fault, timeout)``: scans of a pyftpdlib server (client timeouts of
    ``timeout`` s) before, during and after a fault in its MLSD of ``Films`` (``fault``
    answers it meanwhile). The scans before and after end "done"; none hides anything.
    Returns the report of the scan during the fault and the server's port."""
    servers: list[EmbeddedFtpServer] = []

    def run(fault: Mlsd | None, timeout: float, stat: Mlsd | None = None) -> tuple[ScanReport, int]:
        """``stat``: the server lists by STAT too (``STAT <path>``) and this answers
        the STAT of ``Films`` during the fault."""
        on = False

        def ftp_MLSD(handler: FTPHandler, path: str) -> object:
            if on and fault is not None and path.rstrip("/").endswith("Films"):
                return fault(handler, path)
            return FTPHandler.ftp_MLSD(handler, path)

        def ftp_STAT(handler: FTPHandler, path: str) -> object:
            # no STAT listings (`STAT .` after CWD): the walk of an MLSD server lists by
            # STAT where it can (sources/ftp/lister.py), and the faults here are MLSD's
            if path and stat is None:
                handler.respond("502 STAT with a path is not implemented here.")
                return None
            if on and stat is not None and path.rstrip("/").endswith("Films"):
                return stat(handler, path)
            return FTPHandler.ftp_STAT(handler, path)

        fill(ftp_root)
        server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD,
                                   handler_overrides={"ftp_MLSD": ftp_MLSD, "ftp_STAT": ftp_STAT})
        servers.append(server.start())
        config = FtpConfig("127.0.0.1", server.port, FTP_USER, FTP_PASSWORD, connect_timeout=timeout,
                           read_timeout=timeout)
        sid = lib.sources.create(SourceSpec(name="ftp", kind="local", path=str(ftp_root))).id
        assert scan(lib, sid, config).outcome == "done"
        before = library(lib, sid)
        on = True
        report = scan(lib, sid, config)
        assert report.outcome in ("partial", "failed") and report.missing == 0, report.counts()
        assert library(lib, sid) == before
        on = False
        back = scan(lib, sid, config)
        assert back.outcome == "done" and back.missing == 0 and library(lib, sid) == before
        return report, server.port

    yield run
    for server in servers:
        server.stop()


def test_a_server_too_slow_for_some_folders_hides_nothing(films_fault: FilmsFault) -> None:
    """pyftpdlib (one thread for every connection) that takes 1.5 s over one folder's
    MLSD, past the client's 1 s read timeout: the scan ends partial or failed naming
    the folders that timed out, hides nothing; once the server is quick, all is back."""

    def late(handler: FTPHandler, path: str) -> object:
        time.sleep(1.5)  # the whole server waits: every connection is late
        return FTPHandler.ftp_MLSD(handler, path)

    report, _ = films_fault(late, 1)
    assert "Films" in {line.split(":")[0] for line in report.folder_errors}
    assert all("timed out" in line for line in report.folder_errors), report.folder_errors


def test_a_server_too_slow_over_stat_hides_nothing(films_fault: FilmsFault) -> None:
    """The same on a server listed by STAT over the control connection (pyftpdlib's
    ``STAT <path>``, which the walk prefers to MLSD once it agrees): the one slow
    folder fails as timed out, nothing is hidden, and the next scan is whole."""

    def late(handler: FTPHandler, path: str) -> object:
        time.sleep(1.5)
        return FTPHandler.ftp_STAT(handler, path)

    report, _ = films_fault(None, 1, stat=late)
    assert "Films" in {line.split(":")[0] for line in report.folder_errors}, report.folder_errors
    assert all("timed out" in line for line in report.folder_errors), report.folder_errors
    # one folder listed alone is named as such (it read "listing 1 folders from 'Films'")
    assert all("1 folders" not in line for line in report.folder_errors), report.folder_errors


def test_a_listing_cut_mid_transfer_hides_nothing(films_fault: FilmsFault) -> None:
    """A folder whose MLSD data stops after one line with "426 ... transfer aborted"
    (a disk error on the server): the folder fails, the one line listed is not taken
    for the folder, nothing is hidden. The 426 ends a transfer the server had taken
    (150 came first): it says nothing of pipelining, which was switched off for the
    server for good (every later folder one round trip slower)."""
    from reelhouse.sources.ftp import pipeline

    class Cut:
        def __init__(self) -> None:
            self.calls = 0

        def more(self) -> bytes:
            self.calls += 1
            if self.calls == 1:
                return b"type=file;size=1000;modify=20240101000000; Sintel.partial.mkv\r\n"
            raise OSError(5, "Input/output error")

    def cut(handler: FTPHandler, path: str) -> object:
        return handler.push_dtp_data(Cut(), isproducer=True, cmd="MLSD")

    report, port = films_fault(cut, 3)
    assert report.added == 0
    assert [line.split(":")[0] for line in report.folder_errors] == ["Films"]
    assert "426" in report.folder_errors[0]
    assert ("127.0.0.1", port) not in pipeline._NO_PIPELINING


def test_a_pure_ftpd_library_keeps_its_files_when_its_walk_turns_to_list_r(
        lib: Core, open_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scanned by MLSD (times to the second), then walked by ``LIST -R``
    (sources/ftp/treelist.py: minutes) and back: no file changed, none to probe again;
    a file rewritten with another size is still seen."""
    from reelhouse.sources.ftp import treelist

    sid = lib.sources.create(SourceSpec(name="ftp", kind="local", path=str(open_dir))).id
    with _pure(open_dir) as (config, home):
        for i, rel in enumerate(FILES):
            os.utime(home / rel, (0, 1_790_000_007 + 13 * i))
        tried = treelist.tried
        monkeypatch.setattr(treelist, "tried", lambda key: False)
        assert scan(lib, sid, config, probe=True).added == len(FILES)  # probed: nothing left to do
        trees: list[object] = []
        monkeypatch.setattr(treelist, "tried", lambda key: trees.append(key) or tried(key))
        again = scan(lib, sid, config)
        assert trees and again.outcome == "done"
        assert (again.unchanged, again.updated, again.to_probe) == (len(FILES), 0, 0), again.counts()
        (home / FILES[1]).write_bytes(b"longer than before" * 100)
        changed = scan(lib, sid, config, probe=True)
        assert (changed.unchanged, changed.updated) == (len(FILES) - 1, 1), changed.counts()
        monkeypatch.setattr(treelist, "tried", lambda key: False)
        back = scan(lib, sid, config)
        assert (back.unchanged, back.updated, back.to_probe) == (len(FILES), 0, 0), back.counts()
        assert library(lib, sid)["present"] == sorted(FILES)


def test_a_link_the_server_will_not_follow_is_a_note_not_a_failed_folder(
        ftp_server: object, ftp_root: Path, lib: Core, tmp_path: Path) -> None:
    """pyftpdlib's MLSD lists a link to a folder outside its root as a folder, then
    refuses to list it ("550 … points to a path which is outside the user's root
    directory"): a scan ended "partial" for it at every run. The server will never
    list it: the scan ends "done" with a note naming it (a folder that cannot be listed
    for any other reason still fails the scan: tests/sources/ftp/test_client.py)."""
    assert isinstance(ftp_server, EmbeddedFtpServer)
    fill(ftp_root)
    outside = tmp_path / "outside"
    (outside / "Hidden (2001)").mkdir(parents=True)
    (outside / "Hidden (2001)/Hidden.2001.mkv").write_bytes(b"h" * 100)
    os.symlink(outside, ftp_root / "Films/elsewhere")
    sid = lib.sources.create(SourceSpec(name="ftp", kind="local", path=str(ftp_root))).id
    config = FtpConfig("127.0.0.1", ftp_server.port, FTP_USER, FTP_PASSWORD, connect_timeout=3, read_timeout=3)
    report = scan(lib, sid, config)
    assert report.outcome == "done" and not report.folder_errors, report.folder_errors
    assert [line.split(":")[0] for line in report.errors] == ["Films/elsewhere"]
    assert "outside" in report.errors[0] and "link" in report.errors[0]
    assert library(lib, sid)["present"] == sorted(FILES)
    assert scan(lib, sid, config).outcome == "done"  # and again: the same note, nothing hidden
    assert library(lib, sid)["present"] == sorted(FILES)


@pytest.mark.parametrize("server", ["mlsd", "list", "vsftpd"])
def test_a_name_with_a_line_break_is_named_and_hides_nothing(server: str, lib: Core, tmp_path: Path) -> None:
    """A name with a line feed splits its listing line in two (FTP servers send names
    as they are); the second half is no entry. It was dropped without a word: the
    scan said "done" with no error, and a file of that folder listed as gone before
    was marked missing though the unread line may be it. Now the folder is named in
    the errors with its unread lines, and nothing in it is marked missing."""
    home = tmp_path / "home"
    films = home / "Films"
    films.mkdir(parents=True)
    (films / "Tears.of.Steel.2012.mkv").write_bytes(b"t" * 1500)
    (films / "Sintel.2010.mkv").write_bytes(b"s" * 1200)
    (home / "Other.2011.mkv").write_bytes(b"o" * 1300)
    sid = lib.sources.create(SourceSpec(name="ftp", kind="local", path=str(home))).id

    def serving() -> AbstractContextManager[FtpConfig]:
        from contextlib import contextmanager

        @contextmanager
        def run() -> Iterator[FtpConfig]:
            if server == "vsftpd":
                with vsftpd(tmp_path, home) as port:
                    yield FtpConfig("127.0.0.1", port, connect_timeout=5, read_timeout=5)
                return
            drop = {"MLSD", "MLST"} if server == "list" else set()
            overrides = {"proto_cmds": {k: v for k, v in FTPHandler.proto_cmds.items() if k not in drop}}
            with EmbeddedFtpServer(home, FTP_USER, FTP_PASSWORD, handler_overrides=overrides) as ftpd:
                yield FtpConfig("127.0.0.1", ftpd.port, FTP_USER, FTP_PASSWORD, connect_timeout=5, read_timeout=5)

        return run()

    with serving() as config:
        assert scan(lib, sid, config).outcome == "done"
        (films / "Sintel.2010.mkv").rename(films / "Sintel\nDirector's Cut.2010.mkv")
        report = scan(lib, sid, config)
    assert report.outcome == "done" and report.missing == 0, report.counts()
    [line] = report.errors
    assert line.startswith("Films: 1 line(s) of its listing could not be read") and "Cut.2010.mkv" in line, line
    assert library(lib, sid)["present"] == ["Films/Sintel.2010.mkv", "Films/Tears.of.Steel.2012.mkv",
                                            "Other.2011.mkv"]


def _dated_fs(style: str) -> type:
    """A pyftpdlib file system whose LIST (and STAT) lines carry ``ls``'s dates of
    ``--time-style=long-iso`` or a Japanese LC_TIME (UTC), as servers running ``ls``
    under them send."""
    from datetime import UTC, datetime

    from pyftpdlib.filesystems import AbstractedFS

    class DatedFS(AbstractedFS):  # type: ignore[misc]
        def format_list(self, basedir: str, listing: list[str], ignore_err: bool = True) -> Iterator[bytes]:
            for name in listing:
                st = os.lstat(os.path.join(basedir, name))
                when = datetime.fromtimestamp(st.st_mtime, UTC)
                date = (f"{when:%Y-%m-%d %H:%M}" if style == "long-iso"
                        else f"{when.month:2d}月 {when.day:2d} {when:%H:%M}")
                kind = "d" if os.path.isdir(os.path.join(basedir, name)) else "-"
                yield f"{kind}rw-r--r--   1 owner    group    {st.st_size:8d} {date} {name}\r\n".encode(
                    self.cmd_channel.encoding)

    return DatedFS


@pytest.mark.parametrize("style", ["long-iso", "ja_JP"])
def test_a_server_listing_iso_or_cjk_dates_scans_whole(style: str, lib: Core, tmp_path: Path) -> None:
    """A server whose LIST lines carry ISO (``2024-03-05 14:22``) or Japanese (``3月  5
    14:22``) dates: every line was "unread", so each folder was named in the scan's
    errors and nothing in it was added. Now the films are added with their times, and
    a second scan adds, updates and misses nothing."""
    home = tmp_path / "home"
    fill(home)
    stamp = int(time.time()) - 86400  # within six months: the "14:22" form
    for rel in FILES:
        os.utime(home / rel, (stamp, stamp))
    sid = lib.sources.create(SourceSpec(name="ftp", kind="local", path=str(home))).id
    overrides = {"proto_cmds": {k: v for k, v in FTPHandler.proto_cmds.items() if k not in {"MLSD", "MLST"}},
                 "abstracted_fs": _dated_fs(style)}
    with EmbeddedFtpServer(home, FTP_USER, FTP_PASSWORD, handler_overrides=overrides) as ftpd:
        config = FtpConfig("127.0.0.1", ftpd.port, FTP_USER, FTP_PASSWORD, connect_timeout=5, read_timeout=5)
        first = scan(lib, sid, config)
        assert first.outcome == "done" and first.errors == [], first.errors[:3]
        assert library(lib, sid)["present"] == sorted(FILES)
        with lib.sessions() as s:
            mtimes = set(s.scalars(select(MediaFile.mtime).where(MediaFile.source_id == sid)))
        assert mtimes == {float(stamp - stamp % 60)}
        again = scan(lib, sid, config)
    assert again.errors == [] and (again.added, again.updated, again.missing) == (0, 0, 0), again.counts()
