"""The rendition ladder (playback/hls/ladder.py) and its cap to what a client takes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as hs

from reelhouse.playback.hls.ladder import AUDIO_BITRATE, Limit, capped, ladder


def _names(renditions: list[object]) -> list[str]:
    return [r.name for r in renditions]  # type: ignore[attr-defined]


def test_ladder_of_a_1080p_file() -> None:
    full = ladder(1920, 1080, "h264", True, 8_000_000)
    assert _names(full) == ["360p", "720p", "1080p", "copy"]
    assert [(r.width, r.height) for r in full] == [(640, 360), (1280, 720), (1920, 1080), (1920, 1080)]


def test_capped_table() -> None:
    full = ladder(1920, 1080, "h264", True, 8_000_000)
    for limit, want in [
        (None, ["360p", "720p", "1080p", "copy"]),
        (Limit(), ["360p", "720p", "1080p", "copy"]),
        (Limit(max_width=1280), ["360p", "720p"]),  # a 720p TV
        (Limit(max_height=1080), ["360p", "720p", "1080p", "copy"]),
        (Limit(max_height=719), ["360p"]),
        (Limit(max_bitrate=3_000_000), ["360p", "720p"]),  # 2.8 Mbit/s video + 128 kbit/s audio
        (Limit(max_bitrate=2_900_000), ["360p"]),
        (Limit(max_bitrate=20_000_000), ["360p", "720p", "1080p", "copy"]),
        (Limit(max_bitrate=6_000_000), ["360p", "720p", "1080p"]),  # the 8 Mbit/s copy is over
        (Limit(max_video_bitrate=5_000_000), ["360p", "720p", "1080p"]),
        (Limit(max_width=100), ["360p"]),  # below every step: the lowest still plays
        (Limit(max_bitrate=1), ["360p"]),
        (Limit(max_width=1920, max_height=1080, max_bitrate=5_200_000), ["360p", "720p", "1080p"]),
    ]:
        assert _names(capped(full, limit)) == want, limit
    assert capped([], Limit(max_width=10)) == []
    copy_only = [r for r in full if r.copy]
    assert _names(capped(copy_only, Limit(max_width=10))) == ["copy"]  # nothing else to offer


@given(hs.integers(1, 4000), hs.integers(1, 4000), hs.one_of(hs.none(), hs.integers(1, 50_000_000)))
def test_capped_keeps_what_fits_or_the_lowest(w: int, h: int, rate: int | None) -> None:
    full = ladder(3840, 2160, "hevc", True, 20_000_000)
    limit = Limit(max_width=w, max_height=h, max_bitrate=rate)
    out = capped(full, limit)
    assert out, "a client always gets a rendition"
    fits = [r for r in full if r.width <= w and r.height <= h and (rate is None or r.bitrate + AUDIO_BITRATE <= rate)]
    assert out == (fits or [full[0]])
