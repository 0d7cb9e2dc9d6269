"""Transfers end to end through the API against a real FTP server: upload (multipart and
PUT), download to the store, ops, cancel, priority, restart recovery, and the errors of
issue 5 (wrong password → 401, full disk → 507, file gone → 404)."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyftpdlib.handlers import DTPHandler, FTPHandler, ThrottledDTPHandler
from sqlalchemy import update

from reelhouse.config import load_settings
from reelhouse.core import Core
from reelhouse.db.models import Transfer
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.server import create_app

from helpers import FTP_PASSWORD, FTP_USER, log_in, stop_without_leaks

DATA = os.urandom(3 * 1024 * 1024 + 7)


def add_ftp(api: TestClient, port: int, password: str = FTP_PASSWORD, name: str = "seedbox") -> int:
    r = api.post("/api/sources", json={"name": name, "kind": "ftp", "host": "127.0.0.1",
                                       "port": port, "username": FTP_USER, "password": password})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def wait_transfer(api: TestClient, tid: int, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        t: dict[str, Any] = api.get(f"/api/transfers/{tid}").json()
        if t["state"] in ("done", "failed", "cancelled"):
            return t
        time.sleep(0.05)
    raise AssertionError(f"transfer {tid} did not end in {timeout} s")


def test_upload_then_download_are_byte_identical(
    ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient, tcore: Core) -> None:
    sid = add_ftp(api, ftp_server.port)
    r = api.post("/api/transfers/upload", data={"source_id": str(sid), "folder": "New/Films"},
                 files={"file": ("Sintel.2010.mkv", DATA, "video/x-matroska")})
    assert r.status_code == 201, r.text
    up = wait_transfer(api, r.json()["id"])
    assert up["state"] == "done", up
    assert (up["bytes_done"], up["bytes_total"], up["percent"]) == (len(DATA), len(DATA), 100.0)
    assert (ftp_root / "New/Films/Sintel.2010.mkv").read_bytes() == DATA
    assert not (ftp_root / "New/Films/Sintel.2010.mkv.reelhouse.part").exists()
    assert list((tcore.settings.data_dir / "spool").iterdir()) == []  # spool copy removed

    r = api.post("/api/transfers", json={"kind": "download", "source_id": sid,
                                         "remote_path": "New/Films/Sintel.2010.mkv"})
    assert r.status_code == 201, r.text
    down = wait_transfer(api, r.json()["id"])
    assert down["state"] == "done", down
    local = Path(down["local_path"])
    assert local == tcore.settings.store_dir.resolve() / "seedbox/New/Films/Sintel.2010.mkv"
    assert hashlib.sha256(local.read_bytes()).digest() == hashlib.sha256(DATA).digest()
    listed = api.get("/api/transfers").json()
    assert [t["kind"] for t in listed] == ["download", "upload"]


def test_put_uploads_now(ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient) -> None:
    sid = add_ftp(api, ftp_server.port)
    r = api.put(f"/api/sources/{sid}/files", params={"path": "a/b/c.bin"}, content=DATA)
    assert r.status_code == 201, r.text
    assert r.json() == {"path": "a/b/c.bin", "size": len(DATA)}
    assert (ftp_root / "a/b/c.bin").read_bytes() == DATA


def test_ops_mkdir_rename_delete(ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient) -> None:
    sid = add_ftp(api, ftp_server.port)
    (ftp_root / "old.mkv").write_bytes(b"x")

    def run(body: dict[str, Any]) -> dict[str, Any]:
        r = api.post("/api/transfers", json={"source_id": sid, **body})
        assert r.status_code == 201, r.text
        return wait_transfer(api, r.json()["id"])

    assert run({"kind": "mkdir", "remote_path": "Shows/X/Season 01"})["state"] == "done"
    assert (ftp_root / "Shows/X/Season 01").is_dir()
    assert run({"kind": "rename", "remote_path": "old.mkv",
                "target_path": "Shows/X/Season 01/x.mkv"})["state"] == "done"
    assert (ftp_root / "Shows/X/Season 01/x.mkv").read_bytes() == b"x"
    assert run({"kind": "delete", "remote_path": "Shows/X/Season 01/x.mkv"})["state"] == "done"
    gone = run({"kind": "delete", "remote_path": "Shows/X/Season 01/x.mkv"})
    assert gone["state"] == "failed" and gone["attempts"] == 1  # not found: no retry
    assert "not found" in gone["error"]


def test_bad_requests_are_4xx(ftp_server: EmbeddedFtpServer, api: TestClient, tmp_path: Path) -> None:
    sid = add_ftp(api, ftp_server.port)
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    cases = [
        ({"kind": "download", "source_id": sid, "remote_path": "../x"}, 400),
        ({"kind": "download", "source_id": sid, "remote_path": "x", "local_path": "../../x"}, 400),
        ({"kind": "upload", "source_id": sid, "remote_path": "x", "local_path": str(outside)}, 400),
        ({"kind": "upload", "source_id": sid, "remote_path": "x"}, 400),
        ({"kind": "rename", "source_id": sid, "remote_path": "x"}, 400),
        # a folder into itself: refused when asked, not a failed transfer later
        ({"kind": "rename", "source_id": sid, "remote_path": "Films", "target_path": "Films/Old/Films"}, 400),
        ({"kind": "download", "source_id": 999, "remote_path": "x"}, 404),
        ({"kind": "explode", "source_id": sid, "remote_path": "x"}, 422),
    ]
    for body, code in cases:
        r = api.post("/api/transfers", json=body)
        assert r.status_code == code, (body, r.text)
        if body.get("target_path") == "Films/Old/Films":
            assert "cannot move 'Films' into itself" in r.json()["detail"], r.text
    assert api.get("/api/transfers/999").status_code == 404
    assert api.post("/api/transfers/999/cancel").status_code == 404
    r = api.post("/api/transfers/upload", data={"source_id": str(sid), "folder": "../up"},
                 files={"file": ("a.mkv", b"x")})
    assert r.status_code == 400


def test_wrong_password_is_502_with_a_clear_message(
    ftp_server: EmbeddedFtpServer, api: TestClient) -> None:
    sid = add_ftp(api, ftp_server.port, password="wrong")
    r = api.put(f"/api/sources/{sid}/files", params={"path": "x.bin"}, content=b"abc")
    assert r.status_code == 502, r.text  # the source's login, not the user's (401 logs them out)
    assert "FTP login refused" in r.json()["detail"]
    r = api.post("/api/transfers", json={"kind": "download", "source_id": sid, "remote_path": "x"})
    t = wait_transfer(api, r.json()["id"])
    assert t["state"] == "failed" and t["attempts"] == 1 and "login refused" in t["error"]


class _FullDisk(DTPHandler):  # type: ignore[misc]
    """Answers 552 (RFC 959: exceeded storage allocation) after 256 KiB of an upload."""

    def handle_read(self) -> None:
        super().handle_read()
        if self.receive and self.tot_bytes_received > 256 * 1024 and not self._closed:
            self._resp = ("552 Requested file action aborted. Exceeded storage allocation.",
                          logging.getLogger("pyftpdlib").warning)
            self.close()

    handle_read_event = handle_read  # DTPHandler aliases it; the loop calls this name


@pytest.fixture
def full_server(ftp_root: Path) -> Iterator[EmbeddedFtpServer]:
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD,
                               handler_overrides={"dtp_handler": _FullDisk}).start()
    yield server
    stop_without_leaks(server)


def test_full_disk_is_507_and_fails_without_retry(full_server: EmbeddedFtpServer, api: TestClient) -> None:
    sid = add_ftp(api, full_server.port)
    r = api.put(f"/api/sources/{sid}/files", params={"path": "big.bin"}, content=DATA)
    assert r.status_code == 507, r.text
    assert "storage is full" in r.json()["detail"]
    r = api.post("/api/transfers/upload", data={"source_id": str(sid)},
                 files={"file": ("big.bin", DATA)})
    t = wait_transfer(api, r.json()["id"])
    assert t["state"] == "failed" and t["attempts"] == 1 and "storage is full" in t["error"]
    # small files still fit: the connection stayed usable
    r = api.put(f"/api/sources/{sid}/files", params={"path": "small.bin"}, content=b"abc")
    assert r.status_code == 201, r.text


def _refuse_names(self: Any, file: str, mode: str = "w") -> Any:
    """STOR that refuses names with a '?' (RFC 959 553: file name not allowed)."""
    if "?" in file:
        self.respond("553 Requested action not taken. File name not allowed.")
        return None
    return FTPHandler.ftp_STOR(self, file, mode)


def test_bad_file_name_is_400(ftp_root: Path, tcore: Core) -> None:
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD,
                               handler_overrides={"ftp_STOR": _refuse_names}).start()
    try:
        with TestClient(create_app(tcore), raise_server_exceptions=False) as api:
            log_in(api)
            sid = add_ftp(api, server.port)
            r = api.put(f"/api/sources/{sid}/files", params={"path": "what?.bin"}, content=b"abc")
            assert r.status_code == 400, r.text
            assert "refused the file name" in r.json()["detail"]
            (ftp_root / "taken").write_bytes(b"file")
            r = api.put(f"/api/sources/{sid}/files", params={"path": "taken/x.bin"}, content=b"a")
            assert r.status_code == 409, r.text  # a file where the folder should be
    finally:
        tcore.sources.close()
        stop_without_leaks(server)


def test_a_path_that_is_not_utf8_is_invalid_input(ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                                   api: TestClient, tcore: Core, tmp_path: Path) -> None:
    """A shell hands a latin-1 file name (``reelhouse transfer download box $'Caf\\xe9.mkv'``)
    to Python as lone surrogates (PEP 383): the transfer row could not be stored, and
    the command failed with a database traceback. It is InvalidInput (exit code 2 / 400)
    naming the path; nothing is queued."""
    from reelhouse.errors import InvalidInput

    sid = add_ftp(api, ftp_server.port)
    local = tmp_path / os.fsdecode(b"Ni\xf1o.mkv")
    local.write_bytes(b"n")
    cases = [("download", "Caf\udce9.mkv", None), ("upload", "up/Ni\udcf1o.mkv", tmp_path / "x.mkv"),
             ("upload", "up/Nino.mkv", local), ("download", "x.mkv", str(tmp_path / "Caf\udce9.mkv"))]
    (tmp_path / "x.mkv").write_bytes(b"x")
    for kind, remote, local_path in cases:
        with pytest.raises(InvalidInput, match="UTF-8"):
            tcore.transfers.submit(kind, sid, remote, local_path=local_path)
    assert api.get("/api/transfers").json() == []


def test_file_gone_is_404(ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient, tcore: Core) -> None:
    sid = add_ftp(api, ftp_server.port)
    (ftp_root / "Films").mkdir()
    (ftp_root / "Films/Gone.2001.mkv").write_bytes(b"g" * 5000)
    job = api.post(f"/api/sources/{sid}/scan").json()
    from helpers import wait_job

    assert wait_job(api, job["id"])["state"] == "done"
    fid = api.get("/api/library/media-files").json()["items"][0]["id"]
    (ftp_root / "Films/Gone.2001.mkv").unlink()
    r = api.get(f"/api/library/media-files/{fid}/stream", headers={"range": "bytes=0-99"})
    assert r.status_code == 404, r.text
    r = api.post("/api/transfers", json={"kind": "download", "source_id": sid,
                                         "remote_path": "Films/Gone.2001.mkv"})
    t = wait_transfer(api, r.json()["id"])
    assert t["state"] == "failed" and "not found" in t["error"]


def test_cancel_queued_and_ended(ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient, tcore: Core) -> None:
    sid = add_ftp(api, ftp_server.port)
    (ftp_root / "f.bin").write_bytes(DATA)
    tcore.jobs.close()  # nothing consumes: everything stays queued
    r = api.post("/api/transfers", json={"kind": "download", "source_id": sid, "remote_path": "f.bin"})
    tid = r.json()["id"]
    r = api.post(f"/api/transfers/{tid}/cancel")
    assert r.status_code == 202 and r.json()["state"] == "cancelled"
    assert api.post(f"/api/transfers/{tid}/cancel").status_code == 409


def test_priority_and_restart_recovery(ftp_server: EmbeddedFtpServer, ftp_root: Path, tmp_path: Path) -> None:
    """The highest priority runs first; a transfer whose process died (its job running
    with a lease that passed) is taken back by the next consumer and ends done."""
    from datetime import timedelta

    from reelhouse.db.models import Job, utcnow
    from reelhouse.sources.registry import SourceSpec

    settings = load_settings(data_dir=tmp_path / "data", transfer_retry_delay=0.05,
                             job_workers=1, transfer_concurrency=1)
    first = Core(settings, consume_jobs=False)  # queues only
    row = first.sources.create(SourceSpec(name="s", kind="ftp", host="127.0.0.1",
                                          port=ftp_server.port, username=FTP_USER,
                                          password=FTP_PASSWORD))
    (ftp_root / "f.bin").write_bytes(DATA)
    q = first.transfers
    low = q.submit("download", row.id, "f.bin", local_path="low.bin", priority=-5)
    high = q.submit("download", row.id, "f.bin", local_path="high.bin", priority=5)
    dead = q.submit("download", row.id, "f.bin", local_path="dead.bin", priority=0)
    with first.sessions() as s:  # a process that died while running it
        s.execute(update(Job).where(Job.id == dead.job_id).values(
            state="running", owner="elsewhere:1:dead", attempts=1,
            lease_until=utcnow() - timedelta(seconds=1)))
        s.execute(update(Transfer).where(Transfer.id == dead.id).values(state="running"))
        s.commit()
    first.close()
    second = Core(load_settings(data_dir=tmp_path / "data", transfer_retry_delay=0.05,
                                job_workers=1, transfer_concurrency=1), consume_jobs=False)
    second.jobs.start(1)  # one thread: the order of the queue shows
    try:
        q = second.transfers
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and {q.get(t.id).state for t in (low, high, dead)} != {"done"}:
            time.sleep(0.05)
        assert q.get(low.id).state == q.get(high.id).state == q.get(dead.id).state == "done"
        assert q.get(high.id).started_at < q.get(low.id).started_at  # type: ignore[operator]
        assert (settings.store_dir / "dead.bin").read_bytes() == DATA
        assert second.jobs.get(dead.job_id).attempts == 2  # type: ignore[arg-type]
    finally:
        second.close()


class _Slow(ThrottledDTPHandler):  # type: ignore[misc]
    read_limit = 256 * 1024  # bytes/s: a 3 MiB transfer takes ~12 s
    write_limit = 256 * 1024


@pytest.fixture
def slow_server(ftp_root: Path) -> Iterator[EmbeddedFtpServer]:
    (ftp_root / "f.bin").write_bytes(DATA)
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD,
                               handler_overrides={"dtp_handler": _Slow, "use_sendfile": False}).start()
    yield server
    stop_without_leaks(server)


def _wait(pred: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_cancel_a_running_download_shows_progress_first(
    slow_server: EmbeddedFtpServer, api: TestClient, tcore: Core
) -> None:
    sid = add_ftp(api, slow_server.port)
    tid = api.post("/api/transfers", json={"kind": "download", "source_id": sid,
                                           "remote_path": "f.bin"}).json()["id"]
    _wait(lambda: (api.get(f"/api/transfers/{tid}").json()["bytes_done"] or 0) > 300_000)
    running = api.get(f"/api/transfers/{tid}").json()
    assert running["state"] == "running" and running["bytes_total"] == len(DATA)
    # bytes/s, under the throttle; no lower bound: a loaded machine is slow
    assert running["rate"] and 0 < running["rate"] < 2_000_000
    assert running["eta_seconds"] is not None and 0 < running["percent"] < 100
    r = api.post(f"/api/transfers/{tid}/cancel")
    assert r.status_code == 202 and r.json()["state"] == "cancelled"
    local = Path(r.json()["local_path"])
    _wait(lambda: not local.with_name(local.name + ".reelhouse.part").exists())  # no .part left
    assert not local.exists()


def test_a_stopped_server_resumes_its_transfer_at_the_next_start(
    ftp_server: EmbeddedFtpServer, slow_server: EmbeddedFtpServer, tmp_path: Path
) -> None:
    """Stopped mid-download (slow server), the transfer is queued again with its .part;
    the next start resumes it (from a fast server on the same files, to save time)."""
    from reelhouse.sources.registry import SourceSpec

    settings = load_settings(data_dir=tmp_path / "data2", transfer_retry_delay=0.05)
    first = Core(settings)
    row = first.sources.create(SourceSpec(name="s", kind="ftp", host="127.0.0.1",
                                          port=slow_server.port, username=FTP_USER,
                                          password=FTP_PASSWORD))
    t = first.transfers.submit("download", row.id, "f.bin")
    _wait(lambda: first.transfers.get(t.id).bytes_done > 100_000)
    first.close()  # the server stops mid-download
    stopped = first.transfers.get(t.id)
    assert stopped.state == "queued" and "server stopped" in (stopped.error or "")
    part = Path(str(stopped.local_path) + ".reelhouse.part")
    assert 0 < part.stat().st_size < len(DATA)
    second = Core(settings)
    try:
        second.sources.update(row.id, SourceSpec(port=ftp_server.port))
        _wait(lambda: second.transfers.get(t.id).state == "done")
        assert Path(str(stopped.local_path)).read_bytes() == DATA
    finally:
        second.close()


def test_only_admins_change_files_on_a_source(
    ftp_server: EmbeddedFtpServer, api: TestClient, tcore: Core
) -> None:
    sid = add_ftp(api, ftp_server.port)
    tcore.users.add("viewer", "viewer-password")
    with TestClient(create_app(tcore)) as viewer:
        token = viewer.post("/api/auth/login", json={"username": "viewer",
                                                     "password": "viewer-password"}).json()["token"]
        viewer.headers["authorization"] = f"Bearer {token}"
        r = viewer.post("/api/transfers", json={"kind": "delete", "source_id": sid,
                                                "remote_path": "x"})
        assert r.status_code == 403
        assert viewer.put(f"/api/sources/{sid}/files", params={"path": "x"}, content=b"x").status_code == 403
        r = viewer.post("/api/transfers/upload", data={"source_id": str(sid)}, files={"file": ("a", b"x")})
        assert r.status_code == 403
        r = viewer.post("/api/transfers", json={"kind": "download", "source_id": sid,
                                                "remote_path": "x"})
        assert r.status_code == 201


def test_a_user_cannot_jump_the_queue(ftp_server: EmbeddedFtpServer, api: TestClient, tcore: Core) -> None:
    """Every job (scans, probes, syncs, other users' transfers) shares one queue, higher
    priority first: a plain user's downloads at priority 1000 went before all of them
    (found by an outside-in probe). A user may lower a download's priority, not raise it."""
    sid = add_ftp(api, ftp_server.port)
    tcore.users.add("viewer", "viewer-password")
    with TestClient(create_app(tcore)) as viewer:
        log_in(viewer, "viewer", "viewer-password")
        for priority in (1, 1000):
            r = viewer.post("/api/transfers", json={"kind": "download", "source_id": sid,
                                                    "remote_path": "x.mkv", "priority": priority})
            assert r.status_code == 403 and "priority" in r.json()["detail"], r.text
        r = viewer.post("/api/transfers", json={"kind": "download", "source_id": sid,
                                                "remote_path": "x.mkv", "priority": -5})
        assert r.status_code == 201 and r.json()["priority"] == -5, r.text
    r = api.post("/api/transfers", json={"kind": "download", "source_id": sid, "remote_path": "x.mkv",
                                         "priority": 1000})
    assert r.status_code == 201, r.text


def test_a_user_has_a_bounded_number_of_open_transfers(
    ftp_server: EmbeddedFtpServer, api: TestClient, tcore: Core
) -> None:
    """A plain user could queue downloads without end (a loop of POSTs: a job and a
    transfer row each, the queue held for everyone); now at most
    ``transfer_max_open_per_user`` of theirs wait or run at once, then a 409. Admins
    are not counted. Found by an outside-in probe."""
    sid = add_ftp(api, ftp_server.port)
    tcore.settings.transfer_max_open_per_user = 3
    tcore.users.add("viewer", "viewer-password")
    viewer_id = tcore.users.by_name("viewer").id
    body = {"kind": "download", "source_id": sid, "remote_path": "gone.mkv"}
    with TestClient(create_app(tcore)) as viewer:
        log_in(viewer, "viewer", "viewer-password")
        ids = []
        for _ in range(3):
            r = viewer.post("/api/transfers", json=body)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        for tid in ids:  # a missing file fails at once: hold them as if they waited
            wait_transfer(viewer, tid)
        with tcore.sessions() as s:
            s.execute(update(Transfer).where(Transfer.id.in_(ids)).values(state="queued"))
            s.commit()
        r = viewer.post("/api/transfers", json=body)
        assert r.status_code == 409 and "3" in r.json()["detail"], r.text
        with tcore.sessions() as s:
            s.execute(update(Transfer).where(Transfer.id == ids[0]).values(state="done"))
            s.commit()
        r = viewer.post("/api/transfers", json=body)
        assert r.status_code == 201, r.text
        assert r.json()["id"] not in ids
    for _ in range(5):  # an admin is not counted
        assert api.post("/api/transfers", json=body).status_code == 201
    with tcore.sessions() as s:
        assert s.query(Transfer).filter(Transfer.user_id == viewer_id).count() == 4


def test_a_users_list_is_not_pushed_out_by_others(
    ftp_server: EmbeddedFtpServer, api: TestClient, tcore: Core
) -> None:
    """``GET /api/transfers`` took the 200 most recent transfers of everybody and then
    kept the caller's: 200 newer transfers of other users (a sync, a busy admin, a
    hostile friend) left a user with an empty list. Found by an outside-in probe."""
    sid = add_ftp(api, ftp_server.port)
    tcore.users.add("viewer", "viewer-password")
    admin_id = tcore.users.by_name("admin").id
    with TestClient(create_app(tcore)) as viewer:
        log_in(viewer, "viewer", "viewer-password")
        r = viewer.post("/api/transfers", json={"kind": "download", "source_id": sid, "remote_path": "gone.mkv"})
        assert r.status_code == 201, r.text
        mine = r.json()["id"]
        wait_transfer(viewer, mine)
        with tcore.sessions() as s:
            s.add_all([Transfer(kind="download", source_id=sid, remote_path=f"f{i}.mkv", priority=0,
                                state="done", bytes_done=0, attempts=1, user_id=admin_id) for i in range(250)])
            s.commit()
        assert [t["id"] for t in viewer.get("/api/transfers").json()] == [mine]
    assert len(api.get("/api/transfers").json()) == 200


def test_changes_to_a_read_only_source_are_refused_at_once(api: TestClient, tcore: Core) -> None:
    """A Jellyfin source is read-only: ``PUT …/files`` said so (403), but a queued
    upload, mkdir, rename or delete answered 201 and failed later in the queue, and a
    browser upload was spooled whole first (up to ``upload_limit``) to fail there.
    Found by an outside-in probe (a careless admin)."""
    r = api.post("/api/sources", json={"name": "den", "kind": "jellyfin", "path": "http://127.0.0.1:9/jellyfin",
                                       "username": "someone", "password": "pw"})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    for body in ({"kind": "mkdir", "remote_path": "New"}, {"kind": "delete", "remote_path": "a.mkv"},
                 {"kind": "rename", "remote_path": "a.mkv", "target_path": "b.mkv"}):
        r = api.post("/api/transfers", json={"source_id": sid, **body})
        assert r.status_code == 403 and "read-only" in r.json()["detail"], (body, r.text)
    r = api.post("/api/transfers/upload", data={"source_id": str(sid)}, files={"file": ("a.mkv", b"x" * 100_000)})
    assert r.status_code == 403 and "read-only" in r.json()["detail"], r.text
    spool = tcore.settings.data_dir / "spool"
    assert not spool.exists() or not any(spool.iterdir())
    assert api.get("/api/transfers").json() == []


def test_a_users_downloads_leave_the_reserve_free(
    ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient, tcore: Core
) -> None:
    """A plain user queueing downloads of one big file under ever new ``local_path``s
    filled the store's disk (where the database lives); past ``store_min_free`` the
    download fails at once as 'storage full', without retries, and leaves nothing."""
    (ftp_root / "big.bin").write_bytes(DATA)
    sid = add_ftp(api, ftp_server.port)
    tcore.users.add("viewer", "viewer-password")
    # no room left, even if another process frees some disk while the test runs
    tcore.transfers.runner.min_free = shutil.disk_usage(tcore.settings.store_dir.parent).free + 2**34
    with TestClient(create_app(tcore)) as viewer:
        log_in(viewer, "viewer", "viewer-password")
        r = viewer.post("/api/transfers", json={"kind": "download", "source_id": sid, "remote_path": "big.bin",
                                                "local_path": "mine/copy-1.bin"})
        assert r.status_code == 201, r.text
        t = wait_transfer(viewer, r.json()["id"])
        assert t["state"] == "failed" and t["attempts"] == 1 and "no space left" in t["error"], t
    assert not list((tcore.settings.store_dir / "mine").glob("*"))


def test_concurrent_uploads_of_one_name_never_mix(
    ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient, tcore: Core
) -> None:
    """Uploads resume from the source's ``NAME.part``, so two uploads of one name at
    once appended to each other's part: the file ended as a mix of both, yet one of
    them answered 201 with the right size. Now the second is a 409 while the first
    runs, and the file is exactly one of the bodies."""
    import httpx

    from helpers import serving

    sid = add_ftp(api, ftp_server.port)
    token = api.post("/api/auth/login", json={"username": "admin", "password": "admin-password"}).json()["token"]
    bodies = [os.urandom(2_000_000) for _ in range(4)]
    answers: list[int] = []
    with serving(api.app) as url:
        def put(body: bytes) -> None:
            with httpx.Client(base_url=url, timeout=60) as c:
                r = c.put(f"/api/sources/{sid}/files", params={"path": "same/name.bin"}, content=body,
                          headers={"authorization": f"Bearer {token}"})
                assert r.status_code in (201, 409), r.text
                assert r.status_code == 201 or "already running" in r.json()["detail"], r.text
                answers.append(r.status_code)

        threads = [threading.Thread(target=put, args=(b,)) for b in bodies]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert 201 in answers and len(answers) == 4, answers
    assert (ftp_root / "same/name.bin").read_bytes() in bodies
    assert sorted(p.name for p in (ftp_root / "same").iterdir()) == ["name.bin"]


@pytest.mark.parametrize("name", ["line\nbreak.mkv", "carriage\rreturn.mkv", "tab\there.mkv", "bell\x07.mkv",
                                  "x" * 252 + ".mkv", "é" * 128 + ".mkv"])
def test_new_names_are_refused_alike_on_ftp_and_local(
        name: str, ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient, tmp_path: Path) -> None:
    """A name with a control character, or longer than 255 UTF-8 bytes, is one clear 400
    on every source kind and every way of making it (PUT, a browser upload, a queued
    mkdir or rename): FTP answered a long name with 404 'not found' and a local disk
    took CR/LF into its names."""
    disk = tmp_path / "disk"
    disk.mkdir()
    (disk / "old.mkv").write_bytes(b"o")
    (ftp_root / "old.mkv").write_bytes(b"o")
    r = api.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(disk)})
    assert r.status_code == 201, r.text
    for sid in (add_ftp(api, ftp_server.port), int(r.json()["id"])):
        answers = [
            api.put(f"/api/sources/{sid}/files", params={"path": f"Films/{name}"}, content=b"abc"),
            api.post("/api/transfers", json={"kind": "mkdir", "source_id": sid, "remote_path": name}),
            api.post("/api/transfers", json={"kind": "rename", "source_id": sid, "remote_path": "old.mkv",
                                             "target_path": name}),
        ]
        if name.isprintable():  # a browser (and httpx) sends CR/LF in a multipart file name as %0D/%0A
            answers.append(api.post("/api/transfers/upload", data={"source_id": str(sid), "folder": "Films"},
                                    files={"file": (name, b"abc", "video/x-matroska")}))
        for r in answers:
            assert r.status_code == 400, r.text
            detail = r.json()["detail"]
            assert "control characters" in detail or "bytes:" in detail, detail
    assert sorted(p.name for p in disk.iterdir()) == ["old.mkv"]
    assert sorted(p.name for p in ftp_root.iterdir()) == ["old.mkv"]
    assert api.put("/api/sources/1/files", params={"path": "Films/" + "x" * 246 + ".mkv"},
                   content=b"abc").status_code == 201  # 250 bytes (265 with the suffix: a hashed one): still a name


