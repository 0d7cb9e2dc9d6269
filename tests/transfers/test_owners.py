"""Whose transfers count and live: a deleted or disabled user's queued and running
transfers end with them (no ``.part`` left; a disabled user's ran on to the end), and
"keep offline" counts against the per-user cap of open transfers
(``transfer_max_open_per_user``) as the user's own downloads do. Both found by an
outside-in probe."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyftpdlib.handlers import ThrottledDTPHandler

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.errors import Conflict
from reelhouse.server import create_app
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, log_in, stop_without_leaks, wait_job

DATA = os.urandom(3 * 1024 * 1024 + 7)
EPISODES = [f"Shows/The Office (US)/Season 01/The.Office.S01E0{n}.mkv" for n in range(1, 6)]


class _Slow(ThrottledDTPHandler):  # type: ignore[misc]
    read_limit = 256 * 1024  # bytes/s: a 3 MiB download takes ~12 s
    write_limit = 256 * 1024


@pytest.fixture
def slow_server(ftp_root: Path) -> Iterator[EmbeddedFtpServer]:
    for name in ("a.bin", "b.bin"):
        (ftp_root / name).write_bytes(DATA)
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD,
                               handler_overrides={"dtp_handler": _Slow, "use_sendfile": False}).start()
    yield server
    stop_without_leaks(server)


def _add_ftp(api: TestClient, port: int) -> int:
    r = api.post("/api/sources", json={"name": "seedbox", "kind": "ftp", "host": "127.0.0.1",
                                       "port": port, "username": FTP_USER, "password": FTP_PASSWORD})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _until(pred: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.mark.parametrize("how", ["deleted", "disabled"])
def test_a_deleted_or_disabled_users_transfers_are_cancelled_and_leave_no_part(
    slow_server: EmbeddedFtpServer, api: TestClient, tcore: Core, how: str
) -> None:
    """The user's downloads ran on after an admin deleted them (to the end, ~12 s each
    on this server), writing into the store for nobody; a disabled user's still did."""
    sid = _add_ftp(api, slow_server.port)
    tcore.users.add("viewer", "viewer-password")
    with TestClient(create_app(tcore)) as viewer:
        log_in(viewer, "viewer", "viewer-password")
        ids = [viewer.post("/api/transfers", json={"kind": "download", "source_id": sid,
                                                   "remote_path": name}).json()["id"] for name in ("a.bin", "b.bin")]
        _until(lambda: any((viewer.get(f"/api/transfers/{t}").json()["bytes_done"] or 0) > 100_000 for t in ids))
    locals_ = [Path(api.get(f"/api/transfers/{t}").json()["local_path"]) for t in ids]
    user_id = tcore.users.by_name("viewer").id
    r = api.delete(f"/api/users/{user_id}") if how == "deleted" else \
        api.patch(f"/api/users/{user_id}", json={"disabled": True})
    assert r.status_code == (204 if how == "deleted" else 200), r.text
    for tid in ids:
        t = api.get(f"/api/transfers/{tid}").json()
        assert t["state"] == "cancelled", t
        assert t["error"] == f"cancelled: its user was {how}", t
    for local in locals_:
        _until(lambda local=local: not local.with_name(local.name + ".reelhouse.part").exists())  # type: ignore[misc]
        assert not local.exists()


@pytest.fixture
def season(ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient) -> int:
    for rel in EPISODES:
        (ftp_root / rel).parent.mkdir(parents=True, exist_ok=True)
        (ftp_root / rel).write_bytes(os.urandom(50_000))
    sid = _add_ftp(api, ftp_server.port)
    assert wait_job(api, api.post(f"/api/sources/{sid}/scan").json()["id"])["state"] == "done"
    show = next(i for i in api.get("/api/library/items").json()["items"] if i["type"] == "show")
    return int(api.get(f"/api/library/shows/{show['id']}").json()["seasons"][0]["id"])


