"""A DeviceProfile's ``CodecProfiles`` and ``TranscodingProfiles`` in PlaybackInfo's
decision (jellyfin/conditions.py): a client whose CodecProfile limits H.264's level or
width, or refuses 10-bit or HDR video, gets HLS without the copied video; one whose
TranscodingProfiles have no HLS gets no TranscodingUrl. Through the real client
(jellyfin-apiclient-python) and checked against the SDK's PlaybackInfoResponse."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from jellyfin.support import Library
from jellyfin_apiclient_python import JellyfinClient

from reelhouse.demo.probe_clips import make_probe_clip
from reelhouse.jellyfin.conditions import holds

from helpers import place, wait_job

pytestmark = pytest.mark.requires_ffmpeg

#: jellyfin-web's conditions for H.264 in Chromium (browserDeviceProfile.js), abridged
WEB_H264 = [{"Condition": "NotEquals", "Property": "IsAnamorphic", "Value": "true", "IsRequired": False},
            {"Condition": "EqualsAny", "Property": "VideoProfile",
             "Value": "high|main|baseline|constrained baseline", "IsRequired": False},
            {"Condition": "EqualsAny", "Property": "VideoRangeType", "Value": "SDR", "IsRequired": False},
            {"Condition": "LessThanEqual", "Property": "VideoLevel", "Value": "52", "IsRequired": False},
            {"Condition": "NotEquals", "Property": "IsInterlaced", "Value": "true", "IsRequired": False}]


@pytest.mark.parametrize(("condition", "value", "expected"), [
    ({"Condition": "LessThanEqual", "Property": "VideoLevel", "Value": "41"}, 41, True),
    ({"Condition": "LessThanEqual", "Property": "VideoLevel", "Value": "41"}, 51, False),
    ({"Condition": "LessThanEqual", "Property": "VideoLevel", "Value": "41"}, None, True),  # unknown passes
    ({"Condition": "LessThanEqual", "Property": "VideoLevel", "Value": "41", "IsRequired": True}, None, False),
    ({"Condition": "LessThanEqual", "Property": "VideoLevel", "Value": "four"}, 30, False),  # unreadable fails
    ({"Condition": "GreaterThanEqual", "Property": "Width", "Value": "320"}, 320, True),
    ({"Condition": "Equals", "Property": "Width", "Value": "1920"}, 320, False),
    ({"Condition": "NotEquals", "Property": "Width", "Value": "1920"}, 320, True),
    ({"Condition": "EqualsAny", "Property": "VideoBitDepth", "Value": "8|10"}, 10, True),
    ({"Condition": "EqualsAny", "Property": "VideoProfile", "Value": "high|main"}, "Main", True),
    ({"Condition": "EqualsAny", "Property": "VideoProfile", "Value": "high|main"}, "Main 10", False),
    ({"Condition": "NotEquals", "Property": "VideoProfile", "Value": "main 10"}, "Main 10", False),
    ({"Condition": "NotEquals", "Property": "IsAvc", "Value": "false"}, True, True),
    ({"Condition": "Equals", "Property": "IsAvc", "Value": "yes"}, True, False),
    ({"Condition": "LessThanEqual", "Property": "VideoFramerate", "Value": "30.5"}, 29.97, True),
    ({"Condition": "LessThanEqual", "Property": "RefFrames", "Value": "4"}, None, True),
])
def test_conditions_as_jellyfin_judges_them(condition: dict[str, Any], value: object, expected: bool) -> None:
    low = {k.lower(): v for k, v in condition.items()}
    assert holds(low, {str(low["property"]).lower(): value}) is expected


def _profile(codec_profiles: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"Name": "test", "MaxStreamingBitrate": 120_000_000,
            "DirectPlayProfiles": [{"Container": "mp4,m4v,mkv", "Type": "Video", "VideoCodec": "h264,hevc",
                                    "AudioCodec": "aac"}],
            "TranscodingProfiles": [{"Container": "ts", "Type": "Video", "VideoCodec": "h264",
                                     "AudioCodec": "aac", "Protocol": "hls", "Context": "Streaming"}],
            "CodecProfiles": codec_profiles, **extra}


def _video(codec: str, *conditions: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"Type": "Video", "Codec": codec, "Conditions": list(conditions), **kw}


def _cond(kind: str, prop: str, value: str) -> dict[str, Any]:
    return {"Condition": kind, "Property": prop, "Value": value, "IsRequired": False}



def _item(jelly: JellyfinClient, name: str) -> str:
    items = jelly.jellyfin.user_items(params={"SearchTerm": name, "Recursive": True,
                                              "IncludeItemTypes": "Movie"})["Items"]
    return str(items[0]["Id"])


def _play(jelly: JellyfinClient, item_id: str, profile: dict[str, Any]) -> dict[str, Any]:
    from jellyfin.test_models import check

    info = jelly.jellyfin.get_play_info(item_id, profile)
    check(info, "PlaybackInfoResponse")
    return dict(info)


def _query(url: str) -> dict[str, list[str]]:
    return {k.lower(): v for k, v in parse_qs(urlsplit(url).query).items()}


def test_codec_profiles_send_h264_past_a_level_or_width_to_hls(jelly_admin: JellyfinClient, jf: TestClient,
                                                              library: Library) -> None:
    sintel = _item(jelly_admin, "Sintel")  # 320x240 H.264 / AAC in MP4
    source = _play(jelly_admin, sintel, _profile([_video("h264", *WEB_H264)]))["MediaSources"][0]
    level = next(s["Level"] for s in source["MediaStreams"] if s["Type"] == "Video")
    assert 10 <= level <= 52, level  # FFmpeg's scale: 1.3 is 13
    assert source["SupportsDirectPlay"] and "TranscodingUrl" not in source
    for condition, reason in ((_cond("LessThanEqual", "VideoLevel", str(level - 1)), "VideoLevelNotSupported"),
                              (_cond("LessThanEqual", "Width", "160"), "VideoResolutionNotSupported"),
                              (_cond("EqualsAny", "VideoProfile", "high"), "VideoProfileNotSupported")):
        info = _play(jelly_admin, sintel, _profile([_video("h264", condition)]))
        source = info["MediaSources"][0]
        assert not source["SupportsDirectPlay"] and not source["SupportsDirectStream"], condition
        query = _query(source["TranscodingUrl"])
        assert query["transcodereasons"] == [reason] and query["allowvideostreamcopy"] == ["false"]
        # the master playlist it points to holds transcoded renditions only
        master = jf.get("/jellyfin" + source["TranscodingUrl"])
        assert master.status_code == 200 and "#EXT-X-STREAM-INF" in master.text, master.text
        assert "/copy" not in master.text and "copy.m3u8" not in master.text, master.text
    # ApplyConditions: a limit that applies above 1000 pixels wide only does not bite
    wide_only = _video("h264", _cond("LessThanEqual", "VideoLevel", "1"),
                       ApplyConditions=[_cond("GreaterThanEqual", "Width", "1000")])
    assert _play(jelly_admin, sintel, _profile([wide_only]))["MediaSources"][0]["SupportsDirectPlay"]
    # a profile for another codec or container leaves H.264 in MP4 alone
    for other in (_video("hevc", _cond("LessThanEqual", "VideoLevel", "1")),
                  _video("h264", _cond("LessThanEqual", "VideoLevel", "1"), Container="mkv")):
        assert _play(jelly_admin, sintel, _profile([other]))["MediaSources"][0]["SupportsDirectPlay"]
    # VideoAudio: the audio's channels
    stereo_only = {"Type": "VideoAudio", "Codec": "aac", "Conditions": [_cond("LessThanEqual", "AudioChannels", "0")]}
    source = _play(jelly_admin, sintel, _profile([stereo_only]))["MediaSources"][0]
    assert _query(source["TranscodingUrl"])["transcodereasons"] == ["AudioChannelsNotSupported"]
    assert "allowvideostreamcopy" not in _query(source["TranscodingUrl"])  # the video may be copied


def test_ten_bit_and_hdr_refused(jelly_admin: JellyfinClient, client: TestClient, library: Library,
                                 clip_cache: Any) -> None:
    hdr = make_probe_clip("hevc_hdr10.mkv", clip_cache / "probe")
    place(hdr, library.root, "Films/Glow (2020)/Glow.2020.mkv")
    job = client.post(f"/api/sources/{library.source_id}/scan").json()["id"]
    assert wait_job(client, job)["state"] == "done"
    glow = _item(jelly_admin, "Glow")
    hls = [{"Container": "ts", "Type": "Video", "VideoCodec": "hevc,h264", "Protocol": "hls"}]
    # no CodecProfiles: a browser's limits are assumed (8-bit only), as before
    assert not _play(jelly_admin, glow, _profile([], TranscodingProfiles=hls))["MediaSources"][0]["SupportsDirectPlay"]
    # a TV stating its HEVC limits (level ≤ 6.1) plays 10-bit HDR10 as it is
    hevc_ok = _profile([_video("hevc", _cond("LessThanEqual", "VideoLevel", "183"))], TranscodingProfiles=hls)
    assert _play(jelly_admin, glow, hevc_ok)["MediaSources"][0]["SupportsDirectPlay"]
    for condition, reason in ((_cond("LessThanEqual", "VideoBitDepth", "8"), "VideoBitDepthNotSupported"),
                              (_cond("EqualsAny", "VideoRangeType", "SDR|HLG"), "VideoRangeTypeNotSupported"),
                              (_cond("NotEquals", "VideoProfile", "Main 10"), "VideoProfileNotSupported")):
        source = _play(jelly_admin, glow, {**hevc_ok, "CodecProfiles": [*hevc_ok["CodecProfiles"],
                                                                  _video("hevc", condition)]})["MediaSources"][0]
        assert not source["SupportsDirectPlay"], condition
        assert _query(source["TranscodingUrl"])["transcodereasons"] == [reason]
    # an HLS transcoding profile without HEVC: the HEVC video is not copied into HLS either
    only_h264 = _profile([_video("hevc", _cond("LessThanEqual", "VideoBitDepth", "8"))])
    source = _play(jelly_admin, glow, only_h264)["MediaSources"][0]
    assert _query(source["TranscodingUrl"])["allowvideostreamcopy"] == ["false"]


def test_no_hls_transcoding_profile_no_transcoding_url(jelly_admin: JellyfinClient, library: Library) -> None:
    sintel = _item(jelly_admin, "Sintel")
    progressive_only = _profile([_video("h264", _cond("LessThanEqual", "Width", "160"))],
                                TranscodingProfiles=[{"Container": "mp4", "Type": "Video", "Protocol": "http",
                                                      "VideoCodec": "h264", "AudioCodec": "aac"}])
    info = _play(jelly_admin, sintel, progressive_only)
    source = info["MediaSources"][0]
    assert (source["SupportsDirectPlay"], source["SupportsTranscoding"]) == (False, False)
    assert "TranscodingUrl" not in source and info["ErrorCode"] == "NoCompatibleStream"
    # no TranscodingProfiles key at all (older clients): HLS as before
    bare = {k: v for k, v in _profile([_video("h264", _cond("LessThanEqual", "Width", "160"))]).items()
            if k != "TranscodingProfiles"}
    assert "TranscodingUrl" in _play(jelly_admin, sintel, bare)["MediaSources"][0]
