"""RFC 6381 codec strings of real ffmpeg-made files, per codec and container: what the
master playlist's "copy" rendition says it holds (it said H.264 High 4.0 of every file,
so a player that checks CODECS before loading refused a 4K copy it could play, or took
a High 5.1 stream it could not decode for High 4.0).

Expected values come from the specifications, not from our own code: ``avc1`` is
profile_idc · constraint byte · level_idc (RFC 6381 §3.3), ``hvc1`` is ISO/IEC
14496-15 Annex E (Main: ``hvc1.1.6.L<level>.90``, Main 10: ``hvc1.2.4.L<level>.90``
as in Apple's HLS authoring examples), AAC ``mp4a.40.<object type>``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reelhouse.playback.hls.codecs import audio_codec_string, avc_string, hevc_string
from reelhouse.playback.hls.facts import FileStreams, probe_streams
from reelhouse.playback.hls.ladder import ladder
from reelhouse.sources.local import LocalSource

ffmpeg_made = pytest.mark.requires_ffmpeg


def _make(out: Path, video: list[str], audio: list[str], size: str = "320x180") -> FileStreams:
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i",
                    f"testsrc2=size={size}:rate=24:duration=1", "-f", "lavfi", "-i",
                    "sine=duration=1:sample_rate=48000", *video, *audio, str(out)],
                   check=True, timeout=120)
    return probe_streams(LocalSource(out.parent), out.name, out.stat().st_size, 50_000_000)


def _x265(params: str = "level-idc=3.1") -> list[str]:
    return ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", f"log-level=error:{params}"]


@ffmpeg_made
@pytest.mark.parametrize("name", ["f.mp4", "f.mkv", "f.ts"])
@pytest.mark.parametrize(("args", "expected"), [
    (["-profile:v", "baseline", "-level", "3.0"], "avc1.42c01e"),  # Constrained Baseline 3.0
    (["-profile:v", "main", "-level", "3.1"], "avc1.4d401f"),
    (["-profile:v", "high", "-level", "4.1"], "avc1.640029"),
    (["-profile:v", "high10", "-pix_fmt", "yuv420p10le", "-level", "5.1"], "avc1.6e0033"),
])
def test_h264(tmp_path: Path, name: str, args: list[str], expected: str) -> None:
    streams = _make(tmp_path / name, ["-c:v", "libx264", "-preset", "veryfast", *args],
                    ["-c:a", "aac"])
    assert streams.video_codecs == expected


@ffmpeg_made
@pytest.mark.parametrize("name", ["f.mp4", "f.mkv", "f.ts"])
@pytest.mark.parametrize(("args", "expected"), [
    (["-pix_fmt", "yuv420p"], "hvc1.1.6.L93.90"),  # Main, level 3.1 (93 = 30 × 3.1)
    (["-pix_fmt", "yuv420p10le"], "hvc1.2.4.L93.90"),  # Main 10
])
def test_hevc(tmp_path: Path, name: str, args: list[str], expected: str) -> None:
    tag = ["-tag:v", "hvc1"] if name.endswith(".mp4") else []
    streams = _make(tmp_path / name, [*_x265(), *args, *tag], ["-c:a", "aac"])
    assert streams.video_codecs == expected


@ffmpeg_made
def test_hevc_level_and_tier_follow_the_stream(tmp_path: Path) -> None:
    streams = _make(tmp_path / "f.mkv", _x265("level-idc=5.1:high-tier=1"),
                    ["-an"])
    assert streams.video_codecs == "hvc1.1.6.H153.90"


@ffmpeg_made
@pytest.mark.parametrize(("name", "args", "expected"), [
    ("a.mp4", ["-c:a", "aac"], "mp4a.40.2"),
    ("a.mkv", ["-c:a", "aac", "-profile:a", "aac_main"], "mp4a.40.1"),
    ("a.ts", ["-c:a", "aac"], "mp4a.40.2"),  # ADTS: no AudioSpecificConfig, FFmpeg's profile
    ("a.mkv", ["-c:a", "ac3"], "ac-3"),
    ("a.mp4", ["-c:a", "eac3"], "ec-3"),
    ("a.mkv", ["-c:a", "libmp3lame"], "mp4a.40.34"),
    ("a.mkv", ["-c:a", "libopus"], "opus"),
    ("a.mkv", ["-c:a", "flac"], "fLaC"),
    ("a.mkv", ["-c:a", "dca", "-strict", "-2"], "dtsc"),
])
def test_audio(tmp_path: Path, name: str, args: list[str], expected: str) -> None:
    streams = _make(tmp_path / name, ["-c:v", "libx264", "-preset", "ultrafast"], args)
    assert streams.audio[0].codecs == expected


@ffmpeg_made
def test_the_copy_rendition_says_what_the_stream_is(tmp_path: Path) -> None:
    """A 1080p High 4.2 stream: the copy rendition says 4.2, not a fixed 4.0."""
    streams = _make(tmp_path / "f.mp4", ["-c:v", "libx264", "-preset", "veryfast",
                                         "-profile:v", "high", "-level", "4.2"], ["-an"],
                    size="1920x1080")
    copy = ladder(streams.width, streams.height, streams.video_codec, True, streams.bitrate,
                  streams.video_codecs)[-1]
    assert copy.copy and copy.codecs == "avc1.64002a"


# -- pure: records and parameter sets written by hand ---------------------------------
def test_emulation_prevention_is_removed() -> None:
    """An SPS whose profile_tier_level holds ``00 00 03``: the 03 is not data."""
    ptl = bytes([0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0, 0, 0, 0, 0, 93])
    sps = b"\x00\x00\x00\x01" + bytes([33 << 1, 1, 0x01]) + ptl + b"\xff"
    assert hevc_string(sps) == "hvc1.1.6.L93.90"


def test_profile_space_compat_flags_and_constraints() -> None:
    # space 1 (A), tier H, idc 4; compat flags 4 and 5 only; two constraint bytes
    record = bytes([1, (1 << 6) | (1 << 5) | 4, 0x0C, 0, 0, 0, 0x98, 0x08, 0, 0, 0, 0, 186])
    assert hevc_string(record, "hev1") == "hev1.A4.30.H186.98.8"


def test_unreadable_streams_say_none() -> None:
    assert hevc_string(None) is None and hevc_string(b"\x00\x00\x01\x40\x01") is None
    assert avc_string(b"junk", "Weird", 31) is None
    assert avc_string(None, "High", 40) == "avc1.640028"
    assert avc_string(None, "Constrained Baseline", 30) == "avc1.42401e"
    assert audio_codec_string("aac", None, None) is None
    assert audio_codec_string("aac", bytes([0x29, 0x88])) == "mp4a.40.5"  # HE-AAC
    assert audio_codec_string("pcm_s16le") is None
