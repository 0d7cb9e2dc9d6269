"""Table tests for reelhouse.library.probe_normalise: stream facts → stream rows, HDR
kinds, subtitle formats, Dolby Vision markers; plus a property test that no facts make
it raise."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelhouse.library.probe_normalise import (
    DISPOSITION_ATTACHED_PIC,
    DISPOSITION_DEFAULT,
    DISPOSITION_FORCED,
    StreamFacts,
    StreamInfo,
    dolby_vision_in,
    hdr_kind,
    normalise_stream,
    normalise_streams,
    still_covers,
)


def _set(info: StreamInfo) -> dict[str, Any]:
    """The fields of ``info`` that are set (not None / False)."""
    return {k: v for k, v in asdict(info).items() if v is not None and v is not False}


# (facts, expected set fields): shapes of streams seen in real releases
CASES: list[tuple[StreamFacts, dict[str, Any]]] = [
    (  # 1080p H.264, SDR, BT.709
        StreamFacts(index=0, type="video", codec="h264", profile="High", width=1920,
                    height=1080, fps=24000 / 1001, pix_fmt="yuv420p", bit_depth=8,
                    color_primaries=1, color_trc=1, disposition=DISPOSITION_DEFAULT),
        {"index": 0, "type": "video", "codec": "h264", "profile": "High", "width": 1920,
         "height": 1080, "fps": 23.976, "pixel_format": "yuv420p", "bit_depth": 8,
         "color_primaries": "bt709", "color_transfer": "bt709", "is_default": True},
    ),
    (  # UHD HEVC HDR10
        StreamFacts(index=0, type="video", codec="hevc", profile="Main 10", width=3840,
                    height=2160, fps=24.0, pix_fmt="yuv420p10le", bit_depth=10,
                    color_primaries=9, color_trc=16),
        {"index": 0, "type": "video", "codec": "hevc", "profile": "Main 10", "width": 3840,
         "height": 2160, "fps": 24.0, "pixel_format": "yuv420p10le", "bit_depth": 10,
         "color_primaries": "bt2020", "color_transfer": "smpte2084", "hdr": "HDR10"},
    ),
    (  # broadcast HLG
        StreamFacts(index=0, type="video", codec="hevc", profile="Main 10", width=1920,
                    height=1080, fps=50.0, pix_fmt="yuv420p10le", bit_depth=10,
                    color_primaries=9, color_trc=18),
        {"index": 0, "type": "video", "codec": "hevc", "profile": "Main 10", "width": 1920,
         "height": 1080, "fps": 50.0, "pixel_format": "yuv420p10le", "bit_depth": 10,
         "color_primaries": "bt2020", "color_transfer": "arib-std-b67", "hdr": "HLG"},
    ),
    (  # Dolby Vision profile 8.1 (HDR10 base layer) found in the container header
        StreamFacts(index=0, type="video", codec="hevc", profile="Main 10", width=3840,
                    height=2160, fps=23.976, pix_fmt="yuv420p10le", bit_depth=10,
                    color_primaries=9, color_trc=16, dolby_vision=True),
        {"index": 0, "type": "video", "codec": "hevc", "profile": "Main 10", "width": 3840,
         "height": 2160, "fps": 23.976, "pixel_format": "yuv420p10le", "bit_depth": 10,
         "color_primaries": "bt2020", "color_transfer": "smpte2084", "hdr": "Dolby Vision"},
    ),
    (  # Dolby Vision profile 5 in MP4: only the sample entry says so (dvh1)
        StreamFacts(index=0, type="video", codec="hevc", codec_tag="dvh1", width=3840,
                    height=2160, pix_fmt="yuv420p10le", bit_depth=10),
        {"index": 0, "type": "video", "codec": "hevc", "width": 3840, "height": 2160,
         "pixel_format": "yuv420p10le", "bit_depth": 10, "hdr": "Dolby Vision"},
    ),
    (  # unspecified colour (2), zero sizes and rates: unknown, not zero
        StreamFacts(index=0, type="video", codec="mpeg4", width=0, height=0, fps=0.0,
                    color_primaries=2, color_trc=2, bit_depth=0),
        {"index": 0, "type": "video", "codec": "mpeg4"},
    ),
    (  # MP4 cover art: a "video" stream with attached_pic is an attachment
        StreamFacts(index=2, type="video", codec="mjpeg", width=600, height=600,
                    disposition=DISPOSITION_ATTACHED_PIC),
        {"index": 2, "type": "attachment", "codec": "mjpeg"},
    ),
    (  # DTS-HD MA 7.1, English, titled, default
        StreamFacts(index=1, type="audio", codec="dts", profile="DTS-HD MA", channels=8,
                    channel_layout="7.1", sample_rate=48000, language="eng",
                    metadata={"title": "DTS-HD MA 7.1", "language": "eng"},
                    disposition=DISPOSITION_DEFAULT),
        {"index": 1, "type": "audio", "codec": "dts", "profile": "DTS-HD MA", "channels": 8,
         "channel_layout": "7.1", "sample_rate": 48000, "language": "eng",
         "title": "DTS-HD MA 7.1", "is_default": True},
    ),
    (  # language only in the tags, upper case, Matroska's TITLE key
        StreamFacts(index=2, type="audio", codec="ac3", channels=6,
                    channel_layout="5.1(side)", sample_rate=48000,
                    metadata={"LANGUAGE": "x", "language": "GER", "TITLE": " Deutsch "}),
        {"index": 2, "type": "audio", "codec": "ac3", "channels": 6,
         "channel_layout": "5.1(side)", "sample_rate": 48000, "language": "ger",
         "title": "Deutsch"},
    ),
    (  # "und" is no language; MP4 handler names are not titles
        StreamFacts(index=1, type="audio", codec="aac", profile="LC", channels=2,
                    channel_layout="stereo", sample_rate=44100, language="und",
                    metadata={"handler_name": "SoundHandler"}),
        {"index": 1, "type": "audio", "codec": "aac", "profile": "LC", "channels": 2,
         "channel_layout": "stereo", "sample_rate": 44100},
    ),
    (  # SubRip, forced
        StreamFacts(index=3, type="subtitle", codec="subrip", language="eng", text_sub=True,
                    disposition=DISPOSITION_FORCED, metadata={"title": "Signs"}),
        {"index": 3, "type": "subtitle", "codec": "subrip", "language": "eng",
         "title": "Signs", "is_forced": True, "subtitle_format": "text"},
    ),
    (  # Blu-ray PGS, codec properties say bitmap
        StreamFacts(index=4, type="subtitle", codec="hdmv_pgs_subtitle", language="fre",
                    bitmap_sub=True),
        {"index": 4, "type": "subtitle", "codec": "hdmv_pgs_subtitle", "language": "fre",
         "subtitle_format": "image"},
    ),
    (  # DVD VobSub, properties unknown: the table decides
        StreamFacts(index=5, type="subtitle", codec="dvd_subtitle"),
        {"index": 5, "type": "subtitle", "codec": "dvd_subtitle", "subtitle_format": "image"},
    ),
    (  # ASS, MP4 timed text, WebVTT by table
        StreamFacts(index=6, type="subtitle", codec="ass"),
        {"index": 6, "type": "subtitle", "codec": "ass", "subtitle_format": "text"},
    ),
    (
        StreamFacts(index=7, type="subtitle", codec="mov_text"),
        {"index": 7, "type": "subtitle", "codec": "mov_text", "subtitle_format": "text"},
    ),
    (
        StreamFacts(index=8, type="subtitle", codec="webvtt"),
        {"index": 8, "type": "subtitle", "codec": "webvtt", "subtitle_format": "text"},
    ),
    (  # Matroska font attachment
        StreamFacts(index=9, type="attachment", codec="ttf",
                    metadata={"filename": "Arial.ttf", "mimetype": "font/ttf"}),
        {"index": 9, "type": "attachment", "codec": "ttf", "title": "Arial.ttf"},
    ),
    (  # data streams (timecode tracks) and unknown types
        StreamFacts(index=10, type="data", codec="bin_data"),
        {"index": 10, "type": "data", "codec": "bin_data"},
    ),
    (
        StreamFacts(index=11, type="unknown", codec="  "),
        {"index": 11, "type": "data"},
    ),
]


@pytest.mark.parametrize(("facts", "expected"), CASES, ids=[f"{c[0].type}-{c[0].codec}-{i}"
                                                           for i, c in enumerate(CASES)])
def test_normalise_stream(facts: StreamFacts, expected: dict[str, Any]) -> None:
    assert _set(normalise_stream(facts)) == expected


def test_streams_are_sorted_by_index() -> None:
    rows = normalise_streams([StreamFacts(index=2, type="audio"),
                              StreamFacts(index=0, type="video"),
                              StreamFacts(index=1, type="subtitle")])
    assert [(r.index, r.type) for r in rows] == [(0, "video"), (1, "subtitle"), (2, "audio")]


@pytest.mark.parametrize(
    ("transfer", "dolby", "kind"),
    [("smpte2084", False, "HDR10"), ("arib-std-b67", False, "HLG"), ("bt709", False, None),
     (None, False, None), ("smpte2084", True, "Dolby Vision"), (None, True, "Dolby Vision"),
     ("bt2020-10", False, None)],
)
def test_hdr_kind(transfer: str | None, dolby: bool, kind: str | None) -> None:
    assert hdr_kind(transfer, dolby) == kind


@pytest.mark.parametrize(
    ("header", "found"),
    [
        (b"\x00" * 100 + b"\x00\x00\x00\x18dvcC\x01\x00" + b"\x00" * 20, True),  # MP4 box
        (b"...\x00\x00\x00\x18dvvC...", True),
        (b"...\x41\xe7\x84dvcC\x41\xed...", True),  # Matroska BlockAddIDType
        (b"...\x41\xe7\x84dvwC...", True),
        (b"some text that mentions dvcC in passing", False),
        (b"\x00\x00\x00\x20dvcC", False),  # wrong box size
        (b"", False),
    ],
)
def test_dolby_vision_markers(header: bytes, found: bool) -> None:
    assert dolby_vision_in(header) is found


_ints = st.one_of(st.none(), st.integers(-(2**31), 2**31))


@given(
    facts=st.builds(
        StreamFacts,
        index=st.integers(0, 1000),
        type=st.sampled_from(["video", "audio", "subtitle", "attachment", "data", "unknown", ""]),
        codec=st.one_of(st.none(), st.text(max_size=20)),
        profile=st.one_of(st.none(), st.text(max_size=20)),
        codec_tag=st.one_of(st.none(), st.text(max_size=4)),
        width=_ints, height=_ints, bit_depth=_ints, channels=_ints, sample_rate=_ints,
        color_primaries=_ints, color_trc=_ints,
        fps=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
        language=st.one_of(st.none(), st.text(max_size=5)),
        metadata=st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=4),
        disposition=st.integers(0, 2**20),
    )
)
def test_normalise_never_raises(facts: StreamFacts) -> None:
    info = normalise_stream(facts)
    assert info.type in {"video", "audio", "subtitle", "attachment", "data"}
    assert info.fps is None or 0 < info.fps < 1000
    for value in (info.width, info.height, info.bit_depth, info.channels, info.sample_rate):
        assert value is None or value > 0


def test_a_still_picture_beside_a_moving_video_is_a_cover() -> None:
    """A cover kept as a Matroska track (no attached_pic flag there) may come first."""
    assert still_covers([(0, "png"), (1, "h264")]) == {0}
    assert still_covers([(0, "h264"), (3, "mjpeg")]) == {3}
    assert still_covers([(0, "mjpeg")]) == set()  # an MJPEG film is a film
    assert still_covers([(0, "png"), (1, "mjpeg")]) == set()
    assert still_covers([]) == set()
    rows = normalise_streams([StreamFacts(0, "video", codec="png", width=200, height=300),
                              StreamFacts(1, "video", codec="h264", width=1920, height=1080)])
    assert [r.type for r in rows] == ["attachment", "video"]
