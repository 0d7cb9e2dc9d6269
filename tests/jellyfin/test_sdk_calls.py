"""Jellyfin apps' calls made through the official TypeScript SDK (``sdk/calls.mjs``: a
list of typed SDK requests against a live reelhouse): stream facts (``AspectRatio`` as
Jellyfin writes it), sorting on several keys, and syncing what changed for the user
(``MinDateLastSavedForUser``)."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jellyfin.support import Library
from sqlalchemy import select, update

from reelhouse.core import Core
from reelhouse.db.models import MediaFile, Movie, Show

from helpers import ADMIN, ADMIN_PASSWORD, ENGINES, place, wait_job

SDK = Path(__file__).parent / "sdk"

pytestmark = [pytest.mark.requires_ffmpeg, pytest.mark.requires_node, pytest.mark.usefixtures("jellyfin_sdk")]


def sdk(server: str, *calls: tuple[str, str, dict[str, Any]], user: tuple[str, str] = (ADMIN, ADMIN_PASSWORD)
        ) -> list[list[Any]]:
    """``[status, data]`` per SDK call (see sdk/calls.mjs), as ``user`` (name, password)."""
    out = subprocess.run(["node", "calls.mjs", server, *user, json.dumps(calls)], cwd=SDK,
                         capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    got: list[list[Any]] = json.loads(out.stdout)
    return got


def names(answer: list[Any]) -> list[str]:
    assert answer[0] == 200, answer
    return [i["Name"] for i in answer[1]["Items"]]


def test_aspect_ratio_is_written_as_jellyfin_writes_it(server: str, library: Library) -> None:
    """A 320x240 clip is ``4:3`` (Jellyfin's ProbeResultNormalizer.GetAspectRatio),
    not ``320:240``."""
    got = sdk(server, ("items", "getItems", {"userId": "$userId", "recursive": True, "searchTerm": "sintel",
                                             "includeItemTypes": ["Movie"], "fields": ["MediaStreams"]}))
    video = [st for st in got[0][1]["Items"][0]["MediaStreams"] if st["Type"] == "Video"]
    assert [st["AspectRatio"] for st in video] == ["4:3"]


def _same_year(core: Core, year: int) -> None:
    with core.sessions() as s:
        s.execute(update(Movie).values(year=year))
        s.execute(update(Show).values(year=year))
        s.commit()


@pytest.mark.parametrize("core", ENGINES, indirect=True)
def test_sort_by_several_keys(server: str, core: Core, library: Library) -> None:
    """``SortBy=ProductionYear,SortName``: titles of one year are in name order, with
    a ``SortOrder`` per key, or the first order for keys past the list (Jellyfin's
    RequestHelpers.GetOrderBy); also across films and series (two SQL arms)."""
    _same_year(core, 2010)
    base = {"userId": "$userId", "recursive": True, "includeItemTypes": ["Movie", "Series"]}
    got = sdk(server,
              ("items", "getItems", {**base, "sortBy": ["ProductionYear", "SortName"],
                                     "sortOrder": ["Descending", "Ascending"]}),
              ("items", "getItems", {**base, "sortBy": ["ProductionYear", "SortName"], "sortOrder": ["Descending"]}),
              ("items", "getItems", {**base, "includeItemTypes": ["Movie"], "sortBy": ["ProductionYear", "SortName"],
                                     "sortOrder": ["Ascending", "Descending"]}),
              ("items", "getItems", {**base, "sortBy": ["CommunityRating", "SortName"],
                                     "sortOrder": ["Descending", "Descending"], "limit": 2, "startIndex": 1}))
    assert names(got[0]) == ["Big Buck Bunny", "Example Show", "Sintel"]
    assert names(got[1]) == ["Sintel", "Example Show", "Big Buck Bunny"]
    assert names(got[2]) == ["Sintel", "Big Buck Bunny"]
    assert names(got[3]) == ["Example Show", "Big Buck Bunny"] and got[3][1]["TotalRecordCount"] == 3


@pytest.mark.parametrize("core", ENGINES, indirect=True)
def test_titles_without_a_value_sort_alike_on_both_engines(server: str, core: Core, library: Library) -> None:
    """A film without a year or a rating sorts lowest on SQLite and PostgreSQL alike
    (first ascending, last descending), across films and series (two SQL arms merged):
    PostgreSQL puts NULL highest by default, which put it at the other end."""
    with core.sessions() as s:
        s.execute(update(Movie).where(Movie.title == "Sintel").values(year=None, rating=None))
        s.execute(update(Movie).where(Movie.title == "Big Buck Bunny").values(year=2008, rating=6.0))
        s.execute(update(Show).values(year=2005, rating=8.0))
        s.commit()
    base = {"userId": "$userId", "recursive": True, "includeItemTypes": ["Movie", "Series"]}
    got = sdk(server,
              ("items", "getItems", {**base, "sortBy": ["ProductionYear"], "sortOrder": ["Ascending"]}),
              ("items", "getItems", {**base, "sortBy": ["ProductionYear"], "sortOrder": ["Descending"]}),
              ("items", "getItems", {**base, "sortBy": ["CommunityRating"], "sortOrder": ["Ascending"]}),
              ("items", "getItems", {**base, "sortBy": ["CommunityRating"], "sortOrder": ["Descending"],
                                     "limit": 2, "startIndex": 1}))
    assert names(got[0]) == ["Sintel", "Example Show", "Big Buck Bunny"]
    assert names(got[1]) == ["Big Buck Bunny", "Example Show", "Sintel"]
    assert names(got[2]) == ["Sintel", "Big Buck Bunny", "Example Show"]
    assert names(got[3]) == ["Big Buck Bunny", "Sintel"]


@pytest.mark.parametrize("core", ENGINES, indirect=True)
def test_min_date_last_saved_for_user(server: str, core: Core, library: Library) -> None:
    """``MinDateLastSavedForUser``: only the titles that changed for this user since
    then (added, or played or marked by them) — an app's incremental sync."""
    with core.sessions() as s:
        s.execute(update(MediaFile).values(first_seen=datetime.now(UTC) - timedelta(days=3)))
        s.commit()
        sintel = s.scalar(select(Movie).where(Movie.title == "Sintel"))
        assert sintel is not None
    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
    base = {"userId": "$userId", "recursive": True, "includeItemTypes": ["Movie", "Series", "Episode"]}
    got = sdk(server,
              ("items", "getItems", {**base, "minDateLastSavedForUser": since}),
              ("items", "getItems", {**base, "searchTerm": "sintel"}),
              ("playstate", "markPlayedItem", {"itemId": "$1.Items.0.Id", "userId": "$userId"}),
              ("items", "getItems", {**base, "minDateLastSavedForUser": since}),
              ("items", "getItems", {**base, "searchTerm": "example", "includeItemTypes": ["Series"]}),
              ("user-library", "markFavoriteItem", {"itemId": "$4.Items.0.Id", "userId": "$userId"}),
              ("items", "getItems", {**base, "minDateLastSavedForUser": since}),
              ("items", "getItems", {**base, "minDateLastSavedForUser": "yesterday"}))
    assert names(got[0]) == [] and got[0][1]["TotalRecordCount"] == 0
    assert got[2][0] == 200
    assert names(got[3]) == ["Sintel"]
    assert names(got[6]) == ["Example Show", "Sintel"] and got[6][1]["TotalRecordCount"] == 2
    assert got[7][0] == 400


def test_next_up_as_the_apps_ask_for_it(server: str, library: Library) -> None:
    """``Shows/NextUp`` as Jellyfin answers it (TVSeriesManager): with ``SeriesId`` the
    first episode of a series not started (the series page's "Next up" and play
    button); a series the user stopped in counts, its episode included unless
    ``EnableResumable=false``; ``StartIndex``/``Limit`` page it (``Limit=0``: all) with
    the total of all pages; ``NextUpDateCutoff`` leaves out series played before."""
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    got = sdk(server,
              ("items", "getItems", {"userId": "$userId", "recursive": True, "includeItemTypes": ["Series"]}),
              ("tv-shows", "getEpisodes", {"seriesId": "$0.Items.0.Id", "userId": "$userId"}),
              ("tv-shows", "getNextUp", {"userId": "$userId", "seriesId": "$0.Items.0.Id"}),
              ("tv-shows", "getNextUp", {"userId": "$userId"}),
              ("playstate", "reportPlaybackStopped", {"playbackStopInfo": {"ItemId": "$1.Items.0.Id",
                                                                           "PositionTicks": 30_000_000}}),
              ("tv-shows", "getNextUp", {"userId": "$userId"}),
              ("tv-shows", "getNextUp", {"userId": "$userId", "enableResumable": False}),
              ("playstate", "markPlayedItem", {"itemId": "$1.Items.0.Id", "userId": "$userId"}),
              ("tv-shows", "getNextUp", {"userId": "$userId", "limit": 0}),
              ("tv-shows", "getNextUp", {"userId": "$userId", "startIndex": 1, "limit": 5}),
              ("tv-shows", "getNextUp", {"userId": "$userId", "nextUpDateCutoff": tomorrow}))
    assert [c[0] for c in got] == [200, 200, 200, 200, 204, 200, 200, 200, 200, 200, 200], got
    first, second = (e["Id"] for e in got[1][1]["Items"][:2])
    assert [e["Id"] for e in got[2][1]["Items"]] == [first]
    assert got[3][1]["Items"] == []  # nothing played: no row on the home screen
    assert [e["Id"] for e in got[5][1]["Items"]] == [first]  # stopped in E01
    assert got[6][1]["Items"] == []
    assert [e["Id"] for e in got[8][1]["Items"]] == [second]
    assert got[9][1]["Items"] == [] and got[9][1]["TotalRecordCount"] == 1
    assert got[10][1]["Items"] == []


def test_playback_info_names_the_chosen_tracks(server: str, library: Library) -> None:
    """PlaybackInfo with the tracks a user picked (``AudioStreamIndex``,
    ``SubtitleStreamIndex``, -1: subtitles off) answers them as the source's
    ``DefaultAudioStreamIndex``/``DefaultSubtitleStreamIndex`` (Jellyfin's
    MediaInfoHelper; apps start with those); asked for nothing, the subtitle is
    Jellyfin's default-mode pick: the MKV's forced SubRip track (stream 3)."""
    profile = {"DirectPlayProfiles": [{"Container": "mkv,mp4", "Type": "Video"}],
               "SubtitleProfiles": [{"Format": "vtt", "Method": "External"}]}
    movie = {"userId": "$userId", "recursive": True, "searchTerm": "bunny", "includeItemTypes": ["Movie"]}
    got = sdk(server,
              ("items", "getItems", movie),
              ("media-info", "getPostedPlaybackInfo", {"itemId": "$0.Items.0.Id", "playbackInfoDto": {
                  "UserId": "$userId", "DeviceProfile": profile, "AudioStreamIndex": 2, "SubtitleStreamIndex": 3}}),
              ("media-info", "getPostedPlaybackInfo", {"itemId": "$0.Items.0.Id", "playbackInfoDto": {
                  "UserId": "$userId", "DeviceProfile": profile, "SubtitleStreamIndex": -1}}),
              ("media-info", "getPostedPlaybackInfo", {"itemId": "$0.Items.0.Id", "playbackInfoDto": {
                  "UserId": "$userId", "DeviceProfile": profile, "AudioStreamIndex": 7}}),
              ("user-library", "getItem", {"itemId": "$0.Items.0.Id", "userId": "$userId"}))
    chosen = [(src["DefaultAudioStreamIndex"], src.get("DefaultSubtitleStreamIndex"))
              for src in (got[1][1]["MediaSources"][0], got[2][1]["MediaSources"][0],
                          got[3][1]["MediaSources"][0], got[4][1]["MediaSources"][0])]
    assert chosen == [(2, 3), (1, -1), (1, 3), (1, 3)]


def test_narrowing_filters(server: str, core: Core, library: Library) -> None:
    """``ExcludeItemIds`` (a "more like this" row without the title shown),
    ``ParentIndexNumber``/``IndexNumber`` (S02, E02), ``IsHD``/``Is4K`` (Jellyfin's
    buckets: the clips are 320x240, SD), ``HasTmdbId`` and ``MinCommunityRating``: all
    were ignored (every title matched)."""
    with core.sessions() as s:
        s.execute(update(Movie).where(Movie.title == "Sintel").values(rating=7.5, tmdb_id=45745))
        s.commit()
    items = {"userId": "$userId", "recursive": True}
    got = sdk(server,
              ("items", "getItems", {**items, "searchTerm": "sintel", "includeItemTypes": ["Movie"]}),
              ("items", "getItems", {**items, "includeItemTypes": ["Movie"], "excludeItemIds": ["$0.Items.0.Id"]}),
              ("items", "getItems", {**items, "includeItemTypes": ["Episode"], "parentIndexNumber": 2}),
              ("items", "getItems", {**items, "includeItemTypes": ["Episode", "Season"], "indexNumber": 2}),
              ("items", "getItems", {**items, "includeItemTypes": ["Movie"], "isHd": True}),
              ("items", "getItems", {**items, "includeItemTypes": ["Movie"], "isHd": False}),
              ("items", "getItems", {**items, "includeItemTypes": ["Movie", "Series"], "is4K": True}),
              ("items", "getItems", {**items, "includeItemTypes": ["Movie", "Series"], "hasTmdbId": True}),
              ("items", "getItems", {**items, "includeItemTypes": ["Movie", "Series"], "minCommunityRating": 7}),
              ("items", "getItems", {**items, "excludeItemIds": ["not-an-id"]}))
    assert names(got[1]) == ["Big Buck Bunny"]
    assert [(e["ParentIndexNumber"], e["IndexNumber"]) for e in got[2][1]["Items"]] == [(2, 1)]
    assert sorted((e["Type"], e["IndexNumber"]) for e in got[3][1]["Items"]) == [("Episode", 2), ("Season", 2)]
    assert names(got[4]) == [] and names(got[5]) == ["Big Buck Bunny", "Sintel"] and names(got[6]) == []
    assert names(got[7]) == ["Sintel"] == names(got[8])
    assert got[9][0] == 400


@pytest.mark.parametrize("core", ENGINES, indirect=True)
def test_sort_by_what_the_apps_offer(server: str, core: Core, library: Library) -> None:
    """The sort menus of the apps: ``DatePlayed`` (last played first), ``PlayCount``,
    ``Runtime``, ``DateLastContentAdded`` (series by their newest episode),
    ``SeriesSortName,ParentIndexNumber,IndexNumber`` (episodes across series, as
    Kodi's add-on lists them): all were ignored (name order)."""
    with core.sessions() as s:
        bunny = s.scalar(select(MediaFile).where(MediaFile.path.like("%Bunny%")))
        assert bunny is not None
        bunny.duration = 600.0
        s.commit()
    films = {"userId": "$userId", "recursive": True, "includeItemTypes": ["Movie"]}
    got = sdk(server,
              ("items", "getItems", {**films, "searchTerm": "sintel"}),
              ("items", "getItems", {**films, "searchTerm": "bunny"}),
              ("playstate", "markPlayedItem", {"itemId": "$1.Items.0.Id", "userId": "$userId"}),
              ("playstate", "markPlayedItem", {"itemId": "$0.Items.0.Id", "userId": "$userId"}),
              ("items", "getItems", {**films, "sortBy": ["DatePlayed"], "sortOrder": ["Descending"]}),
              ("playstate", "markUnplayedItem", {"itemId": "$0.Items.0.Id", "userId": "$userId"}),
              ("items", "getItems", {**films, "sortBy": ["PlayCount", "SortName"], "sortOrder": ["Descending"]}),
              ("items", "getItems", {**films, "sortBy": ["Runtime"], "sortOrder": ["Ascending"]}),
              ("items", "getItems", {**films, "sortBy": ["Runtime"], "sortOrder": ["Descending"]}),
              ("items", "getItems", {"userId": "$userId", "recursive": True, "includeItemTypes": ["Episode"],
                                     "sortBy": ["SeriesSortName", "ParentIndexNumber", "IndexNumber"],
                                     "sortOrder": ["Ascending", "Descending", "Ascending"]}))
    assert names(got[4]) == ["Sintel", "Big Buck Bunny"]  # last played first
    assert names(got[6]) == ["Big Buck Bunny", "Sintel"]  # Sintel unplayed again: 0 plays
    assert names(got[7]) == ["Sintel", "Big Buck Bunny"] and names(got[8]) == ["Big Buck Bunny", "Sintel"]
    assert [(e["ParentIndexNumber"], e["IndexNumber"]) for e in got[9][1]["Items"]] == [(2, 1), (1, 1), (1, 2)]


def test_years_localization_and_stopping_a_transcode(server: str, library: Library) -> None:
    """What was 404: ``Years`` (Kodi's JellyCon builds its Years and Decades menus
    from it: the visible titles' years, scoped and sorted), ``Years/{year}``, the
    ``Localization`` lists jellyfin-web's settings pages load first, and ``DELETE
    Videos/ActiveEncodings`` (a client ending a transcode)."""
    films = "000000067265656c0000000000000001"
    got = sdk(server,
              ("years", "getYears", {"userId": "$userId", "recursive": True}),
              ("years", "getYears", {"userId": "$userId", "parentId": films, "sortOrder": ["Descending"],
                                     "includeItemTypes": ["Movie"]}),
              ("years", "getYears", {"userId": "$userId", "startIndex": 1, "limit": 1}),
              ("years", "getYear", {"year": 2010, "userId": "$userId"}),
              ("localization", "getCultures", {}),
              ("localization", "getCountries", {}),
              ("localization", "getParentalRatings", {}),
              ("hls-segment", "stopEncodingProcess", {"deviceId": "sdk-calls-device", "playSessionId": "x"}))
    assert [c[0] for c in got] == [200, 200, 200, 200, 200, 200, 200, 204], got
    assert [(y["Name"], y["Type"]) for y in got[0][1]["Items"]] == [("2008", "Year"), ("2010", "Year")]
    assert [y["Name"] for y in got[1][1]["Items"]] == ["2010", "2008"]
    assert [y["Name"] for y in got[2][1]["Items"]] == ["2010"] and got[2][1]["TotalRecordCount"] == 2
    assert got[3][1]["Id"] == got[0][1]["Items"][1]["Id"]
    german = next(c for c in got[4][1] if c["TwoLetterISOLanguageName"] == "de")
    assert german["DisplayName"] == "German" and german["ThreeLetterISOLanguageNames"][:2] == ["ger", "deu"]
    assert any(c["TwoLetterISORegionName"] == "DE" for c in got[5][1]) and got[6][1] == []


def test_naming_another_user_is_403_everywhere(server: str, core: Core, library: Library) -> None:
    """A user who is not an admin passing another user's ``userId`` (a hostile client)
    is refused on every route, as Jellyfin refuses it; before, Genres and Filters
    refused it while Items, Latest, Resume, NextUp, PlaybackInfo, Search and the
    played/favourite marks answered as if it was not there. Their own id, or none, is
    fine; a malformed one is 400."""
    core.users.add("friend", "friend-password")
    admin = "000000077265656c0000000000000001"
    sintel = {"userId": "$userId", "recursive": True, "searchTerm": "sintel"}
    friend = ("friend", "friend-password")
    got = sdk(server,
              ("items", "getItems", sintel),
              ("items", "getItems", {**sintel, "userId": admin}),
              ("user-library", "getItem", {"itemId": "$0.Items.0.Id", "userId": admin}),
              ("user-library", "getLatestMedia", {"userId": admin}),
              ("items", "getResumeItems", {"userId": admin}),
              ("tv-shows", "getNextUp", {"userId": admin}),
              ("media-info", "getPlaybackInfo", {"itemId": "$0.Items.0.Id", "userId": admin}),
              ("search", "getSearchHints", {"searchTerm": "sin", "userId": admin}),
              ("playstate", "markPlayedItem", {"itemId": "$0.Items.0.Id", "userId": admin}),
              ("user-library", "markFavoriteItem", {"itemId": "$0.Items.0.Id", "userId": admin}),
              ("user-views", "getUserViews", {"userId": admin}),
              ("items", "getItems", {**sintel, "userId": "not-a-guid"}),
              ("playstate", "markPlayedItem", {"itemId": "$0.Items.0.Id", "userId": "$userId"}),
              user=friend)
    assert got[0][0] == 200 and got[12][0] == 200
    assert [c[0] for c in got[1:11]] == [403] * 10, [(c[0], c[1]) for c in got[1:11]]
    assert got[11][0] == 400


def test_library_filters_of_the_apps(server: str, library: Library) -> None:
    """Filters of the apps' library screens, each answering as the items' own
    ``UserData``/fields say: ``IsPlayed``/``IsUnplayed`` on series and seasons (a
    series with one of three episodes watched is unplayed: it was listed as played),
    ``IsFavoriteOrLikes`` (favourites; no likes are kept), ``Likes``, ``MediaTypes``
    (series and seasons have none), ``NameStartsWithOrGreater``, ``HasSubtitles`` (the
    MKV's SubRip track) and ``HasOverview`` — the last six were ignored."""
    base = {"userId": "$userId", "recursive": True}
    got = sdk(server,
              ("items", "getItems", {**base, "includeItemTypes": ["Series"]}),
              ("tv-shows", "getEpisodes", {"seriesId": "$0.Items.0.Id", "userId": "$userId"}),
              ("playstate", "markPlayedItem", {"itemId": "$1.Items.0.Id", "userId": "$userId"}),
              ("items", "getItems", {**base, "includeItemTypes": ["Series", "Season"], "filters": ["IsPlayed"]}),
              ("items", "getItems", {**base, "includeItemTypes": ["Series", "Season"], "filters": ["IsUnplayed"]}),
              ("items", "getItems", {**base, "includeItemTypes": ["Episode"], "isPlayed": True}),
              ("user-library", "markFavoriteItem", {"itemId": "$0.Items.0.Id", "userId": "$userId"}),
              ("items", "getItems", {**base, "filters": ["IsFavoriteOrLikes"]}),
              ("items", "getItems", {**base, "filters": ["Likes"]}),
              ("items", "getItems", {**base, "mediaTypes": ["Video"], "includeItemTypes": ["Movie", "Series"]}),
              ("items", "getItems", {**base, "mediaTypes": ["Audio"]}),
              ("items", "getItems", {**base, "includeItemTypes": ["Movie", "Series"], "nameStartsWithOrGreater": "C"}),
              ("items", "getItems", {**base, "includeItemTypes": ["Movie"], "hasSubtitles": True}),
              ("items", "getItems", {**base, "includeItemTypes": ["Movie"], "hasOverview": True}),
              ("playstate", "markPlayedItem", {"itemId": "$1.Items.1.Id", "userId": "$userId"}),
              ("items", "getItems", {**base, "includeItemTypes": ["Season", "Series"], "filters": ["IsPlayed"]}))
    assert [c[0] for c in got] == [200] * 16, [c[0] for c in got]
    assert names(got[15]) == ["Season 1"]  # both its episodes watched; the series still has S02E01
    assert names(got[3]) == [] and sorted(i["Type"] for i in got[4][1]["Items"]) == ["Season", "Season", "Series"]
    assert [(e["ParentIndexNumber"], e["IndexNumber"]) for e in got[5][1]["Items"]] == [(1, 1)]
    assert names(got[7]) == ["Example Show"] and names(got[8]) == []
    assert names(got[9]) == ["Big Buck Bunny", "Sintel"] and names(got[10]) == []
    assert names(got[11]) == ["Example Show", "Sintel"]
    assert names(got[12]) == ["Big Buck Bunny"] and names(got[13]) == []


def test_filters_on_what_no_title_has(server: str, library: Library) -> None:
    """jellyfin-web's "Features" filters and others on what reelhouse never stores
    (trailers, theme songs, special features, official ratings, 3D, TVDB ids …) match
    no title when asked for, as on a Jellyfin server whose titles have none; asked to
    be absent (``false``) they leave the list whole. They were ignored: every title."""
    base = {"userId": "$userId", "recursive": True, "includeItemTypes": ["Movie", "Series"]}
    got = sdk(server,
              ("items", "getItems", {**base, "hasTrailer": True}),
              ("items", "getItems", {**base, "hasThemeSong": True}),
              ("items", "getItems", {**base, "hasSpecialFeature": True}),
              ("items", "getItems", {**base, "officialRatings": ["PG-13"]}),
              ("items", "getItems", {**base, "is3D": True}),
              ("items", "getItems", {**base, "hasTvdbId": True}),
              ("items", "getItems", {**base, "minCriticRating": 50}),
              ("items", "getItems", {**base, "hasTrailer": False, "isMissing": False}))
    assert [len(names(c)) for c in got] == [0, 0, 0, 0, 0, 0, 0, 3]


def test_latest_hides_what_the_user_played(server: str, library: Library) -> None:
    """The home screen's "Latest" rows leave out what the user played, as Jellyfin does
    for its default ``HidePlayedInLatest`` (which ``Users/Me`` reports true); a film
    watched stayed in the row. ``IsPlayed=true`` asks for the played ones."""
    got = sdk(server,
              ("items", "getItems", {"userId": "$userId", "recursive": True, "searchTerm": "sintel"}),
              ("user-library", "getLatestMedia", {"userId": "$userId"}),
              ("playstate", "markPlayedItem", {"itemId": "$0.Items.0.Id", "userId": "$userId"}),
              ("user-library", "getLatestMedia", {"userId": "$userId"}),
              ("user-library", "getLatestMedia", {"userId": "$userId", "isPlayed": True}),
              ("user", "getCurrentUser", {}))
    assert sorted(i["Name"] for i in got[1][1]) == ["Big Buck Bunny", "Example Show", "Sintel"]
    assert sorted(i["Name"] for i in got[3][1]) == ["Big Buck Bunny", "Example Show"]
    assert [i["Name"] for i in got[4][1]] == ["Sintel"]
    assert got[5][1]["Configuration"]["HidePlayedInLatest"] is True


def test_resume_row_filters(server: str, library: Library) -> None:
    """``UserItems/Resume`` takes ``ExcludeItemTypes`` (a films-only "Continue
    watching" row) and ``SearchTerm`` as Jellyfin does; both were ignored."""
    base = {"userId": "$userId", "recursive": True}
    got = sdk(server,
              ("items", "getItems", {**base, "searchTerm": "sintel"}),
              ("items", "getItems", {**base, "includeItemTypes": ["Episode"]}),
              ("playstate", "reportPlaybackStopped", {"playbackStopInfo": {"ItemId": "$0.Items.0.Id",
                                                                           "PositionTicks": 30_000_000}}),
              ("playstate", "reportPlaybackStopped", {"playbackStopInfo": {"ItemId": "$1.Items.0.Id",
                                                                           "PositionTicks": 30_000_000}}),
              ("items", "getResumeItems", {"userId": "$userId"}),
              ("items", "getResumeItems", {"userId": "$userId", "excludeItemTypes": ["Episode"]}),
              ("items", "getResumeItems", {"userId": "$userId", "excludeItemTypes": ["Movie"]}),
              ("items", "getResumeItems", {"userId": "$userId", "searchTerm": "sintel"}),
              ("items", "getResumeItems", {"userId": "$userId", "searchTerm": "example"}),
              ("items", "getResumeItems", {"userId": "$userId", "searchTerm": "nothing like it"}))
    assert [len(got[n][1]["Items"]) for n in range(4, 10)] == [2, 1, 1, 1, 1, 0]
    assert names(got[5]) == ["Sintel"] == names(got[7])
    assert [i["Type"] for i in got[6][1]["Items"]] == ["Episode"] == [i["Type"] for i in got[8][1]["Items"]]


def test_search_hints_take_the_items_filters(server: str, library: Library) -> None:
    """``Search/Hints`` reads its filters as Items does: ``MediaTypes=Video`` (films and
    episodes, not series), ``ExcludeItemTypes``, ``IsMovie``-style flags on what no
    title has; without ``IncludeItemTypes`` it searched films, series and episodes
    whatever else was asked."""
    got = sdk(server,
              ("search", "getSearchHints", {"searchTerm": "e"}),
              ("search", "getSearchHints", {"searchTerm": "e", "mediaTypes": ["Video"]}),
              ("search", "getSearchHints", {"searchTerm": "e", "excludeItemTypes": ["Episode"]}),
              ("search", "getSearchHints", {"searchTerm": "e", "mediaTypes": ["Audio"]}))
    kinds = [sorted({h["Type"] for h in c[1]["SearchHints"]}) for c in got]
    assert kinds == [["Episode", "Movie", "Series"], ["Episode", "Movie"], ["Movie", "Series"], []]


def test_tabs_and_rows_of_features_reelhouse_has_none_of(server: str, library: Library) -> None:
    """What the apps load on their pages and got 404 for: theme songs and videos (the
    Android TV app plays theme music), critic reviews, upcoming episodes and trailers
    (jellyfin-web's tabs), channels, Live TV info (off), plugin pages (none) — empty
    answers in Jellyfin's shapes — and the libraries as grouping options (jellyfin-web's
    home settings page)."""
    item = "$0.Items.0.Id"
    got = sdk(server,
              ("items", "getItems", {"userId": "$userId", "recursive": True, "includeItemTypes": ["Movie"]}),
              ("library", "getThemeSongs", {"itemId": item, "userId": "$userId", "inheritFromParent": True}),
              ("library", "getThemeVideos", {"itemId": item, "userId": "$userId"}),
              ("library", "getCriticReviews", {"itemId": item}),
              ("tv-shows", "getUpcomingEpisodes", {"userId": "$userId", "limit": 24}),
              ("trailers", "getTrailers", {"userId": "$userId", "recursive": True}),
              ("channels", "getChannels", {"userId": "$userId"}),
              ("live-tv", "getLiveTvInfo", {}),
              ("dashboard", "getConfigurationPages", {"enableInMainMenu": True}),
              ("user-views", "getGroupingOptions", {"userId": "$userId"}))
    assert [c[0] for c in got] == [200] * 10, [(c[0], c[1]) for c in got]
    assert got[1][1]["OwnerId"] == got[0][1]["Items"][0]["Id"] and got[1][1]["Items"] == []
    assert all(got[n][1]["Items"] == [] for n in (2, 3, 4, 5, 6))
    assert got[7][1]["IsEnabled"] is False and got[8][1] == []
    assert [v["Name"] for v in got[9][1]] == ["Films", "Shows"]


def test_seasons_with_or_without_specials(server: str, client: TestClient, library: Library,
                                          sample_mp4: Path) -> None:
    """``Shows/{id}/Seasons?IsSpecialSeason=``: false leaves the specials (season 0)
    out, true lists only them (the Android TV app's season rows); it was ignored."""
    place(sample_mp4, library.root, "Shows/Example Show/Specials/Example.Show.S00E01.mp4")
    job = client.post(f"/api/sources/{library.source_id}/scan").json()["id"]
    assert wait_job(client, job)["state"] == "done"
    got = sdk(server,
              ("items", "getItems", {"userId": "$userId", "recursive": True, "includeItemTypes": ["Series"]}),
              ("tv-shows", "getSeasons", {"seriesId": "$0.Items.0.Id", "userId": "$userId"}),
              ("tv-shows", "getSeasons", {"seriesId": "$0.Items.0.Id", "userId": "$userId", "isSpecialSeason": False}),
              ("tv-shows", "getSeasons", {"seriesId": "$0.Items.0.Id", "userId": "$userId", "isSpecialSeason": True}))
    numbers = [[s["IndexNumber"] for s in c[1]["Items"]] for c in got[1:]]
    assert numbers == [[0, 1, 2], [1, 2], [0]]


def test_premiere_date_range(server: str, library: Library) -> None:
    """``MinPremiereDate``/``MaxPremiereDate`` on the items' ``PremiereDate`` (a film's
    is 1 January of its year): were ignored."""
    base = {"userId": "$userId", "recursive": True, "includeItemTypes": ["Movie", "Series"]}
    got = sdk(server,
              ("items", "getItems", {**base, "minPremiereDate": "2009-01-01T00:00:00.000Z"}),
              ("items", "getItems", {**base, "maxPremiereDate": "2009-01-01T00:00:00.000Z"}),
              ("items", "getItems", {**base, "minPremiereDate": "2010-01-01T00:00:00.000Z"}),
              ("items", "getItems", {**base, "minPremiereDate": "2010-06-01T00:00:00.000Z"}))
    assert [names(c) for c in got] == [["Sintel"], ["Big Buck Bunny"], ["Sintel"], []]
