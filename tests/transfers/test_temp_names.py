"""A user's ``x.mkv.part`` (a browser's or torrent client's partial download, kept on
purpose) next to ``x.mkv``: reelhouse wrote its uploads and downloads to ``NAME.part``
and renamed that, so an upload of ``x.mkv`` resumed after the user's bytes (or wrote
over them) and renamed the user's file away; a download of ``x.mkv`` into a store that
held a user's ``x.mkv.part`` did the same. Its temporary names now end with
``.reelhouse.part`` (sources/base.py ``TEMP_SUFFIX``), which no name reelhouse creates
may end with (a clear 400), and the user's ``x.part`` files stay as they were and are
still listed and scanned as the files they are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from transfers.test_transfers_api import add_ftp, wait_transfer

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.memory import MemorySource
from reelhouse.transfers.copy import download

DATA = os.urandom(300_001)
USERS = b"the user's own partial download, not ours " * 100


def _source(api: TestClient, kind: str, ftp_port: int, root: Path) -> int:
    if kind == "ftp":
        return add_ftp(api, ftp_port)
    r = api.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(root)})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.mark.parametrize("kind", ["local", "ftp"])
def test_uploads_leave_a_users_part_file_alone(kind: str, ftp_server: EmbeddedFtpServer, ftp_root: Path,
                                               api: TestClient, tmp_path: Path) -> None:
    root = ftp_root if kind == "ftp" else tmp_path / "disk"
    (root / "Films").mkdir(parents=True)
    (root / "Films/x.mkv.part").write_bytes(USERS)
    (root / "Films/y.mkv.part").write_bytes(USERS)
    sid = _source(api, kind, ftp_server.port, root)
    r = api.put(f"/api/sources/{sid}/files", params={"path": "Films/x.mkv"}, content=DATA)  # PUT
    assert r.status_code == 201, r.text
    r = api.post("/api/transfers/upload", data={"source_id": str(sid), "folder": "Films"},  # the queue
                 files={"file": ("y.mkv", DATA, "video/x-matroska")})
    assert r.status_code == 201, r.text
    assert wait_transfer(api, r.json()["id"])["state"] == "done"
    for name in ("x", "y"):
        assert (root / f"Films/{name}.mkv").read_bytes() == DATA
        assert (root / f"Films/{name}.mkv.part").read_bytes() == USERS
    assert sorted(p.name for p in (root / "Films").iterdir()) == ["x.mkv", "x.mkv.part", "y.mkv", "y.mkv.part"]


def test_a_download_leaves_a_users_part_file_alone(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "x.mkv.part").write_bytes(USERS)
    assert download(MemorySource({"x.mkv": DATA}), "x.mkv", store / "x.mkv") == len(DATA)
    assert (store / "x.mkv").read_bytes() == DATA and (store / "x.mkv.part").read_bytes() == USERS


def test_names_ending_like_reelhouses_temporary_files_are_refused(
        ftp_server: EmbeddedFtpServer, ftp_root: Path, api: TestClient, tcore: Core) -> None:
    sid = add_ftp(api, ftp_server.port)
    (ftp_root / "f.mkv").write_bytes(DATA)
    for r in (api.put(f"/api/sources/{sid}/files", params={"path": "a.mkv.reelhouse.part"}, content=b"x"),
              api.post("/api/transfers", json={"kind": "rename", "source_id": sid, "remote_path": "f.mkv",
                                               "target_path": "f.mkv.reelhouse.part"}),
              api.post("/api/transfers", json={"kind": "download", "source_id": sid, "remote_path": "f.mkv",
                                               "local_path": "f.mkv.reelhouse.part"})):
        assert r.status_code == 400 and ".reelhouse.part" in r.json()["detail"], r.text
    assert sorted(p.name for p in ftp_root.iterdir()) == ["f.mkv"]


def test_a_scan_lists_a_users_part_file_and_skips_ours(tmp_path: Path, tcore: Core, api: TestClient,
                                                       sample_mkv: Path) -> None:
    """A ``.part`` is no film either way; neither kind is taken for one, and neither hides
    the film beside it."""
    root = tmp_path / "media" / "Films" / "Heat (1995)"
    root.mkdir(parents=True)
    (root / "Heat.1995.mkv").write_bytes(sample_mkv.read_bytes())
    (root / "Heat.1995.mkv.part").write_bytes(USERS)
    (root / "Heat.1995.mkv.reelhouse.part").write_bytes(USERS)
    sid = _source(api, "local", 0, tmp_path / "media")
    assert not tcore.jobs.run_scan_now(sid).errors
    files = api.get("/api/library/media-files?per_page=50").json()["items"]
    assert [f["path"] for f in files] == ["Films/Heat (1995)/Heat.1995.mkv"]
