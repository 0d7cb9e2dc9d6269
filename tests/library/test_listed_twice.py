"""A server that lists one name twice in a folder (a broken or hostile one; overlapping
virtual folders on IIS): the scan keeps the first entry, names the second in its errors
and indexes everything else. It failed as a whole before ("internal error: UNIQUE
constraint failed: media_files.source_id, media_files.path", the SQL in the job's
error), and nothing of the source was indexed. A real FTP server (pyftpdlib) whose MLSD
answers the listing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER, stop_without_leaks, wait_job


def _mlsd(self: Any, path: str) -> None:
    self.push_dtp_data(b"type=file;size=1000;modify=20200101000000; Heat.1995.mkv\r\n"
                       b"type=file;size=2000;modify=20200101000000; Heat.1995.mkv\r\n"
                       b"type=file;size=3000;modify=20200101000000; Ronin.1998.mkv\r\n", cmd="MLSD")


@pytest.fixture
def twice(ftp_root: Path) -> Iterator[EmbeddedFtpServer]:
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, handler_overrides={"ftp_MLSD": _mlsd}).start()
    yield server
    stop_without_leaks(server)


def test_a_name_listed_twice_is_indexed_once(twice: EmbeddedFtpServer, client: TestClient) -> None:
    sid = client.post("/api/sources", json={"name": "ftp", "kind": "ftp", "host": "127.0.0.1", "port": twice.port,
                                             "username": FTP_USER, "password": FTP_PASSWORD}).json()["id"]
    job = wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"], timeout=60)
    assert "internal error" not in str(job["error"]), job
    assert "Heat.1995.mkv: listed twice by the server" in str(job["error"]), job
    files = client.get("/api/library/media-files", params={"source_id": sid, "include_missing": True}).json()
    assert sorted((f["name"], f["size"]) for f in files["items"]) == [("Heat.1995.mkv", 1000),
                                                                     ("Ronin.1998.mkv", 3000)], files