def test_a_name_in_the_way_is_a_conflict_alike_on_ftp_and_local(
        ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient, tmp_path: Path) -> None:
    """A name taken by a folder, or a folder that is a file, is one clear Conflict on every
    source kind, tried once and leaving nothing behind. An upload to a folder's name was
    a 404 "not found" on FTP (the 550 of the rename) and a 400 "bad file name:
    'X.part' (Is a directory)" on a local disk, both leaving the ``.part``; on a local
    disk a queued rename of a folder onto one that is not empty was retried three times
    as "cannot read … Directory not empty", and a mkdir under a file said "no such file
    or folder"."""
    disk = tmp_path / "disk"
    for root in (ftp_root, disk):
        (root / "Films/Dune (2021)").mkdir(parents=True)
        (root / "Films/Dune (2021)/dune.mkv").write_bytes(b"d")
        (root / "Films/Empty").mkdir()
        (root / "notes.txt").write_bytes(b"n")
    r = api.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(disk)})
    assert r.status_code == 201, r.text
    for sid, root in ((add_ftp(api, ftp_server.port), ftp_root), (int(r.json()["id"]), disk)):
        r = api.put(f"/api/sources/{sid}/files", params={"path": "Films/Dune (2021)"}, content=b"abc")
        assert r.status_code == 409, r.text
        assert r.json()["detail"] == "a folder of that name exists already: 'Films/Dune (2021)'"
        r = api.post("/api/transfers/upload", data={"source_id": str(sid), "folder": "Films"},
                     files={"file": ("Dune (2021)", b"abc", "video/x-matroska")})
        assert r.status_code == 201, r.text
        queued = wait_transfer(api, r.json()["id"])
        assert (queued["state"], queued["attempts"]) == ("failed", 1), queued
        assert queued["error"] == "a folder of that name exists already: 'Films/Dune (2021)'"
        assert sorted(os.listdir(root / "Films")) == ["Dune (2021)", "Empty"]  # no .part left
        assert os.listdir(root / "Films/Dune (2021)") == ["dune.mkv"]

        def run(body: dict[str, Any], sid: int = sid) -> dict[str, Any]:
            r = api.post("/api/transfers", json={"source_id": sid, **body})
            assert r.status_code == 201, r.text
            return wait_transfer(api, r.json()["id"])

        onto = run({"kind": "rename", "remote_path": "Films/Empty", "target_path": "Films/Dune (2021)"})
        assert (onto["state"], onto["attempts"]) == ("failed", 1), onto
        under = run({"kind": "mkdir", "remote_path": "notes.txt/Season 01"})
        assert (under["state"], under["attempts"]) == ("failed", 1), under
        assert under["error"] == "a file of that name exists already: 'notes.txt'"
        if root == disk:
            assert onto["error"] == "a folder that is not empty has that name already: 'Films/Dune (2021)'"
            file_onto_folder = run({"kind": "rename", "remote_path": "notes.txt", "target_path": "Films/Empty"})
            assert file_onto_folder["error"] == "a folder of that name exists already: 'Films/Empty'"
            folder_onto_file = run({"kind": "rename", "remote_path": "Films/Empty", "target_path": "notes.txt"})
            assert folder_onto_file["error"] == "a file of that name exists already: 'notes.txt'"
        assert (root / "Films/Empty").is_dir() and (root / "notes.txt").read_bytes() == b"n"


