"""Numbers read from names and NFO files that no ``Integer`` column can hold (past
2**31-1: PostgreSQL's ``integer``, docs §8.1.1) are treated as absent, with a debug
line, never a failed scan: a ``[tmdbid=99999999999]`` folder tag, a ``{tvdb-…}`` tag,
an NFO ``<tmdbid>`` / ``<uniqueid>`` / ``<season>`` / ``<episode>``, a TMDB URL in an
NFO. Likewise text longer than its ``String(n)`` column (PostgreSQL refuses it, §8.3):
a version label, an NFO title, an ``[imdbid-tt…]`` tag. On SQLite, and on PostgreSQL
when ``REELHOUSE_TEST_POSTGRES_URL`` is set."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from tmdb_fake import FakeTmdb

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.limits import INT_MAX
from reelhouse.db.models import Episode, MediaFile, MediaStream, Movie, Season, Show
from reelhouse.library.metadata.nfo import parse_nfo
from reelhouse.library.naming import parse_media_path
from reelhouse.library.probe_normalise import StreamInfo
from reelhouse.library.scanner import scan_source
from reelhouse.library.streams import store_streams
from reelhouse.sources.memory import MemorySource
from reelhouse.sources.registry import SourceSpec

from helpers import ENGINES, core_on

HUGE = "99999999999"  # > 2**31 - 1 (and < 2**63: SQLite would store it)
VIDEO = b"\x00not really a video\x00" * 8


@pytest.fixture(params=ENGINES)
def lib(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Core]:
    with core_on(request.param, tmp_path / "data", "rh_ids") as core:
        yield core


FILES = {
    f"Films/Film [tmdbid={HUGE}] (2019)/Film (2019).mkv": VIDEO,
    f"Films/Other {{tmdb-{HUGE}}} (2020)/Other (2020).mkv": VIDEO,
    f"Films/Other {{tmdb-{HUGE}}} (2020)/movie.nfo": (
        f"<movie><title>Other</title><tmdbid>{HUGE}</tmdbid><year>{HUGE}</year>"
        f'<uniqueid type="tmdb">{HUGE}</uniqueid></movie>').encode(),
    "Films/Url (2021)/Url.2021.mkv": VIDEO,
    "Films/Url (2021)/movie.nfo": f"https://www.themoviedb.org/movie/{HUGE}-url".encode(),
    f"Shows/Show [tvdbid={HUGE}] [tmdbid={HUGE}]/Season 1/Show.S01E01.mkv": VIDEO,
    f"Shows/Show [tvdbid={HUGE}] [tmdbid={HUGE}]/Season 1/Show.S01E01.nfo": (
        f"<episodedetails><title>Pilot</title><season>{HUGE}</season><episode>{HUGE}</episode>"
        "</episodedetails>").encode(),
    f"Shows/Show [tvdbid={HUGE}] [tmdbid={HUGE}]/tvshow.nfo": (
        f'<tvshow><title>Show</title><uniqueid type="tmdb">{HUGE}</uniqueid></tvshow>').encode(),
    f"Films/Part.{HUGE}.mkv": VIDEO,
}


def test_a_scan_ignores_ids_past_the_integer_range(lib: Core, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    sid = lib.sources.create(SourceSpec(name="m", kind="local", path=str(tmp_path))).id
    caplog.set_level(logging.DEBUG, logger="reelhouse")
    report = scan_source(lib.sessions, sid, MemorySource(dict(FILES)), probe_budget=1 << 20,
                         enrich=lib.metadata.enrich_file)
    assert report.outcome == "done", report.folder_errors
    assert report.added == 5
    with lib.sessions() as s:
        assert s.scalar(select(MediaFile).where(MediaFile.path.like("%Part%"))) is not None
        films = {m.title: m for m in s.scalars(select(Movie))}
        assert {"Film", "Other", "Url"} <= set(films)
        assert all(m.tmdb_id is None for m in films.values())
        assert films["Film"].year == 2019 and films["Other"].year == 2020
        show = s.scalars(select(Show)).one()
        assert (show.title, show.tmdb_id, show.tvdb_id) == ("Show", None, None)
        assert [(n.number) for n in s.scalars(select(Season))] == [1]
        ep = s.scalars(select(Episode)).one()
        assert (ep.number, ep.title) == (1, "Pilot")
    assert any(HUGE in r.getMessage() and r.levelno == logging.DEBUG for r in caplog.records)


LONG = {
    "Films/Iron Man (2008)/Iron Man (2008) - " + "x" * 200 + ".mkv": VIDEO,  # a 200-character version
    "Films/Long (2001)/Long (2001).mkv": VIDEO,
    "Films/Long (2001)/movie.nfo": ("<movie><title>" + "T" * 700 + "</title></movie>").encode(),
    "Films/Imdb (2002) [imdbid-tt" + "9" * 30 + "]/Imdb (2002).mkv": VIDEO,
    "Shows/Show/Season 1/Show.S01E01.mkv": VIDEO,
    "Shows/Show/Season 1/Show.S01E01.nfo": ("<episodedetails><title>" + "E" * 700 + "</title>"
                                             "</episodedetails>").encode(),
}


def test_a_scan_cuts_text_to_its_columns(lib: Core, tmp_path: Path) -> None:
    sid = lib.sources.create(SourceSpec(name="m", kind="local", path=str(tmp_path))).id
    report = scan_source(lib.sessions, sid, MemorySource(dict(LONG)), probe_budget=1 << 20,
                         enrich=lib.metadata.enrich_file)
    assert report.outcome == "done" and report.added == 4, report.folder_errors
    with lib.sessions() as s:
        versions = [m.version for m in s.scalars(select(MediaFile)) if m.version]
        assert versions == ["x" * 128]
        titles = {m.title for m in s.scalars(select(Movie))}
        assert titles == {"Iron Man", "T" * 512, "Imdb"}
        assert all(m.imdb_id is None for m in s.scalars(select(Movie)))
        assert s.scalars(select(Episode)).one().title == "E" * 512


def test_stream_tags_are_cut_to_their_columns(lib: Core, tmp_path: Path) -> None:
    """A probe's tags come from the file: a BCP 47 language longer than 16 characters,
    an odd codec or profile name past 64."""
    sid = lib.sources.create(SourceSpec(name="m", kind="local", path=str(tmp_path))).id
    scan_source(lib.sessions, sid, MemorySource({"Films/Film (2019).mkv": VIDEO}), probe_budget=1 << 20)
    with lib.sessions() as s:
        mf = s.scalars(select(MediaFile)).one()
        store_streams(mf, [StreamInfo(index=0, type="audio", language="en-Latn-US-x-commentary",
                                      codec="c" * 100, profile="p" * 100, title="t" * 5000)])
        s.commit()
    with lib.sessions() as s:
        stream = s.scalars(select(MediaStream)).one()
        assert (stream.language, stream.codec, stream.profile) == ("en-Latn-US-x-com", "c" * 64, "p" * 64)
        assert stream.title == "t" * 5000  # a Text column


@pytest.mark.parametrize("path", [
    f"Film [tmdbid={HUGE}] (2019)/Film (2019).mkv",
    f"Show {{tvdb-{HUGE}}}/Season 1/Show.S01E01.mkv",
    f"Film (2019) [imdbid-tt{HUGE}].mkv",
])
def test_the_parser_drops_ids_no_column_holds(path: str) -> None:
    parsed = parse_media_path(path)
    assert parsed.tmdb_id is None and parsed.tvdb_id is None
    assert parsed.imdb_id in (None, f"tt{HUGE}")  # a text column: any length is stored


@pytest.mark.parametrize("value, expected", [(str(INT_MAX), INT_MAX), (str(INT_MAX + 1), None), ("-5", None)])
def test_nfo_numbers_within_the_range_only(value: str, expected: int | None) -> None:
    info = parse_nfo(f"<episodedetails><season>{value}</season><episode>{value}</episode>"
                     f"<tmdbid>{value}</tmdbid></episodedetails>".encode())
    assert info is not None
    assert (info.season, info.episode, info.tmdb_id) == (expected, expected, expected)


def test_tmdb_replies_with_ids_past_the_range(tmp_path: Path) -> None:
    """A TMDB reply (or something answering in its place) naming an id no column holds:
    the search result is left out, a details reply keeps the id that was asked for."""
    records = tmp_path / "records"
    records.mkdir()
    (records / "search_movie_film.json").write_text(json.dumps({"page": 1, "results": [
        {"id": int(HUGE), "title": "Film", "release_date": "2019-01-01"},
        {"id": "12x", "title": "Film"}, {"id": True, "title": "Film"},
        {"id": 7, "title": "Film", "release_date": "2019-02-02"}]}))
    (records / "movie_7.json").write_text(json.dumps({"id": int(HUGE), "title": "Film"}))
    with FakeTmdb(records) as fake:
        core = Core(load_settings(data_dir=tmp_path / "data", **fake.settings()))
        try:
            tmdb = core.metadata.tmdb
            assert [c.tmdb_id for c in tmdb.search_movie("Film")] == [7]
            assert tmdb.movie(7).tmdb_id == 7
        finally:
            core.close()
