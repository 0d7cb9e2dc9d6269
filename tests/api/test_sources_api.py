"""The sources API: add/edit/remove/test/scan, the FTP password never leaves the server,
and bad input is a 4xx ``{"detail": ...}``, never a 500."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.server import create_app

from helpers import FTP_PASSWORD, FTP_USER, place, wait_job

BIG_ID = 2**64 + 7  # beyond any database integer


@pytest.fixture
def api(core: Core, client: TestClient) -> Iterator[TestClient]:
    """The admin client, but a server error comes back as a 500 response (not raised),
    so a test can assert it never happens."""
    with TestClient(create_app(core), raise_server_exceptions=False) as c:
        c.headers["authorization"] = client.headers["authorization"]
        yield c


def ftp_body(server: EmbeddedFtpServer, **kw: object) -> dict[str, object]:
    body: dict[str, object] = {"name": "seedbox", "kind": "ftp", "host": "127.0.0.1",
                               "port": server.port, "username": FTP_USER,
                               "password": FTP_PASSWORD}
    body.update(kw)
    return body


def assert_4xx(r: object, *codes: int) -> None:
    status = r.status_code  # type: ignore[attr-defined]
    assert status in codes, (status, r.text)  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert set(body) == {"detail"} and isinstance(body["detail"], str) and body["detail"]


@pytest.mark.requires_ffmpeg
def test_ftp_password_never_leaves_the_server(
    ftp_server: EmbeddedFtpServer, ftp_root: Path, core: Core, api: TestClient, sample_mp4: Path
) -> None:
    place(sample_mp4, ftp_root, "Sintel.2010.720p.mp4")
    texts = []
    r = api.post("/api/sources", json=ftp_body(ftp_server))
    assert r.status_code == 201
    sid = r.json()["id"]
    assert r.json()["has_password"] is True and "password" not in r.json()
    texts.append(r.text)
    texts.append(api.get("/api/sources").text)
    texts.append(api.get(f"/api/sources/{sid}").text)
    r = api.post(f"/api/sources/{sid}/test")
    assert r.json()["ok"] is True and r.json()["entries"] == 1
    texts.append(r.text)
    job = api.post(f"/api/sources/{sid}/scan").json()
    texts.append(str(wait_job(api, job["id"])))
    texts.append(api.get("/api/jobs").text)
    texts.append(api.get("/api/library/media-files").text)
    texts.append(api.get("/api/library/items").text)
    texts.append(api.get("/api/library/movies").text)
    r = api.patch(f"/api/sources/{sid}", json={"port": ftp_server.port})
    texts.append(r.text)
    texts.append(api.get("/openapi.json").text)
    # and when the password is wrong, the error message does not echo it either
    r = api.patch(f"/api/sources/{sid}", json={"password": "Wr0ng-" + FTP_PASSWORD})
    assert r.status_code == 200
    texts.append(r.text)
    for text in texts:
        assert FTP_PASSWORD not in text
    # nor the repr of anything that holds it
    src = core.sources.source(sid)
    for obj in (src, getattr(src, "config", None), getattr(src, "pool", None),
                core.sources.get(sid), core.settings):
        assert FTP_PASSWORD not in repr(obj)
    r = api.patch(f"/api/sources/{sid}", json={"password": ""})
    assert r.json()["has_password"] is False


def test_test_endpoint_reports_failures(api: TestClient, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sid = api.post("/api/sources", json={"name": "down", "kind": "ftp", "host": "127.0.0.1",
                                         "port": port}).json()["id"]
    r = api.post(f"/api/sources/{sid}/test")
    assert r.status_code == 200
    assert r.json()["ok"] is False and "refused" in r.json()["message"]
    (tmp_path / "gone").mkdir()
    sid = api.post("/api/sources", json={"name": "gone", "kind": "local",
                                         "path": str(tmp_path / "gone")}).json()["id"]
    assert api.post(f"/api/sources/{sid}/test").json()["ok"] is True
    (tmp_path / "gone").rmdir()  # the folder disappears after the source was added
    r = api.post(f"/api/sources/{sid}/test")
    assert r.status_code == 200
    assert r.json()["ok"] is False and r.json()["message"]


def test_crud(api: TestClient, tmp_path: Path) -> None:
    r = api.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(tmp_path)})
    assert r.status_code == 201
    src = r.json()
    assert src["kind"] == "local" and src["path"] == str(tmp_path) and src["has_password"] is False
    r = api.patch(f"/api/sources/{src['id']}", json={"name": "Disk 1"})
    assert r.status_code == 200 and r.json()["name"] == "Disk 1"
    assert [s["name"] for s in api.get("/api/sources").json()] == ["Disk 1"]
    assert_4xx(api.post("/api/sources", json={"name": "Disk 1", "kind": "local",
                                               "path": str(tmp_path)}), 409)
    assert api.delete(f"/api/sources/{src['id']}").status_code == 204
    assert api.get("/api/sources").json() == []
    assert_4xx(api.get(f"/api/sources/{src['id']}"), 404)


BAD_BODIES = [
    {"name": "x", "kind": "smb", "path": "/srv"},
    {"name": "x", "kind": "ftp"},
    {"name": "x", "kind": "ftp", "host": ""},
    {"name": "x", "kind": "ftp", "host": "h", "port": 0},
    {"name": "x", "kind": "ftp", "host": "h", "port": 70000},
    {"name": "x", "kind": "ftp", "host": "h", "port": -21},
    {"name": "x", "kind": "ftp", "host": "h", "port": "twenty-one"},
    {"name": "x", "kind": "ftp", "host": "h", "tls": "sometimes"},
    {"name": "x", "kind": "ftp", "host": "h" * 300},
    # a URL or host:port where the host name goes (FileZilla's quick-connect habits):
    # accepted before, then every scan failed with "Name or service not known"
    {"name": "x", "kind": "ftp", "host": "ftp://seedbox.example/films"},
    {"name": "x", "kind": "ftp", "host": "seedbox.example:2121"},
    {"name": "x", "kind": "ftp", "host": "seedbox.example/films"},
    {"name": "x", "kind": "ftp", "host": "bad host"},
    {"name": "", "kind": "local", "path": "/srv"},
    {"name": "x" * 200, "kind": "local", "path": "/srv"},
    {"name": "x", "kind": "local"},
    {"name": "x", "kind": "local", "path": "relative/dir"},
    {"kind": "local", "path": "/srv"},
    {"name": "x"},
    {},
    [],
    "text",
]


def test_bad_source_bodies(api: TestClient) -> None:
    for body in BAD_BODIES:
        assert_4xx(api.post("/api/sources", json=body), 400, 422)
    assert api.get("/api/sources").json() == []


def test_bad_edits(api: TestClient, tmp_path: Path) -> None:
    sid = api.post("/api/sources", json={"name": "disk", "kind": "local",
                                         "path": str(tmp_path)}).json()["id"]
    for body in ({"port": 0}, {"port": 70000}, {"name": ""}, {"path": "relative"},
                 {"tls": "maybe"}, {"verify_tls": "perhaps"}):
        assert_4xx(api.patch(f"/api/sources/{sid}", json=body), 400, 422)
    assert api.get(f"/api/sources/{sid}").json()["path"] == str(tmp_path)

def test_rename_to_taken_name_is_409(api: TestClient, tmp_path: Path) -> None:
    api.post("/api/sources", json={"name": "a", "kind": "local", "path": str(tmp_path)})
    sid = api.post("/api/sources", json={"name": "b", "kind": "local",
                                         "path": str(tmp_path)}).json()["id"]
    assert_4xx(api.patch(f"/api/sources/{sid}", json={"name": "a"}), 409)


def test_local_path_must_be_an_existing_folder(api: TestClient, tmp_path: Path) -> None:
    (tmp_path / "file.mkv").write_bytes(b"x")
    for path in ("/tmp\u0000/x", str(tmp_path / "nope"), str(tmp_path / "file.mkv")):
        assert_4xx(api.post("/api/sources", json={"name": "x", "kind": "local",
                                                  "path": path}), 400, 422)
    assert api.get("/api/sources").json() == []


def test_unknown_ids_are_404(api: TestClient) -> None:
    for method, path in [("GET", "/api/sources/999"), ("PATCH", "/api/sources/999"),
                         ("DELETE", "/api/sources/999"), ("POST", "/api/sources/999/test"),
                         ("POST", "/api/sources/999/scan"), ("GET", "/api/jobs/999"),
                         ("GET", "/api/sources/-1"), ("GET", "/api/sources/0")]:
        kw = {"json": {"name": "x"}} if method == "PATCH" else {}
        assert_4xx(api.request(method, path, **kw), 404)  # type: ignore[arg-type]
    for path in ("/api/sources/abc", "/api/jobs/1.5", "/api/sources/1e3"):
        assert_4xx(api.get(path), 422)

def test_huge_ids_are_4xx(api: TestClient) -> None:
    for path in (f"/api/sources/{BIG_ID}", f"/api/jobs/{BIG_ID}", f"/api/library/movies/{BIG_ID}",
                 f"/api/library/shows/{BIG_ID}", f"/api/library/media-files/{BIG_ID}",
                 f"/api/library/media-files/{BIG_ID}/stream",
                 f"/api/library/items?source_id={BIG_ID}",
                 f"/api/library/media-files?source_id={BIG_ID}"):
        assert_4xx(api.get(path), 404, 422)


def test_jobs(api: TestClient, tmp_path: Path) -> None:
    (tmp_path / "Films").mkdir()
    (tmp_path / "Films" / "Sintel.2010.mkv").write_bytes(b"not really")
    sid = api.post("/api/sources", json={"name": "disk", "kind": "local",
                                         "path": str(tmp_path)}).json()["id"]
    r = api.post(f"/api/sources/{sid}/scan")
    assert r.status_code == 202 and r.json()["kind"] == "scan" and r.json()["source_id"] == sid
    job = wait_job(api, r.json()["id"])
    assert job["state"] == "done"
    assert job["progress"]["added"] == 1 and job["progress"]["errors"] == 1  # probe failed
    assert job["started_at"] and job["finished_at"]
    assert [j["id"] for j in api.get("/api/jobs").json()] == [job["id"]]
    assert api.get(f"/api/sources/{sid}").json()["last_scan_at"] is not None

def test_timestamps_carry_utc_offset(api: TestClient, tmp_path: Path) -> None:
    sid = api.post("/api/sources", json={"name": "disk", "kind": "local",
                                         "path": str(tmp_path)}).json()["id"]
    job = wait_job(api, api.post(f"/api/sources/{sid}/scan").json()["id"])
    for key in ("created_at", "started_at", "finished_at"):
        assert datetime.fromisoformat(str(job[key])).utcoffset() is not None, job[key]