def test_a_download_into_a_folder_of_the_store_is_refused_when_asked(
        ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient, tcore: Core) -> None:
    """A download whose ``local_path`` is a folder of the store, or ends with ``/``, is
    refused when asked, with nothing read or left. It was queued, read the whole file
    into ``NAME.part`` and failed at the rename ("it is a folder"), leaving the
    ``.part``; ``Films/`` was taken as a file called ``Films``, written over whatever
    file had that name (found by an outside-in hunt)."""
    (ftp_root / "f.mkv").write_bytes(DATA)
    sid = add_ftp(api, ftp_server.port)
    store = tcore.settings.store_dir
    (store / "Films").mkdir(parents=True)
    (store / "old.mkv").write_bytes(b"old")
    before = api.get("/api/transfers").json()
    r = api.post("/api/transfers", json={"kind": "download", "source_id": sid,
                                         "remote_path": "f.mkv", "local_path": "Films"})
    assert r.status_code == 409, r.text
    assert r.json()["detail"] == "'Films' is a folder in the library store; a download needs a file's name"
    for path in ("old.mkv/", "Films/", "Films\\"):
        r = api.post("/api/transfers", json={"kind": "download", "source_id": sid,
                                             "remote_path": "f.mkv", "local_path": path})
        assert r.status_code == 400, r.text
        assert r.json()["detail"] == f"local_path must name a file, not a folder: {path!r}"
    assert api.get("/api/transfers").json() == before
    assert sorted(p.name for p in store.iterdir()) == ["Films", "old.mkv"]
    assert (store / "old.mkv").read_bytes() == b"old" and list((store / "Films").iterdir()) == []
    r = api.post("/api/transfers", json={"kind": "download", "source_id": sid,
                                         "remote_path": "f.mkv", "local_path": "Films/f.mkv"})
    assert r.status_code == 201, r.text
    assert wait_transfer(api, r.json()["id"])["state"] == "done"
    assert (store / "Films/f.mkv").read_bytes() == DATA


