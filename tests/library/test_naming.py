"""Tests for reelhouse.library.naming: a table of real-world release names, then
properties (pure code: no I/O)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reelhouse.library.naming import (
    MEDIA_EXTENSIONS,
    Parsed,
    is_media_file,
    is_media_path,
    match_key,
    parse_media_path,
)

MOVIES: list[tuple[str, str, int | None]] = [
    ("Big Buck Bunny (2008)/Big.Buck.Bunny.2008.1080p.mp4", "Big Buck Bunny", 2008),
    ("Sintel.2010.720p.mkv", "Sintel", 2010),
    ("Tears.of.Steel.2012.mkv", "Tears of Steel", 2012),
    ("Films/Big.Buck.Bunny.2008.mkv", "Big Buck Bunny", 2008),
    ("The Matrix (1999)/The.Matrix.1999.1080p.BluRay.x264.mkv", "The Matrix", 1999),
    ("Movies/Blade Runner 2049 (2017)/Blade.Runner.2049.2017.2160p.UHD.BluRay.mkv",
     "Blade Runner 2049", 2017),
    ("2001 A Space Odyssey (1968).mkv", "2001 A Space Odyssey", 1968),
    ("Amélie (2001)/Amélie [1080p] \"Director's Cut\".mkv", "Amélie", 2001),
    # the folder names the film when the file name does not
    ("Spirited Away (2001)/千と千尋の神隠し.mkv", "Spirited Away", 2001),
    ("千と千尋の神隠し.mkv", "千と千尋の神隠し", None),
    ("Alien.1979.Directors.Cut.mkv", "Alien", 1979),
    ("Star Wars Episode IV A New Hope (1977).mkv", "Star Wars Episode IV A New Hope", 1977),
]

EPISODES: list[tuple[str, str, int, int, str | None]] = [
    ("The Office (US)/Season 01/The.Office.S01E01.mkv", "The Office (US)", 1, 1, None),
    ("The Office (US)/Season 01/The.Office.US.S01E02.Diversity.Day.720p.mkv",
     "The Office (US)", 1, 2, "Diversity Day"),
    ("Breaking Bad/Season 2/Breaking.Bad.S02E03.720p.BluRay.x264.mkv", "Breaking Bad", 2, 3, None),
    ("Breaking Bad/Breaking.Bad.S05E16.Felina.1080p.mkv", "Breaking Bad", 5, 16, "Felina"),
    ("Game of Thrones/Season 08/Game.of.Thrones.S08E06.The.Iron.Throne.1080p.mkv",
     "Game of Thrones", 8, 6, "The Iron Throne"),
    ("Friends/Season 1/Friends - 1x01 - The One Where Monica Gets a Roommate.avi", "Friends", 1, 1,
     "The One Where Monica Gets a Roommate"),
    ("Sherlock/Season 2/sherlock.s02e01.a.scandal.in.belgravia.mkv", "Sherlock", 2, 1,
     "a scandal in belgravia"),
    ("Westworld/S01/Westworld.S01E01.mkv", "Westworld", 1, 1, None),
    ("Dark/Season 3/Dark.S03E08.German.1080p.mkv", "Dark", 3, 8, None),
    ("The.Mandalorian.S01E01.Chapter.1.mkv", "The Mandalorian", 1, 1, "Chapter 1"),
]


@pytest.mark.parametrize(("path", "title", "year"), MOVIES)
def test_movies(path: str, title: str, year: int | None) -> None:
    got = parse_media_path(path)  # an edition after the year is a version label (test_naming_hunt.py)
    assert got == Parsed(kind="movie", title=title, year=year, version=got.version)
    assert got.version is None or path == "Alien.1979.Directors.Cut.mkv"


@pytest.mark.parametrize(("path", "title", "season", "episode", "episode_title"), EPISODES)
def test_episodes(path: str, title: str, season: int, episode: int,
                  episode_title: str | None) -> None:
    p = parse_media_path(path)
    assert (p.kind, p.title, p.season, p.episode, p.episode_title) == (
        "episode", title, season, episode, episode_title)


def test_show_year_from_folder() -> None:
    p = parse_media_path("Shows/Doctor Who (2005)/Series 4/Doctor.Who.2005.S04E01.mkv")
    assert (p.kind, p.title, p.year, p.season, p.episode) == ("episode", "Doctor Who", 2005, 4, 1)


def test_episodes_of_one_show_share_a_key() -> None:
    a = parse_media_path("The Office (US)/Season 01/The.Office.S01E01.mkv")
    b = parse_media_path("The Office (US)/Season 01/The.Office.US.S01E02.Diversity.Day.720p.mkv")
    assert match_key(a.title) == match_key(b.title)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.mkv", True), ("A.MKV", True), ("x.mp4", True), ("x.m4v", True), ("x.avi", True),
        ("x.webm", True), ("x.ts", True), ("x.m2ts", True), ("x.vob", True),
        ("Amélie [1080p] \"Director's Cut\".mkv", True), ("千と千尋の神隠し.mkv", True),
        ("readme.txt", False), ("movie.nfo", False), ("cover.jpg", False), ("subs.srt", False),
        ("noext", False), (".mkv", False), ("x.mkv.part", False),
        # samples and trailers are skipped
        ("Inception.2010.sample.mkv", False), ("sample.mkv", False), ("Sample-Inception.mkv", False),
        ("Dune.2021.Trailer.mp4", False), ("Inception [trailer].mkv", False),
        ("movie (sample).mkv", False),
        # ... but not words that merely contain them
        ("Samples.of.Life.2019.mkv", True), ("The.Trailers.Park.2020.mkv", True),
        ("The.Sample.2020.1080p.mkv", True), ("Movie.Trailer.Reviews.2019.mkv", True),
    ],
)
def test_is_media_file(name: str, expected: bool) -> None:
    assert is_media_file(name) is expected

@pytest.mark.parametrize("name", ["Trailer.Park.Boys.S01E01.mkv", "Trailer Park Boys S01E01.mkv",
                                  "Sample.Sale.2021.1080p.mkv"])
def test_titles_containing_skip_words_are_media(name: str) -> None:
    assert is_media_file(name)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Big Buck Bunny (2008)/Big.Buck.Bunny.2008.1080p.mp4", True),
        ("The Office (US)/Season 01/The.Office.S01E01.mkv", True),
        ("Samples of Life (2019)/Samples.of.Life.2019.mkv", True),
        ("Inception (2010)/Sample/inception.mkv", False),
        ("Inception (2010)/sample/x.mkv", False),
        ("Inception (2010)/Trailers/Inception.2010.mkv", False),
        ("Inception (2010)/Extras/Making.Of.mkv", False),
        ("Inception (2010)/Featurettes/Dreams.mkv", False),
        ("Inception (2010)/Behind The Scenes/x.mkv", False),
        ("Inception (2010)/Deleted Scenes/x.mkv", False),
        ("Inception (2010)/Inception.2010.sample.mkv", False),
        ("Inception (2010)/notes.txt", False),
        ("", False),
        ("/", False),
    ],
)
def test_is_media_path(path: str, expected: bool) -> None:
    assert is_media_path(path) is expected


def test_media_extensions_are_lowercase_with_dot() -> None:
    assert all(e.startswith(".") and e == e.lower() for e in MEDIA_EXTENSIONS)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("The Office (US)", None), ("the office us", None)),
        (("Amélie", 2001), ("AMELIE", 2001)),
        (("Spider-Man: No Way Home", 2021), ("Spider Man  No Way Home", 2021)),
        (("Straße", None), ("STRASSE", None)),
    ],
)
def test_match_key_equal(a: tuple[str, int | None], b: tuple[str, int | None]) -> None:
    assert match_key(*a) == match_key(*b)


def test_match_key_keeps_year_and_script() -> None:
    assert match_key("Dune", 1984) != match_key("Dune", 2021)
    assert match_key("Dune") == "dune|"
    assert match_key("千と千尋の神隠し") == "千と千尋の神隠し|"


@settings(max_examples=200)
@given(st.text(max_size=40), st.one_of(st.none(), st.integers(1880, 2100)))
def test_match_key_properties(title: str, year: int | None) -> None:
    key = match_key(title, year)
    assert key.endswith(f"|{year or ''}")
    text = key.rsplit("|", 1)[0]
    assert text == text.strip() and "  " not in text
    assert match_key(text, year) == key  # a key's text is its own key


path_part = st.text(alphabet=st.characters(blacklist_characters="/\x00"), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(st.lists(path_part, min_size=0, max_size=3),
       path_part, st.sampled_from([".mkv", ".mp4", ".avi", ""]))
def test_parse_never_fails(folders: list[str], stem: str, ext: str) -> None:
    p = parse_media_path("/".join([*folders, stem + ext]))
    assert p.kind in ("movie", "episode", "extra", "other")
    assert isinstance(p.title, str) and p.title
    if p.kind == "episode":
        assert isinstance(p.season, int) and isinstance(p.episode, int)
    if p.year is not None:
        assert isinstance(p.year, int)
