"""Jellyfin tokens are reelhouse sessions (revocable at once), and a user restricted to
some sources sees, opens, plays and gets the pictures of only titles with a file on
them."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jellyfin.support import AUTH, Library
from PIL import Image
from sqlalchemy import select

from reelhouse.auth.users import UserChange
from reelhouse.core import Core
from reelhouse.db.models import MediaFile
from reelhouse.jellyfin import ids
from reelhouse.server import create_app

from helpers import place, wait_job

pytestmark = pytest.mark.requires_ffmpeg


def login(c: TestClient, name: str, password: str) -> str:
    r = c.post("/jellyfin/Users/AuthenticateByName", json={"Username": name, "Pw": password},
               headers={"authorization": AUTH})
    assert r.status_code == 200, r.text
    return str(r.json()["AccessToken"])


def test_sessions_are_revocable(core: Core, jf: TestClient) -> None:
    token = login(jf, "admin", "admin-password")
    headers = {"authorization": AUTH + f', Token="{token}"'}
    assert jf.get("/jellyfin/Users/Me", headers=headers).status_code == 200
    sessions = core.auth_sessions.list()
    mine = next(s for s in sessions if s.kind == "jellyfin" and s.device.startswith("pytest"))
    assert mine.client.startswith("reelhouse tests")
    assert jf.post("/jellyfin/Sessions/Logout", headers=headers).status_code == 204
    assert jf.get("/jellyfin/Users/Me", headers=headers).status_code == 401
    # a disabled user's tokens stop at once
    user = core.users.add("friend", "friend-password")
    other = login(jf, "friend", "friend-password")
    assert jf.get("/jellyfin/Users/Me", headers={"authorization": AUTH + f', Token="{other}"'}).status_code == 200
    core.users.update(user.id, UserChange(disabled=True))
    assert jf.get("/jellyfin/Users/Me", headers={"authorization": AUTH + f', Token="{other}"'}).status_code == 401


def test_source_grants(core: Core, client: TestClient, library: Library, tmp_path: Path, sample_mp4: Path) -> None:
    place(sample_mp4, tmp_path / "private", "Secret Film (2001)/Secret.Film.2001.mp4")
    Image.new("RGB", (300, 450), (90, 20, 20)).save(tmp_path / "private" / "Secret Film (2001)" / "poster.jpg")
    sid = client.post("/api/sources", json={"name": "private", "kind": "local",
                                            "path": str(tmp_path / "private")}).json()["id"]
    assert wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])["state"] == "done"
    user = core.users.add("guest", "guest-password")
    core.users.update(user.id, UserChange(restrict_sources=True, sources=[library.source_id]))
    with TestClient(create_app(core)) as c:
        c.headers["x-emby-token"] = login(c, "guest", "guest-password")
        names = [i["Name"] for i in c.get("/jellyfin/Items", params={
            "Recursive": "true", "IncludeItemTypes": "Movie"}).json()["Items"]]
        assert names == ["Big Buck Bunny", "Sintel"]
        admin = {"x-emby-token": login(c, "admin", "admin-password")}
        secret = next(i for i in c.get("/jellyfin/Items", headers=admin, params={
            "Recursive": "true", "SearchTerm": "Secret"}).json()["Items"])
        for path in (f"/jellyfin/Items/{secret['Id']}", f"/jellyfin/Items/{secret['Id']}/PlaybackInfo",
                     f"/jellyfin/Videos/{secret['Id']}/stream", f"/jellyfin/Items/{secret['Id']}/Images/Primary",
                     f"/jellyfin/Items/{secret['Id']}/Images/Primary?maxWidth=200"):
            assert c.get(path).status_code == 404, path
            assert c.get(path, headers=admin).status_code == 200, path
        # a progress report on a hidden item was 204 (and saved; 400 naming its duration when past
        # the end), where an unknown one is 404:
        # an oracle for which ids exist
        for report in ("Playing", "Playing/Progress", "Playing/Stopped"):
            r = c.post(f"/jellyfin/Sessions/{report}", json={"ItemId": secret["Id"], "PositionTicks": 5 * 10**7})
            assert r.status_code == 404, (report, r.status_code, r.text)
            assert r.json()["detail"] == f"no playable file for {secret['Id']}", r.text  # as for an unknown id
        assert c.get(f"/jellyfin/Videos/{secret['Id']}/stream").json()["detail"] == \
            f"no playable file for {secret['Id']}"
        assert c.get(f"/jellyfin/Items/{secret['Id']}/Images/Primary").json()["detail"] == "no such item"
        with core.sessions() as s:
            secret_file = s.scalar(select(MediaFile.id).where(MediaFile.source_id == sid))
        assert secret_file is not None and core.progress.get(user.id, secret_file) is None


def test_user_data_of_another_user_by_query_is_403(core: Core, jf: TestClient, library: Library) -> None:
    """``UserItems/{id}/UserData?userId=<someone else>`` from a user who is not an admin
    answered 200 with the caller's own data (nothing leaked, but not what was asked);
    Jellyfin answers 403, as for ``/Users/{otherId}/…``. An admin may name anyone."""
    friend = core.users.add("friend", "friend-password")
    other = core.users.add("other", "other-password")
    movie = jf.get("/jellyfin/Items", params={"Recursive": "true", "IncludeItemTypes": "Movie"}).json()["Items"][0]
    with TestClient(create_app(core)) as c:
        c.headers["x-emby-token"] = login(c, "friend", "friend-password")
        me = c.get("/jellyfin/Users/Me").json()["Id"]
        other_id = ids.encode("user", other.id)
        url = f"/jellyfin/UserItems/{movie['Id']}/UserData"
        assert c.get(url, params={"userId": me}).status_code == 200
        r = c.get(url, params={"userId": other_id})
        assert r.status_code == 403, r.text
        assert c.post(url, params={"UserId": other_id}, json={"IsFavorite": True}).status_code == 403
        assert c.get(url).status_code == 200  # no userId: the caller
    assert friend.id != other.id
    assert jf.get(f"/jellyfin/UserItems/{movie['Id']}/UserData", params={"userId": other_id}).status_code == 200
