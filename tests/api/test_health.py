"""``GET /api/sources/{id}/health``: up, down when the server is gone, never a 500."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER


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
