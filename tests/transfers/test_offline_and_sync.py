"""Offline copies (keep a film or a season offline; it plays from the local copy when
the FTP server is down, also when it dies mid-stream) and sync (added / updated /
deleted, kept as history; an outage is an error entry, never deletions)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.transfers.sync import run_sync

from helpers import FTP_PASSWORD, FTP_USER, wait_job

FILM = "Films/Sintel.2010.720p.mkv"
EPISODES = ["Shows/The Office (US)/Season 01/The.Office.S01E01.mkv",
            "Shows/The Office (US)/Season 01/The.Office.S01E02.mkv"]


@pytest.fixture
def files(ftp_root: Path) -> dict[str, bytes]:
    out = {}
    for rel in [FILM, *EPISODES]:
        data = os.urandom(700_000)
        (ftp_root / rel).parent.mkdir(parents=True, exist_ok=True)
        (ftp_root / rel).write_bytes(data)
        out[rel] = data
    return out


def setup_source(api: TestClient, port: int) -> int:
    r = api.post("/api/sources", json={"name": "seedbox", "kind": "ftp", "host": "127.0.0.1",
                                       "port": port, "username": FTP_USER, "password": FTP_PASSWORD})
    sid = int(r.json()["id"])
    assert wait_job(api, api.post(f"/api/sources/{sid}/scan").json()["id"])["state"] == "done"
    return sid


def wait_copies(api: TestClient, n: int, timeout: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        copies: list[dict[str, Any]] = api.get("/api/offline").json()
        if len(copies) == n and all(c["state"] != "pending" for c in copies):
            return copies
        time.sleep(0.05)
    raise AssertionError("offline copies did not become ready")


def test_offline_copy_plays_when_the_server_is_down(
    ftp_server: EmbeddedFtpServer, files: dict[str, bytes], api: TestClient, tcore: Core
) -> None:
    setup_source(api, ftp_server.port)
    movie = next(i for i in api.get("/api/library/items").json()["items"] if i["type"] == "movie")
    r = api.post(f"/api/library/movies/{movie['id']}/offline")
    assert r.status_code == 202, r.text
    copies = wait_copies(api, 1)
    assert copies[0]["state"] == "ready"
    fid = copies[0]["media_file_id"]
    data = files[FILM]
    # server up: served by the source
    r = api.get(f"/api/library/media-files/{fid}/stream", headers={"range": "bytes=10-99"})
    assert r.status_code == 206 and r.content == data[10:100]
    assert "x-reelhouse-served-from" not in r.headers
    ftp_server.stop()
    tcore.sources.close()  # drop pooled connections to the dead server
    r = api.get(f"/api/library/media-files/{fid}/stream", headers={"range": "bytes=1000-"})
    assert r.status_code == 206, r.text
    assert r.content == data[1000:]
    assert r.headers["x-reelhouse-served-from"] == "offline-copy"
    # a file without a copy: a clean 503
    other = api.get("/api/library/media-files").json()["items"]
    no_copy = next(f["id"] for f in other if f["id"] != fid)
    assert api.get(f"/api/library/media-files/{no_copy}/stream").status_code == 502
    # unmark: the copy and its file go
    assert api.delete(f"/api/library/movies/{movie['id']}/offline").status_code == 204
    assert api.get("/api/offline").json() == []
    assert not list((tcore.settings.store_dir / "offline").rglob("*.mkv"))


def test_a_changed_file_gets_a_fresh_copy_after_sync(
    ftp_server: EmbeddedFtpServer, ftp_root: Path, files: dict[str, bytes], api: TestClient,
    tcore: Core
) -> None:
    sid = setup_source(api, ftp_server.port)
    movie = next(i for i in api.get("/api/library/items").json()["items"] if i["type"] == "movie")
    api.post(f"/api/library/movies/{movie['id']}/offline")
    first = wait_copies(api, 1)[0]
    new = os.urandom(800_000)
    (ftp_root / FILM).write_bytes(new)
    os.utime(ftp_root / FILM, (1_800_000_000, 1_800_000_000))
    run = run_sync(tcore, sid)
    assert run.updated == 1
    deadline = time.monotonic() + 30
    while True:
        copy = api.get("/api/offline").json()[0]
        if copy["state"] == "ready" and copy["size"] == len(new):
            break
        assert time.monotonic() < deadline, copy
        time.sleep(0.05)
    assert copy["transfer_id"] != first["transfer_id"]
    assert (tcore.settings.store_dir / "offline/1" / FILM).read_bytes() == new


def test_keep_a_season_offline(
    ftp_server: EmbeddedFtpServer, files: dict[str, bytes], api: TestClient, tcore: Core
) -> None:
    setup_source(api, ftp_server.port)
    show = api.get("/api/library/shows").json()["items"][0]
    season_id = show["seasons"][0]["id"]
    r = api.post(f"/api/library/seasons/{season_id}/offline")
    assert r.status_code == 202, r.text
    copies = wait_copies(api, 2)
    assert {c["state"] for c in copies} == {"ready"}
    for rel in EPISODES:
        assert (tcore.settings.store_dir / "offline/1" / rel).read_bytes() == files[rel]
    # marking again queues nothing new
    assert len(api.post(f"/api/library/seasons/{season_id}/offline").json()) == 2
    assert len(api.get("/api/transfers").json()) == 2
    assert api.post("/api/library/seasons/999/offline").status_code == 404
    assert api.post("/api/library/movies/999/offline").status_code == 404


def test_sync_reports_and_keeps_history(
    ftp_server: EmbeddedFtpServer, ftp_root: Path, files: dict[str, bytes], api: TestClient, tcore: Core
) -> None:
    sid = setup_source(api, ftp_server.port)
    (ftp_root / "Films/Big.Buck.Bunny.2008.mkv").write_bytes(b"b" * 3000)  # added
    (ftp_root / EPISODES[0]).write_bytes(b"changed")  # updated
    (ftp_root / FILM).unlink()  # deleted
    run = run_sync(tcore, sid)
    assert (run.state, run.added, run.updated, run.deleted) == ("done", 1, 1, 1)
    # an outage: an error entry, nothing deleted
    ftp_server.stop()
    tcore.sources.close()
    r = api.post(f"/api/sources/{sid}/sync")
    assert r.status_code == 202
    deadline = time.monotonic() + 20
    while api.get(f"/api/syncs/{r.json()['id']}").json()["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    failed = api.get(f"/api/syncs/{r.json()['id']}").json()
    assert failed["state"] == "failed" and failed["deleted"] == 0
    assert "refused" in failed["errors"][0]
    present = api.get("/api/library/media-files").json()["items"]
    assert len(present) == 3  # the two episodes and the new film: nothing hidden
    history = api.get(f"/api/sources/{sid}/syncs").json()
    assert [h["state"] for h in history] == ["failed", "done"]
    assert api.get("/api/syncs").json()[0]["id"] == failed["id"]
    assert api.post("/api/sources/999/sync").status_code == 404
