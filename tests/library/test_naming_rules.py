"""reelhouse's own naming rules, one table per class of issue 15: season folders,
anime seasons, numeric titles, extras, daily/DVR dates, absolute numbers, multi-episode
ranges, episode parts, versions, letter parts, provider ids. Pure: no I/O."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from library.naming_cases import Case, assert_fields, assert_parsed, by_path

from reelhouse.library.naming import provider_ids, season_folder
from reelhouse.library.naming.episodes import find_episode

M, E, X = "movie", "episode", "extra"

TABLE: list[Case] = [
    # season folders decide the season
    ("Show/Season 2/Show - 05.mkv", dict(kind=E, title="Show", season=2, episode=5)),
    ("Show/Season 01/1 Pilot (1080p HD).mkv",
     dict(kind=E, title="Show", season=1, episode=1, episode_title="Pilot")),
    ("Show/Season 2/2. Infestation.avi", dict(kind=E, title="Show", season=2, episode=2, episode_title="Infestation")),
    ("Dark/Staffel 2/Dark - 03.mkv", dict(kind=E, title="Dark", season=2, episode=3)),
    ("Lupin/Saison 1/Lupin - 04.mkv", dict(kind=E, title="Lupin", season=1, episode=4)),
    ("La Casa de Papel/Temporada 3/La Casa de Papel - 01.mkv",
     dict(kind=E, title="La Casa de Papel", season=3, episode=1)),
    ("Doctor Who (2005)/Series 4/Doctor Who - 02.mkv",
     dict(kind=E, title="Doctor Who", year=2005, season=4, episode=2)),
    ("Show/Specials/Show - 01.mkv", dict(kind=E, title="Show", season=0, episode=1)),
    # a release folder stands in for an obfuscated file name
    ("Series.Title.S02E19.720p.BluRay.x264-GROUP/ba27283b17c00d01.mkv",
     dict(kind=E, title="Series Title", season=2, episode=19)),
    # anime seasons
    ("[SubsPlease] Jujutsu Kaisen S2 - 05 (1080p).mkv", dict(kind=E, title="Jujutsu Kaisen", season=2, episode=5)),
    ("Jujutsu Kaisen/Season 2/[SubsPlease] Jujutsu Kaisen - 05 (1080p).mkv",
     dict(kind=E, title="Jujutsu Kaisen", season=2, episode=5)),
    ("Show/Season 1/Show - 17.5 (S00E01).mkv", dict(kind=E, title="Show", season=0, episode=1)),
    # numeric titles are films
    ("300 (2006)/300.mkv", dict(kind=M, title="300", year=2006)),
    ("1917 (2019)/1917.mkv", dict(kind=M, title="1917", year=2019)),
    ("2012 (2009)/2012.mkv", dict(kind=M, title="2012", year=2009)),
    ("86 (2021)/86.mkv", dict(kind=M, title="86", year=2021)),
    ("Movies/2012.mkv", dict(kind=M, title="2012")),
    ("480 Super movie [tmdbid=12345].mkv", dict(kind=M, title="480 Super movie", tmdb_id=12345)),
    ("Apollo 13/Apollo 13.mkv", dict(kind=M, title="Apollo 13")),
    ("Ocean's 11 (2001).mkv", dict(kind=M, title="Ocean's 11", year=2001)),
    ("I Live In A Trailer.mp4", dict(kind=M, title="I Live In A Trailer")),
    # extras, by suffix and by folder, belong to the film or show above them
    ("300 (2006)/300-trailer.mkv", dict(kind=X, title="300", year=2006, extra="trailer")),
    ("300 (2006)/300-trailer2.mkv", dict(kind=X, title="300", year=2006, extra="trailer")),
    ("Dune (2021)/Dune (2021)-deleted.mkv", dict(kind=X, title="Dune", year=2021, extra="deleted")),
    ("Dune (2021)/Dune-featurette.mkv", dict(kind=X, title="Dune", year=2021, extra="featurette")),
    ("Dune (2021)/Dune-behindthescenes.mkv", dict(kind=X, title="Dune", year=2021, extra="behindthescenes")),
    ("Dune (2021)/Dune-interview.mkv", dict(kind=X, title="Dune", year=2021, extra="interview")),
    ("Inception (2010)/Featurettes/VFX.mkv", dict(kind=X, title="Inception", year=2010, extra="featurette")),
    ("Inception (2010)/Deleted Scenes/Hotel.mkv", dict(kind=X, title="Inception", year=2010, extra="deleted")),
    ("Inception (2010)/Behind The Scenes/Part1.mkv",
     dict(kind=X, title="Inception", year=2010, extra="behindthescenes")),
    ("Inception (2010)/Trailers/Teaser.mkv", dict(kind=X, title="Inception", year=2010, extra="trailer")),
    ("Inception (2010)/Shorts/x.mkv", dict(kind=X, title="Inception", year=2010, extra="short")),
    ("Show (2019)/Season 1/Extras/Cast.mkv", dict(kind=X, title="Show", year=2019, extra="other")),
    # daily and recorded TV
    ("ABC News/ABC News 2018_03_24_19_00_00.mkv",
     dict(kind=E, title="ABC News", season=2018, episode=324, episode_title="2018-03-24", air_date="2018-03-24")),
    ("Series Title (1955)/Series Title (1955) - 1954-01-23 05 00 00 - Episode.ts",
     dict(kind=E, title="Series Title", year=1955, season=1954, episode=123, episode_title="Episode",
          air_date="1954-01-23")),
    ("A.Late.Talk.Show.140722.mkv",
     dict(kind=E, title="A Late Talk Show", season=2014, episode=722, episode_title="2014-07-22",
          air_date="2014-07-22")),
    ("Daily/Daily - 03-24-2018.mkv",
     dict(kind=E, title="Daily", season=2018, episode=324, episode_title="2018-03-24", air_date="2018-03-24")),
    # absolute numbers
    ("One Piece/Season 21/One Piece 1001.mkv", dict(kind=E, title="One Piece", season=21, episode=1001)),
    ("The Simpsons/The Simpsons 889.mkv", dict(kind=E, title="The Simpsons", season=1, episode=889)),
    # scene numbering "Title.103" (season 1, episode 3), not when a year follows (a film)
    ("the.Series.110.hdtv-lol.mkv", dict(kind=E, title="the Series", season=1, episode=10)),
    ("Show/Season 1/Show.103.HDTV.mkv", dict(kind=E, title="Show", season=1, episode=3)),
    ("Cell.211.2009.mkv", dict(kind=M, title="Cell 211", year=2009)),
    ("Series - 2016x231.mkv", dict(kind=E, title="Series", season=2016, episode=231)),
    ("Series Title [HDTV][Cap.402](website.com).avi", dict(kind=E, title="Series Title", season=4, episode=2)),
    # multi-episode ranges
    ("Show/Season 02/02x03-E15 - Name.mkv", dict(kind=E, title="Show", season=2, episode=3, episode_end=15,
                                                 episode_title="Name")),
    ("Show/Season 02/02x03 - x04 - x15 - Name.mkv",
     dict(kind=E, title="Show", season=2, episode=3, episode_end=15, episode_title="Name")),
    ("Show/Season 1/Show s01e01-e04.mkv", dict(kind=E, title="Show", season=1, episode=1, episode_end=4)),
    ("Show/Season 5/S05E23 11-59 [HDTV-1080p].mkv",
     dict(kind=E, title="Show", season=5, episode=23, episode_title="11-59")),
    # episode parts
    ("Show/Season 2/Show S02E03 Part 1.mkv", dict(kind=E, title="Show", season=2, episode=3, part=1)),
    ("Show/Season 2/Show S02E03 Part 2.mkv", dict(kind=E, title="Show", season=2, episode=3, part=2)),
    # versions of one film
    ("Movie (2010)/Movie (2010) - Director's Cut.mkv",
     dict(kind=M, title="Movie", year=2010, version="Director's Cut")),
    ("Movie (2010)/Movie (2010) - 1080p.mkv", dict(kind=M, title="Movie", year=2010, version="1080p")),
    ("Movie/Movie - 1080p.mkv", dict(kind=M, title="Movie", version="1080p")),
    ("Iron Man/Iron Man-3d.mkv", dict(kind=M, title="Iron Man", version="3d")),
    ("Movie (2010)/Movie (2010) {edition-Extended}.mkv", dict(kind=M, title="Movie", year=2010, version="Extended")),
    ("Star Trek 1 - The motion picture.mkv", dict(kind=M, title="Star Trek 1 - The motion picture")),
    # letter and numbered parts
    ("300 (2006)/300 (2006) parta.mkv", dict(kind=M, title="300", year=2006, part=1)),
    ("300 (2006)/300 (2006) partd.mkv", dict(kind=M, title="300", year=2006, part=4)),
    ("Bad Boys (2006)/Bad Boys (2006) - cd2.mkv", dict(kind=M, title="Bad Boys", year=2006, part=2)),
    # remakes keep their years and ids
    ("Doctor Who (1963)/Season 1/Doctor Who S01E01.mkv",
     dict(kind=E, title="Doctor Who", year=1963, season=1, episode=1)),
    ("Doctor Who (2005) {tvdb-78804}/Season 1/Doctor.Who.S01E01.mkv",
     dict(kind=E, title="Doctor Who", year=2005, season=1, episode=1, tvdb_id=78804)),
    ("Dune (2021) [tmdbid=438631]/Dune.2021.mkv", dict(kind=M, title="Dune", year=2021, tmdb_id=438631)),
    ("Dune (1984) [imdbid-tt0087182]/Dune (1984).mkv", dict(kind=M, title="Dune", year=1984, imdb_id="tt0087182")),
]


@by_path(TABLE)
def test_rules(path: str, expected: dict[str, object]) -> None:
    assert_parsed(path, expected)


@pytest.mark.parametrize(
    ("name", "parent", "season"),
    [("Season 2", None, 2), ("Staffel 2", None, 2), ("Saison 2", None, 2), ("Temporada 2", None, 2),
     ("Series 2", None, 2), ("S02", None, 2), ("Specials", None, 0), ("Season 7 (2016)", None, 7),
     ("3.Staffel", None, 3), ("Сезон 1", None, 1), ("シーズン 1", None, 1), ("Show.S04.720p.WEB-DL", None, 4),
     ("Show Season 1", "Show", 1), ("Seinfeld Season 2", "Drive", None), ("s06e05", None, None),
     ("Episode 1 Season 2", None, None), ("300 (2006)", None, None), ("Extras", None, None)],
)
def test_season_folders(name: str, parent: str | None, season: int | None) -> None:
    assert season_folder(name, parent) == season


def test_provider_ids() -> None:
    ids = provider_ids("Show (2005) {tvdb-78804} [tmdbid=57243] {imdb-tt0436992}")
    assert (ids.tvdb, ids.tmdb, ids.imdb) == (78804, 57243, "tt0436992")


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 99), st.integers(1, 999), st.sampled_from(["Show", "The.Show", "[Grp] Show"]))
def test_sxxeyy_always_wins(season: int, episode: int, title: str) -> None:
    m = find_episode(f"{title}.S{season:02d}E{episode:02d}.1080p.WEB", in_show=False)
    assert m is not None and (m.season, m.episode) == (season, episode)


#: Films whose title ends in a number (issue 15): a lone file, with no show or season
#: folder and no SxxEyy / 1x02 / date cue, is a film; the same number inside a show or
#: season folder, or followed by TV release words, stays a scene-numbered episode.
NUMBERED_TITLES: list[tuple[str, dict[str, object]]] = [
    ("Fahrenheit.451.mkv", dict(kind=M, title="Fahrenheit 451", season=None, episode=None)),
    ("Fahrenheit 451.mkv", dict(kind=M, title="Fahrenheit 451")),
    ("Movies/Fahrenheit.451.mkv", dict(kind=M, title="Fahrenheit 451")),
    ("Apollo.13.mkv", dict(kind=M, title="Apollo 13")),
    ("Apollo 13 (1995).mkv", dict(kind=M, title="Apollo 13", year=1995)),
    ("District 9.mkv", dict(kind=M, title="District 9")),
    ("Ocean's 11.mkv", dict(kind=M, title="Ocean's 11")),
    ("Ocean's.Eleven.2001.1080p.BluRay.x264.mkv", dict(kind=M, title="Ocean's Eleven", year=2001)),
    ("Movies/Fahrenheit 451 (1966)/Fahrenheit.451.mkv", dict(kind=M, title="Fahrenheit 451", year=1966)),
    ("Se7en.mkv", dict(kind=M, title="Se7en")),
    ("2001 A Space Odyssey (1968).mkv", dict(kind=M, title="2001 A Space Odyssey", year=1968)),
    ("Blade Runner 2049 (2017).mkv", dict(kind=M, title="Blade Runner 2049", year=2017)),
    ("Super 8.mkv", dict(kind=M, title="Super 8")),
    ("Zoolander 2.mkv", dict(kind=M, title="Zoolander 2")),
    ("Toy Story 3.mkv", dict(kind=M, title="Toy Story 3")),
    ("Rocky IV.mkv", dict(kind=M, title="Rocky IV")),
    # release tags after the number: a lone "Title.NNN" past episode 30 is a film (issue 14)
    ("Fahrenheit.451.1080p.BluRay.mkv", dict(kind=M, title="Fahrenheit 451", season=None, episode=None)),
    ("Room.237.2012.720p.BluRay.x264.mkv", dict(kind=M, title="Room 237", year=2012)),
    ("Room.237.720p.BluRay.x264-GRP.mkv", dict(kind=M, title="Room 237")),
    # "H.264" is a codec, not season 2 episode 64 (issue 14)
    ("The.Departed.2006.720p.WEB-DL.DD5.1.H.264-NTb.mkv", dict(kind=M, title="The Departed", year=2006)),
    ("Movies/Joker.2019.1080p.AMZN.WEB-DL.DDP5.1.H.264-NTG.mkv", dict(kind=M, title="Joker", year=2019)),
    # folder context or TV cues keep scene numbering
    ("Show/Show.103.mkv", dict(kind=E, title="Show", season=1)),
    ("Show/Season 1/Show.103.mkv", dict(kind=E, title="Show", season=1)),
    ("Show/Season 1/Show.103.HDTV.mkv", dict(kind=E, title="Show", season=1, episode=3)),
    ("Show.103.HDTV.x264-LOL.mkv", dict(kind=E, title="Show", season=1, episode=3)),
    ("St_Series_209_Aids_And_Comfort.mkv", dict(kind=E, season=2, episode=9)),
    ("Fahrenheit.451.S01E02.mkv", dict(kind=E, title="Fahrenheit 451", season=1, episode=2)),
    ("Series T Se.3 afl.3.mkv", dict(kind=E, title="Series T", season=3, episode=3)),
]


@by_path(NUMBERED_TITLES)
def test_numbered_film_titles(path: str, expected: dict[str, object]) -> None:
    assert_fields(path, expected)
