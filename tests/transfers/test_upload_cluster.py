"""One upload per name for the whole cluster (issue 14): with Redis, an upload to a
name another node or worker is uploading to right now (its claim in Redis) is refused
with 409 (``PUT /api/sources/{id}/files``) or fails as a conflict (a transfer), as
the per-process guard of ``transfers/copy.py`` did within one process only; the name
is free again once the other upload ends, or once its process died (the lease)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from transfers.test_transfers_api import add_ftp, wait_transfer

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.leased_slots import LeasedSlots
from reelhouse.transfers.claims import upload_key

from helpers import admin_client, admin_core

pytestmark = [pytest.mark.requires_redis]

DATA = os.urandom(256 * 1024)


@pytest.fixture
def api(tmp_path: Path, redis_url: str) -> Iterator[TestClient]:
    with admin_core(tmp_path / "data", redis_url=redis_url, transfer_retry_delay=0.05) as core, \
            admin_client(core, raise_server_exceptions=False) as c:
        yield c


def test_an_upload_running_elsewhere_holds_its_name(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                                    api: TestClient, redis_url: str) -> None:
    sid = add_ftp(api, ftp_server.port)
    other_node = LeasedSlots(redis_url, ttl=2.0)
    try:
        claim = other_node.take(upload_key(sid, "Films/x.mkv"), 1)  # another node uploads there now
        assert claim is not None
        r = api.put(f"/api/sources/{sid}/files", params={"path": "Films/x.mkv"}, content=DATA)
        assert r.status_code == 409 and "already running" in r.json()["detail"], r.text
        r = api.post("/api/transfers/upload", data={"source_id": str(sid), "folder": "Films"},
                     files={"file": ("x.mkv", DATA, "video/x-matroska")})
        assert r.status_code == 201, r.text
        failed = wait_transfer(api, r.json()["id"])
        assert failed["state"] == "failed" and "already running" in failed["error"], failed
        assert not (ftp_root / "Films/x.mkv.reelhouse.part").exists()
        # another name is free
        assert api.put(f"/api/sources/{sid}/files", params={"path": "Films/y.mkv"}, content=DATA).status_code == 201
        other_node.give_back(claim)  # the other upload ended
        r = api.put(f"/api/sources/{sid}/files", params={"path": "Films/x.mkv"}, content=DATA)
        assert r.status_code == 201, r.text
        assert (ftp_root / "Films/x.mkv").read_bytes() == DATA
    finally:
        other_node.close()
