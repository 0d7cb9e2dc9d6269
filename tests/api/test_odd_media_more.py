"""More media that real libraries hold, played as Chromium would (the plan with its
capabilities, then every playlist and segment the server hands out):

- AV1 in MP4 and DTS in Matroska: the HLS side named codecs by FFmpeg's decoder
  (``libdav1d``, ``dca``), so an AV1 file Chromium plays was transcoded.
- Cover art (an ``attached_pic`` stream): an MP4 film with its poster and a Matroska
  audio file with a cover. The picture is not the film's video.
- A subtitle track that runs past the video (the container's duration is the
  subtitle's): the playlists list no segment past the audio and video.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api.odd_files import NEEDS_FFMPEG, chrome_profile, ffmpeg, films_world, jf_item, jf_token, lavfi, plan_of
from fastapi.testclient import TestClient
from hls_clips import segment_duration

pytestmark = NEEDS_FFMPEG

VIDEO, TONE = lavfi(6)
FILES = {
    "av1": "Films/Orbit (2004)/Orbit.2004.mp4",
    "dts": "Films/Thunder (2010)/Thunder.2010.mkv",
    "poster": "Films/Poster (2015)/Poster.2015.mp4",
    "cover": "Films/Album (2014)/Album.2014.mkv",
    "longsub": "Films/Chatter (2021)/Chatter.2021.mkv",
    "yuv444": "Films/Fourfour (2018)/Fourfour.2018.mp4",
    "phone": "Films/Upright (2016)/Upright.2016.mp4",
}
#: what jellyfin-web in Chromium sends (abridged): H.264, VP9 and AV1 in MP4 play, the rest via HLS
CHROME_PROFILE = chrome_profile("h264,vp9,av1", "aac,mp3,opus,flac")


def _has_encoder(name: str) -> bool:
    out = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True)
    return f" {name} " in out.stdout


def _make(root: Path, path: dict[str, str]) -> None:
    """Make the films of FILES at ``path`` (absolute, by key) with ffmpeg."""
    if _has_encoder("libsvtav1"):
        ffmpeg(*VIDEO, *TONE, "-c:v", "libsvtav1", "-preset", "12", "-c:a", "aac", path["av1"])
    elif _has_encoder("libaom-av1"):
        ffmpeg(*VIDEO, *TONE, "-c:v", "libaom-av1", "-cpu-used", "8", "-c:a", "aac", path["av1"])
    ffmpeg(*VIDEO, *TONE, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "dca", "-strict", "-2",
           path["dts"])
    picture = root / "poster.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:size=300x450", "-frames:v", "1", str(picture))
    ffmpeg(*VIDEO, *TONE, "-i", str(picture), "-map", "0", "-map", "1", "-map", "2",
           "-c:v:0", "libx264", "-preset", "ultrafast", "-c:v:1", "png", "-c:a", "aac",
           "-disposition:v:1", "attached_pic", path["poster"])
    ffmpeg(*TONE, "-c:a", "libmp3lame", "-attach", str(picture), "-metadata:s:t",
           "mimetype=image/png", "-metadata:s:t", "filename=cover.png", path["cover"])
    srt = root / "long.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:00:09,000 --> 00:00:11,000\nBye\n")
    ffmpeg(*VIDEO, *TONE, "-i", str(srt), "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264",
           "-preset", "ultrafast", "-c:a", "aac", "-c:s", "srt", path["longsub"])
    ffmpeg(*VIDEO, *TONE, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p",
           "-c:a", "aac", path["yuv444"])
    # a phone's portrait video: 320x180 pictures shown turned by 90° (the MP4 display matrix)
    landscape = root / "phone.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=6", *TONE, "-c:v", "libx265",
           "-x265-params", "log-level=error", "-c:a", "aac", str(landscape))
    ffmpeg("-i", str(landscape), "-c", "copy", "-metadata:s:v:0", "rotate=90", path["phone"])
    landscape.unlink()
    picture.unlink()
    srt.unlink()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, int]]]:
    with films_world(tmp_path_factory, "odd-more", FILES, _make) as made:
        yield made


def _play_all(client: TestClient, plan: dict[str, Any], tmp: Path) -> dict[str, list[float]]:
    """Every playlist of the master and every segment: 200 with a duration. Returns the
    segment durations per playlist."""
    master = client.get(str(plan["master_url"]).split("testserver", 1)[1])
    assert master.status_code == 200, master.text
    base = master.request.url.path.rsplit("/", 1)[0] + "/"
    names = [ln.split("?")[0] for ln in master.text.splitlines() if ln and not ln.startswith("#")]
    names += [ln.split('URI="')[1].split("?")[0] for ln in master.text.splitlines()
              if "TYPE=AUDIO" in ln]
    out = {}
    for name in names:
        text = client.get(f"{base}{name}?token={plan['token']}")
        assert text.status_code == 200, (name, text.text)
        durations = []
        for seg in [ln for ln in text.text.splitlines() if ln and not ln.startswith("#")]:
            r = client.get(base + seg)
            assert r.status_code == 200, (name, seg, r.text)
            durations.append(segment_duration(r.content, tmp))
            assert durations[-1] > 0, (name, seg)
        out[name] = durations
    return out


def test_av1_in_mp4_plays_directly(world: tuple[TestClient, dict[str, int]]) -> None:
    client, ids = world
    if "av1" not in ids:
        pytest.skip("this ffmpeg has no AV1 encoder")
    plan = plan_of(client, ids["av1"])
    assert plan["mode"] == "direct", plan["reason"]


def test_dts_is_named_dts(world: tuple[TestClient, dict[str, int]], tmp_path: Path) -> None:
    client, ids = world
    plan = plan_of(client, ids["dts"])
    assert plan["mode"] == "remux" and "audio dts" in plan["reason"], plan["reason"]
    _play_all(client, plan, tmp_path)


def test_a_films_poster_is_not_its_video(world: tuple[TestClient, dict[str, int]], tmp_path: Path) -> None:
    client, ids = world
    plan = plan_of(client, ids["poster"])
    played = _play_all(client, plan, tmp_path)
    assert "90p.m3u8" in played and "450p.m3u8" not in played, list(played)
    assert sum(played["90p.m3u8"]) == pytest.approx(6, abs=0.2)


def test_an_audio_file_with_a_cover_plays_as_audio(world: tuple[TestClient, dict[str, int]],
                                                    tmp_path: Path) -> None:
    client, ids = world
    plan = plan_of(client, ids["cover"])
    assert "audio only" in plan["reason"], plan["reason"]
    played = _play_all(client, plan, tmp_path)
    assert list(played) == ["audio0.m3u8"]


def test_a_subtitle_past_the_video_adds_no_empty_segment(world: tuple[TestClient, dict[str, int]],
                                                         tmp_path: Path) -> None:
    client, ids = world
    plan = plan_of(client, ids["longsub"])
    played = _play_all(client, plan, tmp_path)
    for name, durations in played.items():
        assert sum(durations) == pytest.approx(6, abs=0.3), (name, durations)


def test_jellyfin_does_not_direct_play_what_the_browser_cannot_decode(
        world: tuple[TestClient, dict[str, int]]) -> None:
    """H.264 High 4:4:4 in MP4: Chromium plays MP4 and H.264 but not 4:4:4 (the web
    plan transcodes it); PlaybackInfo offered it for direct play."""
    client, ids = world
    assert plan_of(client, ids["yuv444"])["mode"] == "transcode"
    token = jf_token(client)
    item = jf_item(client, token, "Fourfour")
    info = client.post(f"/jellyfin/Items/{item['Id']}/PlaybackInfo", params={"api_key": token},
                       json=CHROME_PROFILE, headers={"authorization": ""})
    assert info.status_code == 200, info.text
    source = info.json()["MediaSources"][0]
    assert not source["SupportsDirectPlay"] and "master.m3u8" in source["TranscodingUrl"], source


def _size(data: bytes, tmp: Path) -> tuple[int, int]:
    path = tmp / "seg.ts"
    path.write_bytes(data)
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height", "-of", "json", str(path)],
                         capture_output=True, text=True, timeout=30).stdout
    stream = json.loads(out)["streams"][0]
    return int(stream["width"]), int(stream["height"])


def test_a_rotated_phone_video_stays_upright(world: tuple[TestClient, dict[str, int]],
                                             tmp_path: Path) -> None:
    """HEVC that Chromium cannot decode, stored 320x180 and shown turned (display
    matrix): ffmpeg turns it while transcoding, so the renditions are portrait (a
    landscape rendition squashed the turned picture); no copy rendition (MPEG-TS has
    no display matrix: a copy would play sideways)."""
    client, ids = world
    plan = plan_of(client, ids["phone"])
    assert plan["mode"] == "transcode", plan["reason"]
    master = client.get(str(plan["master_url"]).split("testserver", 1)[1])
    assert "RESOLUTION=180x320" in master.text and "copy.m3u8" not in master.text, master.text
    base = master.request.url.path.rsplit("/", 1)[0] + "/"
    name = next(ln for ln in master.text.splitlines() if ln and not ln.startswith("#"))
    playlist = client.get(base + name)
    seg = next(ln for ln in playlist.text.splitlines() if ln and not ln.startswith("#"))
    r = client.get(base + seg)
    assert r.status_code == 200 and _size(r.content, tmp_path) == (180, 320)
