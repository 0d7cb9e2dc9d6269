"""Three- and four-digit episode numbers in a season folder: "Friends - 101 - Pilot" in
``Season 1`` is season 1 episode 1 (a season-and-episode number, as guessit and Sonarr's
standard parser read "101"), while an anime's ``Season 1`` running 001-220 keeps its
absolute numbers (Sonarr's anime parser, Jellyfin's "Season 21/One Piece 1001"). The
folder's other files decide where the scanner sees them. Pure: no I/O."""

from __future__ import annotations

from library.naming_cases import Case, assert_fields, by_path

from reelhouse.library.naming import absolute_folders, parse_media_path, parse_media_paths

E = "episode"

# one path at a time (a rescan of one file): the season folder and the number's shape decide
ALONE: list[Case] = [
    ("Friends/Season 1/Friends - 101 - Pilot.mkv", dict(title="Friends", season=1, episode=1)),
    ("Friends/Season 1/Friends - 124 - The One Where Rachel Finds Out.mkv",
     dict(title="Friends", season=1, episode=24)),
    ("Friends/Season 01/Friends 102.mkv", dict(title="Friends", season=1, episode=2)),
    ("Show/Season 2/205 - The Fifth.mkv", dict(title="Show", season=2, episode=5)),
    ("Show/Season 10/Show - 1003 - Ten Three.mkv", dict(title="Show", season=10, episode=3)),
    # zero-padded, or its leading digits not the folder's season, or "x00": absolute
    ("Naruto/Season 1/Naruto - 001 - Enter Naruto.mkv", dict(title="Naruto", season=1, episode=1)),
    ("Naruto/Season 1/Naruto - 220 - Departure.mkv", dict(title="Naruto", season=1, episode=220)),
    ("Naruto/Season 1/Naruto - 100 - Sensing.mkv", dict(title="Naruto", season=1, episode=100)),
    ("One Piece/Season 21/One Piece 1001.mkv", dict(title="One Piece", season=21, episode=1001)),
    ("Show/Season 2/Show - 105.mkv", dict(title="Show", season=2, episode=105)),
    # written forms that say season and episode already
    ("Show - 1x01.mkv", dict(title="Show", season=1, episode=1)),
    ("Show - 01x01.mkv", dict(title="Show", season=1, episode=1)),
    ("Show/Season 1/Show - 1x01.mkv", dict(title="Show", season=1, episode=1)),
    ("Show/Season 1/Show - Episode 101.mkv", dict(title="Show", season=1, episode=101)),
    # no season folder: a show folder's bare number is absolute (Jellyfin's "The Simpsons 82")
    ("Show/Show 102.mkv", dict(title="Show", season=1, episode=102)),
]


@by_path(ALONE)
def test_one_path(path: str, expected: dict[str, object]) -> None:
    assert_fields(path, {"kind": E, **expected})


def test_lone_number_without_any_folder_is_a_film() -> None:
    """"Show 102.mkv" alone is "Fahrenheit 451.mkv" or "Apollo 13.mkv": a film, as
    Jellyfin and Plex read a lone file (guessit would say S01E02)."""
    parsed = parse_media_path("Show 102.mkv")
    assert (parsed.kind, parsed.title, parsed.episode) == ("movie", "Show 102", None)


def _episodes(paths: list[str]) -> list[tuple[int | None, int | None]]:
    return [(p.season, p.episode) for p in parse_media_paths(paths)]


def test_anime_season_folder_keeps_absolute_numbers() -> None:
    """Naruto's "Season 1" runs 001-220: its 101-199 are absolute, not S1E01-S1E99
    (which 001-099 hold)."""
    paths = [f"Naruto/Season 1/Naruto - {n:03d} - Title {n}.mkv" for n in (1, 2, 99, 100, 101, 150, 199, 220)]
    assert _episodes(paths) == [(1, n) for n in (1, 2, 99, 100, 101, 150, 199, 220)]


def test_anime_folder_in_any_order_and_with_other_folders() -> None:
    paths = ["Friends/Season 1/Friends - 101 - Pilot.mkv", "Naruto/Season 1/Naruto - 150.mkv",
             "Friends/Season 1/Friends - 102 - Sonogram.mkv", "Naruto/Season 1/Naruto - 012.mkv"]
    assert _episodes(paths) == [(1, 1), (1, 150), (1, 2), (1, 12)]


def test_sitcom_season_folder_reads_season_and_episode() -> None:
    paths = [f"Friends/Season 1/Friends - 1{n:02d} - Title.mkv" for n in range(1, 25)]
    paths += [f"Friends/Season 2/Friends - 2{n:02d} - Title.mkv" for n in range(1, 25)]
    assert _episodes(paths) == [(1, n) for n in range(1, 25)] + [(2, n) for n in range(1, 25)]


def test_season_and_episode_files_beside_do_not_make_a_folder_absolute() -> None:
    """An "S01E05" or "1x06" file beside "Friends - 107" says nothing against it."""
    paths = ["Friends/Season 1/Friends - 107 - Title.mkv", "Friends/Season 1/Friends S01E05.mkv",
             "Friends/Season 1/Friends - 1x06.mkv"]
    assert _episodes(paths) == [(1, 7), (1, 5), (1, 6)]


def test_absolute_folders_given_from_the_whole_listing() -> None:
    """The scanner names a folder's new files only: the folders it found absolute in the
    whole listing are passed in."""
    listing = ["Naruto/Season 1/Naruto - 001.mkv", "Naruto/Season 1/Naruto - 150.mkv",
               "Friends/Season 1/Friends - 101.mkv", "Films/Fahrenheit 451 (1966).mkv", "Naruto/Season 2/x.nfo"]
    absolute = absolute_folders(listing)
    assert absolute == {"Naruto/Season 1"}
    new = ["Naruto/Season 1/Naruto - 150.mkv", "Friends/Season 1/Friends - 101.mkv"]
    assert [(p.season, p.episode) for p in parse_media_paths(new, absolute=absolute)] == [(1, 150), (1, 1)]
    assert [(p.season, p.episode) for p in parse_media_paths(new)] == [(1, 50), (1, 1)]  # alone: by shape
