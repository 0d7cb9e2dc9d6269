"""A careless admin deletes a source while its files are kept offline and downloads
run: nothing of it stays behind in the store (found by an outside-in probe)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from fastapi.testclient import TestClient
from pyftpdlib.handlers import ThrottledDTPHandler

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER, stop_without_leaks, wait_job

FILMS = ["Films/Sintel.2010.mkv", "Films/Big.Buck.Bunny.2008.mkv"]


def _until(pred: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not pred():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_deleting_a_source_deletes_its_offline_copies_files(
    ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient, tcore: Core
) -> None:
    """The copies' rows went with the source's files, but their files stayed in
    ``<store>/offline/<source id>/`` for ever (a whole season is gigabytes), seen by no
    list; a new source given the freed id found them in its way."""
    for rel in FILMS:
        (ftp_root / rel).parent.mkdir(parents=True, exist_ok=True)
        (ftp_root / rel).write_bytes(os.urandom(200_000))
    r = api.post("/api/sources", json={"name": "seedbox", "kind": "ftp", "host": "127.0.0.1",
                                       "port": ftp_server.port, "username": FTP_USER, "password": FTP_PASSWORD})
    sid = r.json()["id"]
    assert wait_job(api, api.post(f"/api/sources/{sid}/scan").json()["id"])["state"] == "done"
    for movie in api.get("/api/library/items").json()["items"]:
        assert api.post(f"/api/library/movies/{movie['id']}/offline").status_code == 202
    _until(lambda: [c["state"] for c in api.get("/api/offline").json()] == ["ready", "ready"])
    kept = tcore.settings.store_dir / "offline" / str(sid)
    assert len([p for p in kept.rglob("*") if p.is_file()]) == 2
    # the user's own download is theirs: it stays
    r = api.post("/api/transfers", json={"kind": "download", "source_id": sid, "remote_path": FILMS[0]})
    _until(lambda: api.get(f"/api/transfers/{r.json()['id']}").json()["state"] == "done")
    mine = Path(api.get(f"/api/transfers/{r.json()['id']}").json()["local_path"])
    assert api.delete(f"/api/sources/{sid}").status_code == 204
    assert api.get("/api/offline").json() == []
    assert not kept.exists()
    assert mine.is_file()


def _spooled(core: Core) -> list[Path]:
    spool = core.settings.data_dir / "spool"
    return sorted(spool.iterdir()) if spool.exists() else []


def _queued_upload(api: TestClient, tcore: Core, media: Path) -> tuple[int, int]:
    """(source id, transfer id) of a browser upload to a new local source of folder
    ``media``, waiting in the queue of a busy server (its copy spooled)."""
    media.mkdir()
    sid = api.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(media)}).json()["id"]
    tcore.jobs.close()  # a busy server: the upload waits in the queue
    r = api.post("/api/transfers/upload", data={"source_id": str(sid)},
                 files={"file": ("Sintel.mkv", b"x" * 5000, "video/x-matroska")})
    assert r.status_code == 201, r.text
    assert len(_spooled(tcore)) == 1
    return sid, r.json()["id"]


def test_a_cancelled_browser_upload_leaves_no_spooled_copy(api: TestClient, tcore: Core, tmp_path: Path) -> None:
    """Cancelling a browser upload that had not started kept its spooled copy under
    the data dir for ever (an upload may be 64 GiB)."""
    _, transfer = _queued_upload(api, tcore, tmp_path / "media")
    assert api.post(f"/api/transfers/{transfer}/cancel").status_code == 202
    assert _spooled(tcore) == []


def test_deleting_a_source_cancels_its_transfers_and_their_spooled_uploads(
    api: TestClient, tcore: Core, tmp_path: Path
) -> None:
    """The queued upload's row went with the source, its spooled copy stayed for ever."""
    media = tmp_path / "media"
    sid, _ = _queued_upload(api, tcore, media)
    assert api.delete(f"/api/sources/{sid}").status_code == 204
    assert _spooled(tcore) == []
    assert not list(media.iterdir())


class _Slow(ThrottledDTPHandler):  # type: ignore[misc]
    read_limit = 256 * 1024  # bytes/s: a 3 MiB download takes ~12 s
    write_limit = 256 * 1024


def test_a_download_whose_file_goes_away_leaves_no_part(ftp_root: Path, api: TestClient, tcore: Core) -> None:
    """The file deleted on the server mid-download: the transfer failed "not found"
    and its ``.part`` (all it had read, here the whole file) and signature stayed in
    the store for ever: nothing would resume them."""
    (ftp_root / "f.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    server = EmbeddedFtpServer(ftp_root, FTP_USER, FTP_PASSWORD,
                               handler_overrides={"dtp_handler": _Slow, "use_sendfile": False}).start()
    try:
        r = api.post("/api/sources", json={"name": "seedbox", "kind": "ftp", "host": "127.0.0.1",
                                           "port": server.port, "username": FTP_USER, "password": FTP_PASSWORD})
        tid = api.post("/api/transfers", json={"kind": "download", "source_id": r.json()["id"],
                                               "remote_path": "f.bin"}).json()["id"]
        _until(lambda: (api.get(f"/api/transfers/{tid}").json()["bytes_done"] or 0) > 100_000)
        (ftp_root / "f.bin").unlink()
        _until(lambda: api.get(f"/api/transfers/{tid}").json()["state"] != "running", timeout=60)
        t = api.get(f"/api/transfers/{tid}").json()
        assert t["state"] == "failed" and "not found" in t["error"], t
        folder = Path(t["local_path"]).parent
        assert [p.name for p in folder.iterdir()] == []
    finally:
        tcore.sources.close()
        stop_without_leaks(server)
