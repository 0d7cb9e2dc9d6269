"""A Jellyfin server as a source, tested against a reelhouse instance speaking the
Jellyfin API (part 1 of issue 16): its films, series, seasons and episodes with their
metadata join the library, streams are byte-exact with Range, rescans are incremental
(``MinDateLastSaved``) and see removals, and the same film on a local disk and on the
Jellyfin server is one film with two files."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from jellyfin.support import Library

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.server import create_app

from helpers import ADMIN, ADMIN_PASSWORD, log_in, place, serving, wait_job

pytestmark = pytest.mark.requires_ffmpeg


@pytest.fixture
def remote(server: str, library: Library) -> str:
    """The library fixture's reelhouse, served: the "Jellyfin server"."""
    return server


@pytest.fixture
def here(tmp_path: Path) -> Iterator[TestClient]:
    """A second reelhouse (the one that adds the Jellyfin source), logged in."""
    other = Core(load_settings(data_dir=tmp_path / "here"))
    other.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
    try:
        with TestClient(create_app(other)) as c:
            token = c.post("/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD}).json()["token"]
            c.headers["authorization"] = f"Bearer {token}"
            yield c
    finally:
        other.close()


def scan(c: TestClient, sid: int) -> None:
    job = wait_job(c, c.post(f"/api/sources/{sid}/scan").json()["id"], timeout=120)
    assert job["state"] == "done", job


def test_jellyfin_source(remote: str, here: TestClient, client: TestClient, library: Library,
                         sample_mp4: Path, tmp_path: Path) -> None:
    r = here.post("/api/sources", json={"name": "den", "kind": "jellyfin", "path": remote,
                                        "username": ADMIN, "password": ADMIN_PASSWORD})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert "password" not in r.json()
    scan(here, sid)
    grid = here.get("/api/library/items").json()["items"]
    assert sorted((i["type"], i["title"], i["year"]) for i in grid) == [
        ("movie", "Big Buck Bunny", 2008), ("movie", "Sintel", 2010), ("show", "Example Show", None)]
    show = here.get(f"/api/library/shows/{next(i['id'] for i in grid if i['type'] == 'show')}").json()
    assert [(s["number"], [e["number"] for e in s["episodes"]]) for s in show["seasons"]] == [(1, [1, 2]), (2, [1])]

    # the stream: the remote file's bytes, with Range
    files = {f["path"]: f for f in here.get("/api/library/media-files").json()["items"]}
    sintel = next(f for p, f in files.items() if p.endswith("Sintel (2010).mp4"))
    data = (library.root / "Films/Sintel (2010)/Sintel.2010.mp4").read_bytes()
    assert sintel["size"] == len(data)
    url = here.post(f"/api/library/media-files/{sintel['id']}/playback").json()["url"]
    got = here.get(url, headers={"range": "bytes=100-65635"})
    assert got.status_code == 206 and got.content == data[100:65636]
    assert here.get(url, headers={"range": f"bytes={len(data) - 10}-"}).content == data[-10:]

    # incremental: a new film on the remote appears, a removed one disappears
    place(sample_mp4, library.root, "Films/Tears of Steel (2012)/Tears.of.Steel.2012.mp4")
    (library.root / "Films/Big Buck Bunny (2008)/Big.Buck.Bunny.2008.mkv").unlink()
    scan(client, library.source_id)
    scan(here, sid)
    titles = sorted(i["title"] for i in here.get("/api/library/items").json()["items"])
    assert titles == ["Example Show", "Sintel", "Tears of Steel"]

    # one library over many servers: the same film on a local disk merges with it
    place(sample_mp4, tmp_path / "disk", "Sintel (2010)/Sintel.2010.mp4")
    local = here.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(tmp_path / "disk")})
    scan(here, local.json()["id"])
    movies = [i for i in here.get("/api/library/items").json()["items"] if i["title"] == "Sintel"]
    assert len(movies) == 1 and movies[0]["file_count"] == 2
    assert sorted(movies[0]["source_kinds"]) == ["jellyfin", "local"]


def test_jellyfin_source_bad_input(here: TestClient, remote: str) -> None:
    for body in ({"name": "x", "kind": "jellyfin", "path": "ftp://nope", "username": "a"},
                 {"name": "x", "kind": "jellyfin", "path": remote}):
        r = here.post("/api/sources", json=body)
        assert r.status_code in (400, 422), (body, r.text)
    r = here.post("/api/sources", json={"name": "y", "kind": "jellyfin", "path": remote, "username": ADMIN,
                                        "password": "wrong-password"})
    assert r.status_code == 201
    job = wait_job(here, here.post(f"/api/sources/{r.json()['id']}/scan").json()["id"])
    assert job["state"] == "failed" and "refused" in str(job["error"])


class _SlowCatalog:
    """ASGI middleware: the Jellyfin API's item lists (the catalogue) answer after
    ``delay`` seconds (a big library on a busy server), without blocking the server."""

    def __init__(self, app: Any, delay: float) -> None:
        self.app, self.delay = app, delay

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].lower().endswith("/items"):
            await asyncio.sleep(self.delay)
        await self.app(scope, receive, send)


def test_the_first_stream_after_a_restart_does_not_stall_the_server(
        core: Core, library: Library, tmp_path: Path) -> None:
    """After a restart the Jellyfin source knows no catalogue yet: the first stream of
    one of its files fetched the whole catalogue (and logged in) with blocking HTTP
    calls on the event loop, so every other request of the node waited for it (a
    Jellyfin source pointing at its own node waited for itself until the timeout)."""
    # a 3 s catalogue and a 1.5 s bound on the health check: a stall is 2.5 s or more, and
    # a loaded 2-core machine's slow answer (under the 0.8 s of a 1.5 s catalogue) passes
    with serving(_SlowCatalog(create_app(core), delay=3.0)) as base:
        remote = base + "/jellyfin"
        first = Core(load_settings(data_dir=tmp_path / "here"))
        try:
            first.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
            with TestClient(create_app(first)) as c:
                log_in(c)
                r = c.post("/api/sources", json={"name": "den", "kind": "jellyfin", "path": remote,
                                                 "username": ADMIN, "password": ADMIN_PASSWORD})
                assert r.status_code == 201, r.text
                scan(c, r.json()["id"])
                files = c.get("/api/library/media-files").json()["items"]
                sintel = next(f for f in files if f["path"].endswith("Sintel (2010).mp4"))
                url = c.post(f"/api/library/media-files/{sintel['id']}/playback").json()["url"]
                url = url.removeprefix("http://testserver")  # the path, for the node served below
        finally:
            first.close()
        data = (library.root / "Films/Sintel (2010)/Sintel.2010.mp4").read_bytes()
        again = Core(load_settings(data_dir=tmp_path / "here"))  # the restart: no catalogue yet
        try:
            with serving(create_app(again), on_stop=again.sources.close) as here, \
                    httpx.Client(base_url=here, timeout=30) as http:
                got: list[httpx.Response] = []
                stream = threading.Thread(target=lambda: got.append(
                    http.get(url, headers={"range": "bytes=0-999"})))
                stream.start()
                time.sleep(0.5)  # the stream is fetching the catalogue now
                started = time.monotonic()
                assert http.get("/api/health").status_code == 200
                waited = time.monotonic() - started
                stream.join(30)
                assert got and got[0].status_code == 206 and got[0].content == data[:1000]
                assert waited < 1.5, f"/api/health waited {waited:.2f} s for the catalogue"
        finally:
            again.close()
