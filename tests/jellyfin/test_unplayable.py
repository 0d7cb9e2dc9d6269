"""PlaybackInfo for files whose media cannot be read (the scan's probe failed, or the
file is empty) offers no ``TranscodingUrl``: reelhouse's HLS cuts segments from a known
duration and would answer that URL 422. Nor direct play: what FFmpeg cannot read, a
player cannot either (a download cut off before an MP4's ``moov`` has no index at all),
so the answer carries Jellyfin's ``ErrorCode: NoCompatibleStream``
(PlaybackInfoResponse, PlaybackErrorCode) and the app says so rather than failing in
its player."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelhouse.demo.probe_clips import make_probe_clip

from helpers import wait_job

pytestmark = pytest.mark.requires_ffmpeg

MP4_ONLY = {"DeviceProfile": {"DirectPlayProfiles": [
    {"Container": "mp4", "Type": "Video", "VideoCodec": "h264", "AudioCodec": "aac"}]}}


def _library(client: TestClient, root: Path, moov_at_end: Path) -> int:
    whole = moov_at_end.read_bytes()
    files = {"Films/Garbled (2001)/Garbled.2001.mp4": os.urandom(200_000),
             "Films/Cut Short (2004)/Cut.Short.2004.mp4": whole[:len(whole) // 2],
             "Films/Noise (2003)/Noise.2003.mkv": os.urandom(200_000),
             "Films/Hollow (2002)/Hollow.2002.mkv": b""}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    r = client.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(root)})
    assert r.status_code == 201, r.text
    assert wait_job(client, client.post(f"/api/sources/{r.json()['id']}/scan").json()["id"])["state"] == "done"
    return int(r.json()["id"])


def _info(jf: TestClient, name: str, body: dict[str, Any] | None) -> dict[str, Any]:
    items = jf.get("/jellyfin/Items", params={"SearchTerm": name, "Recursive": "1"}).json()["Items"]
    assert items, name
    r = (jf.post(f"/jellyfin/Items/{items[0]['Id']}/PlaybackInfo", json=body) if body is not None
         else jf.get(f"/jellyfin/Items/{items[0]['Id']}/PlaybackInfo"))
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.fixture
def moov_at_end(clip_cache: Path) -> Path:
    return make_probe_clip("moov_at_end.mp4", clip_cache / "probe")


def test_unreadable_media_gets_no_transcoding_url(client: TestClient, jf: TestClient, tmp_path: Path,
                                                   moov_at_end: Path) -> None:
    source_id = _library(client, tmp_path / "media", moov_at_end)
    # an unreadable MP4, and an MP4 download cut off before its index: the client plays
    # MP4, but not these (nor does FFmpeg): neither direct play nor HLS
    for name in ("Garbled", "Cut Short"):
        for body in (MP4_ONLY, None):
            info = _info(jf, name, body)
            src = info["MediaSources"][0]
            assert src["SupportsDirectPlay"] is False and src["SupportsDirectStream"] is False, name
            assert src["SupportsTranscoding"] is False and "TranscodingUrl" not in src
            assert info["ErrorCode"] == "NoCompatibleStream"
        # the item's own MediaSources (Items/{id}) say the same
        item = jf.get("/jellyfin/Items", params={"SearchTerm": name, "Recursive": "1"}).json()["Items"][0]
        src = jf.get(f"/jellyfin/Items/{item['Id']}").json()["MediaSources"][0]
        assert src["SupportsDirectPlay"] is False and src["SupportsTranscoding"] is False, name
    # an unreadable MKV the client cannot play as it is: nothing works, and it says so
    info = _info(jf, "Noise", MP4_ONLY)
    src = info["MediaSources"][0]
    assert "TranscodingUrl" not in src, src["TranscodingUrl"]
    assert src["SupportsDirectPlay"] is False and src["SupportsTranscoding"] is False
    assert info["ErrorCode"] == "NoCompatibleStream"
    # the URL it used to offer indeed cannot work
    file_id = src["Id"]
    assert jf.get(f"/jellyfin/Videos/{file_id}/master.m3u8", params={"MediaSourceId": file_id}).status_code == 422
    # an empty file plays in no way, with or without a DeviceProfile
    for body in (MP4_ONLY, None):
        info = _info(jf, "Hollow", body)
        src = info["MediaSources"][0]
        assert "TranscodingUrl" not in src and src["SupportsDirectPlay"] is False
        assert info["ErrorCode"] == "NoCompatibleStream"
    # a playable film is untouched
    whole = moov_at_end.read_bytes()
    (tmp_path / "media/Films/Cut Short (2004)/Cut.Short.2004.mp4").write_bytes(whole)
    r = client.post(f"/api/sources/{source_id}/scan")
    assert wait_job(client, r.json()["id"])["state"] == "done"
    info = _info(jf, "Cut Short", MP4_ONLY)
    assert info["MediaSources"][0]["SupportsDirectPlay"] is True and "ErrorCode" not in info
