"""Names a user's library holds that the scanner read wrong (found by trying release
names, anime numbering, multi-episode files, season folder forms and extras as a user
would), each with what the user expects. Pure: no I/O.

- "Title (Year) Trailer.mkv" / "Title (Year) Sample.mkv" beside the film: after the
  film's "(Year)" the word cannot be part of its title; they were a second version of
  the film (a trailer played as "the film").
- "[Group] Bleach - 001-002 [1080p].mkv": anime releases of two episodes in one file;
  it was a film titled "Bleach - 001-002".
- "Anime/86/[Group] 86 - 03.mkv": a show named by a number right under a library root
  is no season folder: it was season 86 of a show named "86"; "Shows/24/24 - 05.mkv"
  was season 24 episode 24 ("05") of "Unknown show".
- "Guardians.of.the.Galaxy.Vol.2.2017…": guessit takes "Vol. 2" out of the title, so
  the film was "Guardians of the Galaxy" (2017), the title of the 2014 film.
- "Tenet.2020.IMAX.2160p.UHD.BluRay.x265-GROUP/Extras/…": the extra's owner was the raw
  folder name ("Tenet 2020 IMAX 2160p UHD BluRay x265-GROUP", no year), a film of its
  own, so the film's page showed none of its extras.
- "Ocean's Eleven (2001)/Oceans.Eleven.2001….mkv": the film was "Oceans Eleven"; the
  user's folder, the same words, spells it.
- "….2001.EXTENDED.1080p…" beside "….2001.1080p…": the edition after the year is the
  version's label; both cuts were unlabelled versions (told apart by file name only).
"""

from __future__ import annotations

import pytest
from library.naming_cases import Case, assert_parsed, by_path

from reelhouse.library.naming.media import is_video_file

M, E, X = "movie", "episode", "extra"

TABLE: list[Case] = [
    # extras by a word after "Title (Year)"
    ("Films/Heat (1995)/Heat (1995) Trailer.mkv", dict(kind=X, title="Heat", year=1995, extra="trailer")),
    ("Films/Heat (1995)/Heat (1995) trailer 2.mkv", dict(kind=X, title="Heat", year=1995, extra="trailer")),
    ("Films/Heat (1995)/Heat (1995).Trailer.mkv", dict(kind=X, title="Heat", year=1995, extra="trailer")),
    ("Films/Heat (1995)/Heat (1995) - Director's Cut.mkv",
     dict(kind=M, title="Heat", year=1995, version="Director's Cut")),
    ("Films/I Live in a Trailer (2014)/I Live in a Trailer (2014).mkv",
     dict(kind=M, title="I Live in a Trailer", year=2014)),
    ("Films/Heat (1995)/Heat (1995) Featurette.mkv", dict(kind=X, title="Heat", year=1995, extra="featurette")),
    # anime ranges
    ("Anime/Bleach/[Group] Bleach - 001-002 [1080p].mkv",
     dict(kind=E, title="Bleach", season=1, episode=1, episode_end=2)),
    ("Anime/Bleach/Bleach - 365-366.mkv", dict(kind=E, title="Bleach", season=1, episode=365, episode_end=366)),
    # a number-named show right under a library root
    ("Anime/86/[Group] 86 - 03 [1080p].mkv", dict(kind=E, title="86", season=1, episode=3)),
    ("Shows/24/24 - 05.mkv", dict(kind=E, title="24", season=1, episode=5)),
    ("Shows/Show/2/Show - 05.mkv", dict(kind=E, title="Show", season=2, episode=5)),
    # guessit takes "Vol. 2" out of a title: "Guardians of the Galaxy" (2017) matched the 2014 film
    ("Films/Guardians.of.the.Galaxy.Vol.2.2017.1080p.BluRay.x264-GRP.mkv",
     dict(kind=M, title="Guardians of the Galaxy Vol. 2", year=2017)),
    ("Films/Kill Bill Vol. 1 (2003)/Kill.Bill.Vol.1.2003.mkv", dict(kind=M, title="Kill Bill Vol. 1", year=2003)),
    ("Films/Kill.Bill.Volume.1.2003.mkv", dict(kind=M, title="Kill Bill Vol. 1", year=2003)),
    # a dotted release name drops the title's signs; the film's "Title (Year)" folder keeps them
    ("Films/Ocean's Eleven (2001)/Oceans.Eleven.2001.1080p.BluRay.x264-GRP.mkv",
     dict(kind=M, title="Ocean's Eleven", year=2001)),
    ("Films/Spider-Man No Way Home (2021)/Spider.Man.No.Way.Home.2021.2160p.mkv",
     dict(kind=M, title="Spider-Man No Way Home", year=2021)),
    # editions of release names are version labels (both cuts in one folder were two
    # unlabelled "1080p" versions)
    ("Films/The Lord of the Rings (2001)/The.Lord.of.the.Rings.The.Fellowship.of.the.Ring.2001.EXTENDED.1080p.BluRay"
     ".x264-GRP.mkv", dict(kind=M, title="The Lord of the Rings The Fellowship of the Ring", year=2001,
                           version="Extended")),
    ("Films/Blade Runner (1982)/Blade.Runner.1982.Final.Cut.1080p.BluRay.x264.mkv",
     dict(kind=M, title="Blade Runner", year=1982, version="Final Cut")),
    ("Films/Blade Runner (1982)/Blade.Runner.1982.Directors.Cut.720p.mkv",
     dict(kind=M, title="Blade Runner", year=1982, version="Director's Cut")),
    ("Films/Blade Runner (1982)/Blade.Runner.1982.1080p.BluRay.x264.mkv",
     dict(kind=M, title="Blade Runner", year=1982)),
    ("Films/Avengers.Endgame.2019.IMAX.2160p.WEB-DL.mkv", dict(kind=M, title="Avengers Endgame", year=2019,
                                                               version="IMAX")),
    ("Films/The.Directors.Cut.2010.1080p.mkv", dict(kind=M, title="The Directors Cut", year=2010)),
    # the extras of a release folder belong to the film the release names
    ("Films/Tenet.2020.IMAX.2160p.UHD.BluRay.x265-GROUP/Extras/Tenet.Behind.the.Scenes.mkv",
     dict(kind=X, title="Tenet", year=2020, extra="other")),
    ("Films/Inception.2010.1080p.BluRay.x264-SPARKS/Featurettes/Dreams.mkv",
     dict(kind=X, title="Inception", year=2010, extra="featurette")),
    ("Films/Inception.2010.1080p.BluRay.x264-SPARKS/inception.2010.1080p.bluray.x264-sparks-trailer.mkv",
     dict(kind=X, title="Inception", year=2010, extra="trailer")),
]


@by_path(TABLE)
def test_names_found_by_the_hunt(path: str, expected: dict[str, object]) -> None:
    assert_parsed(path, expected)


@pytest.mark.parametrize("name", ["Heat (1995) Sample.mkv", "Heat (1995) sample.mkv", "Heat (1995).SAMPLE.mkv",
                                  "Heat (1995) - sample.mkv"])
def test_a_sample_after_the_year_is_not_indexed(name: str) -> None:
    assert not is_video_file(name)
    assert is_video_file("Heat (1995).mkv") and is_video_file("Sample (2010).mkv")
