"""``Search/Hints`` (the search box of Jellyfin's TV apps) and the filter menus
(``Items/Filters``, ``Items/Filters2``): answered, in Jellyfin's shapes (checked against
the @jellyfin/sdk models when installed), over the titles the user may see."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from jellyfin import sdk_models
from jellyfin.support import Library
from jsonschema import Draft7Validator

pytestmark = pytest.mark.requires_ffmpeg


def _model(body: object, name: str) -> None:
    if sdk_models.available():
        errors = [e.message for e in Draft7Validator(sdk_models.schema(name)).iter_errors(body)]
        assert not errors, errors[:5]


def test_search_hints(jf: TestClient, library: Library) -> None:
    r = jf.get("/jellyfin/Search/Hints", params={"searchTerm": "sin"})
    assert r.status_code == 200, r.text
    body = r.json()
    _model(body, "SearchHintResult")
    assert [(h["Name"], h["Type"], h["ProductionYear"], h["MediaType"]) for h in body["SearchHints"]] == [
        ("Sintel", "Movie", 2010, "Video")]
    hint = body["SearchHints"][0]
    assert hint["Id"] == hint["ItemId"] and body["TotalRecordCount"] == 1
    assert jf.get(f"/jellyfin/Items/{hint['Id']}").json()["Name"] == "Sintel"
    # a series and its episodes; or the series only; paged
    shows = jf.get("/jellyfin/Search/Hints", params={"searchTerm": "example"}).json()
    _model(shows, "SearchHintResult")
    assert sorted(h["Type"] for h in shows["SearchHints"]) == ["Episode", "Episode", "Episode", "Series"]
    episode = next(h for h in shows["SearchHints"] if h["Type"] == "Episode")
    assert episode["Series"] == "Example Show" and episode["ParentIndexNumber"] in (1, 2)
    only = jf.get("/jellyfin/Search/Hints", params={"searchTerm": "EXAMPLE", "IncludeItemTypes": "Series",
                                                    "IncludePeople": "false"}).json()
    assert [(h["Name"], h["EpisodeCount"], h["IsFolder"]) for h in only["SearchHints"]] == [
        ("Example Show", 3, True)]
    page = jf.get("/jellyfin/Search/Hints", params={"searchTerm": "example", "Limit": "2"}).json()
    assert len(page["SearchHints"]) == 2 and page["TotalRecordCount"] == 4
    assert jf.get("/jellyfin/Search/Hints", params={"searchTerm": "nothing like it"}).json() == {
        "SearchHints": [], "TotalRecordCount": 0}
    missing = jf.get("/jellyfin/Search/Hints")
    assert missing.status_code == 400 and "searchTerm" in missing.json()["detail"]


def test_filter_menus(jf: TestClient, library: Library) -> None:
    legacy = jf.get("/jellyfin/Items/Filters", params={"ParentId": "000000067265656c0000000000000001"})
    assert legacy.status_code == 200, legacy.text
    _model(legacy.json(), "QueryFiltersLegacy")
    assert legacy.json()["Years"] == [2008, 2010]  # the films'
    shows = jf.get("/jellyfin/Items/Filters", params={"ParentId": "000000067265656c0000000000000002"}).json()
    assert shows["Years"] == []  # the show has no year
    assert jf.get("/jellyfin/Items/Filters", params={"ParentId": "zz"}).status_code == 400
    two = jf.get("/jellyfin/Items/Filters2")
    assert two.status_code == 200 and two.json() == {"Genres": [], "Tags": []}
    _model(two.json(), "QueryFilters")
