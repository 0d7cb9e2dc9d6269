"""Damaged files as libraries hold them (a download cut short), played as Chromium would:
every playlist the server hands out answers, and every segment is either real MPEG-TS
or a clear 404 for the part of the film the file no longer holds — never a 5xx.

A truncated MP4 whose index (moov) comes first lists samples past the end of the file:
the stream copy of its first segment stopped on the cut packet ("Invalid NAL unit
size", ffmpeg exit 1) and the copy rendition answered 502 for a segment it holds."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hls_clips import segment_duration

from reelhouse.sources.registry import SourceSpec

from helpers import admin_client, admin_core

pytestmark = [
    pytest.mark.requires_ffmpeg,
    pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is missing"),
]

CAPS = {"containers": ["webm"], "video": ["h264", "vp9"], "audio": ["aac", "opus"]}  # HLS for all
FILES = {
    "mp4": "Films/Cut (2016)/Cut.2016.mp4",
    "mkv": "Films/Cut Short (2015)/Cut.Short.2015.mkv",
    "ts": "Films/Recording (2017)/Recording.2017.ts",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, int]]]:
    root = tmp_path_factory.mktemp("damaged")
    for key, rel in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True)
        extra = ["-movflags", "+faststart"] if key == "mp4" else []
        subprocess.run(["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i",
                        "testsrc2=size=320x180:rate=24:duration=12", "-f", "lavfi", "-i",
                        "sine=sample_rate=48000:duration=12", "-c:v", "libx264", "-preset",
                        "ultrafast", "-c:a", "aac", *extra, str(path)], check=True, timeout=120)
        with path.open("r+b") as f:  # a download cut at 60 %
            f.truncate(path.stat().st_size * 6 // 10)
    with admin_core(tmp_path_factory.mktemp("damaged-data"), hls_preset="ultrafast") as core, \
            admin_client(core, raise_server_exceptions=False) as client:
        source = core.sources.create(SourceSpec(name="Disk", kind="local", path=str(root)))
        core.jobs.run_scan_now(source.id)  # reports the cut MP4 and MKV as damaged
        items = client.get("/api/library/media-files?per_page=50").json()["items"]
        by_path = {f["path"]: f["id"] for f in items}
        yield client, {k: by_path[rel] for k, rel in FILES.items()}


def _uris(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize("kind", list(FILES))
def test_every_segment_plays_or_is_a_clear_404(world: tuple[TestClient, dict[str, int]], kind: str,
                                               tmp_path: Path) -> None:
    client, ids = world
    r = client.post(f"/api/library/media-files/{ids[kind]}/playback/plan", json=CAPS)
    assert r.status_code == 200, r.text
    plan: dict[str, Any] = r.json()
    assert plan["mode"] in ("remux", "transcode")
    master = client.get(plan["master_url"].split("testserver", 1)[1])
    assert master.status_code == 200, master.text
    base = master.request.url.path.rsplit("/", 1)[0] + "/"
    names = [u.split("?")[0] for u in _uris(master.text)]
    names += [ln.split('URI="')[1].split("?")[0] for ln in master.text.splitlines() if "TYPE=AUDIO" in ln]
    played: dict[str, list[int]] = {}
    for name in names:
        playlist = client.get(f"{base}{name}?token={plan['token']}")
        assert playlist.status_code == 200, (name, playlist.text)
        played[name] = []
        for seg in _uris(playlist.text):
            got = client.get(base + seg)
            assert got.status_code in (200, 404), (name, seg, got.status_code, got.text[:300])
            if got.status_code == 404:
                assert "no media data" in got.json()["detail"], got.text
            else:
                assert segment_duration(got.content, tmp_path) > 0, (name, seg)
            played[name].append(got.status_code)
    # the first segment of every track holds the film's start, which the file still has
    assert all(codes[0] == 200 for codes in played.values()), played
    if "copy.m3u8" in played:
        assert played["copy.m3u8"][0] == 200
