"""Names of 251-255 UTF-8 bytes (legal on Linux, NAME_MAX 255) through every way of
uploading: their ``.part`` would be too long, so it gets a hashed name."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from transfers.test_transfers_api import add_ftp, wait_transfer

from reelhouse.demo.ftpd import EmbeddedFtpServer


@pytest.mark.parametrize("name", ["x" * 251 + ".mkv", "é" * 125 + ".mkv", "y" * 230 + ".mkv"])
def test_long_names_upload_by_put_and_by_browser(
        name: str, ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient) -> None:
    sid = add_ftp(api, ftp_server.port)
    r = api.put(f"/api/sources/{sid}/files", params={"path": f"put/{name}"}, content=b"abc")
    assert r.status_code == 201, r.text
    assert (ftp_root / "put" / name).read_bytes() == b"abc"
    r = api.post("/api/transfers/upload", data={"source_id": str(sid), "folder": "web"},
                 files={"file": (name, b"defg")})
    assert r.status_code == 201, r.text
    assert wait_transfer(api, r.json()["id"])["state"] == "done"
    assert (ftp_root / "web" / name).read_bytes() == b"defg"
    assert sorted(p.name for p in (ftp_root / "web").iterdir()) == [name]
