"""Renditions and playlists (pure): ladder capped at the source height, master attributes,
complete VOD media playlists."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reelhouse.playback.hls.ladder import ladder
from reelhouse.playback.hls.playlists import (
    AudioEntry,
    SubtitleEntry,
    keyframe_spans,
    master_playlist,
    media_playlist,
    segment_count,
    subtitle_playlist,
)


@pytest.mark.parametrize(("size", "codec", "copy", "names"), [
    ((3840, 2160), "h264", True, ["360p", "720p", "1080p", "copy"]),
    ((1920, 1080), "hevc", False, ["360p", "720p", "1080p"]),
    ((1280, 720), "h264", True, ["360p", "720p", "copy"]),
    ((1920, 800), "h264", False, ["360p", "720p"]),
    ((640, 360), "mpeg4", True, ["360p"]),  # no copy rendition for codecs HLS cannot carry
    ((320, 180), "h264", False, ["180p"]),
    ((None, None), "h264", False, ["360p", "720p", "1080p"]),
])
def test_ladder(size: tuple[int | None, int | None], codec: str, copy: bool, names: list[str]) -> None:
    rs = ladder(size[0], size[1], codec, copy)
    assert [r.name for r in rs] == names
    for r in rs:
        assert r.width % 2 == 0 and r.height % 2 == 0
        if not r.copy:
            assert r.height <= (size[1] or 1080)


def test_ladder_keeps_aspect() -> None:
    r720 = ladder(3840, 1600, "h264", False)[1]
    assert (r720.width, r720.height) == (1728, 720)


def test_master_playlist() -> None:
    rs = ladder(1920, 1080, "h264", True, 6_000_000)
    text = master_playlist(
        rs, [AudioEntry("audio0", "eng", "English", True), AudioEntry("audio1", "fra", 'Fr "VF"', False)],
        [SubtitleEntry("e0", "eng", "English"), SubtitleEntry("x0", None, "Film.srt", forced=True)],
        "tok/+=")
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    inf = [line for line in lines if line.startswith("#EXT-X-STREAM-INF:")]
    assert len(inf) == 4
    for line in inf:
        assert re.search(r"BANDWIDTH=\d+", line)
        assert re.search(r"RESOLUTION=\d+x\d+", line)
        assert 'CODECS="avc1.' in line and "mp4a.40.2" in line
        assert 'AUDIO="aud"' in line and 'SUBTITLES="subs"' in line
    assert "RESOLUTION=1280x720" in inf[1]
    audio = [line for line in lines if "TYPE=AUDIO" in line]
    assert len(audio) == 2 and 'LANGUAGE="fra"' in audio[1] and "Fr 'VF'" in audio[1]
    assert 'URI="audio1.m3u8?token=tok%2F%2B%3D"' in audio[1]
    subs = [line for line in lines if "TYPE=SUBTITLES" in line]
    assert 'URI="subs/e0.m3u8?token=tok%2F%2B%3D"' in subs[0] and "FORCED=YES" in subs[1]
    assert "720p.m3u8?token=tok%2F%2B%3D" in lines


def test_master_without_audio_or_subtitles() -> None:
    text = master_playlist(ladder(640, 360, "h264", False), [], [], "t")
    assert "AUDIO=" not in text and "SUBTITLES=" not in text and 'CODECS="avc1.64001e"' in text


@settings(deadline=None)  # a 20,000 s film has 10,000 segments: slow on a busy machine
@given(st.floats(0.1, 20_000), st.sampled_from([2.0, 4.0, 6.0]))
def test_media_playlist_spans_the_duration(duration: float, seg: float) -> None:
    text = media_playlist("720p", duration, seg, "t")
    lengths = [float(m) for m in re.findall(r"#EXTINF:([\d.]+),", text)]
    assert len(lengths) == segment_count(duration, seg)
    assert abs(sum(lengths) - duration) < 0.01 * len(lengths) + 0.002
    assert all(0 < x <= seg + 0.25 for x in lengths)
    assert text.rstrip().endswith("#EXT-X-ENDLIST") and "#EXT-X-PLAYLIST-TYPE:VOD" in text
    assert f"720p/{len(lengths) - 1}.ts?token=t" in text


def test_subtitle_playlist() -> None:
    text = subtitle_playlist("e0", 61.5, "t")
    assert "#EXT-X-TARGETDURATION:62" in text and "e0.vtt?token=t" in text


@pytest.mark.parametrize(("keyframes", "start", "duration", "spans"), [
    # a keyframe every 2 s: one span per 4 s mark
    (tuple(range(0, 12, 2)), 0.0, 12.0, [(0, 4), (4, 8), (8, 12.0)]),
    # a 10 s GOP: fewer, longer spans, each on a keyframe
    ((0.0, 10.0, 20.0), 0.0, 25.0, [(0.0, 10.0), (10.0, 20.0), (20.0, 25.0)]),
    # keyframes a little after the marks, the file starting at 0.021 s
    ((0.021, 2.021, 4.021, 6.021, 8.021), 0.021, 10.0, [(0.021, 4.021), (4.021, 8.021), (8.021, 10.021)]),
    ((), 0.0, 10.0, []),  # no index: no copy rendition
])
def test_keyframe_spans(keyframes: tuple[float, ...], start: float, duration: float,
                        spans: list[tuple[float, float]]) -> None:
    got = keyframe_spans(tuple(float(k) for k in keyframes), start, duration, 4.0)
    flat = [x for span in got for x in span]
    assert flat == pytest.approx([float(x) for span in spans for x in span])


@given(st.lists(st.floats(0, 600), max_size=300).map(lambda v: tuple(sorted(set(v)))),
       st.floats(1, 600))
def test_keyframe_spans_tile_the_film(keyframes: tuple[float, ...], duration: float) -> None:
    spans = keyframe_spans(keyframes, 0.0, duration, 4.0)
    for (b1, e1), (b2, _) in itertools.pairwise(spans):
        assert e1 == b2 and b1 < e1  # contiguous, in order
    for b, _ in spans:
        assert b in keyframes  # every span starts on a keyframe
    if spans:
        assert spans[-1][1] == duration
    lengths = [e - b for b, e in spans]
    text = media_playlist("copy", duration, 4.0, "t", lengths or None)
    assert text.count("#EXTINF") == (len(spans) or segment_count(duration, 4.0))
