"""The home screen's rows through the official TypeScript SDK: "Latest" per library with
new episodes grouped as Jellyfin groups them (latest.py), and "Next up" under a library
(``ParentId``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jellyfin.support import Library
from jellyfin.test_sdk_calls import sdk
from sqlalchemy import update

from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie

pytestmark = [pytest.mark.requires_ffmpeg, pytest.mark.requires_node, pytest.mark.usefixtures("jellyfin_sdk")]

EPISODES = {"S01E01": "Shows/Example Show/Season 01/Example.Show.S01E01.mp4",
            "S01E02": "Shows/Example Show/Season 01/Example.Show.S01E02.mp4",
            "S02E01": "Shows/Example Show/Season 02/Example.Show.S02E01.mp4"}


def _added(core: Core, library: Library, *new: str) -> None:
    """Everything added three days ago but the episodes ``new`` (added now)."""
    old = datetime.now(UTC) - timedelta(days=3)
    with core.sessions() as s:
        s.execute(update(MediaFile).values(first_seen=old))
        s.execute(update(Movie).values(created_at=old - timedelta(hours=1)))
        for name in new:
            s.execute(update(MediaFile).where(MediaFile.id == library.files[EPISODES[name]])
                      .values(first_seen=datetime.now(UTC) - timedelta(minutes=5)))
        s.commit()


def _views(server: str) -> dict[str, str]:
    got = sdk(server, ("user-views", "getUserViews", {"userId": "$userId"}))
    return {v["CollectionType"]: v["Id"] for v in got[0][1]["Items"]}


def _cards(answer: list[Any]) -> list[tuple[str, Any, Any]]:
    assert answer[0] == 200, answer
    return [(i["Type"], i.get("ParentIndexNumber"), i.get("IndexNumber")) for i in answer[1]]


@pytest.mark.parametrize(("new", "card"), [
    (["S01E02"], ("Episode", 1, 2)),  # one new episode of a season that has more: the episode
    (["S02E01"], ("Season", None, 2)),  # a whole season new (of a series with more): the season
    (["S01E01", "S01E02"], ("Season", None, 1)),  # several episodes of one season: the season
    (["S01E02", "S02E01"], ("Series", None, None)),  # new episodes in two seasons: the series
])
def test_latest_groups_new_episodes_as_jellyfin(server: str, core: Core, library: Library, new: list[str],
                                                card: tuple[str, Any, Any]) -> None:
    """The series library's "Latest" row shows what Jellyfin 10.11 shows
    (GetLatestTvShowItems): the episode itself when one is new, a season or the series
    when more came together; ``GroupItems=false`` lists the new episodes; with no
    library the films follow, older."""
    _added(core, library, *new)
    views = _views(server)
    got = sdk(server,
              ("user-library", "getLatestMedia", {"userId": "$userId", "parentId": views["tvshows"]}),
              ("user-library", "getLatestMedia", {"userId": "$userId", "parentId": views["tvshows"],
                                                  "groupItems": False, "limit": 2}),
              ("user-library", "getLatestMedia", {"userId": "$userId"}),
              ("user-library", "getLatestMedia", {"userId": "$userId", "parentId": views["movies"]}))
    assert _cards(got[0]) == [card]
    assert [t for t, _season, _ep in _cards(got[1])] == ["Episode", "Episode"]
    assert [t for t, _season, _ep in _cards(got[2])] == [card[0], "Movie", "Movie"]
    assert [t for t, _season, _ep in _cards(got[3])] == ["Movie", "Movie"]


def test_next_up_under_a_library(server: str, library: Library) -> None:
    """``Shows/NextUp?ParentId=`` the films library is empty (it listed the series'
    next episode); the series library and the series itself list it."""
    views = _views(server)
    got = sdk(server,
              ("items", "getItems", {"userId": "$userId", "recursive": True, "includeItemTypes": ["Episode"],
                                     "sortBy": ["ParentIndexNumber", "IndexNumber"]}),
              ("playstate", "markPlayedItem", {"itemId": "$0.Items.0.Id", "userId": "$userId"}),
              ("tv-shows", "getNextUp", {"userId": "$userId", "parentId": views["movies"]}),
              ("tv-shows", "getNextUp", {"userId": "$userId", "parentId": views["tvshows"]}),
              ("tv-shows", "getNextUp", {"userId": "$userId", "parentId": "$0.Items.0.SeriesId"}),
              ("tv-shows", "getNextUp", {"userId": "$userId"}))
    assert got[1][0] == 200
    assert got[2][0] == 200 and got[2][1]["Items"] == [] and got[2][1]["TotalRecordCount"] == 0
    for answer in got[3:]:
        assert [(e["ParentIndexNumber"], e["IndexNumber"]) for e in answer[1]["Items"]] == [(1, 2)], answer
