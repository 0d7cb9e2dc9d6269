"""Display preferences kept per user, client and id; Quick Connect and playlists
answered as switched off, and SyncPlay when a setting switches it off — through jellyfin-apiclient-python (what Kodi's
add-on and jellyfin-mpv-shim use) and checked against the SDK's models."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from jellyfin.support import AUTH, Library
from jellyfin.test_models import check
from jellyfin.test_users import login
from jellyfin_apiclient_python import JellyfinClient

from reelhouse.core import Core
from reelhouse.server import create_app

from helpers import ADMIN, ADMIN_PASSWORD

pytestmark = [pytest.mark.requires_ffmpeg, pytest.mark.requires_node]


def test_display_preferences_through_the_client(jelly: JellyfinClient, server: str, core: Core) -> None:
    assert jelly.auth.login(server, ADMIN, ADMIN_PASSWORD)["AccessToken"]
    api = jelly.jellyfin
    settings = api.get_user_settings()
    check(settings, "DisplayPreferencesDto", id_check=False)
    assert (settings["Id"], settings["Client"], settings["SortBy"]) == ("usersettings", "emby", "SortName")
    settings["CustomPrefs"] = {"homesection0": "resume", "homesection1": "latestmedia", "cleared": None}
    settings["ScrollDirection"] = "Vertical"
    api.update_user_settings(settings)
    again = api.get_user_settings()
    check(again, "DisplayPreferencesDto", id_check=False)
    assert again["CustomPrefs"] == settings["CustomPrefs"] and again["ScrollDirection"] == "Vertical"
    assert api.get_user_settings(client="Kodi")["CustomPrefs"] == {}  # per client
    # another user does not see them
    core.users.add("friend", "friend-password")
    with TestClient(create_app(core)) as c:
        c.headers["x-emby-token"] = login(c, "friend", "friend-password")
        mine = c.get("/jellyfin/DisplayPreferences/usersettings", params={"client": "emby"}).json()
        assert mine["CustomPrefs"] == {} and mine["ScrollDirection"] == "Horizontal"


def test_display_preferences_refuse_bad_input(jf: TestClient) -> None:
    url = "/jellyfin/DisplayPreferences/films"
    good = {"SortBy": "SortName", "SortOrder": "descending", "RememberSorting": True, "PrimaryImageWidth": 300,
            "Unknown": [1, 2]}
    assert jf.post(url, params={"client": "emby"}, json=good).status_code == 204
    saved = jf.get(url, params={"client": "emby"}).json()
    assert (saved["SortOrder"], saved["RememberSorting"], saved["PrimaryImageWidth"]) == ("Descending", True, 300)
    assert "Unknown" not in saved
    for bad in ({"SortOrder": "Sideways"}, {"ScrollDirection": 3}, {"RememberSorting": "yes"},
                {"PrimaryImageWidth": -1}, {"PrimaryImageWidth": True}, {"SortBy": "x" * 600},
                {"CustomPrefs": {"a": 5}}, {"CustomPrefs": {str(i): "v" for i in range(201)}},
                {"CustomPrefs": ["a"]}, [1, 2]):
        r = jf.post(url, params={"client": "emby"}, json=bad)
        assert r.status_code == 400, (bad, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert jf.post(url, content=b"{not json", headers={"content-type": "application/json"}).status_code == 400
    assert jf.get("/jellyfin/DisplayPreferences/" + "x" * 65).status_code == 400
    assert jf.get(url, params={"client": "c" * 65}).status_code == 400
    assert jf.get(url, params={"userId": "nonsense"}).status_code == 400
    assert jf.get(url, headers={"authorization": AUTH}).status_code == 401
    assert jf.get(url, params={"client": "emby"}).json()["SortOrder"] == "Descending"  # bad saves changed nothing


def test_display_preferences_are_bounded_per_user(jf: TestClient, core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every new id or client name was a new row of up to the body limit (256 KiB): one
    user filled the database (60 saves, 15 MB). A save is at most MAX_BYTES of JSON
    (else 400), and a user keeps MAX_ROWS saves: a new one drops their least recently
    saved, which reads back as Jellyfin's defaults."""
    from sqlalchemy import func, select

    from reelhouse.db.models import DisplayPrefs
    from reelhouse.jellyfin import prefs

    big = {"CustomPrefs": {f"k{i}": "x" * 1200 for i in range(60)}}  # ~72 KiB: under the body limit
    r = jf.post("/jellyfin/DisplayPreferences/usersettings", json=big)
    assert r.status_code == 400 and "at most 64 KiB" in r.json()["detail"]
    monkeypatch.setattr(prefs, "MAX_ROWS", 5)
    for n in range(5):
        assert jf.post(f"/jellyfin/DisplayPreferences/p{n}", params={"client": f"c{n}"},
                       json={"SortBy": f"s{n}"}).status_code == 204
    for n, sort in ((0, "again"), (5, "s5")):  # p0 saved again, then one more: p1 is the least recent
        assert jf.post(f"/jellyfin/DisplayPreferences/p{n}", params={"client": f"c{n}"},
                       json={"SortBy": sort}).status_code == 204
    sort_by = {n: jf.get(f"/jellyfin/DisplayPreferences/p{n}", params={"client": f"c{n}"}).json()["SortBy"]
               for n in range(6)}
    assert sort_by == {0: "again", 1: "SortName", 2: "s2", 3: "s3", 4: "s4", 5: "s5"}  # p1 made room
    with core.sessions() as s:
        assert s.scalar(select(func.count()).select_from(DisplayPrefs)) == 5


