"""HLS right after another process rescanned: ``reelhouse scan`` from the CLI (a process
of its own) sees a film's folder renamed on the FTP server and moves its row; the
running server's cached stream target (playback/targets.py, 10 s) still names the old
path. The next segment must be made from the new path, not fail until the cache
expires (found with the direct stream's fix, api/streams.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER, admin_client, admin_core, place, playback_token, wait_job

pytestmark = pytest.mark.requires_ffmpeg

CLI = [sys.executable, "-c", "from reelhouse.cli import main; main()"]


def test_segments_of_a_film_renamed_by_another_processs_scan(
        tmp_path: Path, ftp_server: EmbeddedFtpServer, ftp_root: Path, sample_mkv: Path) -> None:
    place(sample_mkv, ftp_root, "Films/Sintel (2010)/Sintel.2010.mkv")
    with admin_core(tmp_path / "data", hls_preset="ultrafast") as core, admin_client(core) as client:
        sid = client.post("/api/sources", json={
            "name": "seedbox", "kind": "ftp", "host": "127.0.0.1", "port": ftp_server.port,
            "username": FTP_USER, "password": FTP_PASSWORD}).json()["id"]
        assert wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])["state"] == "done"
        (item,) = client.get("/api/library/media-files", params={"source_id": sid}).json()["items"]
        admin = core.users.by_name("admin")
        assert admin is not None
        token = playback_token(core, admin.id, item["id"])
        base = f"/api/library/media-files/{item['id']}/hls"
        master = client.get(f"{base}/master.m3u8", params={"token": token})
        assert master.status_code == 200, master.text
        track = next(line.split(".m3u8")[0] for line in master.text.splitlines()
                     if not line.startswith("#") and ".m3u8" in line)  # the first rendition
        r = client.get(f"{base}/{track}/0.ts", params={"token": token})
        assert r.status_code == 200, r.text  # its target is cached now

        os.rename(ftp_root / "Films" / "Sintel (2010)", ftp_root / "Films" / "Sintel")
        env = {**os.environ, "REELHOUSE_DATA_DIR": str(tmp_path / "data")}
        out = subprocess.run([*CLI, "scan", "seedbox"], env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr

        for other in ("audio0", "copy"):  # tracks with no encoder yet: ffmpeg opens the file now
            r = client.get(f"{base}/{other}/1.ts", params={"token": token})  # at once: within the cache's 10 s
            assert r.status_code == 200, (other, r.text)
            assert r.content[:1] == b"\x47"  # MPEG-TS sync byte
