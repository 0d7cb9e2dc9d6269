"""Release-named films read without guessit's rule engine (naming/release.py): the
words before the year are the title when guessit's own tags follow it; whatever the
fast path is not sure of goes to guessit, and where both read a name they agree."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from guessit.api import GuessItApi
from hypothesis import given, settings
from hypothesis import strategies as st

from reelhouse.library.naming import Parsed, match_key, parse_media_path, parse_media_paths
from reelhouse.library.naming.release import ReleaseTitle, release_tag, release_title

FAST: list[tuple[str, ReleaseTitle]] = [
    ("Blade.Runner.2049.2017.2160p.UHD.BluRay.x265-TERMINAL", ReleaseTitle("Blade Runner 2049", 2017)),
    ("2001.A.Space.Odyssey.1968.1080p.BluRay.x264-AMIABLE", ReleaseTitle("2001 A Space Odyssey", 1968)),
    ("The.Departed.2006.720p.WEB-DL.DD5.1.H.264-NTb", ReleaseTitle("The Departed", 2006)),
    ("Joker.2019.1080p.AMZN.WEB-DL.DDP5.1.H.264-NTG", ReleaseTitle("Joker", 2019)),
    ("Dune 2021 2160p WEB-DL DDP5.1 Atmos DV HEVC-FLUX", ReleaseTitle("Dune", 2021)),
    ("Heat.1995.1080p.BluRay.REMUX.AVC.DTS-HD.MA.5.1-EPSiLON", ReleaseTitle("Heat", 1995)),
    ("Alien.1979.Directors.Cut.1080p.BluRay.x264", ReleaseTitle("Alien", 1979)),
    ("Amelie.2001.FRENCH.720p.BluRay.x264-ROUGH", ReleaseTitle("Amelie", 2001)),
    ("Amelie.2001.MULTi.VOSTFR.1080p.BluRay.x264-LOST", ReleaseTitle("Amelie", 2001)),
    ("Das.Boot.1981.GERMAN.DL.1080p.BluRay.x264-DETAiLS", ReleaseTitle("Das Boot", 1981)),
    ("Coco.2017.1080p.WEBRip.x264.AAC5.1-[YTS.MX]", ReleaseTitle("Coco", 2017)),
    ("WALL-E.2008", ReleaseTitle("WALL-E", 2008)),
    ("Ben-Hur.1959.EXTENDED.1080p.BluRay.x264", ReleaseTitle("Ben-Hur", 1959)),
    ("1917.2019.iNTERNAL.1080p.BluRay.x264-GUACAMOLE", ReleaseTitle("1917", 2019)),
    ("Life.Is.Beautiful.1997.1080p.BluRay.x264", ReleaseTitle("Life Is Beautiful", 1997)),
    ("Dune.Part.Two.2024.2160p.WEB-DL.x265", ReleaseTitle("Dune Part Two", 2024)),
    ("Heat.1995.Disc1", ReleaseTitle("Heat", 1995, part=1)),
    ("Crouching.Tiger.Hidden.Dragon.BDrip-HDC", ReleaseTitle("Crouching Tiger Hidden Dragon", None)),
    ("American Psycho", ReleaseTitle("American Psycho", None)),
]

#: names only guessit reads: an unknown word after the year, tags or part/volume words
#: in the title, acronyms, brackets, an episode-like tail
SLOW = [
    "Apocalypse.Now.1979.Redux", "The.Man.1999.Returns.1080p", "Kill.Bill.Vol.1.2003.CD1",
    "Extended.Family.2020.1080p.WEB", "Unrated.Movie.2001.720p", "L.A.Confidential.1997.1080p",
    "[Grp] Movie 2010 1080p", "Movie.2010.S01.1080p", "Movie.1080p.2010", "1917", "Apollo 13",
    "3.Days.to.Kill.2014.720p.BluRay.x264.YIFY", "The Italian Job 1969 Something",
]


@pytest.mark.parametrize(("stem", "expected"), FAST, ids=[s for s, _ in FAST])
def test_release_names_read_without_guessit(stem: str, expected: ReleaseTitle) -> None:
    assert release_title(stem) == expected


@pytest.mark.parametrize("stem", SLOW)
def test_names_the_fast_path_is_not_sure_of_go_to_guessit(stem: str) -> None:
    assert release_title(stem) is None


def test_the_vocabulary_is_guessits() -> None:
    tags = {"BluRay": "source", "WEB-DL": "source", "2160p": "screen_size", "x265": "video_codec",
            "H.264": "video_codec", "DTS-HD.MA": "audio_codec", "DDP5.1": "audio_codec", "5.1": "audio_channels",
            "10bit": "color_depth", "AMZN": "streaming_service", "REMUX": "other", "HDR10": "other",
            "Directors.Cut": "edition", "IMAX": "edition", "VOSTFR": "language", "TRUEFRENCH": "language"}
    assert {word: release_tag(word) for word in tags} == tags
    assert [release_tag(w) for w in ("Heat", "The", "Returns", "TERMINAL")] == [None] * 4


TITLES = [
    "The Shawshank Redemption|1994", "The Dark Knight|2008", "12 Angry Men|1957", "Pulp Fiction|1994",
    "The Lord of the Rings The Return of the King|2003", "Se7en|1995", "It's a Wonderful Life|1946",
    "Terminator 2 Judgment Day|1991", "Once Upon a Time in the West|1968", "Spirited Away|2001",
    "Inglourious Basterds|2009", "Toy Story 3|2010", "Mr Smith Goes to Washington|1939",
    "The Man Who Knew Too Much|1956", "Pan's Labyrinth|2006", "How to Train Your Dragon|2010",
    "Everything Everywhere All at Once|2022", "The Grand Budapest Hotel|2014", "Spider-Man Into the Spider-Verse|2018",
]
TAILS = ["1080p.BluRay.x264-SPARKS", "2160p.UHD.BluRay.REMUX.HDR.HEVC.Atmos-EPSiLON",
         "720p.WEB-DL.DD5.1.H.264-NTb", "REMASTERED.1080p.BluRay.x264-AMIABLE", ""]


def test_the_fast_path_agrees_with_guessit_where_both_read_a_name() -> None:
    api = GuessItApi()
    names = [f"{t.replace(' ', sep)}{sep}{y}{sep + tail.replace('.', sep) if tail else ''}"
             for i, (t, y) in enumerate(r.split("|") for r in TITLES)
             for j, tail in enumerate(TAILS) for sep in (".", " ")[(i + j) % 2:][:1]]
    differ = []
    for name in names:
        fast = release_title(name)
        assert fast is not None, name
        guess = api.guessit(name + ".mkv", {"type": "movie"})
        if match_key(fast.title, fast.year) != match_key(str(guess.get("title")), guess.get("year")):
            differ.append(name)
    assert differ == [], differ


_WORD = st.sampled_from(["Heat", "River", "Night", "Dark", "Blue", "City", "Love", "Road", "Star", "Fire"])
_TAG = st.sampled_from(["1080p", "720p", "BluRay", "WEB-DL", "x264", "x265", "HEVC", "DTS", "AAC", "REMUX",
                        "DDP5.1", "10bit", "HDR", "PROPER", "EXTENDED"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_WORD, min_size=1, max_size=5), st.integers(1920, 2030), st.lists(_TAG, max_size=6),
       st.sampled_from([".", " "]), st.sampled_from(["", "-GRP", "-SPARKS"]))
def test_title_year_tags_group(words: list[str], year: int, tags: list[str], sep: str, group: str) -> None:
    """Any title of plain words, a year, release tags and a group: the words and year."""
    stem = sep.join([*words, str(year), *tags]) + (group if tags else "")
    assert release_title(stem) == ReleaseTitle(" ".join(words), year)
    parsed = parse_media_path(f"Movies/{stem}.mkv")
    assert (parsed.kind, parsed.title, parsed.year) == ("movie", " ".join(words), year)


def _table_paths() -> list[str]:
    from library import test_naming_rules as rules  # tests/ is on the path (pyproject)
    from library import test_naming_servers as servers
    from library import test_naming_table as table

    paths = [p for _, p, _ in servers._cases()] + [p for p, _ in rules.TABLE] + [p for p, _ in table.TABLE]
    return [p for p in paths if p]


def test_a_listing_at_once_names_as_one_by_one() -> None:
    """parse_media_paths == parse_media_path per path, with the guessit residue handed to
    the given map in one call (the scanner's process pool), and small."""
    paths = _table_paths()
    calls: list[list[str]] = []

    def recording_map(fn: Callable[[str], Parsed], todo: list[str]) -> list[Parsed]:
        calls.append(list(todo))
        return [fn(p) for p in todo]

    expected = [parse_media_path(p) for p in paths]
    assert parse_media_paths(paths) == expected
    assert parse_media_paths(paths, recording_map) == expected
    assert len(calls) == 1 and 0 < len(calls[0]) < len(paths) / 5
    assert parse_media_paths([]) == []
