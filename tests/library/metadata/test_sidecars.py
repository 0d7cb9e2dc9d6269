"""Which NFO and artwork files belong to which media file (Kodi's naming)."""

from __future__ import annotations

import pytest

from reelhouse.library.metadata.sidecars import FolderIndex, is_sidecar, show_folder
from reelhouse.sources.base import Entry


def index(*paths: str) -> FolderIndex:
    folders: dict[str, list[Entry]] = {}
    for path in paths:
        folder, _, name = path.rpartition("/")
        folders.setdefault(folder, []).append(Entry(name, path, False, 10, 1.0))
    idx = FolderIndex()
    for folder, entries in folders.items():
        idx.add(folder, entries)
    return idx


def names(*entries: Entry | None) -> list[str | None]:
    return [e.path if e else None for e in entries]


def test_is_sidecar() -> None:
    assert [is_sidecar(n) for n in ("movie.nfo", "POSTER.JPG", "a.png", "b.webp", "c.mkv", "d.srt")] == [
        True, True, True, True, False, False]


@pytest.mark.parametrize(("path", "expected"), [
    ("The Office/Season 01/The.Office.S01E01.mkv", "The Office"),
    ("Shows/Dark/Staffel 2/Dark.S02E01.mkv", "Shows/Dark"),
    ("Dark/Specials/Dark.S00E01.mkv", "Dark"),
    ("Dark/Dark.S01E01.mkv", "Dark"),
    ("Season 1/Show.S01E01.mkv", None),
    ("Show.S01E01.mkv", None),
])
def test_show_folder(path: str, expected: str | None) -> None:
    assert show_folder(path) == expected


def test_movie_in_own_folder_uses_generic_names() -> None:
    idx = index("Big Buck Bunny (2008)/bbb.mp4", "Big Buck Bunny (2008)/movie.nfo",
                "Big Buck Bunny (2008)/poster.jpg", "Big Buck Bunny (2008)/fanart.png")
    path = "Big Buck Bunny (2008)/bbb.mp4"
    assert names(idx.movie_nfo(path)) == ["Big Buck Bunny (2008)/movie.nfo"]
    assert names(*idx.movie_art(path)) == ["Big Buck Bunny (2008)/poster.jpg", "Big Buck Bunny (2008)/fanart.png"]


def test_named_files_win_over_generic_ones_and_case_is_ignored() -> None:
    idx = index("F/Film.mkv", "F/Film.NFO", "F/movie.nfo", "F/Film-Poster.jpg", "F/poster.jpg",
                "F/folder.jpg", "F/Film-fanart.webp")
    assert names(idx.movie_nfo("F/Film.mkv")) == ["F/Film.NFO"]
    assert names(*idx.movie_art("F/Film.mkv")) == ["F/Film-Poster.jpg", "F/Film-fanart.webp"]


def test_shared_folder_ignores_generic_names() -> None:
    idx = index("Films/A (2001).mkv", "Films/B (2002).mkv", "Films/poster.jpg", "Films/movie.nfo",
                "Films/B (2002)-poster.jpg", "Films/B (2002).nfo")
    assert names(idx.movie_nfo("Films/A (2001).mkv"), *idx.movie_art("Films/A (2001).mkv")) == [None, None, None]
    assert names(idx.movie_nfo("Films/B (2002).mkv")) == ["Films/B (2002).nfo"]
    assert names(idx.movie_art("Films/B (2002).mkv")[0]) == ["Films/B (2002)-poster.jpg"]


def test_parts_of_one_film_share_the_generic_names() -> None:
    idx = index("Heat (1995)/Heat.1995.CD1.avi", "Heat (1995)/Heat.1995.CD2.avi", "Heat (1995)/poster.jpg",
                "Heat (1995)/movie.nfo", "Alien (1979)/Alien-part1.mkv", "Alien (1979)/Alien - Part 2.mkv",
                "Alien (1979)/folder.jpg")
    assert names(idx.movie_nfo("Heat (1995)/Heat.1995.CD2.avi"), idx.movie_art("Heat (1995)/Heat.1995.CD1.avi")[0]) == [
        "Heat (1995)/movie.nfo", "Heat (1995)/poster.jpg"]
    assert names(idx.movie_art("Alien (1979)/Alien-part1.mkv")[0]) == ["Alien (1979)/folder.jpg"]


