"""The catalogue source (sources/catalog.py) and the Jellyfin item mapping
(sources/jellyfin.py ``item_of``), pure: a catalogue in, a Kodi-layout tree out that
the name parser and the NFO reader understand."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator

import pytest

from reelhouse.errors import NotFound, PermissionDenied
from reelhouse.library.metadata.nfo import parse_nfo
from reelhouse.library.naming import parse_media_path as parse_path
from reelhouse.sources.catalog import CatalogItem, CatalogSource, build_tree
from reelhouse.sources.jellyfin import item_of

# BaseItemDtos shaped as a Jellyfin 10.10 server writes them (field names and formats
# from its OpenAPI document: 7-digit fractions, ProviderIds, MediaSources)
MOVIE = {
    "Name": "Sintel", "ServerId": "a" * 32, "Id": "1f2e3d4c5b6a79880011223344556677", "Type": "Movie",
    "DateCreated": "2024-05-01T12:30:00.1234567Z", "ProductionYear": 2010, "Overview": "A girl & a dragon.",
    "Genres": ["Animation", "Fantasy"], "CommunityRating": 7.4,
    "ProviderIds": {"Tmdb": "45745", "Imdb": "tt1727587"},
    "ImageTags": {"Primary": "abc"}, "BackdropImageTags": ["def"],
    "MediaSources": [{"Id": "1f2e3d4c5b6a79880011223344556677", "Container": "mkv", "Size": 123456789,
                      "Protocol": "File", "MediaStreams": []}],
}
EPISODE = {
    "Name": "Pilot", "Id": "99887766554433221100ffeeddccbbaa", "Type": "Episode",
    "SeriesName": "Example Show", "SeriesId": "00112233445566778899aabbccddeeff",
    "SeasonId": "ffeeddccbbaa99887766554433221100", "ParentIndexNumber": 1, "IndexNumber": 2,
    "DateCreated": "2024-05-02T08:00:00.0000000Z", "SeriesPrimaryImageTag": "x",
    "MediaSources": [{"Id": "99887766554433221100ffeeddccbbaa", "Container": "mp4", "Size": 42}],
}


class FakeRemote:
    kind = "fake"

    def __init__(self, items: list[CatalogItem]) -> None:
        self.items = items
        self.calls = 0

    def catalog(self) -> list[CatalogItem]:
        self.calls += 1
        return list(self.items)

    def read(self, key: str, offset: int, length: int) -> Iterator[bytes]:
        yield (key.encode() * 100)[offset:offset + length]

    async def aread(self, key: str, offset: int, length: int) -> AsyncGenerator[bytes, None]:
        yield (key.encode() * 100)[offset:offset + length]

    def image(self, key: str) -> bytes:
        return b"IMG:" + key.encode()

    def close(self) -> None:
        pass


def test_item_of_jellyfin_dtos() -> None:
    movie = item_of(MOVIE, {})
    assert movie is not None and movie.kind == "movie" and movie.year == 2010 and movie.size == 123456789
    assert movie.tmdb_id == "45745" and movie.images == {"poster": f"{MOVIE['Id']}/Primary",
                                                        "fanart": f"{MOVIE['Id']}/Backdrop"}
    assert movie.mtime == 1714566600.0
    series = {EPISODE["SeriesId"]: {"ProductionYear": 2019, "ImageTags": {"Primary": "p"}}}
    ep = item_of(EPISODE, series)
    assert ep is not None and (ep.series, ep.season, ep.episode, ep.series_year) == ("Example Show", 1, 2, 2019)
    assert ep.series_images == {"poster": f"{EPISODE['SeriesId']}/Primary"}
    assert item_of({"Type": "Series", "Id": "x"}, {}) is None
    assert item_of({**MOVIE, "MediaSources": []}, {}) is None


def test_tree_reads_like_a_kodi_library() -> None:
    movie, ep = item_of(MOVIE, {}), item_of(EPISODE, {})
    assert movie is not None and ep is not None
    tree = build_tree([movie, ep, movie])
    film = "Films/Sintel (2010)/Sintel (2010).mkv"
    episode = "Shows/Example Show/Season 01/Example Show - S01E02 - Pilot.mp4"
    assert {film, episode} <= set(tree.files)
    assert "Films/Sintel (2010)/Sintel (2010)-poster.jpg" in tree.files
    assert "Shows/Example Show/tvshow.nfo" in tree.files
    assert set(tree.dirs[""]) == {"Films", "Shows"}
    parsed = parse_path(film)
    assert (parsed.title, parsed.year) == ("Sintel", 2010)
    parsed_ep = parse_path(episode)
    assert (parsed_ep.title, parsed_ep.season, parsed_ep.episode) == ("Example Show", 1, 2)
    nfo = parse_nfo(tree.files["Films/Sintel (2010)/Sintel (2010).nfo"].data or b"")
    assert nfo is not None and nfo.title == "Sintel" and nfo.tmdb_id == 45745 and nfo.imdb_id == "tt1727587"
    assert nfo.overview == "A girl & a dragon." and nfo.genres == ["Animation", "Fantasy"]


def test_catalog_source_reads_and_refreshes() -> None:
    movie = item_of(MOVIE, {})
    assert movie is not None
    remote = FakeRemote([movie])
    src = CatalogSource(remote)
    assert [e.name for e in src.list("")] == ["Films"]
    path = "Films/Sintel (2010)/Sintel (2010).mkv"
    assert src.stat(path).size == 123456789
    assert b"".join(src.read_range(path, 3, 10)) == (movie.key.encode() * 100)[3:13]
    poster = "Films/Sintel (2010)/Sintel (2010)-poster.jpg"
    assert src.stat(poster).size is None and b"".join(src.read_range(poster, 0, 1 << 20)).startswith(b"IMG:")
    src.list("Films")
    assert remote.calls == 1  # only listing the root asks the remote again
    remote.items = []
    assert src.list("") == [] and remote.calls == 2
    with pytest.raises(NotFound):
        src.stat(path)
    with pytest.raises(PermissionDenied):
        src.delete("Films")
