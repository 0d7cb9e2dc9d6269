"""The metadata API: images (auth, resizing, bad widths), TMDB search for a movie or a
show, picking a match, editing title/year, unlocking; admins only for changes; TMDB
missing → 503, never a 500."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image as PILImage
from sqlalchemy import select
from tmdb_fake import FakeTmdb, jpeg

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.library.scanner import scan_source
from reelhouse.server import create_app
from reelhouse.sources.memory import MemorySource
from reelhouse.sources.registry import SourceSpec

from helpers import ADMIN, ADMIN_PASSWORD, log_in

VIDEO = b"\x00not a video\x00" * 8
FILES = {
    "Movies/The.Thing.mkv": VIDEO,
    "Sintel (2010)/Sintel.mkv": VIDEO,
    "Sintel (2010)/poster.jpg": jpeg(1000, 1500),
    "The Office (US)/Season 01/The.Office.S01E01.mkv": VIDEO,
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTmdb]:
    with FakeTmdb() as server:
        yield server


def build(tmp_path: Path, **settings: Any) -> Core:
    core = Core(load_settings(data_dir=tmp_path / "data", **settings))
    core.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
    core.users.add("viewer", "viewer-password", is_admin=False)
    sid = core.sources.create(SourceSpec(name="mem", kind="local", path=str(tmp_path))).id
    scan_source(core.sessions, sid, MemorySource(FILES), enrich=core.metadata.enrich_file)
    return core


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory, fake: FakeTmdb) -> Path:
    """A data dir scanned once (with TMDB); each test works on its own copy."""
    root = tmp_path_factory.mktemp("scanned")
    build(root, **fake.settings()).close()
    return root / "data"


@pytest.fixture
def tmdb_core(tmp_path: Path, fake: FakeTmdb, scanned: Path) -> Iterator[Core]:
    shutil.copytree(scanned, tmp_path / "data")
    core = Core(load_settings(data_dir=tmp_path / "data", **fake.settings()))
    yield core
    core.close()


@pytest.fixture
def api(tmdb_core: Core) -> Iterator[TestClient]:
    with TestClient(create_app(tmdb_core)) as c:
        log_in(c, ADMIN, ADMIN_PASSWORD)
        yield c


def ids(c: TestClient) -> dict[str, dict[str, Any]]:
    r = c.get("/api/library/items")
    assert r.status_code == 200
    return {i["title"]: i for i in r.json()["items"]}


def test_grid_and_details_carry_metadata(api: TestClient) -> None:
    items = ids(api)
    assert set(items) == {"The Thing", "Sintel", "The Office"}
    assert items["Sintel"]["poster_url"] and not items["Sintel"]["needs_review"]
    assert items["The Thing"]["needs_review"] and items["The Thing"]["poster_url"] is None
    movie = api.get(f"/api/library/movies/{items['Sintel']['id']}").json()
    assert movie["tmdb_id"] == 45745 and movie["genres"] == ["Animation", "Fantasy"]
    assert movie["poster_url"].startswith("/api/images/") and movie["backdrop_url"]
    show = api.get(f"/api/library/shows/{items['The Office']['id']}").json()
    assert show["tmdb_id"] == 2316 and show["seasons"][0]["poster_url"]
    assert show["seasons"][0]["episodes"][0]["title"] == "Pilot"
    assert show["seasons"][0]["episodes"][0]["still_url"]


def test_image_endpoint_resizes_and_needs_a_login(api: TestClient, tmdb_core: Core) -> None:
    url = ids(api)["Sintel"]["poster_url"]  # the local poster.jpg wins: 1000x1500
    with TestClient(create_app(tmdb_core)) as anon:
        assert anon.get(url).status_code == 401
        assert anon.get(url + "?w=200").status_code == 401
    for width, expected in ((200, (200, 300)), (400, (400, 600)), (800, (800, 1200)), (None, (1000, 1500))):
        r = api.get(url, params={"w": width} if width else {})
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        assert "max-age" in r.headers["cache-control"]
        with PILImage.open(io.BytesIO(r.content)) as img:
            assert img.size == expected
    # cached artwork revalidates: 304 for its ETag or Last-Modified (it answered 200)
    r = api.get(url, params={"w": 200})
    assert api.get(url, params={"w": 200}).headers["etag"] == r.headers["etag"]
    for headers in ({"if-none-match": r.headers["etag"]},
                    {"if-modified-since": r.headers["last-modified"]}):
        again = api.get(url, params={"w": 200}, headers=headers)
        assert again.status_code == 304 and again.content == b"", headers
    assert api.get(url, params={"w": 200}, headers={"if-none-match": '"x"'}).status_code == 200
    assert api.get(url, params={"w": 200}, headers={"if-match": '"x"'}).status_code == 412
    assert api.get(url, params={"w": 300}).status_code == 400
    assert api.get(url, params={"w": "big"}).status_code == 422
    assert api.get("/api/images/999999").status_code == 404
    assert api.get("/api/images/99999999999999999999").status_code == 422


def test_fix_a_movie_match(api: TestClient) -> None:
    thing = ids(api)["The Thing"]["id"]
    r = api.get(f"/api/library/movies/{thing}/match")
    assert r.status_code == 200
    found = r.json()
    assert [c["tmdb_id"] for c in found] == [1091, 60935] or [c["tmdb_id"] for c in found] == [60935, 1091]
    assert all(0 <= c["confidence"] <= 1 and c["title"] == "The Thing" for c in found)
    assert api.get(f"/api/library/movies/{thing}/match", params={"query": "Big Buck Bunny"}).json()[0][
        "tmdb_id"] == 10378

    r = api.put(f"/api/library/movies/{thing}/match", json={"tmdb_id": 1091})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["title"], body["year"], body["tmdb_id"], body["locked"], body["needs_review"]) == (
        "The Thing", 1982, 1091, True, False)
    assert body["poster_url"] and body["match_confidence"] == 1.0
    assert api.put(f"/api/library/movies/{thing}/match", json={"tmdb_id": 424242}).status_code == 404
    assert api.put(f"/api/library/movies/{thing}/match", json={"tmdb_id": 0}).status_code == 422
    assert api.put("/api/library/movies/999999/match", json={"tmdb_id": 1091}).status_code == 404


def test_edit_title_and_year(api: TestClient) -> None:
    sintel = ids(api)["Sintel"]["id"]
    r = api.patch(f"/api/library/movies/{sintel}", json={"title": "Sintel (Blender)", "year": 2011})
    assert r.status_code == 200 and (r.json()["title"], r.json()["year"], r.json()["locked"]) == (
        "Sintel (Blender)", 2011, True)
    r = api.patch(f"/api/library/movies/{sintel}", json={"year": None})
    assert (r.json()["title"], r.json()["year"]) == ("Sintel (Blender)", None)
    assert api.patch(f"/api/library/movies/{sintel}", json={"title": ""}).status_code == 422
    assert api.patch(f"/api/library/movies/{sintel}", json={"year": 99999}).status_code == 422
    r = api.delete(f"/api/library/movies/{sintel}/lock")
    assert r.status_code == 200 and r.json()["locked"] is False


def test_fix_a_show(api: TestClient) -> None:
    office = ids(api)["The Office"]["id"]
    found = api.get(f"/api/library/shows/{office}/match").json()
    assert {c["tmdb_id"] for c in found} == {2316, 2996}
    r = api.patch(f"/api/library/shows/{office}", json={"title": "The Office (US)"})
    assert r.status_code == 200 and r.json()["locked"]
    r = api.put(f"/api/library/shows/{office}/match", json={"tmdb_id": 2316})
    assert r.status_code == 200 and r.json()["title"] == "The Office"
    assert api.delete(f"/api/library/shows/{office}/lock").json()["locked"] is False


def test_changes_are_for_admins(tmdb_core: Core, api: TestClient) -> None:
    thing = ids(api)["The Thing"]["id"]
    with TestClient(create_app(tmdb_core)) as viewer:
        log_in(viewer, "viewer", "viewer-password")
        assert viewer.get(f"/api/library/movies/{thing}/match").status_code == 200
        assert viewer.put(f"/api/library/movies/{thing}/match", json={"tmdb_id": 1091}).status_code == 403
        assert viewer.patch(f"/api/library/movies/{thing}", json={"title": "x"}).status_code == 403
        assert viewer.delete(f"/api/library/movies/{thing}/lock").status_code == 403


def test_pictures_and_searches_follow_source_grants(tmdb_core: Core, api: TestClient) -> None:
    """A user restricted to other sources gets 404 for every picture of a title they
    cannot see (a poster names the film) and for a TMDB search on such a title (the
    default query is its title); both were answered to anyone logged in."""
    from reelhouse.auth.users import UserChange
    from reelhouse.db.models import Image

    with tmdb_core.sessions() as s:
        pictures = list(s.scalars(select(Image.id)))
    items = ids(api)
    assert len(pictures) >= 3, pictures
    viewer_id = tmdb_core.users.by_name("viewer").id
    with TestClient(create_app(tmdb_core)) as viewer:
        log_in(viewer, "viewer", "viewer-password")
        for image in pictures:
            assert viewer.get(f"/api/images/{image}").status_code == 200, image
        assert viewer.get(f"/api/library/movies/{items['Sintel']['id']}/match").status_code == 200
        tmdb_core.users.update(viewer_id, UserChange(restrict_sources=True, sources=[]))
        for image in pictures:
            for width in ("", "?w=200"):
                r = viewer.get(f"/api/images/{image}{width}")
                assert r.status_code == 404 and "no image" in r.json()["detail"], (image, r.status_code)
            assert api.get(f"/api/images/{image}").status_code == 200, image
        for kind, title in (("movies", "Sintel"), ("shows", "The Office")):
            r = viewer.get(f"/api/library/{kind}/{items[title]['id']}/match")
            assert r.status_code == 404, (kind, r.status_code, r.text)


def test_without_tmdb_search_is_503(tmp_path: Path) -> None:
    core = build(tmp_path)
    try:
        with TestClient(create_app(core)) as c:
            log_in(c, ADMIN, ADMIN_PASSWORD)
            thing = ids(c)["The Thing"]["id"]
            r = c.get(f"/api/library/movies/{thing}/match")
            assert r.status_code == 503 and "not configured" in r.json()["detail"]
            assert c.put(f"/api/library/movies/{thing}/match", json={"tmdb_id": 1}).status_code == 503
            assert c.patch(f"/api/library/movies/{thing}", json={"title": "Fixed"}).json()["title"] == "Fixed"
    finally:
        core.close()


def test_pages_show_posters_overview_and_fix_match(api: TestClient, tmdb_core: Core) -> None:
    items = ids(api)
    grid = api.get("/").text
    assert f'src="{items["Sintel"]["poster_url"]}?w=200"' in grid
    page = api.get(f"/movies/{items['Sintel']['id']}").text
    assert "Sintel is an independently produced short film" in page
    assert "Animation · Fantasy" in page and "★ 7.2" in page
    assert "--backdrop: url(" in page and "Fix match" in page
    assert "unsure" in api.get(f"/movies/{items['The Thing']['id']}").text
    show = api.get(f"/shows/{items['The Office']['id']}").text
    assert "Diversity Day" not in show or "Pilot" in show
    assert 'class="episode-still"' in show
    with TestClient(create_app(tmdb_core)) as viewer:
        log_in(viewer, "viewer", "viewer-password")
        assert "Fix match" not in viewer.get(f"/movies/{items['Sintel']['id']}").text


def test_refresh_endpoint(api: TestClient) -> None:
    items = ids(api)
    r = api.post(f"/api/library/movies/{items['The Thing']['id']}/refresh")
    assert r.status_code == 200 and r.json()["needs_review"]
    assert api.post(f"/api/library/shows/{items['The Office']['id']}/refresh").json()["tmdb_id"] == 2316
    api.patch(f"/api/library/movies/{items['Sintel']['id']}", json={"title": "Mine"})
    r = api.post(f"/api/library/movies/{items['Sintel']['id']}/refresh")
    assert r.status_code == 409 and "unlock" in r.json()["detail"]
    assert api.post("/api/library/movies/999999/refresh").status_code == 404


@pytest.mark.parametrize("kind", ["movies", "shows"])
def test_a_title_of_only_spaces_or_control_characters_is_refused(api: TestClient, kind: str) -> None:
    """``PATCH`` of a title: surrounding whitespace is trimmed; a title empty after the
    trim (spaces, tabs, NBSPs), or with control characters (a newline, NUL, ESC),
    is a 422 that says why, and changes nothing (before: a 200 that locked the item
    and kept its old title, or stored the control characters)."""
    name = "Sintel" if kind == "movies" else "The Office"
    item = ids(api)[name]
    url = f"/api/library/{kind}/{item['id']}"
    for bad, why in [("   ", "empty"), ("\t \u00a0\u3000 ", "empty"), ("\u200b ", "empty"),
                     ("Sin\ntel", "control"), ("\x1b[31mRed", "control"), ("Sin\u0085tel", "control"),
                     ("Sin\u2028tel", "control")]:
        r = api.patch(url, json={"title": bad})
        assert r.status_code == 422, (bad, r.text)
        assert why in r.text and "title" in r.text, r.text
    r = api.patch(url, json={"title": "Sintel\x00"})  # a NUL anywhere in a body: nul_guard.py's 400
    assert r.status_code == 400 and "NUL" in r.text, r.text
    after = api.get(url).json()
    assert after["title"] == item["title"] and not after["locked"]  # nothing changed, not locked
    r = api.patch(url, json={"title": "  Sintel: Director's Cut \t"})
    assert r.status_code == 200 and r.json()["title"] == "Sintel: Director's Cut"
    assert api.delete(f"{url}/lock").status_code == 200