def test_root_ignores_generic_names() -> None:
    idx = index("Film.mkv", "poster.jpg", "movie.nfo")
    assert names(idx.movie_nfo("Film.mkv"), *idx.movie_art("Film.mkv")) == [None, None, None]


def test_show_season_and_episode_files() -> None:
    idx = index(
        "Dark/tvshow.nfo", "Dark/folder.jpg", "Dark/fanart.jpg", "Dark/season01-poster.jpg",
        "Dark/season-specials-poster.jpg",
        "Dark/Season 1/Dark.S01E01.mkv", "Dark/Season 1/Dark.S01E01.nfo", "Dark/Season 1/Dark.S01E01-thumb.jpg",
        "Dark/Season 2/Dark.S02E01.mkv", "Dark/Season 2/poster.jpg",
        "Dark/Specials/Dark.S00E01.mkv",
    )
    e1, e2, sp = "Dark/Season 1/Dark.S01E01.mkv", "Dark/Season 2/Dark.S02E01.mkv", "Dark/Specials/Dark.S00E01.mkv"
    assert names(idx.show_nfo(e1), *idx.show_art(e2)) == ["Dark/tvshow.nfo", "Dark/folder.jpg", "Dark/fanart.jpg"]
    assert names(idx.season_poster(e1, 1), idx.season_poster(e2, 2), idx.season_poster(sp, 0)) == [
        "Dark/season01-poster.jpg", "Dark/Season 2/poster.jpg", "Dark/season-specials-poster.jpg"]
    assert names(idx.episode_nfo(e1), idx.episode_thumb(e1)) == [
        "Dark/Season 1/Dark.S01E01.nfo", "Dark/Season 1/Dark.S01E01-thumb.jpg"]
    assert names(idx.episode_nfo(e2), idx.episode_thumb(e2)) == [None, None]


def test_unlisted_folder_finds_nothing() -> None:
    idx = FolderIndex()
    assert idx.movie_nfo("X/y.mkv") is None
    assert idx.show_art("X/Season 1/y.S01E01.mkv") == (None, None)


def test_a_listing_is_indexed_when_first_asked_for() -> None:
    from reelhouse.library.probing import sidecars_from_json, sidecars_to_json

    listing = [Entry("Dark.S01E01.mkv", "Dark/Dark.S01E01.mkv", False, 10, 1.0),
               Entry("tvshow.nfo", "Dark/tvshow.nfo", False, 1, 1.0), Entry("Season 1", "Dark/Season 1", True)]
    idx = FolderIndex()
    idx.add("Dark", listing)
    assert idx.sidecars == {}  # adding a listing reads none of its entries
    assert names(idx.show_nfo("Dark/Dark.S01E01.mkv")) == ["Dark/tvshow.nfo"]
    assert list(idx.sidecars) == ["Dark"] and idx.single("Dark")
    idx.add("Dark", (e for e in listing[:1]))  # listed again (any iterable): the new listing counts
    assert idx.show_nfo("Dark/Dark.S01E01.mkv") is None
    idx.add("Dark", listing)
    again = sidecars_from_json(sidecars_to_json(idx, ["Dark/Dark.S01E01.mkv", "Else/x.mkv"]))
    assert names(again.show_nfo("Dark/Dark.S01E01.mkv")) == ["Dark/tvshow.nfo"] and list(again.sidecars) == ["Dark"]
    idx.add("Films", [Entry("Sintel.2010.mkv", "Films/Sintel.2010.mkv", False, 10, 1.0)])
    idx.index_all()  # every listing indexed, none kept
    assert list(idx.sidecars) == ["Dark"] and idx._listed == {}
    assert names(idx.show_nfo("Dark/Dark.S01E01.mkv")) == ["Dark/tvshow.nfo"]
