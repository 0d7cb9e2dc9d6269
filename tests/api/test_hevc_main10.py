"""HEVC Main 10 (10-bit 4:2:0: a 4K HDR release) is stream-copied for a client that
decodes it: the web player says so (``video_10bit``), a Jellyfin client's DeviceProfile
accepts ``main 10``. Before, the copy rendition was left out of every master playlist
for a 10-bit file, so such a file was always transcoded, whoever played it. A client
that does not say so still gets a transcode.

A real 10-bit HEVC Matroska file (libx265), a real ffmpeg copying its segment, PyAV
reading the segment back."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import av
import hls_clips
import pytest

from reelhouse.jellyfin import ids

from helpers import ADMIN, ADMIN_PASSWORD, scanned_local

pytestmark = [pytest.mark.requires_ffmpeg]

REL = "Films/Ten.Bit.2021.mkv"
AUTH = 'MediaBrowser Client="reelhouse tests", Device="pytest", DeviceId="main10", Version="1.0"'
CAPS: dict[str, Any] = {"containers": ["mp4"], "video": ["h264", "hevc"], "audio": ["aac"], "hls": True}
#: A Jellyfin client with an HEVC Main 10 decoder (what Jellyfin's web client sends on
#: Safari, and Android TV clients on boxes with one): no MKV direct play, HLS with HEVC.
PROFILE = {
    "DirectPlayProfiles": [{"Container": "mp4", "Type": "Video", "VideoCodec": "h264,hevc", "AudioCodec": "aac"}],
    "TranscodingProfiles": [{"Container": "ts", "Type": "Video", "Protocol": "hls", "Context": "Streaming",
                             "VideoCodec": "h264,hevc", "AudioCodec": "aac"}],
    "CodecProfiles": [{"Type": "Video", "Codec": "hevc", "Conditions": [
        {"Condition": "EqualsAny", "Property": "VideoProfile", "Value": "main|main 10", "IsRequired": False}]}],
}


def _main10(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    hls_clips._run([*hls_clips._lavfi(8, 320, 180, 12), *hls_clips._tone(8, 440), "-map", "0:v", "-map", "1:a",
                    "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:keyint=24",
                    "-pix_fmt", "yuv420p10le", "-c:a", "aac", str(path)])
    return path


def _copy_lines(master: str) -> list[str]:
    lines = master.splitlines()
    return [f"{lines[i]} {lines[i + 1]}" for i, line in enumerate(lines)
            if line.startswith("#EXT-X-STREAM-INF") and "copy" in lines[i + 1]]


def test_hevc_main10_is_copied_for_clients_that_decode_it(tmp_path: Path) -> None:
    _main10(tmp_path / "films" / REL)
    with scanned_local(tmp_path / "data", tmp_path / "films") as (_core, client, files):
        fid = files[REL]
        # the web player on a browser without a 10-bit HEVC decoder: transcoded
        plan = client.post(f"/api/library/media-files/{fid}/playback/plan", json=CAPS).json()
        assert plan["mode"] == "transcode" and "yuv420p10le" in plan["reason"], plan
        # … with one (Safari on Apple silicon): the video is copied
        plan = client.post(f"/api/library/media-files/{fid}/playback/plan",
                           json={**CAPS, "video_10bit": ["hevc"]}).json()
        assert plan["mode"] == "remux" and "copied" in plan["reason"], plan
        master = client.get(plan["master_url"]).text
        (copy,) = _copy_lines(master)
        assert 'CODECS="hvc1.2.4.' in copy, copy  # Main 10: only a client decoding it picks it
        media_url = urljoin(plan["master_url"], copy.rsplit(" ", 1)[1])
        lines = client.get(media_url).text.splitlines()
        segment = client.get(urljoin(media_url, next(line for line in lines if ".ts" in line)))
        assert segment.status_code == 200
        with av.open(io.BytesIO(segment.content)) as container:
            video = container.streams.video[0]
            assert video.codec_context.name == "hevc" and video.codec_context.pix_fmt == "yuv420p10le"

        # a Jellyfin client whose DeviceProfile accepts HEVC main 10 over HLS
        r = client.post("/jellyfin/Users/AuthenticateByName", json={"Username": ADMIN, "Pw": ADMIN_PASSWORD},
                        headers={"authorization": AUTH + ', Token=""'})
        assert r.status_code == 200, r.text
        auth = {"authorization": AUTH + f', Token="{r.json()["AccessToken"]}"'}
        info = client.post(f"/jellyfin/Items/{ids.encode('file', fid)}/PlaybackInfo",
                           json={"DeviceProfile": PROFILE}, headers=auth)
        assert info.status_code == 200, info.text
        (source,) = info.json()["MediaSources"]
        assert source["SupportsDirectPlay"] is False and "AllowVideoStreamCopy=false" not in source["TranscodingUrl"]
        master = client.get("/jellyfin" + source["TranscodingUrl"]).text
        (copy,) = _copy_lines(master)
        assert 'CODECS="hvc1.2.4.' in copy, copy
