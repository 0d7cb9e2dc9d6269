"""A film whose cover picture (an ``attached_pic`` stream) comes before its video, as
in an MP4 whose tags (``moov/udta``, with the ``covr`` picture) sit before the tracks:
FFmpeg numbers the cover stream 0. Played through the Jellyfin API as an app does
(PlaybackInfo with a profile that needs HLS, then every playlist and a segment of
each), the film's video is what plays, never the picture; and the keyframe search
that places HLS seeks looks at the film's video."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelhouse.playback.hls.keyframes import keyframe_before

from helpers import wait_job

pytestmark = pytest.mark.requires_ffmpeg

WEBM_ONLY = {"DeviceProfile": {"DirectPlayProfiles": [{"Container": "webm", "Type": "Video"}]}}


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of the ISO BMFF boxes in ``data[start:end]`` (ISO/IEC 14496-12 §4.2)."""
    out, i = [], start
    while i < end:
        size, kind = struct.unpack(">I4s", data[i:i + 8])
        size = struct.unpack(">Q", data[i + 8:i + 16])[0] if size == 1 else (size or end - i)
        out.append((kind, i, size))
        i += size
    return out


def cover_first_mp4(folder: Path, out: Path) -> Path:
    """A 12 s 160x90 H.264/AAC MP4 with a 300x450 PNG cover whose ``udta`` box comes
    right after ``mvhd``: the same bytes, the moov's children reordered (chunk offsets
    point into mdat, which does not move)."""
    poster, plain = folder / "poster.png", folder / "plain.mp4"
    run = ["ffmpeg", "-v", "error", "-y"]
    subprocess.run([*run, "-f", "lavfi", "-i", "color=c=red:size=300x450", "-frames:v", "1", str(poster)],
                   check=True, timeout=60)
    subprocess.run([*run, "-i", str(poster), "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=12",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=12",
                    "-map", "0", "-map", "1", "-map", "2", "-c:v:0", "png", "-c:v:1", "libx264",
                    "-preset", "ultrafast", "-g", "25", "-c:a", "aac", "-disposition:v:0", "attached_pic",
                    str(plain)], check=True, timeout=120)
    data = plain.read_bytes()
    _, at, size = next(b for b in _boxes(data, 0, len(data)) if b[0] == b"moov")
    kids = sorted(_boxes(data, at + 8, at + size), key=lambda b: {b"mvhd": 0, b"udta": 1}.get(b[0], 2))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data[:at + 8] + b"".join(data[i:i + n] for _, i, n in kids) + data[at + size:])
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=index,codec_name",
                            "-of", "csv=p=0", str(out)], capture_output=True, text=True, check=True)
    assert probe.stdout.splitlines()[0] == "0,png", probe.stdout  # the cover is stream 0
    return out


def _video(data: bytes, tmp: Path) -> str:
    """``codec,width,height,pictures`` of a segment's video stream."""
    path = tmp / "seg.ts"
    path.write_bytes(data)
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-count_packets", "-show_entries",
                          "stream=codec_name,width,height,nb_read_packets", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, timeout=30)
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else ""  # (listed again under its program)


def test_the_film_plays_not_its_cover(client: TestClient, jf: TestClient, tmp_path: Path) -> None:
    film = cover_first_mp4(tmp_path, tmp_path / "media/Films/Covered (2012)/Covered.2012.mp4")
    # the keyframe HLS seeks from: the film's (one a second), not the cover's one picture
    found = keyframe_before(str(film), 8.5)
    assert found is not None and 7.9 < found <= 8.5, found
    r = client.post("/api/sources", json={"name": "disk", "kind": "local", "path": str(tmp_path / "media")})
    assert wait_job(client, client.post(f"/api/sources/{r.json()['id']}/scan").json()["id"])["state"] == "done"
    item = jf.get("/jellyfin/Items", params={"Recursive": "true", "IncludeItemTypes": "Movie",
                                             "Fields": "MediaStreams"}).json()["Items"][0]
    assert (item["Width"], item["Height"]) == (160, 90)
    videos = [s for s in item["MediaStreams"] if s["Type"] == "Video"]
    assert [(v["Codec"], v["Width"], v["Height"]) for v in videos] == [("h264", 160, 90)]
    info = jf.post(f"/jellyfin/Items/{item['Id']}/PlaybackInfo", json=WEBM_ONLY).json()
    url = info["MediaSources"][0]["TranscodingUrl"]
    master = jf.get("/jellyfin" + url)
    assert master.status_code == 200, master.text
    base = master.request.url.path.rsplit("/", 1)[0] + "/"
    playlists = [ln for ln in master.text.splitlines() if ln and not ln.startswith("#")]
    assert playlists
    for name in playlists:
        media = jf.get(base + name)
        assert media.status_code == 200, (name, media.text)
        segments = [ln for ln in media.text.splitlines() if ln and not ln.startswith("#")]
        for seg in (segments[0], segments[-1]):
            got = jf.get(base + seg)
            assert got.status_code == 200, (name, seg, got.text)
            video = _video(got.content, tmp_path)
            codec, width, height, pictures = [*video.split(","), "", "", "", ""][:4]
            # a moving film of 25 pictures a second, not one still cover scaled to fit
            assert codec == "h264" and abs(int(width) / int(height) - 16 / 9) < 0.05, (name, seg, video)
            assert int(pictures) >= 25, (name, seg, video)
