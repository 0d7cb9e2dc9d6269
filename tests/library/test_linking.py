"""Tests for reelhouse.library.linking through scans of a MemorySource: extras belong to
their film or show, versions are one film, remakes stay apart, provider ids tie a
folder to its title, and a rescan places again what older rules placed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select, update

from reelhouse.api.schemas import MoviePublic, ShowPublic
from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie, Show
from reelhouse.library import queries
from reelhouse.library.linking import NAMING_VERSION
from reelhouse.library.scanner import scan_source
from reelhouse.library.versions import group_versions
from reelhouse.sources.memory import MemorySource
from reelhouse.sources.registry import SourceSpec

FILES = [
    "Dune (2021)/Dune (2021).mkv",
    "Dune (2021)/Dune (2021) - 2160p.mkv",
    "Dune (2021)/Dune (2021) - Director's Cut.mkv",
    "Dune (2021)/Trailers/Teaser.mkv",
    "Dune (2021)/Dune (2021)-featurette.mkv",
    "Dune (2021)/Sample/dune-sample.mkv",
    "Dune (1984)/Dune (1984).mkv",
    "Doctor Who (1963)/Season 1/Doctor Who S01E01.mkv",
    "Doctor Who (2005)/Season 1/Doctor Who S01E01.mkv",
    "Doctor Who (2005)/Extras/Confidential.mkv",
    "Kill Bill (2003)/Kill Bill (2003) - cd1.mkv",
    "Kill Bill (2003)/Kill Bill (2003) - cd2.mkv",
    "Heat [tmdbid=949]/Heat.mkv",
    "Heat 1995/Heat.1995.1080p.mkv",
]


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[tuple[Core, int, MemorySource]]:
    core = Core(load_settings(data_dir=tmp_path / "data"), consume_jobs=False)
    sid = core.sources.create(SourceSpec(name="mem", kind="local", path=str(tmp_path))).id
    source = MemorySource({p: p.encode() for p in FILES})
    scan_source(core.sessions, sid, source)
    yield core, sid, source
    core.close()


def _movies(core: Core) -> dict[tuple[str, int | None], Movie]:
    with core.sessions() as s:
        return {(m.title, m.year): m for m in s.scalars(select(Movie))}


def test_extras_versions_and_remakes(lib: tuple[Core, int, MemorySource]) -> None:
    core, _, _ = lib
    movies = _movies(core)
    assert {("Dune", 2021), ("Dune", 1984), ("Kill Bill", 2003)} <= set(movies)
    with core.sessions() as s:
        dune = MoviePublic.model_validate(queries.get_movie(s, movies["Dune", 2021].id))
        assert sorted(f.name for f in dune.files) == [
            "Dune (2021) - 2160p.mkv", "Dune (2021) - Director's Cut.mkv", "Dune (2021).mkv"]
        assert [v.label for v in dune.versions][1:] == ["2160p", "Director's Cut"]
        assert {(f.name, f.extra_type) for f in dune.extras} == {
            ("Teaser.mkv", "trailer"), ("Dune (2021)-featurette.mkv", "featurette")}
        kill_bill = MoviePublic.model_validate(queries.get_movie(s, movies["Kill Bill", 2003].id))
        assert [(v.label, [f.part for f in v.files]) for v in kill_bill.versions] == [("Kill Bill (2003) - cd1",
                                                                                        [1, 2])]
        shows = {(sh.title, sh.year): sh for sh in s.scalars(select(Show))}
        assert set(shows) == {("Doctor Who", 1963), ("Doctor Who", 2005)}
        new_who = ShowPublic.model_validate(queries.get_show(s, shows["Doctor Who", 2005].id))
        assert [f.name for f in new_who.extras] == ["Confidential.mkv"]
        assert ShowPublic.model_validate(queries.get_show(s, shows["Doctor Who", 1963].id)).extras == []
        assert not s.scalar(select(MediaFile).where(MediaFile.path.like("%Sample%")))  # samples are skipped
        grid = queries.grid(s, "movie")
        assert sum(1 for g in grid if g.title == "Dune") == 2
        assert next(g for g in grid if (g.title, g.year) == ("Dune", 2021)).file_count == 3  # no extras


def test_a_tagged_id_ties_a_folder_to_its_title(lib: tuple[Core, int, MemorySource]) -> None:
    core, sid, source = lib
    movies = _movies(core)
    heat = movies["Heat", 1995]  # "Heat [tmdbid=949]/Heat.mkv" joined the one "Heat" and tagged it
    assert heat.tmdb_id == 949 and ("Heat", None) not in movies
    # a later file tagged with the same id joins it, whatever its name says
    source.files["Heat (1995) {tmdb-949}/Heat (1995) - 4K.mkv"] = b"x" * 10
    source.mtimes["Heat (1995) {tmdb-949}/Heat (1995) - 4K.mkv"] = 1.0
    scan_source(core.sessions, sid, source)
    with core.sessions() as s:
        f = s.scalar(select(MediaFile).where(MediaFile.path.like("Heat (1995) {tmdb-949}%")))
        assert f is not None and f.movie_id == heat.id and f.version == "4K"


def test_rescan_places_again_what_older_rules_placed(lib: tuple[Core, int, MemorySource]) -> None:
    core, sid, source = lib
    with core.sessions() as s:  # as an older release would have left them
        s.execute(update(MediaFile).values(naming_version=0, movie_id=None, episode_id=None, show_id=None,
                                           kind="other"))
        s.commit()
    report = scan_source(core.sessions, sid, source)
    assert report.unchanged == len(FILES) - 1 and report.added == 0
    with core.sessions() as s:
        files = list(s.scalars(select(MediaFile)))
        assert {f.naming_version for f in files} == {NAMING_VERSION}
        assert all(f.movie_id or f.episode_id or f.show_id for f in files)


@dataclass
class _F:
    path: str
    version: str | None = None
    part: int | None = None
    height: int | None = None


def test_group_versions_orders_like_jellyfin() -> None:
    files = [_F("X (2016) - Theatrical Release.mkv", "Theatrical Release"), _F("X (2016) - 720p.mkv", "720p"),
             _F("X (2016) - 2160p.mkv", "2160p"), _F("X (2016).mkv", height=1080),
             _F("X (2016) - 1080p.mkv", "1080p"), _F("X (2016) - Directors Cut.mkv", "Directors Cut")]
    assert [label for label, _ in group_versions(files)] == [  # the unlabelled file first
        "1080p · X (2016).mkv", "2160p", "1080p", "720p", "Directors Cut", "Theatrical Release"]
    same = [_F("a.mkv", height=1080), _F("b.mkv", height=1080)]
    assert [label for label, _ in group_versions(same)] == ["1080p · a.mkv", "1080p · b.mkv"]


def _episodes_of(core: Core, show: str) -> dict[str, tuple[int, int]]:
    from reelhouse.db.models import Episode, Season
    with core.sessions() as s:
        rows = s.execute(select(MediaFile.path, Season.number, Episode.number)
                         .join(Episode, MediaFile.episode_id == Episode.id).join(Season, Episode.season_id == Season.id)
                         .join(Show, Season.show_id == Show.id).where(Show.title == show))
        return {path.rsplit("/", 1)[1]: (season, number) for path, season, number in rows}


def test_season_folder_numbers_by_the_folders_files(tmp_path: Path) -> None:
    """"Friends - 101" in Season 1 is S01E01; Naruto's Season 1 running 001-220 stays
    absolute, in a first scan split in batches, in a later scan that adds one file, and
    when older rules' files are placed again."""
    from reelhouse.library import scan_index
    naruto = [f"Naruto/Season 1/Naruto - {n:03d}.mkv" for n in (1, 2, 220, 101, 150)]
    friends = ["Friends/Season 1/Friends - 101 - Pilot.mkv", "Friends/Season 1/Friends - 102 - Sonogram.mkv"]
    core = Core(load_settings(data_dir=tmp_path / "data"), consume_jobs=False)
    try:
        sid = core.sources.create(SourceSpec(name="mem", kind="local", path=str(tmp_path))).id
        source = MemorySource({p: p.encode() for p in naruto + friends})
        old_batch, scan_index.BATCH = scan_index.BATCH, 2  # 101 and 150 come in a batch of their own
        try:
            scan_source(core.sessions, sid, source)
        finally:
            scan_index.BATCH = old_batch
        want = {"Naruto - 001.mkv": (1, 1), "Naruto - 002.mkv": (1, 2), "Naruto - 220.mkv": (1, 220),
                "Naruto - 101.mkv": (1, 101), "Naruto - 150.mkv": (1, 150)}
        assert _episodes_of(core, "Naruto") == want
        assert _episodes_of(core, "Friends") == {"Friends - 101 - Pilot.mkv": (1, 1),
                                                 "Friends - 102 - Sonogram.mkv": (1, 2)}
        source.files["Naruto/Season 1/Naruto - 151.mkv"] = b"x" * 10
        source.mtimes["Naruto/Season 1/Naruto - 151.mkv"] = 1.0
        scan_source(core.sessions, sid, source)
        assert _episodes_of(core, "Naruto") == {**want, "Naruto - 151.mkv": (1, 151)}
        with core.sessions() as s:  # as an older release would have left them
            s.execute(update(MediaFile).values(naming_version=0))
            s.commit()
        scan_source(core.sessions, sid, source)
        assert _episodes_of(core, "Naruto") == {**want, "Naruto - 151.mkv": (1, 151)}
        assert _episodes_of(core, "Friends")["Friends - 101 - Pilot.mkv"] == (1, 1)
    finally:
        core.close()
