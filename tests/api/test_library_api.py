"""The library API over a scanned FTP source and a local one: grid, movies, shows,
media files, playback of awkward names, missing files, bad queries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.search_key import sort_key
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.server import create_app

from helpers import ADMIN, ADMIN_PASSWORD, FTP_PASSWORD, FTP_USER, log_in, place, stop_without_leaks, wait_job

pytestmark = pytest.mark.requires_ffmpeg

FTP_FILES = {
    "Big Buck Bunny (2008)/Big.Buck.Bunny.2008.1080p.mp4": "mp4",
    "Sintel.2010.720p.mkv": "mkv",
    "The Office (US)/Season 01/The.Office.S01E01.mkv": "mkv",
    "The Office (US)/Season 01/The.Office.S01E02.mkv": "mkv",
    "Amélie (2001)/Amélie [1080p] \"Director's Cut\".mkv": "mkv",
    "Spirited Away (2001)/千と千尋の神隠し.mp4": "mp4",
    "Films/A  Film  With   Spaces (1999).mp4": "mp4",
    "Films/Brackets [x] {y} & 100% #1 (2005).mkv": "mkv",
}
LOCAL_FILES = {"Sintel (2010)/Sintel.2010.1080p.mkv": "mkv", "Dark/Season 1/Dark.S01E01.mp4": "mp4"}




def add_and_scan(client: TestClient, body: dict[str, object]) -> int:
    r = client.post("/api/sources", json=body)
    assert r.status_code == 201, r.text
    sid = int(r.json()["id"])
    job = wait_job(client, int(client.post(f"/api/sources/{sid}/scan").json()["id"]))
    assert job["state"] == "done", (job["error"], job["message"])
    return sid


def files_by_path(client: TestClient, **params: object) -> dict[str, dict[str, Any]]:
    r = client.get("/api/library/media-files", params={"per_page": 500, **params})
    assert r.status_code == 200, r.text
    return {f["path"]: f for f in r.json()["items"]}


class World:
    def __init__(self, client: TestClient, core: Core, ftp_id: int, local_id: int,
                 ftp_root: Path) -> None:
        self.client, self.core, self.ftp_id, self.local_id = client, core, ftp_id, local_id
        self.ftp_root = ftp_root


@pytest.fixture(scope="class")
def world(tmp_path_factory: pytest.TempPathFactory, sample_mp4: Path,
          sample_mkv: Path) -> Iterator[World]:
    """One scanned library for the read-only tests of TestScannedLibrary (class-scoped:
    its server and Core are gone before the other tests of the module start theirs)."""
    base = tmp_path_factory.mktemp("library")
    clips = {"mp4": sample_mp4, "mkv": sample_mkv}
    for rel, ext in FTP_FILES.items():
        place(clips[ext], base / "ftp", rel)
    for rel, ext in LOCAL_FILES.items():
        place(clips[ext], base / "disk", rel)
    server = EmbeddedFtpServer(base / "ftp", FTP_USER, FTP_PASSWORD).start()
    core = Core(load_settings(data_dir=base / "data"))
    try:
        core.users.add(ADMIN, ADMIN_PASSWORD, is_admin=True)
        with TestClient(create_app(core)) as client:
            log_in(client)
            ftp_id = add_and_scan(client, {"name": "seedbox", "kind": "ftp", "host": "127.0.0.1",
                                           "port": server.port, "username": FTP_USER,
                                           "password": FTP_PASSWORD})
            local_id = add_and_scan(client, {"name": "disk", "kind": "local",
                                             "path": str(base / "disk")})
            yield World(client, core, ftp_id, local_id, base / "ftp")
    finally:
        core.close()
        stop_without_leaks(server)


class TestScannedLibrary:
    """Read-only checks on one scanned library (FTP + local)."""

    def test_grid(self, world: World) -> None:
        c = world.client
        items = c.get("/api/library/items").json()
        assert items["total"] == 8 and items["page"] == 1
        by_title = {i["title"]: i for i in items["items"]}
        assert set(by_title) == {"A Film With Spaces", "Amélie", "Big Buck Bunny", "Brackets",
                                 "Dark", "Sintel", "Spirited Away", "The Office (US)"}
        assert (by_title["Brackets"]["year"], by_title["A Film With Spaces"]["year"]) == (2005, 1999)
        sintel = by_title["Sintel"]
        assert sintel["type"] == "movie" and sintel["year"] == 2010 and sintel["file_count"] == 2
        assert sorted(sintel["source_kinds"]) == ["ftp", "local"]
        assert sorted(sintel["source_ids"]) == sorted([world.ftp_id, world.local_id])
        office = by_title["The Office (US)"]
        assert office["type"] == "show" and office["file_count"] == 2
        titles = [i["title"] for i in items["items"]]
        assert titles == sorted(titles, key=sort_key)  # "A Film With Spaces" under F, "The Office" under O
        shows = c.get("/api/library/items", params={"type": "show"}).json()["items"]
        assert sorted(i["title"] for i in shows) == ["Dark", "The Office (US)"]
        local = c.get("/api/library/items", params={"source_kind": "local"}).json()["items"]
        assert sorted(i["title"] for i in local) == ["Dark", "Sintel"]
        only_ftp = c.get("/api/library/items", params={"source_id": world.ftp_id}).json()["items"]
        assert "Dark" not in {i["title"] for i in only_ftp} and len(only_ftp) == 7
        found = c.get("/api/library/items", params={"q": "AMÉL"}).json()["items"]
        assert [i["title"] for i in found] == ["Amélie"]
        assert c.get("/api/library/items", params={"q": "office"}).json()["total"] == 1
        assert c.get("/api/library/items", params={"q": "zzz"}).json() == {
            "items": [], "total": 0, "page": 1, "per_page": 60, "next_cursor": None}
        page2 = c.get("/api/library/items", params={"per_page": 3, "page": 2}).json()
        assert page2["total"] == 8 and [i["title"] for i in page2["items"]] == titles[3:6]


    def test_movies_shows_and_files(self, world: World) -> None:
        c = world.client
        movies = c.get("/api/library/movies").json()
        assert movies["total"] == 6
        sintel = next(m for m in movies["items"] if m["title"] == "Sintel")
        assert len(sintel["files"]) == 2
        assert c.get(f"/api/library/movies/{sintel['id']}").json() == sintel
        shows = c.get("/api/library/shows").json()["items"]
        office = next(s for s in shows if s["title"] == "The Office (US)")
        assert [(se["number"], [e["number"] for e in se["episodes"]]) for se in office["seasons"]] == [
            (1, [1, 2])]
        assert c.get(f"/api/library/shows/{office['id']}").json() == office
        files = files_by_path(c, source_id=world.ftp_id)
        assert set(files) == set(FTP_FILES)
        for path, ext in FTP_FILES.items():
            f = files[path]
            assert f["source_kind"] == "ftp" and f["source_name"] == "seedbox"
            assert f["name"] == path.rsplit("/", 1)[-1] and f["missing"] is False
            assert f["container"] == ext and f["probe_error"] is None
            assert f["duration"] == pytest.approx(12.0, abs=0.2)
            assert (f["video_codec"], f["audio_codec"], f["width"], f["height"]) == (
                "h264", "aac", 320, 240)
            assert f["size"] == (world.ftp_root / path).stat().st_size
            detail = c.get(f"/api/library/media-files/{f['id']}").json()
            assert {k: detail[k] for k in f} == f  # the detail adds probe_bytes and streams
            assert [(s["type"], s["codec"]) for s in detail["streams"]] == [
                ("video", "h264"), ("audio", "aac")]
            assert 0 < detail["probe_bytes"] <= 2 * 1024 * 1024
        page = c.get("/api/library/media-files", params={"per_page": 4, "page": 3}).json()
        assert page["total"] == 10 and len(page["items"]) == 2


    def test_awkward_names_are_playable(self, world: World) -> None:
        files = files_by_path(world.client, source_id=world.ftp_id)
        with TestClient(create_app(world.core)) as anon:
            for path in FTP_FILES:
                data = (world.ftp_root / path).read_bytes()
                r = world.client.post(f"/api/library/media-files/{files[path]['id']}/playback")
                url = r.json()["url"].split("testserver", 1)[1]
                r = anon.get(url, headers={"range": "bytes=1000-"})
                assert r.status_code == 206, (path, r.text)
                assert r.content == data[1000:], path
                expected_type = "video/mp4" if path.endswith(".mp4") else "video/x-matroska"
                assert r.headers["content-type"] == expected_type

    def test_search_wildcards_are_literal(self, world: World) -> None:
        # punctuation is left out of a search ("spider man" finds "Spider-Man"), never a wildcard
        for q in ("%", "_", "S_ntel", "S%l", "S%%%l"):
            r = world.client.get("/api/library/items", params={"q": q})
            assert r.json()["total"] == 0, q

    def test_bad_queries_are_422(self, world: World) -> None:
        c = world.client
        for params in ({"type": "film"}, {"source_kind": "smb"}, {"page": 0}, {"per_page": 0},
                       {"per_page": 501}, {"q": "x" * 201}, {"source_id": "abc"}):
            r = c.get("/api/library/items", params=params)  # type: ignore[arg-type]
            assert r.status_code == 422, params
            assert isinstance(r.json()["detail"], str)
        for params in ({"include_missing": "perhaps"}, {"page": -1}, {"per_page": 1000}):
            assert c.get("/api/library/media-files", params=params).status_code == 422  # type: ignore[arg-type]
        for path in ("/api/library/movies/9999", "/api/library/shows/9999",
                     "/api/library/media-files/9999", "/api/library/media-files/9999/stream"):
            r = c.get(path)
            assert r.status_code == 404 and "detail" in r.json(), path
        assert c.post("/api/library/media-files/9999/playback").status_code == 404


def test_removed_file_is_missing_then_back(
    ftp_server: EmbeddedFtpServer, ftp_root: Path, client: TestClient, sample_mp4: Path
) -> None:
    place(sample_mp4, ftp_root, "Sintel.2010.720p.mp4")
    place(sample_mp4, ftp_root, "Tears of Steel (2012)/Tears.of.Steel.2012.mp4")
    sid = add_and_scan(client, {"name": "seedbox", "kind": "ftp", "host": "127.0.0.1",
                                "port": ftp_server.port, "username": FTP_USER,
                                "password": FTP_PASSWORD})
    fid = files_by_path(client)["Sintel.2010.720p.mp4"]["id"]
    token = client.post(f"/api/library/media-files/{fid}/playback").json()["token"]
    (ftp_root / "Sintel.2010.720p.mp4").rename(ftp_root / "elsewhere.bin")
    job = wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])
    assert job["state"] == "done" and job["progress"]["missing"] == 1, job
    assert [i["title"] for i in client.get("/api/library/items").json()["items"]] == [
        "Tears of Steel"]
    assert [m["title"] for m in client.get("/api/library/movies").json()["items"]] == [
        "Tears of Steel"]
    assert set(files_by_path(client)) == {"Tears of Steel (2012)/Tears.of.Steel.2012.mp4"}
    everything = files_by_path(client, include_missing=True)
    assert everything["Sintel.2010.720p.mp4"]["missing"] is True
    assert client.get(f"/api/library/media-files/{fid}").json()["missing"] is True
    r = client.get(f"/api/library/media-files/{fid}/stream", params={"token": token})
    assert r.status_code == 404 and "detail" in r.json()
    (ftp_root / "elsewhere.bin").rename(ftp_root / "Sintel.2010.720p.mp4")
    job = wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])
    assert job["progress"]["restored"] == 1 and job["progress"]["probed"] == 0
    assert len(client.get("/api/library/items").json()["items"]) == 2
    assert files_by_path(client)["Sintel.2010.720p.mp4"]["missing"] is False


def test_restored_file_plays_right_after_the_rescan(client: TestClient, tmp_path: Path) -> None:
    """/stream caches what it knows of a file; a scan must not leave it stale."""
    root = tmp_path / "disk"
    (root / "Films").mkdir(parents=True)
    film = root / "Films" / "Sintel.2010.mkv"
    film.write_bytes(b"0123456789")
    sid = add_and_scan(client, {"name": "disk", "kind": "local", "path": str(root)})
    fid = files_by_path(client)["Films/Sintel.2010.mkv"]["id"]
    url = f"/api/library/media-files/{fid}/stream"
    film.rename(root / "gone.bin")
    assert wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])["progress"][
        "missing"] == 1
    assert client.get(url).status_code == 404
    (root / "gone.bin").rename(film)
    assert wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])["progress"][
        "restored"] == 1
    r = client.get(url)
    assert r.status_code == 200, r.text
    assert r.content == b"0123456789"


def test_replaced_file_is_served_with_its_new_size(client: TestClient, tmp_path: Path) -> None:
    root = tmp_path / "disk"
    root.mkdir()
    film = root / "Sintel.2010.mkv"
    film.write_bytes(b"A" * 1000)
    sid = add_and_scan(client, {"name": "disk", "kind": "local", "path": str(root)})
    fid = files_by_path(client)["Sintel.2010.mkv"]["id"]
    url = f"/api/library/media-files/{fid}/stream"
    assert client.get(url).content == b"A" * 1000
    film.write_bytes(b"B" * 500)
    job = wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])
    assert job["progress"]["updated"] == 1
    assert files_by_path(client)["Sintel.2010.mkv"]["size"] == 500
    r = client.get(url)
    assert r.headers["content-length"] == "500"
    assert r.content == b"B" * 500


def test_deleting_a_source_empties_its_library(client: TestClient, tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "Sintel.2010.mkv").write_bytes(b"x")
    sid = add_and_scan(client, {"name": "disk", "kind": "local", "path": str(tmp_path / "d")})
    assert client.get("/api/library/items").json()["total"] == 1
    assert client.delete(f"/api/sources/{sid}").status_code == 204
    assert client.get("/api/library/items").json()["total"] == 0
    assert client.get("/api/library/media-files", params={"include_missing": True}).json()[
        "total"] == 0
