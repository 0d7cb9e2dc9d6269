"""``GET /metrics``: Prometheus text with stream counters and FTP pool gauges; login needed."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi.testclient import TestClient

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER, wait_job


def test_metrics(ftp_server: EmbeddedFtpServer, ftp_root: Path, client: TestClient, anon: TestClient) -> None:
    (ftp_root / "Films").mkdir()
    (ftp_root / "Films" / "Sintel.2010.mkv").write_bytes(os.urandom(300_000))
    sid = client.post("/api/sources", json={"name": "seedbox", "kind": "ftp", "host": "127.0.0.1",
                                             "port": ftp_server.port, "username": FTP_USER,
                                             "password": FTP_PASSWORD}).json()["id"]
    wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])
    fid = client.get("/api/library/media-files").json()["items"][0]["id"]
    assert client.get(f"/api/library/media-files/{fid}/stream", headers={"range": "bytes=0-999"}).status_code == 206
    assert client.get(f"/api/library/media-files/{fid}/stream").status_code == 200

    assert anon.get("/metrics").status_code == 401
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'reelhouse_stream_requests_total{source_kind="ftp",status="206"} 1.0' in text
    assert 'reelhouse_stream_requests_total{source_kind="ftp",status="200"} 1.0' in text
    assert 'reelhouse_stream_bytes_total{source_kind="ftp"} 301000.0' in text
    assert 'reelhouse_stream_first_byte_seconds_count{source_kind="ftp"} 2.0' in text
    assert f'reelhouse_ftp_connections{{source_id="{sid}",state="size"}} 5.0' in text
    assert f'reelhouse_ftp_connections{{source_id="{sid}",state="in_use"}} 0.0' in text
    client.delete(f"/api/sources/{sid}")  # closes its pool before the server's leak check
