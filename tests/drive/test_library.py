"""The ``library`` view: the scanned library as a read-only tree across sources (a local
folder and an FTP server), on a real mount; and its path rules without a database."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from drive.support import Mounter, run_cli

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.drive.library import library_paths, portable, title_folders
from reelhouse.library.scanner import scan_source
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, place


def test_library_paths_keep_real_names_and_number_duplicates() -> None:
    got = library_paths([(1, "Films/Blade.Runner.2049.2017.mkv", "Movies/Blade Runner 2049 (2017)"),
                         (2, "x/Blade.Runner.2049.2017.mkv", "Movies/Blade Runner 2049 (2017)"),
                         (1, "a/b/S02E01.mkv", "Shows/Breaking Bad/Season 02")])
    movies = "Movies/Blade Runner 2049 (2017)"
    assert got == {f"{movies}/Blade.Runner.2049.2017.mkv": (1, "Films/Blade.Runner.2049.2017.mkv"),
                   f"{movies}/Blade.Runner.2049.2017 (2).mkv": (2, "x/Blade.Runner.2049.2017.mkv"),
                   "Shows/Breaking Bad/Season 02/S02E01.mkv": (1, "a/b/S02E01.mkv")}


@pytest.mark.requires_fuse
@pytest.mark.requires_ffmpeg
def test_library_view_across_a_local_folder_and_an_ftp_server(
        tmp_path: Path, ftp_server: EmbeddedFtpServer, ftp_root: Path, sample_mkv: Path,
        drive_env: dict[str, str], mount: Mounter) -> None:
    disk = tmp_path / "disk"
    film = place(sample_mkv, disk, "Films/Blade.Runner.2049.2017.2160p.mkv")
    colon = place(sample_mkv, disk, "Films/Mission: Impossible (1996).mkv")  # a name Windows refuses
    episode = place(sample_mkv, ftp_root, "Breaking Bad/Season 02/Breaking.Bad.S02E01.720p.mkv")
    core = Core(load_settings(data_dir=Path(drive_env["REELHOUSE_DATA_DIR"])))
    try:
        local = core.sources.create(SourceSpec(name="disk", kind="local", path=str(disk)))
        ftp = core.sources.create(SourceSpec(name="seedbox", kind="ftp", host="127.0.0.1", port=ftp_server.port,
                                             username=FTP_USER, password=FTP_PASSWORD))
        for row in (local, ftp):
            scan_source(core.sessions, row.id, core.sources.source(row.id), probe_budget=8 << 20)
    finally:
        core.close()
    m = mount("--view", "library")
    assert sorted(os.listdir(m.path)) == ["Movies", "Shows"]
    movie = m.path / "Movies" / "Blade Runner 2049 (2017)" / "Blade.Runner.2049.2017.2160p.mkv"
    show = m.path / "Shows" / "Breaking Bad" / "Season 02" / "Breaking.Bad.S02E01.720p.mkv"
    assert movie.read_bytes() == film.read_bytes()  # from the local folder
    renamed = m.path / "Movies" / "Mission - Impossible (1996)" / "Mission - Impossible (1996).mkv"
    assert sorted(os.listdir(m.path / "Movies")) == ["Blade Runner 2049 (2017)", "Mission - Impossible (1996)"]
    assert renamed.read_bytes() == colon.read_bytes()
    assert show.read_bytes() == episode.read_bytes()  # from the FTP server
    with pytest.raises(OSError) as info:
        (movie.parent / "new.txt").write_text("x")
    assert info.value.errno == errno.EROFS


@pytest.mark.requires_fuse
def test_mount_a_configured_source_by_name(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                           drive_env: dict[str, str], mount: Mounter) -> None:
    (ftp_root / "Films").mkdir()
    (ftp_root / "Films" / "a.txt").write_text("from the stored credentials")
    core = Core(load_settings(data_dir=Path(drive_env["REELHOUSE_DATA_DIR"])))
    try:
        core.sources.create(SourceSpec(name="seedbox", kind="ftp", host="127.0.0.1", port=ftp_server.port,
                                       username=FTP_USER, password=FTP_PASSWORD))
    finally:
        core.close()
    m = mount("--source", "seedbox")
    assert (m.path / "Films" / "a.txt").read_text() == "from the stored credentials"
    (m.path / "Films" / "b.txt").write_text("written back")
    assert (ftp_root / "Films" / "b.txt").read_text() == "written back"
    done = run_cli(drive_env, "drive", "status", "--json")
    assert '"server": "source seedbox"' in done.stdout


def test_library_names_fit_a_file_system_and_two_films_keep_two_folders() -> None:
    folders = title_folders([(1, "Hamlet", 1990), (2, "Hamlet", 1990), (3, "AC/DC: Live", 1980),
                             (4, "L" * 300, 2000), (5, "Tab\tNew\nLine", None), (6, "...", None),
                             (7, "é" * 200, 1999)])
    assert folders[1] == "Hamlet (1990)" and folders[2] == "Hamlet (1990) (2)"  # two films, not one
    assert folders[3] == "AC-DC - Live (1980)"
    assert folders[4] == "L" * 248 + " (2000)"  # 255 bytes, the year kept
    assert folders[5] == "Tab New Line" and folders[6] == "Untitled"
    assert len(folders[7].encode()) <= 255 and folders[7].endswith("é (1999)")
    long_file = "x" * 250 + ".mkv"  # 254 bytes: its twin's " (2)" must not make it 258
    got = library_paths([(1, f"a/{long_file}", "Movies/X"), (2, f"b/{long_file}", "Movies/X")])
    assert all(len(p.rpartition("/")[2].encode()) <= 255 for p in got)
    assert len(set(got)) == 2 and all(p.endswith(".mkv") for p in got)


WINDOWS_REFUSES = set('<>:"/\\|?*') | {chr(c) for c in range(32)}


@pytest.mark.parametrize(("title", "name"), [
    ("Mission: Impossible", "Mission - Impossible"),  # Sonarr/Radarr "smart" colon, as Plex/Jellyfin folders
    ("Star Wars: Episode IV – A New Hope", "Star Wars - Episode IV – A New Hope"),
    ("10:30 P.M. Summer", "10-30 P.M. Summer"),
    ("What If...?", "What If"),  # "?" dropped, then the trailing dots Windows would drop
    ('The "Burbs', "The 'Burbs"),
    ("<Untitled|Project>", "UntitledProject"),
    ("M*A*S*H", "M-A-S-H"),
    ("AC/DC \\ Live", "AC-DC - Live"),
    ("Se7en. ", "Se7en"),
    ("  .hidden", "hidden"),
    ("CON", "CON_"), ("nul", "nul_"), ("Com1", "Com1_"), ("LPT9.mkv", "LPT9_.mkv"), ("aux .txt", "aux_.txt"),
    ("Console", "Console"), ("CON (2019)", "CON (2019)"), ("COM10", "COM10"),
    ("???", "Untitled"), ("a  <>  b", "a b"), ("Tab\tNew\nLine", "Tab New Line"),
])
def test_library_names_are_portable(title: str, name: str) -> None:
    assert portable(title) == name
    assert not WINDOWS_REFUSES & set(name)
    assert name == name.strip(" .")


def test_library_view_names_every_platform_takes() -> None:
    folders = title_folders([(1, "Mission: Impossible", 1996), (2, "Alien", 1979), (3, "ALIEN", 1979),
                             (4, "Aux", None), (5, "What If...?", 2021), (6, "x" * 249 + ".", 2000)])
    assert folders == {1: "Mission - Impossible (1996)", 2: "Alien (1979)", 3: "ALIEN (1979) (2)",
                       4: "Aux_", 5: "What If (2021)", 6: "x" * 248 + " (2000)"}
    got = library_paths([(1, "a/Mission: Impossible.mkv", "Movies/M"), (1, "b/movie.MKV", "Movies/M"),
                         (2, "c/MOVIE.mkv", "Movies/M"), (1, "d/con.srt", "Movies/M"),
                         (1, "e/trailer?.mkv", "Movies/M"), (1, "f/name. ", "Movies/M")])
    assert got == {"Movies/M/Mission - Impossible.mkv": (1, "a/Mission: Impossible.mkv"),
                   "Movies/M/movie.MKV": (1, "b/movie.MKV"),
                   "Movies/M/MOVIE (2).mkv": (2, "c/MOVIE.mkv"),  # one name on Windows and macOS
                   "Movies/M/con_.srt": (1, "d/con.srt"),
                   "Movies/M/trailer.mkv": (1, "e/trailer?.mkv"),
                   "Movies/M/name": (1, "f/name. ")}
