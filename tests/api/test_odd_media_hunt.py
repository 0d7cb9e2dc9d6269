"""Odd media found by an outside-in hunt on playback (media20), on a real FTP server and
played as the web player in Chromium asks for it:

- A SubRip sidecar in UTF-16 without a byte order mark (some tools write it so): read as
  a code page with its NUL bytes kept, FFmpeg refused it ("subtitle conversion failed:
  Invalid data found when processing input", a 502), so the track could not be shown.
- A Matroska film whose first video track is its cover, a one-frame PNG (Matroska has
  no attached_pic flag for tracks: a tagger's, or an MP4's ``covr`` remuxed): the
  library gave the film "png 200x300", the plan transcoded the cover (``-map 0:V:0``)
  and the player showed a still red picture with the sound. The cover is now an
  attachment, and HLS maps the film's video by its index.
- A sidecar past the 32 MiB a subtitle file may have (a 44 MB .srt) or an empty one was
  offered in the player's menu, and choosing it showed nothing (a 422, a 502). They are
  left out of the tracks.
- A film with an embedded subtitle track that runs past it (an .srt of another cut, its
  last cue at 1:06:40 on a 6-second film): HLS listed 6 s, but the library said 4,000 s
  (the container's length), and so did Jellyfin's RunTimeTicks and the resume rule.
  The library's probe now takes the length of the audio and video, as HLS does.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from api.odd_files import CHROMIUM_CAPS, NEEDS_FFMPEG, ffmpeg, jf_item, jf_token, lavfi
from fastapi.testclient import TestClient

from reelhouse.demo.ftpd import EmbeddedFtpServer
from reelhouse.sources.registry import SourceSpec

from helpers import FTP_PASSWORD, FTP_USER, admin_client, admin_core

pytestmark = NEEDS_FFMPEG

VIDEO, TONE = lavfi(6)
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
FILES = {
    "subs": "Films/Koeln (2012)/Koeln.2012.mp4",
    "cover": "Films/Coverfirst (2016)/Coverfirst.2016.mkv",
    "longsub": "Films/Longsub (2017)/Longsub.2017.mkv",
}


@pytest.fixture
def world(tmp_path: Path, ftp_server: EmbeddedFtpServer, ftp_root: Path) -> Iterator[tuple[TestClient, dict[str, int]]]:
    for rel in FILES.values():
        (ftp_root / rel).parent.mkdir(parents=True, exist_ok=True)
    ffmpeg(*VIDEO, *TONE, *H264, str(ftp_root / FILES["subs"]))
    (ftp_root / FILES["subs"]).with_suffix(".de.srt").write_bytes(
        "1\r\n00:00:01,000 --> 00:00:03,000\r\nGrüße aus Köln\r\n\r\n".encode("utf-16-le"))
    (ftp_root / FILES["subs"]).with_suffix(".fr.srt").write_bytes(b"")
    with open((ftp_root / FILES["subs"]).with_suffix(".en.srt"), "wb") as big:
        cue = b"1\n00:00:01,000 --> 00:00:02,000\nThe same line again and again and again\n\n"
        big.write(cue * (33 * 1024 * 1024 // len(cue) + 1))
    ffmpeg("-f", "lavfi", "-i", "color=red:size=200x300", "-frames:v", "1", str(tmp_path / "cover.png"))
    ffmpeg(*VIDEO, *TONE, "-i", str(tmp_path / "cover.png"), "-map", "2", "-map", "0", "-map", "1",
           "-c:v:0", "png", "-c:v:1", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
           str(ftp_root / FILES["cover"]))
    (tmp_path / "long.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nHello\n\n"
                                       "2\n01:06:39,000 --> 01:06:40,000\nStill here\n\n")
    ffmpeg(*VIDEO, *TONE, "-i", str(tmp_path / "long.srt"), "-map", "0", "-map", "1", "-map", "2", *H264,
           "-c:s", "srt", str(ftp_root / FILES["longsub"]))
    with admin_core(tmp_path / "data", hls_preset="ultrafast", hls_segment_seconds=2) as core, \
            admin_client(core) as client:
        source = core.sources.create(SourceSpec(name="Seedbox", kind="ftp", host=ftp_server.host,
                                                port=ftp_server.port, username=FTP_USER, password=FTP_PASSWORD))
        core.jobs.run_scan_now(source.id)
        items = client.get("/api/library/media-files?per_page=50").json()["items"]
        yield client, {k: next(f["id"] for f in items if f["path"] == rel) for k, rel in FILES.items()}


def test_a_utf16_sidecar_without_a_byte_order_mark_converts(world: tuple[TestClient, dict[str, int]]) -> None:
    client, ids = world
    plan = client.post(f"/api/library/media-files/{ids['subs']}/playback/plan", json=CHROMIUM_CAPS).json()
    (track,) = plan["subtitles"]  # not the empty .fr.srt nor the 33 MiB .en.srt
    vtt = str(plan["master_url"]).replace("/hls/master.m3u8", f"/hls/subs/{track['key']}.vtt")
    r = client.get(vtt)
    assert r.status_code == 200, r.text
    assert "Grüße aus Köln" in r.text and "\x00" not in r.text, r.text


def test_a_cover_kept_as_the_first_video_track_is_not_the_film(world: tuple[TestClient, dict[str, int]],
                                                               tmp_path: Path) -> None:
    client, ids = world
    info = client.get(f"/api/library/media-files/{ids['cover']}").json()
    assert (info["video_codec"], info["width"], info["height"]) == ("h264", 160, 90), info
    assert [s["type"] for s in info["streams"]] == ["attachment", "video", "audio"], info["streams"]
    plan = client.post(f"/api/library/media-files/{ids['cover']}/playback/plan", json=CHROMIUM_CAPS).json()
    assert plan["mode"] == "remux", plan  # the H.264 film copied, not the PNG transcoded
    base = str(plan["master_url"]).split("master.m3u8")[0]
    token = str(plan["master_url"]).split("?")[1]
    for rendition in plan["renditions"]:
        media = client.get(f"{base}{rendition}.m3u8?{token}")
        first = next(line for line in media.text.splitlines() if line and not line.startswith("#"))
        segment = client.get(base + first)
        assert segment.status_code == 200, segment.text
        (tmp_path / f"{rendition}.ts").write_bytes(segment.content)
        probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
                                "-show_entries", "stream=codec_name,nb_read_frames", "-of", "default=nw=1:nk=1",
                                str(tmp_path / f"{rendition}.ts")], capture_output=True, text=True, check=True)
        codec, frames = probe.stdout.split()[:2]
        assert codec == "h264" and int(frames) > 10, (rendition, probe.stdout)  # moving, not one still


def test_a_subtitle_track_past_the_film_does_not_lengthen_it(world: tuple[TestClient, dict[str, int]]) -> None:
    client, ids = world
    info = client.get(f"/api/library/media-files/{ids['longsub']}").json()
    assert info["duration"] == pytest.approx(6, abs=0.2), info
    plan = client.post(f"/api/library/media-files/{ids['longsub']}/playback/plan", json=CHROMIUM_CAPS).json()
    assert plan["duration"] == pytest.approx(6, abs=0.2), plan
    token = jf_token(client)
    assert jf_item(client, token, "Longsub")["RunTimeTicks"] == pytest.approx(6 * 10**7, rel=0.05)
