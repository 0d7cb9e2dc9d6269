"""Broken files on a real FTP server, opened as a browser opens them (the playback plan,
then the direct stream): a 0-byte film and an MP4 (index at its end) cut after 30 kB. The plan says what is
wrong in words, as the scan did ("empty file (0 bytes)"), never FFmpeg's internals
(``[Errno 1094995529]``, ``'<none>'``); the stream of a 0-byte file is an empty 200 and a
range of it a 416 with ``bytes */0``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelhouse.core import Core
from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, place

pytestmark = pytest.mark.requires_ffmpeg

CAPS = {"containers": ["mp4", "webm"], "video": ["h264", "vp9"], "audio": ["aac", "opus"]}


def test_the_plan_of_broken_files_says_what_is_wrong(ftp_root: Path, ftp_server: EmbeddedFtpServer, core: Core,
                                                     client: TestClient, sample_mp4: Path) -> None:
    (ftp_root / "Films").mkdir()
    (ftp_root / "Films/Empty (2000).mkv").write_bytes(b"")
    tail_index = ftp_root / "tail.mp4"  # ffmpeg writes the index (moov) last unless told
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(sample_mp4), "-c", "copy", str(tail_index)], check=True)
    (ftp_root / "Films/Cut (2003).mp4").write_bytes(tail_index.read_bytes()[:30_000])
    tail_index.unlink()
    place(sample_mp4, ftp_root, "Films/Whole (2001).mp4")
    sid = core.sources.create(SourceSpec(name="ftp", kind="ftp", host="127.0.0.1", port=ftp_server.port,
                                         username=FTP_USER, password=FTP_PASSWORD)).id
    core.jobs.run_scan_now(sid)
    files = {f["path"]: f["id"] for f in client.get("/api/library/media-files").json()["items"]}
    assert len(files) == 3

    empty = client.post(f"/api/library/media-files/{files['Films/Empty (2000).mkv']}/playback/plan", json=CAPS)
    assert empty.status_code == 422, empty.text
    assert empty.json()["detail"] == "empty file (0 bytes)"
    cut = client.post(f"/api/library/media-files/{files['Films/Cut (2003).mp4']}/playback/plan", json=CAPS)
    assert cut.status_code == 422, cut.text
    assert "Errno" not in cut.json()["detail"] and "<none>" not in cut.json()["detail"], cut.text

    opened = client.post(f"/api/library/media-files/{files['Films/Empty (2000).mkv']}/playback")
    assert opened.status_code == 200, opened.text
    url = opened.json()["url"].split("testserver", 1)[1]
    whole = client.get(url)
    assert whole.status_code == 200 and whole.content == b""
    for header in ("bytes=0-", "bytes=-500", "bytes=0-0"):
        r = client.get(url, headers={"Range": header})
        assert r.status_code == 416 and r.headers["content-range"] == "bytes */0", (header, r.status_code)