def test_quick_connect_is_off(jelly: JellyfinClient, server: str, jf: TestClient) -> None:
    auth = jelly.auth.API  # the client's own Quick Connect calls
    assert auth.quick_connect_enabled(server) is False
    assert auth.quick_connect_initiate(server) == {}
    assert auth.quick_connect_state(server, "secret") == {}
    assert auth.login_with_quick_connect(server, "secret") == {}
    for method, path, kw in (("POST", "QuickConnect/Initiate", {}), ("GET", "QuickConnect/Initiate", {}),
                             ("GET", "QuickConnect/Connect?secret=s", {}),
                             ("POST", "Users/AuthenticateWithQuickConnect", {"json": {"Secret": "s"}})):
        r = jf.request(method, f"/jellyfin/{path}", headers={"authorization": AUTH}, **kw)  # type: ignore[arg-type]
        assert r.status_code == 401 and r.json()["detail"] == "Quick connect is disabled", (path, r.text)
    assert jf.get("/jellyfin/QuickConnect/Connect").status_code == 400
    assert jf.post("/jellyfin/Users/AuthenticateWithQuickConnect", json={}).status_code == 400
    # a signed-in user authorizing a code: 403, not a 401 that would sign them out
    assert jf.post("/jellyfin/QuickConnect/Authorize", params={"code": "123456"}).status_code == 403
    assert jf.get("/jellyfin/Users/Me").status_code == 200


def test_syncplay_off_and_no_playlists(jelly: JellyfinClient, server: str, jf: TestClient, library: Library,
                                      core: Core) -> None:
    """SyncPlay switched off (``jellyfin_syncplay = "nobody"``) answers as Jellyfin's
    SyncPlayAccess policy does: the policy says None (the apps hide it), every call 403."""
    core.settings.jellyfin_syncplay = "nobody"
    assert jelly.auth.login(server, ADMIN, ADMIN_PASSWORD)["AccessToken"]
    assert jelly.jellyfin.get_user()["Policy"]["SyncPlayAccess"] == "None"  # the apps hide SyncPlay
    for command in ("New", "Join", "Leave", "Pause", "Unpause", "Seek", "Buffering", "Ready", "Ping",
                    "SetNewQueue", "Queue", "NextItem", "SetIgnoreWait"):
        r = jf.post(f"/jellyfin/SyncPlay/{command}", json={})
        assert r.status_code == 403, (command, r.text)
    assert jf.get("/jellyfin/SyncPlay/List").status_code == 403
    assert jf.get("/jellyfin/SyncPlay/0123456789abcdef0123456789abcdef").status_code == 403
    assert jf.post("/jellyfin/Playlists", json={"Name": "p"}).status_code == 403
    some = "0123456789abcdef0123456789abcdef"
    for method, path in (("GET", f"Playlists/{some}"), ("GET", f"Playlists/{some}/Items"),
                         ("POST", f"Playlists/{some}/Items?ids={some}"), ("DELETE", f"Playlists/{some}/Items"),
                         ("POST", f"Playlists/{some}/Items/{some}/Move/0"), ("GET", f"Playlists/{some}/Users")):
        assert jf.request(method, f"/jellyfin/{path}").status_code == 404, path
    assert jf.get("/jellyfin/Playlists/nonsense/Items").status_code == 400
    none = jf.get("/jellyfin/Items", params={"Recursive": "true", "IncludeItemTypes": "Playlist"}).json()
    check(none, "BaseItemDtoQueryResult")
    assert none["TotalRecordCount"] == 0
