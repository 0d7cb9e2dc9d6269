"""Scan-time metadata end to end: a scan of a source holding films, a show, NFOs and
artwork, with TMDB played by a fake server. NFO over TMDB, local artwork over TMDB
images, confidence and "needs review", TMDB down, manual fixes that survive rescans,
and an unchanged rescan that makes no TMDB request at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage
from sqlalchemy import select
from tmdb_fake import FakeTmdb, jpeg

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import Episode, Image, Movie, Season, Show
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import Conflict, NotFound
from reelhouse.library.scanner import ScanReport, scan_source
from reelhouse.sources.memory import MemorySource
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER

VIDEO = b"\x00not really a video\x00" * 8  # the probe fails fast; the metadata does not care

MOVIE_NFO = b"""<movie><title>Big Buck Bunny</title><year>2008</year>
<plot>A giant rabbit takes revenge.</plot><genre>Animation</genre><rating>6.5</rating>
<uniqueid type="tmdb">10378</uniqueid></movie>"""
SHOW_NFO = b"""<tvshow><title>Dark</title><plot>Four families.</plot><genre>Drama</genre>
<premiered>2017-12-01</premiered><uniqueid type="imdb">tt5753856</uniqueid></tvshow>"""
EPISODE_NFO = b"<episodedetails><title>Secrets</title><plot>A boy vanishes.</plot></episodedetails>"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTmdb]:
    with FakeTmdb() as server:
        yield server


def make_core(tmp_path: Path, **settings: Any) -> Core:
    return Core(load_settings(data_dir=tmp_path / "data", **settings))


@pytest.fixture
def no_tmdb(tmp_path: Path) -> Iterator[Core]:
    core = make_core(tmp_path)
    yield core
    core.close()


@pytest.fixture
def with_tmdb(tmp_path: Path, fake: FakeTmdb) -> Iterator[Core]:
    fake.faults.clear()
    core = make_core(tmp_path, **fake.settings())
    yield core
    core.close()


def scan(core: Core, source: MemorySource, tmp_path: Path) -> ScanReport:
    rows = [r for r in core.sources.list() if r.name == "mem"]
    sid = rows[0].id if rows else core.sources.create(
        SourceSpec(name="mem", kind="local", path=str(tmp_path))).id
    return scan_source(core.sessions, sid, source, probe_budget=1 << 20, enrich=core.metadata.enrich_file)


def movie(core: Core, title_like: str) -> Movie:
    with core.sessions() as s:
        found = s.scalar(select(Movie).where(Movie.match_key.like(f"{title_like}%")))
        assert found is not None, title_like
        return found


def image(core: Core, image_id: int | None) -> Image:
    assert image_id is not None
    with core.sessions() as s:
        row = s.get(Image, image_id)
        assert row is not None
        assert (core.settings.data_dir / "images" / row.file).is_file()
        return row


def test_nfo_and_local_artwork_without_tmdb(no_tmdb: Core, tmp_path: Path) -> None:
    source = MemorySource({
        "Big Buck Bunny (2008)/bbb.mp4": VIDEO,
        "Big Buck Bunny (2008)/movie.nfo": MOVIE_NFO,
        "Big Buck Bunny (2008)/poster.jpg": jpeg(300, 450),
        "Big Buck Bunny (2008)/fanart.jpg": jpeg(640, 360),
        "Broken (1999)/Broken.1999.mkv": VIDEO,
        "Broken (1999)/movie.nfo": b"<movie><title>Oops</movie>",
        "Broken (1999)/poster.jpg": b"not a jpeg",
        "Dark/tvshow.nfo": SHOW_NFO,
        "Dark/poster.jpg": jpeg(200, 300),
        "Dark/season01-poster.jpg": jpeg(100, 150),
        "Dark/Season 1/Dark.S01E01.mkv": VIDEO,
        "Dark/Season 1/Dark.S01E01.nfo": EPISODE_NFO,
        "Dark/Season 1/Dark.S01E01-thumb.jpg": jpeg(320, 180),
        "Dark/Season 1/Dark.S01E02.mkv": VIDEO,
    })
    report = scan(no_tmdb, source, tmp_path)
    assert report.added == 4
    bbb = movie(no_tmdb, "big buck bunny")
    assert (bbb.title, bbb.year, bbb.overview, bbb.genres, bbb.rating, bbb.tmdb_id) == (
        "Big Buck Bunny", 2008, "A giant rabbit takes revenge.", ["Animation"], 6.5, 10378)
    assert bbb.match_confidence is None and not bbb.needs_review  # TMDB was not asked
    assert (image(no_tmdb, bbb.poster_image_id).width, image(no_tmdb, bbb.backdrop_image_id).width) == (300, 640)
    broken = movie(no_tmdb, "broken")
    assert (broken.title, broken.year, broken.overview, broken.poster_image_id) == ("Broken", 1999, None, None)
    with no_tmdb.sessions() as s:
        show = s.scalars(select(Show)).one()
        assert (show.title, show.year, show.overview, show.imdb_id) == ("Dark", 2017, "Four families.", "tt5753856")
        assert image(no_tmdb, show.poster_image_id).width == 200
        season = s.scalars(select(Season)).one()
        assert image(no_tmdb, season.poster_image_id).width == 100
        e1, e2 = s.scalars(select(Episode).order_by(Episode.number)).all()
        assert (e1.title, e1.overview) == ("Secrets", "A boy vanishes.")
        assert image(no_tmdb, e1.still_image_id).width == 320
        assert e2.overview is None and e2.still_image_id is None


def test_tmdb_matches_and_unchanged_rescan_asks_nothing(with_tmdb: Core, fake: FakeTmdb, tmp_path: Path) -> None:
    source = MemorySource({
        "Big.Buck.Bunny.2008.1080p.mkv": VIDEO,
        "Sintel (2010)/Sintel.2010.720p.mkv": VIDEO,
        "The Office (US)/Season 01/The.Office.S01E01.mkv": VIDEO,
        "The Office (US)/Season 01/The.Office.S01E02.mkv": VIDEO,
        "Movies/The.Thing.mkv": VIDEO,
        "Movies/Zzyzx.Nowhere.2003.mkv": VIDEO,
    })
    before = fake.count()
    scan(with_tmdb, source, tmp_path)
    asked = fake.count() - before
    assert asked > 0
    bbb = movie(with_tmdb, "big buck bunny")
    assert (bbb.tmdb_id, bbb.imdb_id, bbb.match_confidence, bbb.needs_review) == (10378, "tt1254207", 1.0, False)
    assert bbb.genres == ["Animation", "Comedy", "Family"] and bbb.rating == 6.3
    poster = image(with_tmdb, bbb.poster_image_id)
    assert (poster.origin, poster.width) == ("tmdb", 780)
    assert image(with_tmdb, bbb.backdrop_image_id).width == 1280
    sintel = movie(with_tmdb, "sintel")
    assert (sintel.title, sintel.tmdb_id, sintel.match_confidence) == ("Sintel", 45745, 1.0)
    thing = movie(with_tmdb, "the thing")
    assert thing.needs_review and thing.tmdb_id is None and thing.title == "The Thing"
    assert thing.match_confidence is not None and thing.match_confidence < 0.8  # two films, no year
    nowhere = movie(with_tmdb, "zzyzx")
    assert nowhere.needs_review and nowhere.match_confidence == 0.0 and nowhere.title == "Zzyzx Nowhere"
    with with_tmdb.sessions() as s:
        show = s.scalars(select(Show)).one()
        assert (show.title, show.tmdb_id, show.year, show.needs_review) == ("The Office", 2316, 2005, False)
        assert show.match_key.startswith("the office us")  # the scanner still finds it
        season = s.scalars(select(Season)).one()
        assert image(with_tmdb, season.poster_image_id).origin == "tmdb"
        eps = s.scalars(select(Episode).order_by(Episode.number)).all()
        assert [e.title for e in eps] == ["Pilot", "Diversity Day"]
        assert all(e.still_image_id for e in eps)
    assert fake.count("/3/search/tv") == 1  # the show is looked up once per scan

    again = fake.count()
    report = scan(with_tmdb, source, tmp_path)
    assert report.unchanged == 6 and report.added == 0
    assert fake.count() == again  # zero TMDB requests (not even cached lookups)

    source.mtimes["Sintel (2010)/Sintel.2010.720p.mkv"] += 60  # a changed file is looked at again
    report = scan(with_tmdb, source, tmp_path)
    assert report.updated == 1 and fake.count() == again  # ... through the cache


def test_nfo_wins_over_tmdb_and_local_art_over_tmdb_images(with_tmdb: Core, fake: FakeTmdb,
                                                         tmp_path: Path) -> None:
    source = MemorySource({
        "BBB/bbb.mkv": VIDEO,
        "BBB/bbb.nfo": b"<movie><title>Big Buck Bunny (Director's Cut)</title>"
                       b"<uniqueid type='tmdb'>10378</uniqueid></movie>",
        "BBB/bbb-poster.png": jpeg(120, 180),
    })
    searches = fake.count("/3/search")
    scan(with_tmdb, source, tmp_path)
    m = movie(with_tmdb, "bbb")
    assert m.title == "Big Buck Bunny (Director's Cut)"  # the NFO's
    assert m.overview and m.overview.startswith("Follow a day")  # TMDB's: the NFO has none
    assert (m.tmdb_id, m.match_confidence, m.year) == (10378, 1.0, 2008)
    assert image(with_tmdb, m.poster_image_id).origin == "source"
    assert image(with_tmdb, m.backdrop_image_id).origin == "tmdb"
    assert fake.count("/3/search") == searches  # the NFO's id needs no search


def test_tmdb_down_never_fails_a_scan(tmp_path: Path, fake: FakeTmdb) -> None:
    fake.faults.clear()
    fake.script("/3/", [(500, {})] * 100)
    core = make_core(tmp_path, **fake.settings(tmdb_retries=1))
    try:
        before = fake.count()
        source = MemorySource({f"Film {i} ({2000 + i})/film.mkv": VIDEO for i in range(5)})
        report = scan(core, source, tmp_path)
        assert report.added == 5
        assert fake.count() - before == 2  # one try, one retry, then quiet for the rest of the scan
        with core.sessions() as s:
            movies = s.scalars(select(Movie).order_by(Movie.year)).all()
            assert [(m.title, m.year, m.needs_review, m.match_confidence) for m in movies] == [
                (f"Film {i}", 2000 + i, False, None) for i in range(5)]
    finally:
        fake.faults.clear()
        core.close()


def test_manual_fix_survives_rescans(with_tmdb: Core, fake: FakeTmdb, tmp_path: Path) -> None:
    source = MemorySource({"Movies/The.Thing.mkv": VIDEO, "Sintel/Sintel.mkv": VIDEO})
    scan(with_tmdb, source, tmp_path)
    thing = movie(with_tmdb, "the thing")
    assert thing.needs_review
    with_tmdb.metadata.pick("movie", thing.id, 1091)
    sintel = movie(with_tmdb, "sintel")
    with_tmdb.metadata.edit("movie", sintel.id, "Sintel: The Dragon Girl", None, clear_year=True)

    # the files change and an NFO appears: the user's choices stay
    source.files["Movies/The.Thing.mkv"] = VIDEO + b"more"
    source.mtimes["Movies/The.Thing.mkv"] += 10
    source.mtimes["Sintel/Sintel.mkv"] += 10
    source.files["Sintel/movie.nfo"] = b"<movie><title>Something Else</title></movie>"
    source.mtimes["Sintel/movie.nfo"] = 1.0
    report = scan(with_tmdb, source, tmp_path)
    assert report.updated == 2
    thing = movie(with_tmdb, "the thing")
    assert (thing.title, thing.year, thing.tmdb_id, thing.locked, thing.needs_review) == (
        "The Thing", 1982, 1091, True, False)
    assert image(with_tmdb, thing.poster_image_id).origin == "tmdb"
    sintel = movie(with_tmdb, "sintel")
    assert (sintel.title, sintel.year, sintel.locked) == ("Sintel: The Dragon Girl", None, True)

    with_tmdb.metadata.unlock("movie", sintel.id)  # unlocked: the next change is applied
    source.mtimes["Sintel/Sintel.mkv"] += 10
    scan(with_tmdb, source, tmp_path)
    assert movie(with_tmdb, "sintel").title == "Something Else"


def test_resized_images(no_tmdb: Core, tmp_path: Path) -> None:
    source = MemorySource({"F (2001)/f.mkv": VIDEO, "F (2001)/poster.jpg": jpeg(1000, 1500)})
    scan(no_tmdb, source, tmp_path)
    poster = movie(no_tmdb, "f").poster_image_id
    assert poster is not None
    path, kind = no_tmdb.metadata.images.file(poster, 200)
    with PILImage.open(path) as img:
        assert (img.size, kind) == ((200, 300), "image/jpeg")


def test_sidecars_over_ftp_through_the_job_runner(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                                  tmp_path: Path) -> None:
    folder = ftp_root / "Amélie (2001)"
    folder.mkdir()
    (folder / "Amélie.2001.mkv").write_bytes(VIDEO)
    (folder / "Amélie.2001.nfo").write_bytes(
        "<movie><title>Le Fabuleux Destin d'Amélie Poulain</title><plot>Paris, Montmartre.</plot>"
        "<genre>Comedy</genre><genre>Romance</genre></movie>".encode())
    (folder / "Amélie.2001-poster.jpg").write_bytes(jpeg(400, 600))
    (folder / "fanart.jpg").write_bytes(jpeg(800, 450))
    core = make_core(tmp_path)
    try:
        sid = core.sources.create(SourceSpec(name="ftp", kind="ftp", host="127.0.0.1", port=ftp_server.port,
                                             username=FTP_USER, password=FTP_PASSWORD)).id
        report = core.jobs.run_scan_now(sid)  # the Core wires the metadata hook into scans
        assert report.added == 1
        m = movie(core, "amelie")
        assert (m.title, m.year, m.overview, m.genres) == (
            "Le Fabuleux Destin d'Amélie Poulain", 2001, "Paris, Montmartre.", ["Comedy", "Romance"])
        assert image(core, m.poster_image_id).ref == f"{sid}:Amélie (2001)/Amélie.2001-poster.jpg"
        assert image(core, m.backdrop_image_id).width == 800
    finally:
        core.close()


def test_refresh_after_tmdb_was_down(tmp_path: Path, fake: FakeTmdb) -> None:
    films = tmp_path / "films"
    (films / "Sintel (2010)").mkdir(parents=True)
    (films / "Sintel (2010)" / "Sintel.mkv").write_bytes(VIDEO)
    (films / "Dark" / "Season 1").mkdir(parents=True)
    (films / "Dark" / "Season 1" / "Dark.S01E01.mkv").write_bytes(VIDEO)
    fake.faults.clear()
    fake.script("/3/", [(503, {})] * 2)
    core = make_core(tmp_path, **fake.settings(tmdb_retries=1))
    try:
        sid = core.sources.create(SourceSpec(name="disk", kind="local", path=str(films))).id
        core.jobs.run_scan_now(sid)
        sintel = movie(core, "sintel")
        assert sintel.tmdb_id is None and not sintel.needs_review  # TMDB was down: nothing to review

        # TMDB is back, and the show got an NFO since: a refresh reads both
        (films / "Dark" / "tvshow.nfo").write_text("<tvshow><title>Dark</title><plot>Winden.</plot></tvshow>")
        (films / "Dark" / "poster.jpg").write_bytes(jpeg(200, 300))
        core.metadata.refresh("movie", sintel.id, core.sources.source)
        sintel = movie(core, "sintel")
        assert (sintel.tmdb_id, sintel.match_confidence, sintel.overview is not None) == (45745, 1.0, True)
        with core.sessions() as s:
            show_id = s.scalars(select(Show.id)).one()
        core.metadata.refresh("show", show_id, core.sources.source)
        with core.sessions() as s:
            show = s.get(Show, show_id)
            assert show is not None and (show.title, show.overview) == ("Dark", "Winden.")
            assert image(core, show.poster_image_id).origin == "source"

        core.metadata.edit("movie", sintel.id, "Mine", None)
        with pytest.raises(Conflict):
            core.metadata.refresh("movie", sintel.id, core.sources.source)
    finally:
        fake.faults.clear()
        core.close()


def test_unreadable_cached_image_is_not_found(no_tmdb: Core, tmp_path: Path) -> None:
    source = MemorySource({"F (2001)/f.mkv": VIDEO, "F (2001)/poster.jpg": jpeg(1000, 1500)})
    scan(no_tmdb, source, tmp_path)
    poster = image(no_tmdb, movie(no_tmdb, "f").poster_image_id)
    (no_tmdb.settings.data_dir / "images" / poster.file).write_bytes(b"\xff\xd8 truncated")
    with pytest.raises(NotFound, match="cannot be read"):
        no_tmdb.metadata.images.file(poster.id, 400)
    (no_tmdb.settings.data_dir / "images" / poster.file).unlink()
    with pytest.raises(NotFound, match="no longer in the cache"):
        no_tmdb.metadata.images.file(poster.id, 400)


def test_picking_another_show_refills_its_episodes(tmp_path: Path, fake: FakeTmdb) -> None:
    shows = tmp_path / "shows" / "The Office (US)" / "Season 01"
    shows.mkdir(parents=True)
    for n in (1, 2):
        (shows / f"The.Office.S01E0{n}.mkv").write_bytes(VIDEO)
    fake.faults.clear()
    core = make_core(tmp_path, **fake.settings())
    try:
        sid = core.sources.create(SourceSpec(name="disk", kind="local", path=str(tmp_path / "shows"))).id
        core.jobs.run_scan_now(sid)
        with core.sessions() as s:
            show_id = s.scalars(select(Show.id)).one()
            assert [e.title for e in s.scalars(select(Episode).order_by(Episode.number))] == ["Pilot", "Diversity Day"]
        core.metadata.pick("show", show_id, 2996, core.sources.source)  # the British one, by hand
        with core.sessions() as s:
            show = s.get(Show, show_id)
            assert show is not None and (show.tmdb_id, show.year, show.locked) == (2996, 2001, True)
            eps = s.scalars(select(Episode).order_by(Episode.number)).all()
            assert [e.title for e in eps] == ["Downsize", "Work Experience"]
            assert eps[0].overview and eps[0].overview.startswith("Brent")
    finally:
        core.close()