def test_keep_offline_counts_against_the_open_transfer_cap(
    season: int, api: TestClient, tcore: Core
) -> None:
    """"Keep offline" on a season queued a download of every episode whatever the cap
    (a 500-episode show: 500 downloads from one request, and again after each drop)."""
    tcore.settings.transfer_max_open_per_user = 4
    tcore.jobs.close()  # nothing runs: every download stays queued, as on a busy server
    tcore.users.add("viewer", "viewer-password")
    with TestClient(create_app(tcore)) as viewer:
        log_in(viewer, "viewer", "viewer-password")
        r = viewer.post(f"/api/library/seasons/{season}/offline")
        assert r.status_code == 409, r.text
        assert "5 downloads" in r.json()["detail"] and "4" in r.json()["detail"]
        assert viewer.get("/api/transfers").json() == []  # nothing queued
        assert viewer.get("/api/offline").json() == []
        # the user's own downloads and offline copies share the one cap
        files = api.get("/api/library/media-files").json()["items"]
        for f in files[:1]:
            r = viewer.post("/api/transfers", json={"kind": "download", "source_id": f["source_id"],
                                                    "remote_path": f["path"], "local_path": "mine.mkv"})
            assert r.status_code == 201, r.text
        tcore.settings.transfer_max_open_per_user = 5
        assert viewer.post(f"/api/library/seasons/{season}/offline").status_code == 409
        tcore.settings.transfer_max_open_per_user = 6
        r = viewer.post(f"/api/library/seasons/{season}/offline")
        assert r.status_code == 202, r.text
        assert len(viewer.get("/api/transfers").json()) == 6
        # the copies are pending already: asking again queues nothing and is no 409
        assert viewer.post(f"/api/library/seasons/{season}/offline").status_code == 202
    tcore.settings.transfer_max_open_per_user = 1
    assert api.post(f"/api/library/seasons/{season}/offline").status_code == 202  # admins: no cap


def test_the_cap_holds_against_a_burst(tcore: Core, tmp_path: Path) -> None:
    """30 downloads sent at once by one user (a hostile friend's script) all passed
    the count before any was queued: 4 and more open with a cap of 3."""

    media = tmp_path / "media"
    media.mkdir()
    (media / "a.mkv").write_bytes(b"x" * 100)
    sid = tcore.sources.create(SourceSpec(name="disk", kind="local", path=str(media))).id
    tcore.jobs.close()  # they stay queued
    uid = tcore.users.add("eve", "eve-password").id
    start = threading.Barrier(30)
    outcomes: list[str] = []

    def one(i: int) -> None:
        start.wait()
        try:
            tcore.transfers.submit("download", sid, "a.mkv", local_path=f"x{i}.mkv", user_id=uid, max_open=3)
            outcomes.append("queued")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["queued"] * 3 + ["refused"] * 27
    assert tcore.transfers.open_count(uid) == 3


class _Slower(ThrottledDTPHandler):  # type: ignore[misc]
    read_limit = 128 * 1024  # bytes/s: a 3 MiB download takes ~24 s
    write_limit = 128 * 1024


def test_two_downloads_to_one_file_never_write_it_together(ftp_root: Path, api: TestClient, tcore: Core) -> None:
    """Two users (or one, twice) downloading one file to its default place wrote one
    ``.part`` together: the first to end renamed it away and the other failed with "no
    such local file: …" (a path the user had not named); two sources whose names map to
    one folder (``a/b``, ``a_b``) would have mixed two files in it. The second now fails
    at once saying a download there is running; the first ends with the exact bytes."""
    (ftp_root / "a.bin").write_bytes(DATA)

    class Slow(_Slower):  # this test's own limit, lifted once the two downloads met
        pass

    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD,
                               handler_overrides={"dtp_handler": Slow, "use_sendfile": False}).start()
    try:
        sid = _add_ftp(api, server.port)
        body = {"kind": "download", "source_id": sid, "remote_path": "a.bin"}
        first = api.post("/api/transfers", json=body).json()["id"]
        _until(lambda: (api.get(f"/api/transfers/{first}").json()["bytes_done"] or 0) > 50_000)
        second = api.post("/api/transfers", json=body).json()["id"]
        _until(lambda: api.get(f"/api/transfers/{second}").json()["state"] in ("done", "failed", "cancelled"))
        t = api.get(f"/api/transfers/{second}").json()
        assert t["state"] == "failed" and "already running" in t["error"], t
        assert api.get(f"/api/transfers/{first}").json()["state"] == "running"  # not disturbed
        Slow.write_limit = 0  # the rest at full speed (pyftpdlib reads it at each send): ~20 s less
        _until(lambda: api.get(f"/api/transfers/{first}").json()["state"] != "running", timeout=120)
        t = api.get(f"/api/transfers/{first}").json()
        assert t["state"] == "done", t
        assert Path(t["local_path"]).read_bytes() == DATA
    finally:
        tcore.sources.close()  # the pool's idle connections, before the leak check
        stop_without_leaks(server)
