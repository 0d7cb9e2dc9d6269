"""Tests for reelhouse.library.scanner.scan_source: indexing and classification over a
real FTP server and local folders, idempotent rescans, missing files, failed listings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import Episode, MediaFile, Movie, Season, Show
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import Cancelled, SourceUnavailable
from reelhouse.library.scanner import ScanReport, scan_source
from reelhouse.sources.base import Source
from reelhouse.sources.ftp import FtpSource
from reelhouse.sources.local import LocalSource
from reelhouse.sources.memory import MemorySource
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, place

DEMO = {
    "Big Buck Bunny (2008)/Big.Buck.Bunny.2008.1080p.mp4": "mp4",
    "Sintel.2010.720p.mkv": "mkv",
    "The Office (US)/Season 01/The.Office.S01E01.mkv": "mkv",
}
ODD = "Amélie (2001)/Amélie [1080p] \"Director's Cut\".mkv"
CHIHIRO = "Spirited Away (2001)/千と千尋の神隠し.mkv"
TEXT = "Films/notes.mkv"


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[Core]:
    """A Core without users (the scanner needs none)."""
    core = Core(load_settings(data_dir=tmp_path / "data"))
    yield core
    core.close()


def local_row(core: Core, path: Path, name: str = "disk") -> int:
    path.mkdir(parents=True, exist_ok=True)
    return core.sources.create(SourceSpec(name=name, kind="local", path=str(path))).id


def scan(core: Core, sid: int, source: Source) -> ScanReport:
    return scan_source(core.sessions, sid, source, probe_budget=8 * 1024 * 1024)


def snapshot(core: Core, sid: int) -> dict[str, dict[str, Any]]:
    """Every column of every file row but last_seen, by path."""
    with core.sessions() as s:
        rows = s.scalars(select(MediaFile).where(MediaFile.source_id == sid)).all()
        return {
            r.path: {c.name: getattr(r, c.name) for c in MediaFile.__table__.columns
                     if c.name != "last_seen"}
            for r in rows
        }


def titles(core: Core) -> dict[str, object]:
    with core.sessions() as s:
        return {
            "movies": sorted((m.title, m.year) for m in s.scalars(select(Movie))),
            "shows": sorted((sh.title, se.number, ep.number) for sh, se, ep in s.execute(
                select(Show, Season, Episode).select_from(Show)
                .join(Season, Season.show_id == Show.id)
                .join(Episode, Episode.season_id == Season.id))),
        }


def fill(root: Path, sample_mp4: Path, sample_mkv: Path) -> None:
    for rel, ext in DEMO.items():
        place(sample_mp4 if ext == "mp4" else sample_mkv, root, rel)
    place(sample_mkv, root, ODD)
    place(sample_mkv, root, CHIHIRO)
    (root / TEXT).parent.mkdir(parents=True, exist_ok=True)
    (root / TEXT).write_text("not a film\n" * 50)
    (root / "Films" / "readme.txt").write_text("hello")
    place(sample_mp4, root, "Films/Sintel.2010.sample.mkv")


@pytest.mark.requires_ffmpeg
def test_scan_over_ftp_indexes_classifies_and_probes(
    ftp_server: EmbeddedFtpServer, ftp_root: Path, lib: Core, sample_mp4: Path, sample_mkv: Path
) -> None:
    fill(ftp_root, sample_mp4, sample_mkv)
    sid = lib.sources.create(SourceSpec(name="ftp", kind="ftp", host="127.0.0.1",
                                        port=ftp_server.port, username=FTP_USER,
                                        password=FTP_PASSWORD)).id
    src = lib.sources.source(sid)
    report = scan(lib, sid, src)
    assert report.added == 6 and report.files_seen == 6
    assert report.probed == 5 and report.missing == 0
    assert len(report.errors) == 1 and report.errors[0].startswith(TEXT)
    rows = snapshot(lib, sid)
    assert set(rows) == {*DEMO, ODD, CHIHIRO, TEXT}  # no .txt, no sample
    for path in (*DEMO, ODD, CHIHIRO):
        r = rows[path]
        assert r["probe_error"] is None, path
        assert r["container"] == ("mp4" if path.endswith(".mp4") else "mkv")
        assert r["duration"] == pytest.approx(12.0, abs=0.2)
        assert (r["video_codec"], r["audio_codec"]) == ("h264", "aac")
        assert (r["width"], r["height"]) == (320, 240)
        assert r["size"] == (ftp_root / path).stat().st_size and r["mtime"] is not None
    text = rows[TEXT]
    assert text["probe_error"] and text["container"] == "mkv" and text["duration"] is None
    assert {p: r["kind"] for p, r in rows.items()} == {
        "Big Buck Bunny (2008)/Big.Buck.Bunny.2008.1080p.mp4": "movie",
        "Sintel.2010.720p.mkv": "movie",
        "The Office (US)/Season 01/The.Office.S01E01.mkv": "episode",
        ODD: "movie", CHIHIRO: "movie", TEXT: "movie",
    }
    assert titles(lib) == {
        "movies": [("Amélie", 2001), ("Big Buck Bunny", 2008), ("Sintel", 2010),
                   ("Spirited Away", 2001), ("notes", None)],
        "shows": [("The Office (US)", 1, 1)],
    }
    assert isinstance(src, FtpSource) and src.pool.stats["in_use"] == 0


@pytest.mark.requires_ffmpeg
@pytest.mark.parametrize("kind", ["ftp", "local"])
def test_rescan_is_idempotent(kind: str, request: pytest.FixtureRequest, tmp_path: Path,
                              sample_mp4: Path, sample_mkv: Path) -> None:
    if kind == "ftp":
        server: EmbeddedFtpServer = request.getfixturevalue("ftp_server")
        root: Path = request.getfixturevalue("ftp_root")
    core: Core = request.getfixturevalue("lib")  # after the FTP server: closed before it
    if kind == "ftp":
        sid = core.sources.create(SourceSpec(name="ftp", kind="ftp", host="127.0.0.1",
                                             port=server.port, username=FTP_USER,
                                             password=FTP_PASSWORD)).id
    else:
        root = tmp_path / "disk"
        sid = local_row(core, root)
    fill(root, sample_mp4, sample_mkv)
    src = core.sources.source(sid)
    first = scan(core, sid, src)
    assert first.added == 6
    before, titles_before = snapshot(core, sid), titles(core)
    with core.sessions() as s:
        seen_before = {r.path: r.last_seen for r in s.scalars(select(MediaFile))}
    second = scan(core, sid, src)
    assert (second.added, second.updated, second.probed, second.missing, second.restored) == (
        0, 0, 0, 0, 0)
    assert second.unchanged == 6 and second.files_seen == 6 and not second.errors
    assert snapshot(core, sid) == before
    assert titles(core) == titles_before
    with core.sessions() as s:
        for r in s.scalars(select(MediaFile)):
            assert r.last_seen >= seen_before[r.path]
    third = scan(core, sid, src)
    assert third.counts() == second.counts()


def test_changed_file_is_updated(lib: Core, tmp_path: Path) -> None:
    sid = local_row(lib, tmp_path / "m")
    src = MemorySource({"Sintel.2010.mkv": b"x" * 10, "Tears.of.Steel.2012.mkv": b"y"})
    scan(lib, sid, src)
    before = snapshot(lib, sid)
    src.files["Sintel.2010.mkv"] = b"z" * 20
    report = scan(lib, sid, src)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    after = snapshot(lib, sid)
    assert after["Sintel.2010.mkv"]["size"] == 20
    assert after["Sintel.2010.mkv"]["id"] == before["Sintel.2010.mkv"]["id"]
    assert after["Tears.of.Steel.2012.mkv"] == before["Tears.of.Steel.2012.mkv"]
    src.mtimes["Tears.of.Steel.2012.mkv"] += 60  # touched
    report = scan(lib, sid, src)
    assert (report.updated, report.unchanged) == (1, 1)


def test_removed_files_are_marked_missing_and_come_back(lib: Core, tmp_path: Path) -> None:
    sid = local_row(lib, tmp_path / "m")
    files = {"A/Sintel.2010.mkv": b"1", "A/Tears.of.Steel.2012.mkv": b"2",
             "B/Sub/Big.Buck.Bunny.2008.mkv": b"3", "Elephants.Dream.2006.mkv": b"4"}
    src = MemorySource(dict(files))
    scan(lib, sid, src)
    del src.files["A/Sintel.2010.mkv"]
    del src.files["B/Sub/Big.Buck.Bunny.2008.mkv"]  # the whole folder B goes away
    del src.files["Elephants.Dream.2006.mkv"]
    report = scan(lib, sid, src)
    assert report.missing == 3 and report.unchanged == 1
    rows = snapshot(lib, sid)
    assert {p for p, r in rows.items() if r["missing_since"] is not None} == {
        "A/Sintel.2010.mkv", "B/Sub/Big.Buck.Bunny.2008.mkv", "Elephants.Dream.2006.mkv"}
    again = scan(lib, sid, src)
    assert again.missing == 0 and again.unchanged == 1  # already missing: not counted twice
    src.files.update(files)
    back = scan(lib, sid, src)
    assert back.restored == 3 and back.added == 0
    rows2 = snapshot(lib, sid)
    assert all(r["missing_since"] is None for r in rows2.values())
    assert {p: r["id"] for p, r in rows2.items()} == {p: r["id"] for p, r in rows.items()}


def test_failed_subfolder_listing_hides_nothing(lib: Core, tmp_path: Path) -> None:
    sid = local_row(lib, tmp_path / "m")
    src = MemorySource({
        "Shows/The Office (US)/Season 01/The.Office.S01E01.mkv": b"1",
        "Shows/The Office (US)/Season 01/The.Office.S01E02.mkv": b"2",
        "Shows/Dark/Dark.S01E01.mkv": b"3",
        "Films/Sintel.2010.mkv": b"4",
        "Films/Tears.of.Steel.2012.mkv": b"5",
    })
    scan(lib, sid, src)
    before = snapshot(lib, sid)
    src.failing = {"Shows/The Office (US)"}
    del src.files["Films/Tears.of.Steel.2012.mkv"]  # really gone
    report = scan(lib, sid, src)
    assert report.missing == 1
    assert any("Shows/The Office (US)" in e for e in report.errors)
    after = snapshot(lib, sid)
    missing = {p for p, r in after.items() if r["missing_since"] is not None}
    assert missing == {"Films/Tears.of.Steel.2012.mkv"}
    # a failure higher up hides nothing below it either
    src.failing = {"Shows"}
    report = scan(lib, sid, src)
    assert report.missing == 0
    assert {p for p, r in snapshot(lib, sid).items() if r["missing_since"]} == missing
    assert set(before) == set(after)


def test_unreachable_root_raises_and_changes_nothing(lib: Core, tmp_path: Path) -> None:
    sid = local_row(lib, tmp_path / "m")
    src = MemorySource({"Films/Sintel.2010.mkv": b"1"})
    scan(lib, sid, src)
    before = snapshot(lib, sid)
    src.offline = True
    with pytest.raises(SourceUnavailable):
        scan(lib, sid, src)
    src.offline = False
    src.failing = {""}
    with pytest.raises(SourceUnavailable):
        scan(lib, sid, src)
    assert snapshot(lib, sid) == before


def test_should_stop_cancels_without_hiding(lib: Core, tmp_path: Path) -> None:
    sid = local_row(lib, tmp_path / "m")
    src = MemorySource({"A/Sintel.2010.mkv": b"1", "B/Tears.of.Steel.2012.mkv": b"2"})
    scan(lib, sid, src)
    with pytest.raises(Cancelled, match="cancelled"):
        scan_source(lib.sessions, sid, src, should_stop=lambda: True)
    assert all(r["missing_since"] is None for r in snapshot(lib, sid).values())


def test_progress_is_reported(lib: Core, tmp_path: Path) -> None:
    sid = local_row(lib, tmp_path / "m")
    src = MemorySource({f"F/Film.{1990 + i}.mkv": b"x" for i in range(5)})
    seen: list[tuple[dict[str, int], str]] = []
    scan_source(lib.sessions, sid, src, progress=lambda c, m: seen.append((dict(c), m)))
    assert seen[-1][1] == "done"
    assert seen[-1][0]["total"] == 5 and seen[-1][0]["done"] == 5 and seen[-1][0]["added"] == 5


def test_episodes_and_movies_link_once(lib: Core, tmp_path: Path) -> None:
    sid = local_row(lib, tmp_path / "m")
    src = MemorySource({
        "The Office (US)/Season 01/The.Office.S01E01.mkv": b"1",
        "The Office (US)/Season 01/The.Office.US.S01E01.720p.mkv": b"11",  # same episode
        "The Office (US)/Season 02/The.Office.S02E01.mkv": b"2",
        "Sintel (2010)/Sintel.2010.1080p.mkv": b"3",
        "Sintel.2010.720p.mkv": b"4",  # same movie, another file
    })
    scan(lib, sid, src)
    assert titles(lib) == {"movies": [("Sintel", 2010)],
                           "shows": [("The Office (US)", 1, 1), ("The Office (US)", 2, 1)]}
    with lib.sessions() as s:
        movie = s.scalar(select(Movie))
        assert movie is not None and len(movie.files) == 2


class FlakyReads(MemorySource):
    """Listings work; reads fail while ``broken`` (a server that drops data connections)."""

    broken = True

    def read_range(self, path: str, offset: int, length: int) -> Iterator[bytes]:
        if self.broken:
            raise SourceUnavailable("data connection failed")
        return super().read_range(path, offset, length)


@pytest.mark.requires_ffmpeg
def test_probe_interrupted_by_source_failure_is_retried(
    lib: Core, tmp_path: Path, sample_mp4: Path
) -> None:
    sid = local_row(lib, tmp_path / "m")
    src = FlakyReads({"Sintel.2010.mp4": sample_mp4.read_bytes()})
    first = scan(lib, sid, src)
    assert first.added == 1 and first.probed == 0 and first.errors
    assert snapshot(lib, sid)["Sintel.2010.mp4"]["container"] is None
    src.broken = False
    second = scan(lib, sid, src)
    assert second.probed == 1
    assert snapshot(lib, sid)["Sintel.2010.mp4"]["video_codec"] == "h264"


def test_symlinked_media_file_is_indexed(lib: Core, tmp_path: Path) -> None:
    """A symlink is judged by its own name, not its target's."""
    root = tmp_path / "disk"
    (root / "store").mkdir(parents=True)
    (root / "store" / "blob-1234").write_bytes(b"data")
    (root / "Films").mkdir()
    (root / "Films" / "Sintel.2010.mkv").symlink_to("../store/blob-1234")
    sid = local_row(lib, root)
    scan(lib, sid, LocalSource(root))
    assert set(snapshot(lib, sid)) == {"Films/Sintel.2010.mkv"}
