"""``PUT /api/sources/{id}/files`` (api/routes/files.py) as a friend on a slow or
broken connection sends it: a client that goes away in the middle of its body is an
everyday event, not a server error."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelhouse.core import Core

from helpers import cut_request, session_token


def test_a_client_gone_mid_body_is_no_server_error(
    core: Core, client: TestClient, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    media = tmp_path / "media"
    media.mkdir()
    sid = client.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(media)}).json()["id"]
    token = session_token(core, core.users.by_name("admin").id)
    caplog.set_level(logging.DEBUG)
    status = cut_request(client, "PUT", f"/api/sources/{sid}/files", b"path=gone.mkv",
                         [(b"authorization", f"Bearer {token}".encode())])

    assert status == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert not (media / "gone.mkv").exists() and not list(media.iterdir())
    spool = core.settings.data_dir / "spool"
    assert not spool.exists() or not any(spool.iterdir())
    # the server still takes the next upload
    r = client.put(f"/api/sources/{sid}/files?path=next.mkv", content=b"y" * 100)
    assert r.status_code == 201 and (media / "next.mkv").stat().st_size == 100
