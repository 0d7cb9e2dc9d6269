"""The playback decision: a table of real-world files × browsers, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelhouse.playback.hls.decision import ClientCaps, MediaFacts, decide

#: What Debian's Chromium answers (no HEVC, no AC3/DTS; plays MP4 and WebM files).
CHROMIUM = ClientCaps(frozenset({"mp4", "webm", "mov"}), frozenset({"h264", "vp8", "vp9", "av1"}),
                      frozenset({"aac", "mp3", "opus", "vorbis", "flac"}))
#: Safari on macOS: HEVC and AC3/EAC3 decode, no WebM files.
SAFARI = ClientCaps(frozenset({"mp4", "mov"}), frozenset({"h264", "hevc"}),
                    frozenset({"aac", "mp3", "ac3", "eac3", "flac"}))
#: Safari on a Mac with HEVC Main 10 (Apple silicon): it says so for "hvc1.2.4…".
SAFARI_10BIT = ClientCaps(SAFARI.containers, SAFARI.video, SAFARI.audio, video_10bit=frozenset({"hevc"}))
#: Chromium builds that say they play Matroska files (canPlayType("video/x-matroska")).
MKV_CHROMIUM = ClientCaps(CHROMIUM.containers | {"mkv"}, CHROMIUM.video, CHROMIUM.audio)
#: A player without HLS (no MSE).
NO_HLS = ClientCaps(frozenset({"mp4"}), frozenset({"h264"}), frozenset({"aac"}), hls=False)


def mf(container: str, video: str | None, *audio: str, pix: str | None = None) -> MediaFacts:
    return MediaFacts(container, video, audio, 1920, 1080, pix)


TABLE = [
    # (file, client, mode, copy rendition, words in the reason)
    (mf("mp4", "h264", "aac"), CHROMIUM, "direct", True, "mp4"),
    (mf("webm", "vp9", "opus"), CHROMIUM, "direct", False, "webm"),
    (mf("mkv", "h264", "aac"), CHROMIUM, "remux", True, "mkv container"),
    (mf("mkv", "h264", "ac3"), CHROMIUM, "remux", True, "ac3"),
    (mf("mp4", "h264", "dts"), CHROMIUM, "remux", True, "dts"),
    (mf("avi", "h264", "mp3"), CHROMIUM, "remux", True, "avi"),
    (mf("mkv", "hevc", "ac3", "ac3"), CHROMIUM, "transcode", False, "hevc"),
    (mf("mp4", "hevc", "aac"), CHROMIUM, "transcode", False, "hevc"),
    (mf("mkv", "vp9", "opus"), CHROMIUM, "transcode", False, "cannot be carried"),
    (mf("mkv", "h264", "aac", pix="yuv420p10le"), CHROMIUM, "transcode", False, "yuv420p10le"),
    (mf("avi", "mpeg4", "mp3"), CHROMIUM, "transcode", False, "mpeg4"),
    (mf("mkv", "hevc", "eac3"), SAFARI, "remux", True, "mkv"),
    # HEVC Main 10 (a 4K HDR release): copied for a client that decodes it, never otherwise
    (mf("mkv", "hevc", "eac3", pix="yuv420p10le"), SAFARI_10BIT, "remux", True, "mkv"),
    (mf("mp4", "hevc", "aac", pix="yuv420p10le"), SAFARI_10BIT, "direct", True, "hevc"),
    (mf("mkv", "hevc", "eac3", pix="yuv420p10le"), SAFARI, "transcode", False, "yuv420p10le"),
    (mf("mkv", "h264", "aac", pix="yuv420p10le"), SAFARI_10BIT, "transcode", False, "yuv420p10le"),  # High 10
    (mf("mkv", "hevc", "aac", pix="yuv422p10le"), SAFARI_10BIT, "transcode", False, "yuv422p10le"),
    (mf("mp4", "hevc", "ac3"), SAFARI, "direct", True, "hevc"),
    (mf("mp4", "hevc", "truehd"), SAFARI, "remux", True, "truehd"),
    (mf("webm", "vp9", "opus"), SAFARI, "transcode", False, "vp9"),
    (mf("mkv", "hevc", "ac3"), NO_HLS, "direct", False, "no HLS"),
    (mf("mp4", "h264", "aac"), NO_HLS, "direct", False, "mp4"),
    # several audio tracks: <video> plays only the first; HLS lets the viewer switch
    (mf("mp4", "h264", "aac", "aac"), CHROMIUM, "remux", True, "2 audio tracks"),
    (mf("mp4", "h264", "aac", "aac"), NO_HLS, "direct", False, "mp4"),
    (mf("webm", "vp9", "opus", "opus"), CHROMIUM, "direct", False, "webm"),  # no transcode for it
    (MediaFacts("mp3", None, ("mp3",)), CHROMIUM, "remux", False, "audio only"),
    (MediaFacts("mkv", None, ()), CHROMIUM, "transcode", False, "not probed"),
    # a live recording cut off (no duration in its header): HLS seeks, a browser cannot
    (MediaFacts("mkv", "h264", ("aac",), duration_from_end=True), MKV_CHROMIUM, "remux", True, "no duration"),
    # VP9/AV1 cannot be copied into MPEG-TS: transcoded, so it has a seek bar (it played
    # directly with an endless timeline); an audio-only one is remuxed to AAC
    (MediaFacts("webm", "vp9", ("opus",), duration_from_end=True), CHROMIUM, "transcode", False, "no duration"),
    (MediaFacts("webm", "av1", ("opus",), duration_from_end=True), CHROMIUM, "transcode", False, "av1 video"),
    (MediaFacts("webm", None, ("opus",), duration_from_end=True), CHROMIUM, "remux", False, "audio only"),
    (MediaFacts("webm", "vp9", ("opus",), duration_from_end=True), NO_HLS, "direct", False, "no HLS"),
    (MediaFacts("mkv", "h264", ("aac",), duration_from_end=True), NO_HLS, "direct", False, "no HLS"),
]


@pytest.mark.parametrize(("facts", "caps", "mode", "copy", "why"), TABLE)
def test_decision_table(facts: MediaFacts, caps: ClientCaps, mode: str, copy: bool, why: str) -> None:
    d = decide(facts, caps)
    assert (d.mode, d.copy_video) == (mode, copy), d
    assert why in d.reason


NAMES = st.sampled_from(["h264", "hevc", "vp9", "av1", "mpeg4", "aac", "ac3", "opus", "dts",
                         "mp4", "mkv", "webm", "avi"])
FACTS = st.builds(MediaFacts, st.one_of(st.none(), NAMES), st.one_of(st.none(), NAMES),
                  st.lists(NAMES, max_size=3).map(tuple))
CAPS = st.builds(ClientCaps, st.frozensets(NAMES), st.frozensets(NAMES), st.frozensets(NAMES),
                 st.booleans())


@given(FACTS, CAPS)
def test_decision_properties(facts: MediaFacts, caps: ClientCaps) -> None:
    d = decide(facts, caps)
    assert d.reason
    if d.mode == "direct" and caps.hls and facts.video_codec:
        # direct only when the client plays the container and every codec
        assert facts.container in caps.containers
        assert facts.video_codec in caps.video
        assert set(facts.audio_codecs) <= caps.audio
    if d.copy_video:
        assert facts.video_codec in ("h264", "hevc") and facts.video_codec in caps.video
    if not caps.hls:
        assert d.mode == "direct"
    more = ClientCaps(caps.containers | {facts.container or "x"},
                      caps.video | {facts.video_codec or "x"},
                      caps.audio | set(facts.audio_codecs), caps.hls)
    if facts.container and (facts.video_codec or facts.audio_codecs):
        # a client that plays everything: direct, unless a track choice needs HLS
        switch = len(facts.audio_codecs) > 1 and facts.video_codec in ("h264", "hevc") and caps.hls
        assert decide(facts, more).mode == ("remux" if switch else "direct")
