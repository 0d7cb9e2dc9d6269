"""A table of real-world release paths and what the scanner must make of them: movie
(title, year, part), episode (show, season, episode, last episode of a multi-episode
file, air date), or skipped (samples, trailers, extras). Pure: no I/O."""

from __future__ import annotations

import pytest
from library.naming_cases import assert_parsed, by_path

from reelhouse.library.naming import is_media_path, parse_media_path

M, E = "movie", "episode"
SKIP = None

# (path, expected) — expected is None for paths the scanner skips, else a dict of the
# Parsed fields that matter (fields not given must have their default).
TABLE: list[tuple[str, dict[str, object] | None]] = [
    # films
    ("Parasite (2019)/Parasite.2019.KOREAN.1080p.BluRay.mkv", dict(kind=M, title="Parasite", year=2019)),
    ("Everything.Everywhere.All.at.Once.2022.1080p.mkv",
     dict(kind=M, title="Everything Everywhere All at Once", year=2022)),
    ("Spider-Man.Into.the.Spider-Verse.2018.mkv", dict(kind=M, title="Spider-Man Into the Spider-Verse", year=2018)),
    ("WALL-E.2008.mkv", dict(kind=M, title="WALL-E", year=2008)),
    ("Se7en.1995.REMASTERED.1080p.mkv", dict(kind=M, title="Se7en", year=1995, version="Remastered")),
    ("Movies/Heat (1995)/Heat.1995.2160p.UHD.BluRay.x265-TERMiNAL.mkv", dict(kind=M, title="Heat", year=1995)),
    ("The.Godfather.1972.1080p.BluRay.x264.mkv", dict(kind=M, title="The Godfather", year=1972)),
    ("Casablanca (1942).mp4", dict(kind=M, title="Casablanca", year=1942)),
    ("Films/Mad.Max.Fury.Road.2015.720p.WEB-DL.mkv", dict(kind=M, title="Mad Max Fury Road", year=2015)),
    ("Coco (2017)/coco.mkv", dict(kind=M, title="Coco", year=2017)),
    ("The Shawshank Redemption (1994)/The.Shawshank.Redemption.1994.mkv",
     dict(kind=M, title="The Shawshank Redemption", year=1994)),
    # sequels named "Part …" keep it in the title (it comes before the year)
    ("Dune.Part.Two.2024.2160p.WEB-DL.mkv", dict(kind=M, title="Dune Part Two", year=2024)),
    ("Mission.Impossible.Dead.Reckoning.Part.One.2023.mkv",
     dict(kind=M, title="Mission Impossible Dead Reckoning Part One", year=2023)),
    ("Harry.Potter.and.the.Deathly.Hallows.Part.1.2010.mkv",
     dict(kind=M, title="Harry Potter and the Deathly Hallows Part 1", year=2010)),
    # editions: one film, whatever the cut
    ("Avatar.2009.Extended.Edition.1080p.mkv", dict(kind=M, title="Avatar", year=2009, version="Extended Edition")),
    ("Blade.Runner.1982.The.Final.Cut.mkv", dict(kind=M, title="Blade Runner", year=1982, version="Final Cut")),
    ("Leon.The.Professional.1994.Extended.Cut.mkv", dict(kind=M, title="Leon The Professional", year=1994,
                                                       version="Extended Cut")),
    ("Apocalypse.Now.1979.Redux.mkv", dict(kind=M, title="Apocalypse Now", year=1979)),
    ("Oppenheimer.2023.IMAX.2160p.mkv", dict(kind=M, title="Oppenheimer", year=2023, version="IMAX")),
    ("Alien.1979.Directors.Cut.mkv", dict(kind=M, title="Alien", year=1979, version="Director's Cut")),
    # multi-part files: the parts are one film
    ("Kill Bill (2003)/Kill.Bill.Vol.1.2003.CD1.avi", dict(kind=M, title="Kill Bill", year=2003, part=1)),
    ("Kill Bill (2003)/Kill.Bill.Vol.1.2003.CD2.avi", dict(kind=M, title="Kill Bill", year=2003, part=2)),
    ("The Lord of the Rings (2001)/The.Lord.of.the.Rings.2001.part1.mkv",
     dict(kind=M, title="The Lord of the Rings", year=2001, part=1)),
    ("The Lord of the Rings (2001)/The.Lord.of.the.Rings.2001.part2.mkv",
     dict(kind=M, title="The Lord of the Rings", year=2001, part=2)),
    ("Heat (1995)/Heat.1995.Disc1.mkv", dict(kind=M, title="Heat", year=1995, part=1)),
    # episodes
    ("Show/Season 1/Show - 1x02.mkv", dict(kind=E, title="Show", season=1, episode=2)),
    # a show folder ending in an acronym keeps its last dot, as the title is written
    ("Shows/S.H.I.E.L.D./Season 01/S.H.I.E.L.D. S01E01.mkv", dict(kind=E, title="S.H.I.E.L.D.", season=1, episode=1)),
    ("Marvels.Agents.of.S.H.I.E.L.D./Season 1/Marvels.Agents.of.S.H.I.E.L.D.S01E02.720p.mkv",
     dict(kind=E, title="Marvels Agents of S.H.I.E.L.D.", season=1, episode=2)),
    ("The.Simpsons.S35E01.1080p.WEB.h264-ETHEL.mkv", dict(kind=E, title="The Simpsons", season=35, episode=1)),
    ("Stranger.Things.S04E09.Chapter.Nine.The.Piggyback.2160p.NF.WEB-DL.mkv",
     dict(kind=E, title="Stranger Things", season=4, episode=9, episode_title="Chapter Nine The Piggyback")),
    ("Planet Earth II/Season 1/Planet.Earth.II.S01E01.Islands.2160p.mkv",
     dict(kind=E, title="Planet Earth II", season=1, episode=1, episode_title="Islands")),
    ("Chernobyl.S01E05.Vichnaya.Pamyat.mkv",
     dict(kind=E, title="Chernobyl", season=1, episode=5, episode_title="Vichnaya Pamyat")),
    ("Breaking Bad/Season 2/Breaking.Bad.S02E03.720p.BluRay.x264.mkv",
     dict(kind=E, title="Breaking Bad", season=2, episode=3)),
    ("The Office (US)/Season 01/The.Office.US.S01E02.Diversity.Day.720p.mkv",
     dict(kind=E, title="The Office (US)", season=1, episode=2, episode_title="Diversity Day")),
    ("Westworld/S01/Westworld.S01E01.mkv", dict(kind=E, title="Westworld", season=1, episode=1)),
    ("Dark/Season 3/Dark.S03E08.German.1080p.mkv", dict(kind=E, title="Dark", season=3, episode=8)),
    ("The.Mandalorian.S01E01.Chapter.1.mkv",
     dict(kind=E, title="The Mandalorian", season=1, episode=1, episode_title="Chapter 1")),
    ("Fargo/Season 4/fargo.s04e11.1080p.web.h264-ggez.mkv", dict(kind=E, title="Fargo", season=4, episode=11)),
    ("Severance/Season 2/Severance.S02E10.Cold.Harbor.2160p.mkv",
     dict(kind=E, title="Severance", season=2, episode=10, episode_title="Cold Harbor")),
    # multi-episode files
    ("Friends/Season 01/Friends.S01E02E03.mkv", dict(kind=E, title="Friends", season=1, episode=2, episode_end=3)),
    ("Friends.S01E16-E17.The.One.With.Two.Parts.mkv",
     dict(kind=E, title="Friends", season=1, episode=16, episode_end=17, episode_title="The One With Two Parts")),
    ("The.Expanse.S06E01E02.1080p.mkv", dict(kind=E, title="The Expanse", season=6, episode=1, episode_end=2)),
    # specials (season 0)
    ("Doctor Who (2005)/Specials/Doctor.Who.2005.S00E01.The.Christmas.Invasion.mkv",
     dict(kind=E, title="Doctor Who", year=2005, season=0, episode=1, episode_title="The Christmas Invasion")),
    ("Doctor Who (2005)/Season 00/Doctor.Who.S00E02.mkv",
     dict(kind=E, title="Doctor Who", year=2005, season=0, episode=2)),
    ("Sherlock/Specials/Sherlock.S00E01.The.Abominable.Bride.mkv",
     dict(kind=E, title="Sherlock", season=0, episode=1, episode_title="The Abominable Bride")),
    # date-based episodes: season = year, episode = MMDD, air date kept
    ("The Daily Show/The.Daily.Show.2011.11.15.Someone.720p.mkv",
     dict(kind=E, title="The Daily Show", season=2011, episode=1115, episode_title="Someone",
          air_date="2011-11-15")),
    ("The Tonight Show/The.Tonight.Show.Starring.Jimmy.Fallon.2019.03.04.mkv",
     dict(kind=E, title="The Tonight Show", season=2019, episode=304, episode_title="2019-03-04",
          air_date="2019-03-04")),
    # anime: absolute episode numbers
    ("[HorribleSubs] One Piece - 1071 [1080p].mkv", dict(kind=E, title="One Piece", season=1, episode=1071)),
    ("One Piece/[Erai-raws] One Piece - 1000 [1080p].mkv", dict(kind=E, title="One Piece", season=1, episode=1000)),
    ("[SubsPlease] Jujutsu Kaisen - 24 (1080p) [ABCDEF12].mkv",
     dict(kind=E, title="Jujutsu Kaisen", season=1, episode=24)),
    ("Naruto Shippuden/Naruto Shippuden - 500.mkv", dict(kind=E, title="Naruto Shippuden", season=1, episode=500)),
    ("Attack on Titan/Season 4/[SubsPlease] Shingeki no Kyojin S04E28 [1080p].mkv",
     dict(kind=E, title="Attack on Titan", season=4, episode=28)),
    # not films: samples, trailers, extras
    ("Inception.2010.sample.mkv", SKIP),
    ("Inception (2010)/Sample/inception.mkv", SKIP),
    ("Inception (2010)/Trailers/Inception.2010.mkv", SKIP),
    ("Inception (2010)/Extras/Making.Of.mkv", SKIP),
    ("Inception (2010)/Featurettes/VFX.mkv", SKIP),
    ("Inception (2010)/Behind The Scenes/Part1.mkv", SKIP),
    ("Dune.2021.Trailer.mp4", SKIP),
    ("Sample-Inception.mkv", SKIP),
    ("movie (sample).mkv", SKIP),
    ("Inception (2010)/Inception.2010.1080p.mkv.part", SKIP),
    ("Inception (2010)/Inception.2010.nfo", SKIP),
    ("Inception (2010)/poster.jpg", SKIP),
    # …but titles that merely contain those words are films and shows
    ("Samples of Life (2019)/Samples.of.Life.2019.mkv", dict(kind=M, title="Samples of Life", year=2019)),
    ("Trailer Park Boys/Season 1/Trailer.Park.Boys.S01E01.mkv",
     dict(kind=E, title="Trailer Park Boys", season=1, episode=1)),
]


