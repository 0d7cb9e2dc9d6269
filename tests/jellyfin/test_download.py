"""Downloading a file to keep: Jellyfin's ``Items/{id}/Download`` (the apps' "Download"
button, which every item offers with ``CanDownload: true``) and the REST stream's
``?download=true``, both with a ``Content-Disposition`` that keeps a Unicode name
(RFC 6266 §4.3, RFC 8187) and HTTP Range. The items said ``CanDownload`` but the route
did not exist: every app's Download was a 404 (found by an outside-in probe)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from jellyfin.support import AUTH

from reelhouse.auth.users import UserChange
from reelhouse.core import Core
from reelhouse.server import create_app

from helpers import place, wait_job

pytestmark = pytest.mark.requires_ffmpeg

NAME = 'Amélie "Le Fabuleux" 東京 100%;x.mp4'


@pytest.fixture
def film(client: TestClient, tmp_path: Path, sample_mp4: Path) -> tuple[int, bytes]:
    """(media file id, bytes) of one film whose file name is hard to put in a header."""
    root = tmp_path / "media"
    place(sample_mp4, root, f"Films/Amélie (2001)/{NAME}")
    sid = client.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(root)}).json()["id"]
    assert wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])["state"] == "done"
    items = client.get("/api/library/media-files").json()["items"]
    assert [i["name"] for i in items] == [NAME]
    return int(items[0]["id"]), sample_mp4.read_bytes()


def _disposition_name(header: str) -> tuple[str, str]:
    """(the ASCII ``filename``, the decoded ``filename*``) of an attachment header."""
    assert header.startswith("attachment;"), header
    plain = re.search(r'filename="((?:[^"\\]|\\.)*)"', header)
    star = re.search(r"filename\*=UTF-8''([A-Za-z0-9!#$&+.^_`|~%-]+)", header)
    assert plain and star, header
    assert header.isascii()
    return plain.group(1), unquote(star.group(1), encoding="utf-8", errors="strict")


def test_jellyfin_download_keeps_the_name_and_the_bytes(jf: TestClient, film: tuple[int, bytes]) -> None:
    _, data = film
    items = jf.get("/jellyfin/Items", params={"Recursive": "true", "IncludeItemTypes": "Movie"}).json()["Items"]
    assert len(items) == 1 and items[0]["CanDownload"] is True
    url = f"/jellyfin/Items/{items[0]['Id']}/Download"
    r = jf.get(url)
    assert r.status_code == 200, r.text
    assert r.content == data
    fallback, name = _disposition_name(r.headers["content-disposition"])
    assert name == NAME
    assert fallback.endswith(".mp4") and '"' not in fallback.replace('\\"', "")
    r = jf.get(url, headers={"range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == data[10:20]
    head = jf.head(url)
    assert head.status_code == 200 and head.headers["content-length"] == str(len(data))
    # the api_key form (a browser's link) works too; no token is a 401
    token = jf.headers["authorization"].rsplit('Token="', 1)[1].rstrip('"')
    with TestClient(jf.app) as bare:
        assert bare.get(url, params={"api_key": token}).content == data
        assert bare.get(url).status_code == 401


def test_jellyfin_download_of_a_hidden_item_is_404(core: Core, jf: TestClient, film: tuple[int, bytes]) -> None:
    items = jf.get("/jellyfin/Items", params={"Recursive": "true", "IncludeItemTypes": "Movie"}).json()["Items"]
    core.users.add("friend", "friend-password")
    friend = core.users.by_name("friend")
    core.users.update(friend.id, UserChange(restrict_sources=True, sources=[]))
    with TestClient(create_app(core)) as c:
        r = c.post("/jellyfin/Users/AuthenticateByName", json={"Username": "friend", "Pw": "friend-password"},
                   headers={"authorization": AUTH + ', Token=""'})
        c.headers["authorization"] = AUTH + f', Token="{r.json()["AccessToken"]}"'
        assert c.get(f"/jellyfin/Items/{items[0]['Id']}/Download").status_code == 404


def test_rest_stream_as_a_download(client: TestClient, film: tuple[int, bytes]) -> None:
    file_id, data = film
    url = f"/api/library/media-files/{file_id}/stream"
    assert "content-disposition" not in client.head(url).headers
    r = client.get(url, params={"download": "true"})
    assert r.status_code == 200 and r.content == data
    assert _disposition_name(r.headers["content-disposition"])[1] == NAME
    token = client.post(f"/api/library/media-files/{file_id}/playback").json()["token"]
    r = client.get(url, params={"download": "1", "token": token}, headers={"range": "bytes=-5"})
    assert r.status_code == 206 and r.content == data[-5:]
    assert _disposition_name(r.headers["content-disposition"])[1] == NAME
