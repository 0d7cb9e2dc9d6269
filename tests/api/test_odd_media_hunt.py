"""Odd media found by an outside-in hunt on playback (media20), on a real FTP server and
played as the web player in Chromium asks for it:

- A Matroska film cut short (a download that stopped at 40 %): the library called it
  "cannot be played: damaged: the file is truncated", but the web player's plan was a
  remux whose playlist listed the header's 6 s; hls.js played the first segment and
  then met "segment 1 is past the end of the media" (404). The plan now says what the
  library says (422).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api.odd_files import CHROMIUM_CAPS, NEEDS_FFMPEG, ffmpeg, lavfi
from fastapi.testclient import TestClient

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, admin_client, admin_core

pytestmark = NEEDS_FFMPEG

VIDEO, TONE = lavfi(6)
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
FILES = {
    "cut": "Films/Cut (2007)/Cut.2007.mkv",
}


@pytest.fixture
def world(tmp_path: Path, ftp_server: EmbeddedFtpServer, ftp_root: Path) -> Iterator[tuple[TestClient, dict[str, int]]]:
    for rel in FILES.values():
        (ftp_root / rel).parent.mkdir(parents=True, exist_ok=True)
    whole = tmp_path / "whole.mkv"
    ffmpeg(*VIDEO, *TONE, *H264, str(whole))
    data = whole.read_bytes()
    (ftp_root / FILES["cut"]).write_bytes(data[: len(data) * 2 // 5])
    with admin_core(tmp_path / "data", hls_preset="ultrafast", hls_segment_seconds=2) as core, \
            admin_client(core) as client:
        source = core.sources.create(SourceSpec(name="Seedbox", kind="ftp", host=ftp_server.host,
                                                port=ftp_server.port, username=FTP_USER, password=FTP_PASSWORD))
        core.jobs.run_scan_now(source.id)
        items = client.get("/api/library/media-files?per_page=50").json()["items"]
        yield client, {k: next(f["id"] for f in items if f["path"] == rel) for k, rel in FILES.items()}


def test_a_truncated_mkv_is_not_planned_for_play(world: tuple[TestClient, dict[str, int]]) -> None:
    client, ids = world
    info = client.get(f"/api/library/media-files/{ids['cut']}").json()
    assert "truncated" in (info["probe_error"] or ""), info
    for caps in (CHROMIUM_CAPS, {**CHROMIUM_CAPS, "containers": ["mp4", "webm", "mkv"]}):  # HLS and direct
        r = client.post(f"/api/library/media-files/{ids['cut']}/playback/plan", json=caps)
        assert r.status_code == 422 and "truncated" in r.json()["detail"], r.text
