"""``PUT /api/sources/{id}/files`` (api/routes/files.py) as a friend on a slow or
broken connection sends it: a client that goes away in the middle of its body is an
everyday event, not a server error."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import InvalidInput

from helpers import FTP_PASSWORD, FTP_USER, cut_request, session_token


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


@pytest.mark.parametrize("kind", ["local", "ftp"])
def test_a_new_body_never_resumes_an_old_part(
    kind: str, ftp_server: EmbeddedFtpServer, ftp_root: Path, client: TestClient, tmp_path: Path,
) -> None:
    """A PUT cut short (the source went away mid-upload) leaves ``NAME.part`` on the
    source; the next PUT to that name sends a new body, which was resumed after the old
    part by size: 201 "stored and verified" for a file that began with the old body's
    bytes (found by an outside-in probe: a killed FTP server, then another file PUT to
    the same name). Each PUT now starts its ``.part`` over."""
    if kind == "ftp":
        root = ftp_root
        body: dict[str, object] = {"name": "seedbox", "kind": "ftp", "host": "127.0.0.1",
                                   "port": ftp_server.port, "username": FTP_USER, "password": FTP_PASSWORD}
    else:
        root = tmp_path / "media"
        root.mkdir()
        body = {"name": "disk", "kind": "local", "path": str(root)}
    sid = client.post("/api/sources", json=body).json()["id"]
    (root / "Films").mkdir()
    (root / "Films/x.mkv.reelhouse.part").write_bytes(b"A" * 600)  # what the cut upload left
    r = client.put(f"/api/sources/{sid}/files", params={"path": "Films/x.mkv"}, content=b"B" * 1000)
    assert r.status_code == 201, r.text
    assert (root / "Films/x.mkv").read_bytes() == b"B" * 1000
    assert not (root / "Films/x.mkv.reelhouse.part").exists()


def test_a_path_ending_with_a_slash_is_no_file_name(core: Core, client: TestClient, tmp_path: Path) -> None:
    """``PUT …?path=New/`` (a folder, as a careless admin or a script writes it) stored
    a file named ``New``; it is a 400 now, and nothing is written."""
    media = tmp_path / "media"
    media.mkdir()
    sid = client.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(media)}).json()["id"]
    for path in ("New/", "Films/New/", "/"):
        r = client.put(f"/api/sources/{sid}/files", params={"path": path}, content=b"x" * 10)
        assert r.status_code == 400 and "file" in r.json()["detail"], (path, r.text)
    local = tmp_path / "up.bin"
    local.write_bytes(b"u" * 10)
    with pytest.raises(InvalidInput, match="not a folder"):  # the queue's uploads alike
        core.transfers.submit("upload", sid, "New/", local_path=local)
    assert not list(media.iterdir())
