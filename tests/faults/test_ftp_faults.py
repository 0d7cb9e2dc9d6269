"""An FTP server that goes away: before a scan, in the middle of one, under a stream;
and comes back on the same port. Nothing may be hidden, nothing may crash."""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from reelhouse.core import Core
from reelhouse.db.models import MediaFile
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import ReelhouseError, SourceUnavailable
from reelhouse.library.scanner import scan_source
from reelhouse.server import create_app
from reelhouse.sources.base import Entry
from reelhouse.sources.ftp import FtpConfig, FtpSource

from helpers import FTP_PASSWORD, FTP_USER, log_in, wait_job

FILES = ["Films/Sintel.2010.720p.mkv", "Films/Tears.of.Steel.2012.mkv",
         "Shows/The Office (US)/Season 01/The.Office.S01E01.mkv", "Big.Buck.Bunny.2008.mkv"]


@pytest.fixture
def filled(ftp_root: Path) -> Path:
    for i, rel in enumerate(FILES):
        (ftp_root / rel).parent.mkdir(parents=True, exist_ok=True)
        (ftp_root / rel).write_bytes(bytes([65 + i]) * (1000 + i))
    return ftp_root


@pytest.fixture
def api(core: Core, client: TestClient) -> Iterator[TestClient]:
    with TestClient(create_app(core), raise_server_exceptions=False) as c:
        c.headers["authorization"] = client.headers["authorization"]
        yield c


def add_ftp(api: TestClient, server: EmbeddedFtpServer) -> int:
    r = api.post("/api/sources", json={"name": "seedbox", "kind": "ftp", "host": "127.0.0.1",
                                       "port": server.port, "username": FTP_USER,
                                       "password": FTP_PASSWORD})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def scan(api: TestClient, sid: int) -> dict[str, object]:
    return wait_job(api, int(api.post(f"/api/sources/{sid}/scan").json()["id"]))


def present(core: Core) -> set[str]:
    with core.sessions() as s:
        return {f.path for f in s.scalars(select(MediaFile)) if f.missing_since is None}


def test_server_down_before_a_scan_hides_nothing(
    ftp_server: EmbeddedFtpServer, filled: Path, core: Core, api: TestClient
) -> None:
    sid = add_ftp(api, ftp_server)
    assert scan(api, sid)["state"] == "done"
    assert present(core) == set(FILES)
    ftp_server.stop()
    job = scan(api, sid)
    assert job["state"] == "failed"
    assert "refused" in str(job["error"]) and "FTP" in str(job["error"])
    assert present(core) == set(FILES)
    assert api.get("/api/library/items").json()["total"] == 4
    source = api.get(f"/api/sources/{sid}").json()
    assert source["last_error"] and "refused" in source["last_error"]
    # streaming from a server that is down: a clean 502 (the source is down, RFC 9110 §15.6.3), not a crash
    fid = api.get("/api/library/media-files").json()["items"][0]["id"]
    r = api.get(f"/api/library/media-files/{fid}/stream", headers={"range": "bytes=0-9"})
    assert r.status_code == 502 and str(ftp_server.port) in r.json()["detail"]  # the admin reads why
    # a user gets the 502 without the server's address (GET /api/sources hides it from users)
    core.users.add("friend", "friend-password")
    with TestClient(create_app(core), raise_server_exceptions=False) as friend:
        log_in(friend, "friend", "friend-password")
        r = friend.get(f"/api/library/media-files/{fid}/stream", headers={"range": "bytes=0-9"})
        assert r.status_code == 502, r.text
        assert "127.0.0.1" not in r.text and str(ftp_server.port) not in r.text
        assert "cannot be reached" in r.json()["detail"] and r.json()["reason"] == "source_down"
    r = api.post(f"/api/sources/{sid}/test")
    assert r.status_code == 200 and r.json()["ok"] is False


class _StopAfterFirstListing(FtpSource):
    """A real FtpSource whose server is switched off right after the root listing."""

    server: EmbeddedFtpServer

    def list(self, path: str) -> list[Entry]:
        entries = super().list(path)
        if path == "":
            self.server.stop()
        return entries

    def _list_many(self, paths: builtins.list[str], tree: dict[str, builtins.list[Entry] | None] | None = None,
                   ) -> builtins.list[builtins.list[Entry] | ReelhouseError]:
        listed = super()._list_many(paths, tree)
        if "" in paths:
            self.server.stop()
        return listed


def test_server_dies_during_a_scan_hides_nothing(
    ftp_server: EmbeddedFtpServer, filled: Path, core: Core, api: TestClient
) -> None:
    sid = add_ftp(api, ftp_server)
    assert scan(api, sid)["state"] == "done"
    src = _StopAfterFirstListing(FtpConfig("127.0.0.1", ftp_server.port, FTP_USER, FTP_PASSWORD,
                                           connect_timeout=3, read_timeout=3))
    src.server = ftp_server
    try:
        report = scan_source(core.sessions, sid, src)
    finally:
        src.close()
    assert report.missing == 0
    assert len(report.errors) >= 2  # Films and Shows could not be listed
    assert present(core) == set(FILES)


def test_scan_and_stream_recover_when_the_server_comes_back(
    ftp_server: EmbeddedFtpServer, filled: Path, core: Core, api: TestClient
) -> None:
    sid = add_ftp(api, ftp_server)
    assert scan(api, sid)["state"] == "done"
    files = {f["path"]: f["id"] for f in api.get("/api/library/media-files").json()["items"]}
    url = f"/api/library/media-files/{files['Films/Tears.of.Steel.2012.mkv']}/stream"
    assert api.get(url, headers={"range": "bytes=0-3"}).content == b"BBBB"
    port = ftp_server.port
    ftp_server.stop()
    assert api.get(url, headers={"range": "bytes=0-3"}).status_code == 502
    again = EmbeddedFtpServer(filled, FTP_USER, FTP_PASSWORD, port=port).start()
    try:
        r = api.get(url, headers={"range": "bytes=0-3"})
        assert r.status_code == 206 and r.content == b"BBBB"
        job = scan(api, sid)
        assert job["state"] == "done" and job["progress"]["unchanged"] == 4
        assert api.get(f"/api/sources/{sid}").json()["last_error"] is None
        src = core.sources.source(sid)
        assert isinstance(src, FtpSource) and src.pool.stats["in_use"] == 0
    finally:
        core.sources.close()
        again.stop()


def test_two_embedded_servers_are_independent(tmp_path: Path) -> None:
    """Each embedded server has its own IOLoop: stopping one leaves the other serving
    (pyftpdlib's default IOLoop is a process-wide singleton)."""
    (tmp_path / "a.mkv").write_bytes(b"film")
    first = EmbeddedFtpServer(tmp_path, FTP_USER, FTP_PASSWORD).start()
    second = EmbeddedFtpServer(tmp_path, FTP_USER, FTP_PASSWORD).start()
    src = FtpSource(FtpConfig("127.0.0.1", second.port, FTP_USER, FTP_PASSWORD,
                              connect_timeout=3, read_timeout=3))
    try:
        assert [e.name for e in src.list("")] == ["a.mkv"]
        first.stop()
        time.sleep(0.1)
        assert [e.name for e in src.list("")] == ["a.mkv"]
    except SourceUnavailable as exc:
        raise AssertionError(f"stopping one server broke the other: {exc}") from exc
    finally:
        src.close()
        first.stop()
        second.stop()
