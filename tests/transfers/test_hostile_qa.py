"""Hostile QA of transfers against a real FTP server (pyftpdlib on port 0): a file
that changes on the server between two attempts of a download, or while it streams,
must never come out as a splice of two versions (sha256 of the result is one version's)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyftpdlib.handlers import ThrottledDTPHandler

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import Cancelled, SourceUnavailable
from reelhouse.server import create_app
from reelhouse.sources.registry import SourceSpec
from reelhouse.transfers.copy import download, upload

from helpers import FTP_PASSWORD, FTP_USER, free_port, log_in

SIZE = 3 * 1024 * 1024 + 17


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ftp(core: Core, server: EmbeddedFtpServer) -> int:
    return core.sources.create(SourceSpec(name="seedbox", kind="ftp", host="127.0.0.1",
                                          port=server.port, username=FTP_USER,
                                          password=FTP_PASSWORD)).id


@pytest.mark.parametrize("same_size", [False, True])
def test_a_resumed_download_of_a_file_replaced_on_the_server_is_not_a_splice(
        ftp_server: EmbeddedFtpServer, tcore: Core, ftp_root: Path, tmp_path: Path,
        same_size: bool) -> None:
    old, new = os.urandom(SIZE), os.urandom(SIZE if same_size else SIZE + 4096)
    (ftp_root / "f.mkv").write_bytes(old)
    os.utime(ftp_root / "f.mkv", (1_600_000_000, 1_600_000_000))
    src = tcore.sources.source(_ftp(tcore, ftp_server))
    dest = tmp_path / "store" / "f.mkv"
    seen: list[int] = []
    with pytest.raises(Cancelled):
        download(src, "f.mkv", dest, lambda d, t: seen.append(d),
                 should_stop=lambda: bool(seen) and seen[-1] >= SIZE // 2)
    assert dest.with_name("f.mkv.reelhouse.part").exists()
    (ftp_root / "f.mkv").write_bytes(new)  # a new version (a new mtime) while we were away
    assert download(src, "f.mkv", dest) == len(new)
    assert _sha(dest.read_bytes()) == _sha(new)


def test_a_file_rewritten_during_the_download_is_not_taken(
        ftp_server: EmbeddedFtpServer, tcore: Core, ftp_root: Path, tmp_path: Path) -> None:
    old, new = os.urandom(SIZE), os.urandom(SIZE)
    (ftp_root / "f.mkv").write_bytes(old)
    os.utime(ftp_root / "f.mkv", (1_600_000_000, 1_600_000_000))
    src = tcore.sources.source(_ftp(tcore, ftp_server))
    dest = tmp_path / "store" / "f.mkv"
    rewritten: list[bool] = []

    def progress(done: int, total: int | None) -> None:
        if not rewritten and done >= SIZE // 4:
            with open(ftp_root / "f.mkv", "r+b") as fh:  # in place: the server's open file changes
                fh.write(new)
            rewritten.append(True)

    try:
        download(src, "f.mkv", dest, progress)
    except SourceUnavailable:
        assert not dest.exists()
        download(src, "f.mkv", dest)  # the retry takes the new version whole
    assert _sha(dest.read_bytes()) in (_sha(old), _sha(new))


def add_ftp(api: TestClient, port: int) -> int:
    r = api.post("/api/sources", json={"name": "seedbox", "kind": "ftp", "host": "127.0.0.1",
                                       "port": port, "username": FTP_USER, "password": FTP_PASSWORD})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _wait(api: TestClient, tid: int, until: Callable[[dict[str, Any]], bool],
          timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        t: dict[str, Any] = api.get(f"/api/transfers/{tid}").json()
        if until(t):
            return t
        time.sleep(0.05)
    raise AssertionError(f"transfer {tid}: {t}")


def test_cancelling_a_download_waiting_for_its_retry_leaves_no_part(
        ftp_root: Path, api: TestClient, tcore: Core) -> None:
    """The server dies mid-download: the transfer waits for its retry with a .part in
    the store; cancelled then, it must leave nothing (a cancelled transfer is not
    resumable, its .part would stay in the store forever)."""
    (ftp_root / "big.mkv").write_bytes(os.urandom(SIZE))
    slow = type("Slow", (ThrottledDTPHandler,), {"write_limit": 256 * 1024})
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD, port=free_port(),
                               handler_overrides={"dtp_handler": slow}).start()
    tcore.transfers.runner.retry_delay = 60.0
    try:
        sid = add_ftp(api, server.port)
        tid = api.post("/api/transfers", json={"kind": "download", "source_id": sid,
                                               "remote_path": "big.mkv"}).json()["id"]
        _wait(api, tid, lambda t: t["bytes_done"] > 0)
    finally:
        server.stop()
    t = _wait(api, tid, lambda t: t["state"] == "queued" and t["attempts"] == 1)
    store = tcore.settings.store_dir
    assert [p.name for p in store.rglob("*.part")] == ["big.mkv.reelhouse.part"], t
    r = api.post(f"/api/transfers/{tid}/cancel")
    assert r.status_code == 202 and r.json()["state"] == "cancelled"
    assert [p.name for p in store.rglob("*") if p.is_file()] == []


def test_a_file_with_a_255_byte_name_downloads(
        ftp_server: EmbeddedFtpServer, tcore: Core, ftp_root: Path, tmp_path: Path) -> None:
    """A server may hold a 255-byte name; its ``NAME.part`` would be 260 bytes, past the
    local disk's NAME_MAX (the download failed as 'File name too long')."""
    name = "é" * 126 + ".mk"
    data = os.urandom(200_000)
    (ftp_root / name).write_bytes(data)
    src = tcore.sources.source(_ftp(tcore, ftp_server))
    dest = tmp_path / "store" / name
    seen: list[int] = []
    with pytest.raises(Cancelled):
        download(src, name, dest, lambda d, t: seen.append(d), should_stop=lambda: seen[-1] > 0)
    assert download(src, name, dest) == len(data) and _sha(dest.read_bytes()) == _sha(data)
    assert os.listdir(dest.parent) == [name]


