"""PlaybackInfo's direct play / HLS decision for the DeviceProfiles real clients send:
Kodi's add-on and jellyfin-mpv-shim (jellyfin-apiclient-python) play anything, and say
so with DirectPlayProfiles that name no container (Jellyfin: an empty Container
matches every container); the web client in Chromium plays H.264/AAC in MP4 only."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from jellyfin.support import Library

pytestmark = pytest.mark.requires_ffmpeg

#: jellyfin-mpv-shim's and jellyfin-kodi's profile (abridged): everything plays as it is
PLAYS_ANYTHING = {"DeviceProfile": {"Name": "mpv-shim", "DirectPlayProfiles": [{"Type": "Video"}, {"Type": "Audio"}],
                                    "TranscodingProfiles": [{"Type": "Video", "Container": "ts",
                                                             "Protocol": "hls", "VideoCodec": "h264"}]}}
CHROMIUM = {"DeviceProfile": {"DirectPlayProfiles": [
    {"Container": "mp4,m4v", "Type": "Video", "VideoCodec": "h264", "AudioCodec": "aac,mp3"},
    {"Container": "webm", "Type": "Video", "VideoCodec": "vp8,vp9,av1", "AudioCodec": "opus,vorbis"}]}}


def _source(jf: TestClient, name: str, body: dict[str, Any]) -> dict[str, Any]:
    item = jf.get("/jellyfin/Items", params={"SearchTerm": name, "Recursive": "true"}).json()["Items"][0]
    r = jf.post(f"/jellyfin/Items/{item['Id']}/PlaybackInfo", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json()["MediaSources"][0])


def test_profiles_without_containers_play_everything_directly(jf: TestClient, library: Library) -> None:
    for name in ("Big Buck Bunny", "Sintel"):  # an MKV and an MP4
        src = _source(jf, name, PLAYS_ANYTHING)
        assert src["SupportsDirectPlay"] is True and "TranscodingUrl" not in src, (name, src)


def test_chromium_plays_mp4_and_gets_hls_for_mkv(jf: TestClient, library: Library) -> None:
    assert _source(jf, "Sintel", CHROMIUM)["SupportsDirectPlay"] is True
    mkv = _source(jf, "Big Buck Bunny", CHROMIUM)
    assert mkv["SupportsDirectPlay"] is False and "/master.m3u8?" in mkv["TranscodingUrl"]
    assert mkv["TranscodingSubProtocol"] == "hls"
    # the client may refuse direct play outright
    off = _source(jf, "Sintel", {**CHROMIUM, "EnableDirectPlay": False})
    assert off["SupportsDirectPlay"] is False and "TranscodingUrl" in off


def test_max_streaming_bitrate(jf: TestClient, library: Library) -> None:
    """A file over the client's ``MaxStreamingBitrate`` (bits/s: a phone on mobile data
    asks for less) is not played as it is but over HLS, whose ladder has lower
    renditions; under it, direct play as before. From the body, the query or the
    DeviceProfile, as Jellyfin reads it."""
    sintel = _source(jf, "Sintel", CHROMIUM)
    assert sintel["Bitrate"] > 200_000
    low = _source(jf, "Sintel", {**CHROMIUM, "MaxStreamingBitrate": 200_000})
    assert low["SupportsDirectPlay"] is False and "/master.m3u8?" in low["TranscodingUrl"]
    profile = {"DeviceProfile": {**CHROMIUM["DeviceProfile"], "MaxStreamingBitrate": 200_000}}
    assert _source(jf, "Sintel", profile)["SupportsDirectPlay"] is False
    item = jf.get("/jellyfin/Items", params={"SearchTerm": "Sintel", "Recursive": "true"}).json()["Items"][0]
    r = jf.post(f"/jellyfin/Items/{item['Id']}/PlaybackInfo", params={"MaxStreamingBitrate": "200000"}, json=CHROMIUM)
    assert r.json()["MediaSources"][0]["SupportsDirectPlay"] is False
    high = _source(jf, "Sintel", {**CHROMIUM, "MaxStreamingBitrate": 140_000_000})
    assert high["SupportsDirectPlay"] is True and "TranscodingUrl" not in high
    for bad in ("fast", "-5"):
        r = jf.post(f"/jellyfin/Items/{item['Id']}/PlaybackInfo", params={"MaxStreamingBitrate": bad}, json={})
        assert r.status_code == 400 and "MaxStreamingBitrate" in r.json()["detail"], r.text


def test_bitrate_detection(jf: TestClient) -> None:
    """What jellyfin-web asks before it picks a MaxStreamingBitrate: whether it is on
    the server's network (System/Endpoint) and, if not, timed downloads
    (Playback/BitrateTest)."""
    assert jf.get("/jellyfin/System/Endpoint").json() == {"IsLocal": False, "IsInNetwork": False}  # "testclient"
    r = jf.get("/jellyfin/Playback/BitrateTest", params={"Size": "500000"})
    assert r.status_code == 200 and len(r.content) == 500_000
    assert len(jf.get("/jellyfin/Playback/BitrateTest").content) == 102_400
    assert jf.get("/jellyfin/Playback/BitrateTest", params={"Size": "0"}).status_code == 400


def _ladder(jf: TestClient, url: str) -> list[str]:
    """The RESOLUTION of each rendition in the master playlist at ``url``."""
    r = jf.get("/jellyfin" + url)
    assert r.status_code == 200, r.text
    return [line.split("RESOLUTION=")[1].split(",")[0] for line in r.text.splitlines()
            if line.startswith("#EXT-X-STREAM-INF")]


def test_hls_ladder_capped_to_the_client(jf: TestClient, library: Library) -> None:
    """The TranscodingUrl carries what the client takes (query MaxWidth/MaxHeight, the
    DeviceProfile's CodecProfiles bounds on H.264 width/height/bitrate, and
    MaxStreamingBitrate) and its master playlist offers only the renditions within
    them, or the lowest when none is (the 640x360 MKV: a 360p transcode and its copy)."""
    full = _source(jf, "Big Buck Bunny", CHROMIUM)["TranscodingUrl"]
    assert "MaxWidth" not in full and _ladder(jf, full) == ["640x360", "640x360"]  # transcoded, copy
    item = jf.get("/jellyfin/Items", params={"SearchTerm": "Big Buck Bunny", "Recursive": "true"}).json()["Items"][0]
    r = jf.post(f"/jellyfin/Items/{item['Id']}/PlaybackInfo", params={"MaxWidth": "200"}, json=CHROMIUM)
    narrow = r.json()["MediaSources"][0]["TranscodingUrl"]
    assert "&MaxWidth=200" in narrow and _ladder(jf, narrow) == ["640x360"]  # below every step: the lowest
    tv = {"DeviceProfile": {**CHROMIUM["DeviceProfile"], "CodecProfiles": [
        {"Type": "Video", "Codec": "h264", "Conditions": [
            {"Condition": "LessThanEqual", "Property": "Width", "Value": "1280", "IsRequired": False},
            {"Condition": "LessThanEqual", "Property": "Height", "Value": "720", "IsRequired": False},
            {"Condition": "LessThanEqual", "Property": "VideoBitrate", "Value": "100000", "IsRequired": False}]}]}}
    capped = _source(jf, "Big Buck Bunny", tv)["TranscodingUrl"]
    assert "&MaxWidth=1280&MaxHeight=720" in capped and "&VideoBitrate=100000" in capped
    assert len(_ladder(jf, capped)) == 1  # 360p at 0.8 Mbit/s is over 100 kbit/s: the lowest only
    slow = _source(jf, "Big Buck Bunny", {**CHROMIUM, "MaxStreamingBitrate": 1000})["TranscodingUrl"]
    assert "&MaxStreamingBitrate=1000" in slow and len(_ladder(jf, slow)) == 1
    # the master playlist reads the limits of any URL; main.m3u8 too; bad ones are 400
    assert len(_ladder(jf, full + "&MaxHeight=2160&MaxWidth=3840")) == 2
    main = jf.get("/jellyfin" + full.replace("master.m3u8", "main.m3u8") + "&MaxStreamingBitrate=1000")
    assert main.status_code == 200 and "360p.m3u8" in main.text and "copy" not in main.text, main.text
    for bad in ("MaxWidth=wide", "MaxHeight=0", "VideoBitrate=-1"):
        r = jf.get("/jellyfin" + full + "&" + bad)
        assert r.status_code == 400, (bad, r.text)
