"""A stream right after another process rescanned: ``reelhouse scan`` from the CLI (a
process of its own) sees a film renamed on the FTP server and moves its row; the
running server's cached stream target still names the old path. The next play must
find the film at its new path, not answer 404 for up to the cache's 10 s
(playback/targets.py, playback/service.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reelhouse.db.models import MediaFile
from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER, admin_client, admin_core, place, wait_job

pytestmark = pytest.mark.requires_ffmpeg

CLI = [sys.executable, "-c", "from reelhouse.cli import main; main()"]


def test_a_film_renamed_by_another_processs_scan_plays_at_once(
        tmp_path: Path, ftp_server: EmbeddedFtpServer, ftp_root: Path, sample_mkv: Path) -> None:
    place(sample_mkv, ftp_root, "Films/Sintel (2010)/Sintel.2010.mkv")
    data = sample_mkv.read_bytes()
    with admin_core(tmp_path / "data") as core, admin_client(core) as client:
        sid = client.post("/api/sources", json={
            "name": "seedbox", "kind": "ftp", "host": "127.0.0.1", "port": ftp_server.port,
            "username": FTP_USER, "password": FTP_PASSWORD}).json()["id"]
        assert wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])["state"] == "done"
        (item,) = client.get("/api/library/media-files", params={"source_id": sid}).json()["items"]
        url = f"/api/library/media-files/{item['id']}/stream"
        r = client.get(url, headers={"Range": "bytes=0-99"})
        assert r.status_code == 206 and r.content == data[:100]  # its target is cached now

        # the user renames the folder and rescans from the CLI, another process
        os.rename(ftp_root / "Films" / "Sintel (2010)", ftp_root / "Films" / "Sintel")
        env = {**os.environ, "REELHOUSE_DATA_DIR": str(tmp_path / "data")}
        out = subprocess.run([*CLI, "scan", "seedbox"], env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        with core.sessions() as s:  # the database: the API's page cache may answer 5 s stale by design
            moved = s.get(MediaFile, item["id"])
            assert moved is not None and moved.path == "Films/Sintel/Sintel.2010.mkv", moved

        r = client.get(url, headers={"Range": "bytes=100-1099"})  # at once: within the cache's 10 s
        assert r.status_code == 206, r.text
        assert r.content == data[100:1100]
        assert client.head(url).status_code == 200

        # the file really gone (deleted on the server, not rescanned): still a clean 404
        (ftp_root / "Films" / "Sintel" / "Sintel.2010.mkv").unlink()
        r = client.get(url, headers={"Range": "bytes=0-9"})
        assert r.status_code == 404, r.text