def test_the_table_is_big_enough() -> None:
    assert len(TABLE) >= 60 and len({p for p, _ in TABLE}) == len(TABLE)


@by_path(TABLE)
def test_classification(path: str, expected: dict[str, object] | None) -> None:
    if expected is None:
        assert not is_media_path(path)
        return
    assert is_media_path(path)
    assert_parsed(path, expected)


def test_parts_and_editions_share_the_movie_key() -> None:
    from reelhouse.library.naming import match_key

    def key(path: str) -> str:
        p = parse_media_path(path)
        return match_key(p.title, p.year)

    assert key("Kill Bill (2003)/Kill.Bill.Vol.1.2003.CD1.avi") == key("Kill Bill (2003)/Kill.Bill.Vol.1.2003.CD2.avi")
    assert key("Alien.1979.Directors.Cut.mkv") == key("Alien (1979)/Alien.1979.1080p.mkv")


@pytest.mark.parametrize(("path", "expected"), TABLE, ids=[p for p, _ in TABLE])
def test_folder_check_agrees_with_the_path_check(path: str, expected: object) -> None:
    from reelhouse.library.naming import is_media_file, is_media_folder

    folder, _, name = path.rpartition("/")
    assert is_media_path(path) == (is_media_folder(folder) and is_media_file(name))
