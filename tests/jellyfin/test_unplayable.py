"""PlaybackInfo for files whose media cannot be read (the scan's probe failed, or the
file is empty) offers no ``TranscodingUrl``: reelhouse's HLS cuts segments from a known
duration and would answer that URL 422. Direct play stays offered when the client plays
the container; when nothing can play, the answer carries Jellyfin's
``ErrorCode: NoCompatibleStream`` (PlaybackInfoResponse, PlaybackErrorCode)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from helpers import wait_job

MP4_ONLY = {"DeviceProfile": {"DirectPlayProfiles": [
    {"Container": "mp4", "Type": "Video", "VideoCodec": "h264", "AudioCodec": "aac"}]}}


def _library(client: TestClient, root: Path) -> None:
    files = {"Films/Garbled (2001)/Garbled.2001.mp4": os.urandom(200_000),
             "Films/Noise (2003)/Noise.2003.mkv": os.urandom(200_000),
             "Films/Hollow (2002)/Hollow.2002.mkv": b""}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    r = client.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(root)})
    assert r.status_code == 201, r.text
    assert wait_job(client, client.post(f"/api/sources/{r.json()['id']}/scan").json()["id"])["state"] == "done"


def _info(jf: TestClient, name: str, body: dict[str, Any] | None) -> dict[str, Any]:
    items = jf.get("/jellyfin/Items", params={"SearchTerm": name, "Recursive": "1"}).json()["Items"]
    assert items, name
    r = (jf.post(f"/jellyfin/Items/{items[0]['Id']}/PlaybackInfo", json=body) if body is not None
         else jf.get(f"/jellyfin/Items/{items[0]['Id']}/PlaybackInfo"))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_unreadable_media_gets_no_transcoding_url(client: TestClient, jf: TestClient, tmp_path: Path) -> None:
    _library(client, tmp_path / "media")
    # an unreadable MP4: the client plays MP4, so direct play is offered, no HLS
    info = _info(jf, "Garbled", MP4_ONLY)
    src = info["MediaSources"][0]
    assert src["SupportsDirectPlay"] is True and src["SupportsTranscoding"] is False
    assert "TranscodingUrl" not in src and "ErrorCode" not in info
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
    # a playable film is untouched: no DeviceProfile trusts the client (direct play)
    assert "ErrorCode" not in _info(jf, "Garbled", None)
