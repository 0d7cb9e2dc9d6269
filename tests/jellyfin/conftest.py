"""A small real library for the Jellyfin API tests: two films (an MP4, and an MKV with
two audio tracks and a SubRip track) and a show with three episodes over two seasons,
on a local source, scanned; a TestClient logged in through the Jellyfin API; and a live
server (uvicorn on port 0) with jellyfin-apiclient-python clients of it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jellyfin.support import AUTH, Library, apiclient
from jellyfin_apiclient_python import JellyfinClient

from reelhouse.core import Core
from reelhouse.demo.probe_clips import make_probe_clip
from reelhouse.server import create_app

from helpers import ADMIN, ADMIN_PASSWORD, place, serving, wait_job


@pytest.fixture(scope="session")
def subs_mkv(clip_cache: Path) -> Path:
    return make_probe_clip("two_audio_subs.mkv", clip_cache / "probe")


@pytest.fixture
def library(client: TestClient, tmp_path: Path, sample_mp4: Path, subs_mkv: Path) -> Library:
    root = tmp_path / "media"
    rels = ["Films/Sintel (2010)/Sintel.2010.mp4",
            "Films/Big Buck Bunny (2008)/Big.Buck.Bunny.2008.mkv",
            "Shows/Example Show/Season 01/Example.Show.S01E01.mp4",
            "Shows/Example Show/Season 01/Example.Show.S01E02.mp4",
            "Shows/Example Show/Season 02/Example.Show.S02E01.mp4"]
    for rel in rels:
        place(subs_mkv if rel.endswith(".mkv") else sample_mp4, root, rel)
    r = client.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(root)})
    assert r.status_code == 201, r.text
    sid = int(r.json()["id"])
    assert wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])["state"] == "done"
    items = client.get("/api/library/media-files", params={"per_page": 100}).json()["items"]
    files = {i["path"].lstrip("/"): int(i["id"]) for i in items}
    assert set(files) == set(rels), files
    return Library(root, sid, files)


@pytest.fixture
def jellyfin_sdk() -> Path:
    """tests/jellyfin/sdk, where ``npm ci`` installed ``@jellyfin/sdk``; skipped without
    node or the packages (a failure under CI=true, as for every ``requires_node`` test)."""
    sdk = Path(__file__).parent / "sdk"
    if shutil.which("node") is None or not (sdk / "node_modules" / "@jellyfin" / "sdk").exists():
        pytest.skip("node or @jellyfin/sdk missing: run `npm ci` in tests/jellyfin/sdk")
    return sdk


@pytest.fixture
def jf(core: Core) -> Iterator[TestClient]:
    """A client of its own, logged in through ``Users/AuthenticateByName`` (the token
    in the ``Authorization: MediaBrowser …`` header)."""
    with TestClient(create_app(core)) as c:
        r = c.post("/jellyfin/Users/AuthenticateByName", json={"Username": ADMIN, "Pw": ADMIN_PASSWORD},
                   headers={"authorization": AUTH + ', Token=""'})
        assert r.status_code == 200, r.text
        c.headers["authorization"] = AUTH + f', Token="{r.json()["AccessToken"]}"'
        yield c


@pytest.fixture
def server(core: Core) -> Iterator[str]:
    """The Jellyfin API's base URL (``http://127.0.0.1:PORT/jellyfin``) of a live
    reelhouse over ``core``; ask for ``library`` too for the titles."""
    with serving(create_app(core)) as base:
        yield base + "/jellyfin"


@pytest.fixture
def jelly(server: str, request: pytest.FixtureRequest) -> Iterator[JellyfinClient]:
    """jellyfin-apiclient-python connected to ``server`` (``connect_to_address``: the
    server found, nobody signed in), with a device id of the test module's own;
    stopped at the end."""
    c = apiclient(server, "device-" + request.module.__name__.rpartition(".")[2])
    yield c
    c.stop()


@pytest.fixture
def jelly_admin(jelly: JellyfinClient, server: str) -> JellyfinClient:
    """``jelly`` logged in as the admin."""
    assert jelly.auth.login(server, ADMIN, ADMIN_PASSWORD)["AccessToken"]
    return jelly