def test_a_put_refused_for_a_full_source_leaves_no_part(full_server: EmbeddedFtpServer, ftp_root: Path,
                                                        api: TestClient) -> None:
    """A ``PUT`` starts its ``.part`` over from byte 0, so the one a 507 cut short is of no
    use: it is deleted. It was kept, and on a full disk the space it held refused every
    other upload too, until the same name was sent again (found by an outside-in hunt on a
    2 MiB tmpfs: a 3 MB PUT left a 2 MiB ``.part``, then a 0.5 MB one of another name was
    a 507 as well)."""
    sid = add_ftp(api, full_server.port)
    r = api.put(f"/api/sources/{sid}/files", params={"path": "Films/big.bin"}, content=DATA)
    assert r.status_code == 507, r.text
    assert sorted(p.name for p in (ftp_root / "Films").iterdir()) == []


def test_a_browser_upload_keeps_the_quotes_of_its_name(tmp_path: Path, api: TestClient) -> None:
    """Browsers (and httpx) send a file name's ``"`` as ``%22``, CR and LF as ``%0D`` and
    ``%0A`` (WHATWG HTML, "multipart/form-data encoding algorithm"); the upload undoes it.
    ``Film "Quoted".mkv`` picked in Chromium was stored as ``Film %22Quoted%22.mkv``
    (found by an outside-in hunt through the Transfers page). A name with a line break
    is then refused as such."""
    disk = tmp_path / "disk"
    disk.mkdir()
    r = api.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(disk)})
    sid = int(r.json()["id"])
    r = api.post("/api/transfers/upload", data={"source_id": str(sid), "folder": "Films"},
                 files={"file": ('Tom\'s "Quote" (2010).mkv', b"abc", "video/x-matroska")})
    assert r.status_code == 201, r.text
    assert r.json()["remote_path"] == 'Films/Tom\'s "Quote" (2010).mkv'
    assert wait_transfer(api, r.json()["id"])["state"] == "done"
    assert (disk / 'Films/Tom\'s "Quote" (2010).mkv').read_bytes() == b"abc"
    r = api.post("/api/transfers/upload", headers={"content-type": "multipart/form-data; boundary=b"},
                 content=(f'--b\r\ncontent-disposition: form-data; name="source_id"\r\n\r\n{sid}\r\n'
                          '--b\r\ncontent-disposition: form-data; name="file"; filename="a%0Ab.mkv"\r\n'
                          "\r\nabc\r\n--b--\r\n").encode())
    assert r.status_code == 400, r.text
    assert "control characters" in r.json()["detail"]