def test_a_user_cannot_see_or_cancel_anothers_transfer_nor_reach_an_ungranted_source(
        ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient, tcore: Core) -> None:
    (ftp_root / "f.mkv").write_bytes(b"x" * 1000)
    sid = add_ftp(api, ftp_server.port)
    tcore.transfers.runner.retry_delay = 60.0
    tid = api.post("/api/transfers", json={"kind": "download", "source_id": sid, "remote_path": "nope/f.mkv",
                                           "priority": -1000}).json()["id"]
    viewer = tcore.users.add("viewer", "viewer-password")
    with TestClient(create_app(tcore), raise_server_exceptions=False) as other:
        log_in(other, "viewer", "viewer-password")
        assert other.get(f"/api/transfers/{tid}").status_code == 404
        assert other.post(f"/api/transfers/{tid}/cancel").status_code == 404
        assert all(t["id"] != tid for t in other.get("/api/transfers").json())
        for path in ("../etc/passwd", "/etc/passwd", "a/../../b"):
            r = other.post("/api/transfers", json={"kind": "download", "source_id": sid,
                                                   "remote_path": "f.mkv", "local_path": path})
            assert r.status_code == 400, (path, r.text)
        assert other.post(f"/api/sources/{sid}/sync").status_code in (403, 404)
        r = api.patch(f"/api/users/{viewer.id}", json={"restrict_sources": True, "sources": []})
        assert r.status_code == 200, r.text
        r = other.post("/api/transfers", json={"kind": "download", "source_id": sid, "remote_path": "f.mkv"})
        assert r.status_code == 404, r.text


@pytest.mark.parametrize("edited", [False, True])
def test_a_resumed_upload_of_a_file_edited_in_between_is_not_a_splice(
        ftp_server: EmbeddedFtpServer, tcore: Core, ftp_root: Path, tmp_path: Path, edited: bool) -> None:
    """An upload is stopped half-way and the local file is rewritten (same size) before
    the next attempt: the server must get the new version, not the old head and the
    new tail; an unchanged file resumes from the server's ``.part``."""
    old, new = os.urandom(SIZE), os.urandom(SIZE)
    local = tmp_path / "f.mkv"
    local.write_bytes(old)
    signature = tmp_path / "state" / "f.sig"
    src = tcore.sources.source(_ftp(tcore, ftp_server))
    seen: list[int] = []
    with pytest.raises(Cancelled):
        upload(src, local, "up/f.mkv", lambda d, t: seen.append(d),
               should_stop=lambda: bool(seen) and seen[-1] >= SIZE // 2, signature=signature)
    assert (ftp_root / "up" / "f.mkv.reelhouse.part").exists() and signature.exists()
    if edited:
        time.sleep(0.01)
        local.write_bytes(new)
    started: list[int] = []
    assert upload(src, local, "up/f.mkv", lambda d, t: started.append(d), signature=signature) == SIZE
    assert _sha((ftp_root / "up" / "f.mkv").read_bytes()) == _sha(new if edited else old)
    assert (started[0] == 0) is edited  # an unchanged file resumed where the .part ended
    assert not signature.exists()
