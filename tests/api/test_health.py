"""``GET /api/sources/{id}/health``: up, down when the server is gone, never a 500."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER, wait_job


def test_health_of_ftp_and_local_sources(
    ftp_server: EmbeddedFtpServer, client: TestClient, anon: TestClient, tmp_path: Path
) -> None:
    ftp = client.post("/api/sources", json={"name": "seedbox", "kind": "ftp", "host": "127.0.0.1",
                                             "port": ftp_server.port, "username": FTP_USER,
                                             "password": FTP_PASSWORD}).json()["id"]
    local = client.post("/api/sources", json={"name": "disk", "kind": "local",
                                               "path": str(tmp_path)}).json()["id"]
    h = client.get(f"/api/sources/{ftp}/health").json()
    assert h["state"] == "up" and h["error"] is None and h["latency_ms"] >= 0
    assert h["pool"]["size"] == 5 and h["pool"]["in_use"] == 0 and h["pool"]["live"] == 1
    h = client.get(f"/api/sources/{local}/health").json()
    assert h["state"] == "up" and h["pool"] is None
    assert client.get("/api/sources/999/health").status_code == 404
    assert anon.get(f"/api/sources/{ftp}/health").status_code == 401
    client.delete(f"/api/sources/{ftp}")  # closes its pool before the server's leak check


def test_health_down_when_the_server_is_gone(tmp_path: Path, client: TestClient) -> None:
    server = EmbeddedFtpServer(tmp_path, FTP_USER, FTP_PASSWORD).start()
    sid = client.post("/api/sources", json={"name": "seedbox", "kind": "ftp", "host": "127.0.0.1",
                                             "port": server.port, "username": FTP_USER,
                                             "password": FTP_PASSWORD}).json()["id"]
    assert client.get(f"/api/sources/{sid}/health").json()["state"] == "up"
    server.stop()
    r = client.get(f"/api/sources/{sid}/health")
    assert r.status_code == 200
    h = r.json()
    assert h["state"] == "down" and h["latency_ms"] is None and "FTP" in h["error"]


def test_a_missing_ftp_root_is_down_and_says_so(ftp_server: EmbeddedFtpServer, client: TestClient) -> None:
    """An FTP source whose root folder is not on the server: the health check was a 404
    "not found on the FTP server while listing '/'" (as if the source did not exist)
    and a scan failed with the same words; both now name the missing folder, as a
    local source's do, and the health check says "down"."""
    sid = client.post("/api/sources", json={"name": "seedbox", "kind": "ftp", "host": "127.0.0.1",
                                             "port": ftp_server.port, "username": FTP_USER,
                                             "password": FTP_PASSWORD, "path": "/Films/gone"}).json()["id"]
    r = client.get(f"/api/sources/{sid}/health")
    assert r.status_code == 200, r.text
    h = r.json()
    assert h["state"] == "down" and "source folder is missing" in h["error"] and "/Films/gone" in h["error"], h
    r = client.post(f"/api/sources/{sid}/test")
    assert r.status_code == 200 and not r.json()["ok"] and "/Films/gone" in r.json()["message"], r.text
    job = wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])
    assert job["state"] == "failed" and "source folder is missing" in str(job["error"]), job
    assert "/Films/gone" in str(job["error"])
    client.delete(f"/api/sources/{sid}")  # closes its pool before the server's leak check
