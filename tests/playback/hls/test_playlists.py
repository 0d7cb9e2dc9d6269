"""Renditions and playlists (pure): ladder capped at the source height, master attributes,
complete VOD media playlists."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelhouse.playback.hls.ladder import ladder
from reelhouse.playback.hls.playlists import (
    AudioEntry,
    SubtitleEntry,
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
