"""A file that phase 1 of a scan indexed and phase 2 has not probed yet (issue 14: the
library is browsable before probing ends) plays all the same: the playback plan, the
direct stream and the HLS master playlist read what they need from the file itself
(HLS probes on demand), not from the library row."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from reelhouse.core import Core
from reelhouse.db.models import MediaFile
from reelhouse.library.scanner import scan_source
from reelhouse.library.streams import unprobed
from reelhouse.sources.registry import SourceSpec

from helpers import place, playback_token

pytestmark = pytest.mark.requires_ffmpeg

CAPS = {"containers": ["mp4", "webm"], "video": ["h264", "vp9"], "audio": ["aac", "opus"]}


def test_a_file_not_probed_yet_plays(core: Core, client: TestClient, tmp_path: Path, sample_mkv: Path) -> None:
    root = tmp_path / "disk"
    place(sample_mkv, root, "Films/Sintel (2010)/Sintel.2010.mkv")
    sid = core.sources.create(SourceSpec(name="disk", kind="local", path=str(root))).id
    left: list[int] = []
    report = scan_source(core.sessions, sid, core.sources.source(sid),
                         phase2=lambda pending, report, notify: left.extend(pending.probe))  # phase 1 only
    assert report.added == 1 and report.probed == 0 and len(left) == 1
    with core.sessions() as s:
        row = s.scalars(select(MediaFile)).one()
        assert unprobed(row) and row.duration is None and row.movie_id is not None
    fid = row.id

    plan = client.post(f"/api/library/media-files/{fid}/playback/plan", json=CAPS)
    assert plan.status_code == 200, plan.text
    assert plan.json()["mode"] == "remux" and plan.json()["duration"] > 10  # an MKV for Chromium: remuxed

    token = playback_token(core, 1, fid)
    data = sample_mkv.read_bytes()
    part = client.get(f"/api/library/media-files/{fid}/stream?token={token}", headers={"range": "bytes=0-1023"})
    assert part.status_code == 206 and part.content == data[:1024]
    master = client.get(f"/api/library/media-files/{fid}/hls/master.m3u8?token={token}")
    assert master.status_code == 200, master.text
    assert master.text.startswith("#EXTM3U") and "#EXT-X-STREAM-INF" in master.text
    variant = client.get(f"/api/library/media-files/{fid}/hls/copy.m3u8?token={token}")
    assert variant.status_code == 200 and "#EXTINF" in variant.text
