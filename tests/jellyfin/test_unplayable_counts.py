"""The counts of the Jellyfin API agree with its lists, which hide the titles whose
visible files all failed their probe (a Jellyfin app would offer them and fail): a
genre that only such a film has is no genre (``Genres``, ``Items/Filters``,
``Items/Filters2``, ``Genres/{name}``), its year no filter year; a series' ``ChildCount``
is the seasons ``Items`` lists for it (not a season whose episodes are all broken), its
``RecursiveItemCount`` and a season's counts the episodes listed; ``Items/Counts`` (not
served before) the films, series and episodes listed. The same rule holds per
user (source grants): a film whose good file is on a source the user may not see is
hidden from their lists — ``Filters=IsUnplayed`` too, which listed any film with an
unwatched present file, on any source — and uncounted."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jellyfin.support import set_genres
from jellyfin.test_users import login

from reelhouse.auth.users import UserChange
from reelhouse.core import Core
from reelhouse.db.models import Show
from reelhouse.server import create_app

from helpers import ENGINES, place, put_garbled, scan_local

pytestmark = pytest.mark.requires_ffmpeg


def _names(body: dict[str, object]) -> list[str]:
    return [str(i["Name"]) for i in body["Items"]]  # type: ignore[attr-defined]


@pytest.mark.parametrize("core", ENGINES, indirect=True)
def test_counts_leave_out_what_the_lists_hide(core: Core, client: TestClient, tmp_path: Path, sample_mp4: Path) -> None:
    _check(core, client, tmp_path, sample_mp4)


def _check(core: Core, client: TestClient, tmp_path: Path, sample_mp4: Path) -> None:
    root, hidden = tmp_path / "disk", tmp_path / "hidden"
    place(sample_mp4, root, "Films/Good Film (2001)/Good.Film.2001.mp4")
    put_garbled(root, "Films/Broken Film (1999)/Broken.Film.1999.mp4")
    place(sample_mp4, root, "Shows/Half Show/Season 01/Half.Show.S01E01.mp4")
    put_garbled(root, "Shows/Half Show/Season 01/Half.Show.S01E02.mp4")
    put_garbled(root, "Shows/Half Show/Season 02/Half.Show.S02E01.mp4")
    put_garbled(root, "Films/Split (2010)/Split.2010.mp4")
    place(sample_mp4, hidden, "Films/Split (2010)/Split.2010.1080p.mp4")
    open_id = scan_local(client, "disk", root)[0]
    scan_local(client, "hidden", hidden)
    set_genres(core, "Good Film", ["Drama"])
    set_genres(core, "Broken Film", ["Noir"])
    set_genres(core, "Split", ["Heist"])
    set_genres(core, "Half Show", ["Drama"], Show)
    guest = core.users.add("guest", "guest-password")
    core.users.update(guest.id, UserChange(restrict_sources=True, sources=[open_id]))
    with TestClient(create_app(core)) as c:
        admin = {"x-emby-token": login(c, "admin", "admin-password")}
        mine = {"x-emby-token": login(c, "guest", "guest-password")}
        for who, heist in ((admin, True), (mine, False)):
            films = _names(c.get("/jellyfin/Items", headers=who,
                                 params={"Recursive": "true", "IncludeItemTypes": "Movie"}).json())
            assert films == (["Good Film", "Split"] if heist else ["Good Film"]), films
            latest = [i["Name"] for i in c.get("/jellyfin/Items/Latest", headers=who,
                                               params={"IncludeItemTypes": "Movie"}).json()]
            assert sorted(latest) == films, latest
            unplayed = _names(c.get("/jellyfin/Items", headers=who, params={
                "Recursive": "true", "IncludeItemTypes": "Movie", "Filters": "IsUnplayed"}).json())
            assert unplayed == films, (who, unplayed)
            genres = _names(c.get("/jellyfin/Genres", headers=who).json())
            assert genres == (["Drama", "Heist"] if heist else ["Drama"]), genres
            filters = c.get("/jellyfin/Items/Filters", headers=who).json()
            assert filters["Genres"] == genres and filters["Years"] == ([2001, 2010] if heist else [2001]), filters
            assert [g["Name"] for g in c.get("/jellyfin/Items/Filters2", headers=who).json()["Genres"]] == genres
            assert c.get("/jellyfin/Genres/Noir", headers=who).status_code == 404
            drama = c.get("/jellyfin/Genres/Drama", headers=who, params={"Fields": "ItemCounts"}).json()
            assert (drama["MovieCount"], drama["SeriesCount"]) == (1, 1), drama
            counts = c.get("/jellyfin/Items/Counts", headers=who).json()
            episodes = c.get("/jellyfin/Items", headers=who, params={
                "Recursive": "true", "IncludeItemTypes": "Episode"}).json()["TotalRecordCount"]
            assert (counts["MovieCount"], counts["SeriesCount"], counts["EpisodeCount"]) == (
                len(films), 1, episodes), counts
            assert episodes == 1 and counts["ItemCount"] == len(films) + 2 and counts["SongCount"] == 0, counts

        shows = c.get("/jellyfin/Items", headers=admin,
                      params={"Recursive": "true", "IncludeItemTypes": "Series"}).json()["Items"]
        assert [s["Name"] for s in shows] == ["Half Show"]
        show = shows[0]
        seasons = c.get(f"/jellyfin/Shows/{show['Id']}/Seasons", headers=admin).json()["Items"]
        episodes = c.get(f"/jellyfin/Shows/{show['Id']}/Episodes", headers=admin).json()["Items"]
        assert [s["IndexNumber"] for s in seasons] == [1] and len(episodes) == 1, (seasons, episodes)
        assert (show["ChildCount"], show["RecursiveItemCount"]) == (1, 1), show
        assert show["UserData"]["UnplayedItemCount"] == 1, show
        assert (seasons[0]["ChildCount"], seasons[0]["RecursiveItemCount"]) == (1, 1), seasons[0]
