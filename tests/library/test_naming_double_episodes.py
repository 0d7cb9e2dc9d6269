"""Double episodes written as two numbers of one season: ``Friends - 101-102`` (the
3-digit "SEE" form, as the scene and Plex write it) is S01E01-E02, as a user of a TV
show means it, not the absolute episodes 101 to 102 of an anime; and so are ``101 &
102``, ``Show.101.102``, ``1x01 & 1x02``, ``S01E01 & E02`` … which lost their second
episode (or were a film "Show 101 102"). Absolute ranges that are no season's
(``Bleach - 365-366``, ``One Piece - 1001-1002``) and a lone ``Show - 101`` keep their
reading, and so does a range in a folder of absolute numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelhouse.library.naming import parse_media_path, parse_media_paths

DOUBLE = [
    "Friends - 101-102.mkv",
    "Friends/Friends - 101-102.mkv",
    "Shows/Friends/Season 1/Friends - 101-102.mkv",
    "Friends - 101 & 102.mkv",
    "Shows/Friends/Season 1/Friends - 101 & 102.mkv",
    "Friends.101.102.mkv",
    "Friends.101-102.720p.HDTV.x264-GRP.mkv",
    "Shows/Friends/Season 1/Friends.101.102.mkv",
    "Friends - 1x01 & 1x02.mkv",
    "Friends.1x01.1x02.mkv",
    "Friends 1x01-1x02.mkv",
    "Friends.S01E01-E02.mkv",
    "Friends - S01E01 & S01E02.mkv",
    "Friends S01E01 & E02.mkv",
    "Friends.S01E01+E02.mkv",
    "Friends - 101+102.mkv",
    "Friends - 101-102 - The One Where.mkv",
    "Friends/Season 1/101-102 - The One Where.mkv",
    "Friends/Season 1/Friends 101-102.mkv",
    "Friends/Friends 101-102.mkv",
]


@pytest.mark.parametrize("path", DOUBLE)
def test_a_double_episode_is_one_seasons_two_episodes(path: str) -> None:
    p = parse_media_path(path)
    assert (p.kind, p.title, p.season, p.episode, p.episode_end) == ("episode", "Friends", 1, 1, 2), p


@pytest.mark.parametrize(("path", "episode", "end"), [
    ("Anime/Bleach/Bleach - 365-366.mkv", 365, 366),
    ("One Piece - 1001-1002.mkv", 1001, 1002),
    ("Anime/Bleach/[Group] Bleach - 001-002 [1080p].mkv", 1, 2),
    ("Friends - 101.mkv", 101, None),
    ("One Piece/One Piece 1001-1002.mkv", 1001, 1002),
])
def test_absolute_numbers_stay_absolute(path: str, episode: int, end: int | None) -> None:
    p = parse_media_path(path)
    assert (p.kind, p.season, p.episode, p.episode_end) == ("episode", 1, episode, end), p


def test_a_range_in_a_folder_of_absolute_numbers_stays_absolute() -> None:
    paths = ["Naruto/Season 1/Naruto - 001.mkv", "Naruto/Season 1/Naruto - 101-102.mkv"]
    assert [(p.episode, p.episode_end) for p in parse_media_paths(paths)] == [(1, None), (101, 102)]


@given(season=st.integers(1, 9), episode=st.integers(1, 29), more=st.integers(1, 5),
       sep=st.sampled_from(["-", " & ", "&"]), title=st.sampled_from(["Friends", "The Office", "Lost"]))
def test_any_double_episode(season: int, episode: int, more: int, sep: str, title: str) -> None:
    end = min(episode + more, 30)
    p = parse_media_path(f"{title} - {season}{episode:02d}{sep}{season}{end:02d}.mkv")
    assert (p.title, p.season, p.episode, p.episode_end) == (title, season, episode, end), p
