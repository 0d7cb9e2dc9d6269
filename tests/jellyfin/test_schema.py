"""Our Jellyfin responses against Jellyfin's published OpenAPI document
(tests/jellyfin/openapi/, see its README): every endpoint real clients use, including
errors (ProblemDetails), with the 10.7 document's types (an int is an ``integer``
there, ticks ``int64``). Its ``additionalProperties: false`` is dropped: fields newer
servers write (``SplashscreenEnabled``, ``UserData.ItemId``, ``HasSegments``) are not
in it; test_models.py catches misspelt or invented fields against the current models."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jellyfin.support import AUTH, Library, ok
from openapi_schema_validator import OAS30Validator

pytestmark = pytest.mark.requires_ffmpeg

DOC = Path(__file__).parent / "openapi" / "openapi-10.7.json"


def _open(node: Any) -> Any:
    """``node`` without ``additionalProperties: false`` anywhere."""
    if isinstance(node, dict):
        return {k: _open(v) for k, v in node.items() if not (k == "additionalProperties" and v is False)}
    if isinstance(node, list):
        return [_open(v) for v in node]
    return node


@cache
def _doc() -> dict[str, Any]:
    doc: dict[str, Any] = _open(json.loads(DOC.read_text()))
    return doc


def _schema(path: str, method: str = "get", status: str = "200") -> dict[str, Any]:
    """The response schema the document declares for ``path`` (as written there)."""
    response = _doc()["paths"][path][method]["responses"][status]
    schema = response["content"]["application/json"]["schema"]
    return {**schema, "components": _doc()["components"]}


def check(body: Any, path: str, method: str = "get", status: str = "200") -> None:
    errors = sorted(OAS30Validator(_schema(path, method, status)).iter_errors(body), key=str)
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10])


def check_ref(body: Any, name: str) -> None:
    schema = {"$ref": f"#/components/schemas/{name}", "components": _doc()["components"]}
    errors = sorted(OAS30Validator(schema).iter_errors(body), key=str)
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10])


def test_responses_match_the_openapi_document(jf: TestClient, library: Library) -> None:
    check(ok(jf.get("/jellyfin/System/Info/Public")), "/System/Info/Public")
    check(ok(jf.get("/jellyfin/System/Info")), "/System/Info")
    check(ok(jf.get("/jellyfin/System/Configuration")), "/System/Configuration")
    check(ok(jf.get("/jellyfin/Movies/Recommendations")), "/Movies/Recommendations")
    check(ok(jf.get("/jellyfin/Branding/Configuration")), "/Branding/Configuration")
    me = ok(jf.get("/jellyfin/Users/Me"))
    check(me, "/Users/Me")
    uid = me["Id"]
    check(ok(jf.get(f"/jellyfin/Users/{uid}")), "/Users/{userId}")
    login = jf.post("/jellyfin/Users/AuthenticateByName", json={"Username": "admin", "Pw": "admin-password"})
    check(ok(login), "/Users/AuthenticateByName", "post")
    # a new login from the same DeviceId replaces the device's session (as Jellyfin's)
    jf.headers["authorization"] = AUTH + ', Token="{}"'.format(login.json()["AccessToken"])

    views = ok(jf.get("/jellyfin/UserViews", params={"userId": uid}))
    check(views, "/Users/{userId}/Views")
    check(ok(jf.get(f"/jellyfin/Users/{uid}/Views")), "/Users/{userId}/Views")
    fields = "MediaSources,MediaStreams,Overview,Genres,DateCreated,PrimaryImageAspectRatio"
    for params in ({"ParentId": views["Items"][0]["Id"], "Fields": fields},
                   {"Recursive": "true", "IncludeItemTypes": "Movie,Series,Season,Episode", "Fields": fields},
                   {"Recursive": "true", "Filters": "IsUnplayed", "SortBy": "DateCreated",
                    "SortOrder": "Descending"}):
        check(ok(jf.get("/jellyfin/Items", params={"userId": uid, **params})), "/Items")
        check(ok(jf.get(f"/jellyfin/Users/{uid}/Items", params=params)), "/Users/{userId}/Items")
    items = ok(jf.get("/jellyfin/Items", params={"Recursive": "true",
                                                 "IncludeItemTypes": "Movie,Series,Season,Episode"}))["Items"]
    assert {i["Type"] for i in items} == {"Movie", "Series", "Season", "Episode"}
    for item in [*items, *views["Items"]]:
        check(ok(jf.get(f"/jellyfin/Items/{item['Id']}")), "/Users/{userId}/Items/{itemId}")
        check(ok(jf.get(f"/jellyfin/Users/{uid}/Items/{item['Id']}")), "/Users/{userId}/Items/{itemId}")
    check(ok(jf.get("/jellyfin/Items/Latest")), "/Users/{userId}/Items/Latest")
    check(ok(jf.get(f"/jellyfin/Users/{uid}/Items/Latest", params={"ParentId": views["Items"][1]["Id"]})),
          "/Users/{userId}/Items/Latest")
    movie = next(i for i in items if i["Type"] == "Movie")
    episode = next(i for i in items if i["Type"] == "Episode")
    series = next(i for i in items if i["Type"] == "Series")
    check(ok(jf.post(f"/jellyfin/UserPlayedItems/{episode['Id']}")), "/Users/{userId}/PlayedItems/{itemId}", "post")
    check(ok(jf.delete(f"/jellyfin/Users/{uid}/PlayedItems/{movie['Id']}")),
          "/Users/{userId}/PlayedItems/{itemId}", "delete")
    check(ok(jf.post(f"/jellyfin/UserFavoriteItems/{movie['Id']}")), "/Users/{userId}/FavoriteItems/{itemId}", "post")
    check(ok(jf.get("/jellyfin/UserItems/Resume")), "/Users/{userId}/Items/Resume")
    check(ok(jf.get(f"/jellyfin/Users/{uid}/Items/Resume")), "/Users/{userId}/Items/Resume")
    check(ok(jf.get("/jellyfin/Shows/NextUp", params={"userId": uid})), "/Shows/NextUp")
    check(ok(jf.get(f"/jellyfin/Shows/{series['Id']}/Seasons")), "/Shows/{seriesId}/Seasons")
    check(ok(jf.get(f"/jellyfin/Shows/{series['Id']}/Episodes")), "/Shows/{seriesId}/Episodes")
    check(ok(jf.get(f"/jellyfin/Items/{movie['Id']}/Similar")), "/Items/{itemId}/Similar")
    for item_id in (movie["Id"], episode["Id"]):
        check(ok(jf.get(f"/jellyfin/Items/{item_id}/PlaybackInfo")), "/Items/{itemId}/PlaybackInfo")
        body = {"DeviceProfile": {"DirectPlayProfiles": [{"Container": "webm", "Type": "Video"}]}}
        check(ok(jf.post(f"/jellyfin/Items/{item_id}/PlaybackInfo", json=body)),
              "/Items/{itemId}/PlaybackInfo", "post")
    check(ok(jf.get("/jellyfin/DisplayPreferences/usersettings", params={"client": "emby"})),
          "/DisplayPreferences/{displayPreferencesId}")
    check(ok(jf.get("/jellyfin/Sessions")), "/Sessions")


def test_errors_are_problem_details(jf: TestClient) -> None:
    no_token = jf.get("/jellyfin/Items", headers={"authorization": ""})
    assert no_token.status_code == 401
    check_ref(no_token.json(), "ProblemDetails")
    for path, status in (("/jellyfin/Items/not-an-id", 400),
                         ("/jellyfin/Items/000000017265656c00000000000003e7", 404)):
        r = jf.get(path)
        assert r.status_code == status and r.headers["content-type"] == "application/problem+json"
        check_ref(r.json(), "ProblemDetails")