def test_a_put_a_thousand_folders_deep_is_stored(tmp_path: Path, api: TestClient) -> None:
    """``PUT …/files?path=a/a/…/x.bin`` 1,000 folders deep (2,001 characters, under the
    4,096 a path may have) on a local disk was a 500: the folders were made by
    ``Path.mkdir(parents=True)``, which recurses once a level (RecursionError; found by an
    outside-in hunt). It is stored like any other path."""
    disk = tmp_path / "disk"
    disk.mkdir()
    r = api.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(disk)})
    sid = int(r.json()["id"])
    deep = "a/" * 1000 + "x.bin"
    try:
        r = api.put(f"/api/sources/{sid}/files", params={"path": deep}, content=b"abc")
        assert r.status_code == 201, r.text
        assert (disk / deep).read_bytes() == b"abc"
    finally:
        remove_deep(disk / "a")  # pytest's clean-up of old temp dirs recurses once a level


def remove_deep(root: Path) -> None:
    """Remove the folder tree ``root`` without recursion (shutil.rmtree on Python 3.11
    recurses once a level: a RecursionError 1,000 folders deep)."""
    stack = [root]
    while stack:
        folder = stack[-1]
        subfolders = [e.path for e in os.scandir(folder) if e.is_dir(follow_symlinks=False)]
        if subfolders:
            stack.extend(Path(p) for p in subfolders)
            continue
        for entry in os.scandir(folder):
            os.unlink(entry.path)
        os.rmdir(folder)
        stack.pop()


def test_a_put_path_that_is_not_utf8_is_refused(tmp_path: Path, api: TestClient) -> None:
    """``PUT …/files?path=%E9t%E9.bin`` (latin-1 bytes) stored a file named ``�t�.bin``:
    Starlette decodes a query's escapes with U+FFFD for bytes that are not UTF-8. It is a
    400 saying so (found by an outside-in hunt); UTF-8 escapes are names as before."""
    disk = tmp_path / "disk"
    disk.mkdir()
    r = api.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(disk)})
    sid = int(r.json()["id"])
    r = api.put(f"/api/sources/{sid}/files?path=%E9t%E9.bin", content=b"abc")
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith("path is not UTF-8")
    assert list(disk.iterdir()) == []
    r = api.put(f"/api/sources/{sid}/files?path=%C3%A9t%C3%A9.bin", content=b"abc")
    assert r.status_code == 201, r.text
    assert (disk / "été.bin").read_bytes() == b"abc"
