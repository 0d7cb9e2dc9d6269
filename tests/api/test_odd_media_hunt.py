"""Odd media found by an outside-in hunt on playback (media20), on a real FTP server and
played as the web player in Chromium asks for it:

- A Matroska film cut short (a download that stopped at 40 %): the library called it
  "cannot be played: damaged: the file is truncated", but the web player's plan was a
  remux whose playlist listed the header's 6 s; hls.js played the first segment and
  then met "segment 1 is past the end of the media" (404). The plan now says what the
  library says (422).
- A SubRip sidecar in UTF-16 without a byte order mark (some tools write it so): read as
  a code page with its NUL bytes kept, FFmpeg refused it ("subtitle conversion failed:
  Invalid data found when processing input", a 502), so the track could not be shown.
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
    "subs": "Films/Koeln (2012)/Koeln.2012.mp4",
}


@pytest.fixture
def world(tmp_path: Path, ftp_server: EmbeddedFtpServer, ftp_root: Path) -> Iterator[tuple[TestClient, dict[str, int]]]:
    for rel in FILES.values():
        (ftp_root / rel).parent.mkdir(parents=True, exist_ok=True)
    whole = tmp_path / "whole.mkv"
    ffmpeg(*VIDEO, *TONE, *H264, str(whole))
    data = whole.read_bytes()
    (ftp_root / FILES["cut"]).write_bytes(data[: len(data) * 2 // 5])
    ffmpeg(*VIDEO, *TONE, *H264, str(ftp_root / FILES["subs"]))
    (ftp_root / FILES["subs"]).with_suffix(".de.srt").write_bytes(
        "1\r\n00:00:01,000 --> 00:00:03,000\r\nGrüße aus Köln\r\n\r\n".encode("utf-16-le"))
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


def test_a_utf16_sidecar_without_a_byte_order_mark_converts(world: tuple[TestClient, dict[str, int]]) -> None:
    client, ids = world
    plan = client.post(f"/api/library/media-files/{ids['subs']}/playback/plan", json=CHROMIUM_CAPS).json()
    (track,) = plan["subtitles"]
    vtt = str(plan["master_url"]).replace("/hls/master.m3u8", f"/hls/subs/{track['key']}.vtt")
    r = client.get(vtt)
    assert r.status_code == 200, r.text
    assert "Grüße aus Köln" in r.text and "\x00" not in r.text, r.text
