"""Our Jellyfin responses against the DTO models of the current ``@jellyfin/sdk``
(:mod:`jellyfin.sdk_models`): enum values (``BaseItemKind``, ``MediaType``,
``CollectionType``, ``LocationType``, ``MediaStreamType``, ``SubtitleDeliveryMethod``,
``MediaProtocol`` …), nullability, no invented fields; and ids as 32 hex digits.

Needs ``npm ci`` in tests/jellyfin/sdk (as test_sdk.py does)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jellyfin import sdk_models
from jellyfin.support import AUTH, Library, ok
from jsonschema import Draft7Validator

pytestmark = [pytest.mark.requires_ffmpeg, pytest.mark.requires_node]

_HEX32 = re.compile(r"[0-9a-f]{32}")
#: Fields that hold an item, user, server or media source id (ids.py: 32 hex digits).
_ID_FIELDS = {"Id", "ServerId", "ParentId", "SeriesId", "SeasonId", "UserId", "ParentBackdropItemId",
              "DisplayPreferencesId", "ItemId", "MediaSourceId", "PlaySessionId"}


@pytest.fixture(autouse=True)
def _models() -> None:
    if not sdk_models.available():
        pytest.skip("@jellyfin/sdk missing: run `npm ci` in tests/jellyfin/sdk")


def _ids(body: Any, where: str = "") -> list[str]:
    bad = []
    if isinstance(body, dict):
        for k, v in body.items():
            if k in _ID_FIELDS and isinstance(v, str) and not _HEX32.fullmatch(v):
                if not (k == "DisplayPreferencesId" and v in ("movies", "tvshows")):
                    bad.append(f"{where}/{k}: {v!r}")
            bad += _ids(v, f"{where}/{k}")
    elif isinstance(body, list):
        for i, v in enumerate(body):
            bad += _ids(v, f"{where}/{i}")
    return bad


def check(body: Any, model: str, many: bool = False, id_check: bool = True) -> None:
    schema = sdk_models.many(model) if many else sdk_models.schema(model)
    errors = sorted(Draft7Validator(schema).iter_errors(body), key=str)
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                                 for e in errors[:10])
    assert not id_check or not _ids(body), _ids(body)


def test_responses_match_the_sdk_models(jf: TestClient, library: Library) -> None:
    check(ok(jf.get("/jellyfin/System/Info/Public")), "PublicSystemInfo")
    check(ok(jf.get("/jellyfin/System/Info")), "SystemInfo")
    check(ok(jf.get("/jellyfin/Branding/Configuration")), "BrandingOptions")
    check(ok(jf.get("/jellyfin/Users/Public")), "UserDto", many=True)
    me = ok(jf.get("/jellyfin/Users/Me"))
    check(me, "UserDto")
    uid = me["Id"]
    login = jf.post("/jellyfin/Users/AuthenticateByName", json={"Username": "admin", "Pw": "admin-password"})
    check(ok(login), "AuthenticationResult")
    # a new login from the same DeviceId replaces the device's session (as Jellyfin's)
    jf.headers["authorization"] = AUTH + ', Token="{}"'.format(login.json()["AccessToken"])
    check(ok(jf.get("/jellyfin/Sessions")), "SessionInfoDto", many=True)
    check(ok(jf.get("/jellyfin/DisplayPreferences/usersettings", params={"client": "emby", "userId": uid})),
          "DisplayPreferencesDto", id_check=False)  # its Id is the one asked for
    views = ok(jf.get("/jellyfin/UserViews", params={"userId": uid}))
    check(views, "BaseItemDtoQueryResult")
    fields = "MediaSources,MediaStreams,Overview,Genres,DateCreated,PrimaryImageAspectRatio,Path"
    for params in ({"ParentId": views["Items"][0]["Id"], "Fields": fields},
                   {"ParentId": views["Items"][1]["Id"], "Fields": fields},
                   {"Recursive": "true", "IncludeItemTypes": "Movie,Series,Season,Episode", "Fields": fields}):
        check(ok(jf.get("/jellyfin/Items", params={"userId": uid, **params})), "BaseItemDtoQueryResult")
    items = ok(jf.get("/jellyfin/Items", params={"Recursive": "true",
                                                 "IncludeItemTypes": "Movie,Series,Season,Episode"}))["Items"]
    for item in [*items, *views["Items"]]:
        check(ok(jf.get(f"/jellyfin/Items/{item['Id']}", params={"userId": uid})), "BaseItemDto")
    check(ok(jf.get("/jellyfin/Items/Latest", params={"userId": uid})), "BaseItemDto", many=True)
    movie = next(i for i in items if i["Type"] == "Movie")
    episode = next(i for i in items if i["Type"] == "Episode")
    series = next(i for i in items if i["Type"] == "Series")
    check(ok(jf.post(f"/jellyfin/UserPlayedItems/{episode['Id']}")), "UserItemDataDto")
    check(ok(jf.post(f"/jellyfin/UserFavoriteItems/{movie['Id']}")), "UserItemDataDto")
    jf.post("/jellyfin/Sessions/Playing/Progress",
            json={"ItemId": movie["Id"], "PositionTicks": movie["RunTimeTicks"] // 2})
    resume = ok(jf.get("/jellyfin/UserItems/Resume", params={"userId": uid}))
    check(resume, "BaseItemDtoQueryResult")
    check(ok(jf.get("/jellyfin/Shows/NextUp", params={"userId": uid})), "BaseItemDtoQueryResult")
    check(ok(jf.get(f"/jellyfin/Shows/{series['Id']}/Seasons")), "BaseItemDtoQueryResult")
    check(ok(jf.get(f"/jellyfin/Shows/{series['Id']}/Episodes", params={"Fields": fields})),
          "BaseItemDtoQueryResult")
    check(ok(jf.get(f"/jellyfin/UserItems/{movie['Id']}/UserData")), "UserItemDataDto")
    check(ok(jf.get(f"/jellyfin/Items/{episode['Id']}/Ancestors")), "BaseItemDto", many=True)
    check(ok(jf.get(f"/jellyfin/Items/{movie['Id']}/ThemeMedia")), "AllThemeMediaResult")
    check(ok(jf.get(f"/jellyfin/MediaSegments/{movie['Id']}")), "MediaSegmentDtoQueryResult")
    check(ok(jf.get("/jellyfin/Search/Hints", params={"searchTerm": "e"})), "SearchHintResult")
    check(ok(jf.get("/jellyfin/Items/Filters")), "QueryFiltersLegacy")
    mkv = next(i for i in items if i["Name"] == "Big Buck Bunny")
    for item_id in (movie["Id"], mkv["Id"], episode["Id"]):
        check(ok(jf.get(f"/jellyfin/Items/{item_id}/PlaybackInfo")), "PlaybackInfoResponse")
        body = {"DeviceProfile": {"DirectPlayProfiles": [{"Container": "webm", "Type": "Video"}]}}
        check(ok(jf.post(f"/jellyfin/Items/{item_id}/PlaybackInfo", json=body)), "PlaybackInfoResponse")


def test_reference_lists_match_the_sdk_models(jf: TestClient, library: Library) -> None:
    """Years (``Year`` items), cultures, countries and the other lists answered for the
    apps' pages (Live TV info, grouping options, upcoming, theme songs), as the SDK
    models them."""
    years = ok(jf.get("/jellyfin/Years", params={"Recursive": "true"}))
    check(years, "BaseItemDtoQueryResult")
    check(ok(jf.get(f"/jellyfin/Years/{years['Items'][0]['Name']}")), "BaseItemDto")
    check(ok(jf.get("/jellyfin/Localization/Cultures")), "CultureDto", many=True)
    check(ok(jf.get("/jellyfin/Localization/Countries")), "CountryInfo", many=True)
    check(ok(jf.get("/jellyfin/Localization/ParentalRatings")), "ParentalRating", many=True)
    check(ok(jf.get("/jellyfin/Localization/Options")), "LocalizationOption", many=True)
    check(ok(jf.get("/jellyfin/Shows/NextUp", params={"StartIndex": 0, "Limit": 0})), "BaseItemDtoQueryResult")
    check(ok(jf.get("/jellyfin/LiveTv/Info")), "LiveTvInfo")
    check(ok(jf.get("/jellyfin/UserViews/GroupingOptions")), "SpecialViewOptionDto", many=True)
    check(ok(jf.get("/jellyfin/Shows/Upcoming")), "BaseItemDtoQueryResult")
    movie = ok(jf.get("/jellyfin/Items", params={"Recursive": "true", "IncludeItemTypes": "Movie"}))["Items"][0]
    check(ok(jf.get(f"/jellyfin/Items/{movie['Id']}/ThemeSongs")), "ThemeMediaResult")
