"""Playing a film from an FTP server that refuses ``REST`` (a real pyftpdlib server
answering 502): the library scans and probes it, Range requests are served by reading
from byte 0 (sources/ftp/reads.py), and a seek past ``ftp_max_skip`` is a 416 that
says why."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyftpdlib.handlers import FTPHandler

from reelhouse.demo.ftpd import EmbeddedFtpServer

from helpers import FTP_PASSWORD, FTP_USER, admin_client, admin_core, free_port, place, stop_without_leaks, wait_job

pytestmark = pytest.mark.requires_ffmpeg


def _refuse_rest(self: FTPHandler, line: str) -> None:
    self.respond("502 Command not implemented.")


def test_ranges_play_and_seek_on_a_server_without_rest(
        tmp_path: Path, sample_mkv: Path, probe_clips: dict[str, Path]) -> None:
    root = tmp_path / "ftp"
    place(sample_mkv, root, "Films/Sintel.2010.mkv")
    place(probe_clips["moov_at_end.mp4"], root, "Films/Tears.of.Steel.2012.mp4")
    server = EmbeddedFtpServer(root, FTP_USER, FTP_PASSWORD, port=free_port(),
                               handler_overrides={"ftp_REST": _refuse_rest}).start()
    limit = 2 * 1024 * 1024
    try:
        with admin_core(tmp_path / "data", ftp_max_skip=limit) as core, admin_client(core) as client:
            sid = client.post("/api/sources", json={
                "name": "old-nas", "kind": "ftp", "host": "127.0.0.1", "port": server.port,
                "username": FTP_USER, "password": FTP_PASSWORD}).json()["id"]
            job = wait_job(client, client.post(f"/api/sources/{sid}/scan").json()["id"])
            assert job["state"] == "done", job
            files = {f["path"]: f for f in client.get("/api/library/media-files",
                                                     params={"source_id": sid}).json()["items"]}
            mkv = files["Films/Sintel.2010.mkv"]
            assert mkv["video_codec"] == "h264", mkv  # probed through the skips
            # the fingerprint never reads the tail there (no skip error); the MP4 whose
            # header sits past the limit cannot be probed, and says why
            assert "fingerprint" not in str(job["error"]) and "Sintel" not in str(job["error"]), job
            assert "Tears.of.Steel.2012.mp4: cannot be played" in str(job["error"])
            assert "ftp_max_skip" in str(job["error"])
            data = sample_mkv.read_bytes()
            url = f"/api/library/media-files/{mkv['id']}/stream"
            for lo, hi in [(1000, 1999), (len(data) - 100, len(data) - 1), (0, 9)]:
                r = client.get(url, headers={"Range": f"bytes={lo}-{hi}"})
                assert r.status_code == 206, r.text
                assert r.content == data[lo:hi + 1]
            big = files["Films/Tears.of.Steel.2012.mp4"]  # ~3 MiB: its end is past the limit
            size = probe_clips["moov_at_end.mp4"].stat().st_size
            assert size > limit + 10
            r = client.get(f"/api/library/media-files/{big['id']}/stream",
                           headers={"Range": f"bytes={size - 10}-"})
            assert r.status_code == 416, r.text
            assert r.headers["content-range"] == f"bytes */{size}"
            assert r.json()["reason"] == "seek_too_far" and "REST" in r.json()["detail"]
            r = client.get(f"/api/library/media-files/{big['id']}/stream", headers={"Range": "bytes=10-19"})
            assert r.status_code == 206 and r.content == probe_clips["moov_at_end.mp4"].read_bytes()[10:20]
    finally:
        stop_without_leaks(server)
