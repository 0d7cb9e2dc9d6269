"""Incremental scans: an unchanged library is rescanned without reading a byte of any
file, and a file moved or renamed within a source keeps its row — technical metadata,
movie link (with manual fixes) and watch progress — recognised by its fingerprint."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.library.fingerprint import EDGE_BYTES, content_hash
from reelhouse.library.scanner import ScanReport, scan_source
from reelhouse.sources.base import Source
from reelhouse.sources.local import LocalSource
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, place


class CountingSource:
    """A real source that counts the range reads made through it (probes and hashes)."""

    def __init__(self, inner: Source) -> None:
        self.inner = inner
        self.reads = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def read_range(self, path: str, offset: int, length: int) -> Iterator[bytes]:
        self.reads += 1
        return self.inner.read_range(path, offset, length)


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[Core]:
    core = Core(load_settings(data_dir=tmp_path / "data"))
    yield core
    core.close()


def scan(core: Core, sid: int, source: object) -> ScanReport:
    return scan_source(core.sessions, sid, source, probe_budget=8 * 1024 * 1024)  # type: ignore[arg-type]


def rows(core: Core) -> dict[str, MediaFile]:
    with core.sessions() as s:
        return {m.path: m for m in s.scalars(select(MediaFile))}


def test_unchanged_2000_file_library_rescans_without_reading_a_byte(tmp_path: Path, lib: Core) -> None:
    root = tmp_path / "lib"
    for show in range(20):
        for season in range(1, 6):
            folder = root / f"Show {show:02d}" / f"Season {season}"
            folder.mkdir(parents=True)
            for ep in range(1, 21):
                (folder / f"Show.{show:02d}.S{season:02d}E{ep:02d}.mkv").write_bytes(os.urandom(64))
    sid = lib.sources.create(SourceSpec(name="disk", kind="local", path=str(root))).id
    first = CountingSource(LocalSource(root))
    report = scan(lib, sid, first)
    assert report.added == 2000 and report.files_seen == 2000
    assert first.reads > 0  # probes and fingerprints of the new files
    before = {p: (m.id, m.probe_error, m.content_hash) for p, m in rows(lib).items()}
    assert all(h for _, _, h in before.values())

    again = CountingSource(LocalSource(root))
    report = scan(lib, sid, again)
    assert again.reads == 0, "an unchanged file must never be probed or hashed again"
    assert (report.unchanged, report.added, report.updated, report.probed, report.moved, report.missing) == (
        2000, 0, 0, 0, 0, 0)
    assert {p: (m.id, m.probe_error, m.content_hash) for p, m in rows(lib).items()} == before


def test_fingerprint_covers_both_ends_and_size(tmp_path: Path) -> None:
    src = LocalSource(tmp_path)
    body = bytearray(os.urandom(3 * EDGE_BYTES))
    (tmp_path / "a.mkv").write_bytes(body)
    first = content_hash(src, "a.mkv", len(body))
    body[len(body) // 2] ^= 0xFF  # the middle is not hashed: same fingerprint
    (tmp_path / "a.mkv").write_bytes(body)
    assert content_hash(src, "a.mkv", len(body)) == first
    body[-1] ^= 0xFF
    (tmp_path / "a.mkv").write_bytes(body)
    assert content_hash(src, "a.mkv", len(body)) != first
    (tmp_path / "small.mkv").write_bytes(b"x" * 100)
    (tmp_path / "small2.mkv").write_bytes(b"x" * 101)
    assert content_hash(src, "small.mkv", 100) != content_hash(src, "small2.mkv", 101)


@pytest.mark.requires_ffmpeg
@pytest.mark.parametrize("kind", ["ftp", "local"])
def test_moved_and_renamed_files_keep_metadata_link_and_progress(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, lib: Core, sample_mp4: Path, sample_mkv: Path
) -> None:
    if kind == "ftp":
        server: EmbeddedFtpServer = request.getfixturevalue("ftp_server")
        root: Path = request.getfixturevalue("ftp_root")
        spec = SourceSpec(name="ftp", kind="ftp", host="127.0.0.1", port=server.port,
                          username=FTP_USER, password=FTP_PASSWORD)
    else:
        root = tmp_path / "disk"
        root.mkdir()
        spec = SourceSpec(name="disk", kind="local", path=str(root))
    place(sample_mp4, root, "Inbox/Big.Buck.Bunny.2008.1080p.mp4")
    place(sample_mkv, root, "Films/Sintel.2010.720p.mkv")
    sid = lib.sources.create(spec).id
    user = lib.users.add("viewer", "viewer-password")
    assert scan(lib, sid, lib.sources.source(sid)).added == 2
    bunny = rows(lib)["Inbox/Big.Buck.Bunny.2008.1080p.mp4"]
    with lib.sessions() as s:  # a manual fix on the movie the file is linked to
        movie = s.get(Movie, bunny.movie_id)
        assert movie is not None and movie.title == "Big Buck Bunny"
        movie.title = "Big Buck Bunny (fixed by hand)"
        s.commit()
    lib.progress.save(user.id, bunny.id, 300.0, 600.0)

    # moved to another folder and renamed; the other film is renamed in place
    (root / "Films/Big Buck Bunny (2008)").mkdir()
    os.rename(root / "Inbox/Big.Buck.Bunny.2008.1080p.mp4", root / "Films/Big Buck Bunny (2008)/bbb.mp4")
    os.rename(root / "Films/Sintel.2010.720p.mkv", root / "Films/Sintel (2010).mkv")
    counting = CountingSource(lib.sources.source(sid))
    report = scan(lib, sid, counting)
    assert (report.moved, report.added, report.missing, report.probed) == (2, 0, 0, 0)

    after = rows(lib)
    assert set(after) == {"Films/Big Buck Bunny (2008)/bbb.mp4", "Films/Sintel (2010).mkv"}
    moved = after["Films/Big Buck Bunny (2008)/bbb.mp4"]
    assert moved.id == bunny.id and moved.missing_since is None
    assert (moved.container, moved.duration, moved.video_codec) == (bunny.container, bunny.duration, "h264")
    assert moved.movie_id == bunny.movie_id
    with lib.sessions() as s:
        kept = s.get(Movie, moved.movie_id)
        assert kept is not None and kept.title == "Big Buck Bunny (fixed by hand)"
    saved = lib.progress.get(user.id, bunny.id)
    assert saved is not None and saved.position == 300.0
    # reads were the new paths' fingerprints only: two ends of each, no probe
    assert counting.reads == 4
    lib.sources.close()  # before the FTP server's leak check


def test_same_size_different_content_is_not_a_move(tmp_path: Path, lib: Core) -> None:
    root = tmp_path / "disk"
    (root / "a").mkdir(parents=True)
    (root / "a/Film.One.2001.mkv").write_bytes(os.urandom(300_000))
    sid = lib.sources.create(SourceSpec(name="disk", kind="local", path=str(root))).id
    scan(lib, sid, lib.sources.source(sid))
    old_id = rows(lib)["a/Film.One.2001.mkv"].id
    (root / "a/Film.One.2001.mkv").unlink()
    (root / "a/Film.Two.2002.mkv").write_bytes(os.urandom(300_000))
    report = scan(lib, sid, lib.sources.source(sid))
    assert (report.moved, report.added, report.missing) == (0, 1, 1)
    after = rows(lib)
    assert after["a/Film.One.2001.mkv"].missing_since is not None
    assert after["a/Film.Two.2002.mkv"].id != old_id
