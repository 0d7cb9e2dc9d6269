"""ffmpeg command builders (pure) and the cancellable runner."""

from __future__ import annotations

import time

import pytest

from reelhouse.errors import Cancelled, TranscodeFailed
from reelhouse.playback.hls import ffmpeg
from reelhouse.playback.hls.ladder import ladder

R360, R720, COPY = ladder(1280, 720, "h264", True)


def test_video_command_seeks_and_forces_keyframes() -> None:
    argv = ffmpeg.video_command("ffmpeg", "http://x/k", R720, 5, 4.0, "/out", "superfast")
    assert argv[argv.index("-ss") + 1] == "20.000" and argv.index("-ss") < argv.index("-i")
    assert "-copyts" in argv and argv[argv.index("-start_number") + 1] == "5"
    assert argv[argv.index("-force_key_frames") + 1] == "expr:gte(t,n_forced*4)"
    assert "scale=1280:720" in argv[argv.index("-vf") + 1]
    assert argv[-1] == "/out/run.m3u8" and "/out/%d.ts" in argv
    assert "-ss" not in ffmpeg.video_command("ffmpeg", "u", R360, 0, 4.0, "/o")


def test_video_command_decodes_from_a_keyframe_and_trims_to_the_segment() -> None:
    """A file without a keyframe index: the input seek goes to the keyframe's margin,
    the trim (on the file's clock, -copyts) drops what comes before the segment."""
    argv = ffmpeg.video_command("ffmpeg", "u", R720, 3, 4.0, "/o", decode_from=9.4,
                                start_time=1.4)
    assert argv[argv.index("-ss") + 1] == "9.400" and argv.index("-ss") < argv.index("-i")
    assert argv[argv.index("-vf") + 1].startswith("trim=start=13.400,scale=1280:720")
    burn = ffmpeg.video_command("ffmpeg", "u", R360, 3, 4.0, "/o", burn=1, decode_from=9.4,
                                start_time=1.4)
    assert burn[burn.index("-filter_complex") + 1].startswith(
        "[0:V:0]trim=start=13.400[in];[in][0:s:1]overlay")
    # segment 0 decodes from the start anyway; a copy cannot trim between keyframes
    assert "-ss" not in ffmpeg.video_command("ffmpeg", "u", R360, 0, 4.0, "/o", decode_from=0.0)
    copy = ffmpeg.video_command("ffmpeg", "u", COPY, 3, 4.0, "/o", decode_from=9.4)
    assert copy[copy.index("-ss") + 1] == "12.000"


def test_video_command_pads_black_before_the_first_picture() -> None:
    """A recording cut mid-GOP (first keyframe at 11.4 s, file start 5.5 s): segment 1
    (7.5-9.5 s) is black until the picture; a segment after it is not padded, nor a
    video that starts a few frames after the audio."""
    argv = ffmpeg.video_command("ffmpeg", "u", R360, 1, 2.0, "/o", start_time=5.5,
                                first_picture=11.4)
    assert argv[argv.index("-vf") + 1].startswith(
        "setpts=PTS-11.400000/TB,tpad=start_duration=3.900000:color=black,setpts=PTS+7.500000/TB,")
    later = ffmpeg.video_command("ffmpeg", "u", R360, 4, 2.0, "/o", start_time=5.5, first_picture=11.4)
    assert "tpad" not in later[later.index("-vf") + 1]
    normal = ffmpeg.video_command("ffmpeg", "u", R360, 0, 2.0, "/o", start_time=1.4, first_picture=1.5)
    assert "tpad" not in normal[normal.index("-vf") + 1]


def test_burn_in_overlays_before_scaling() -> None:
    argv = ffmpeg.video_command("ffmpeg", "u", R360, 0, 4.0, "/o", burn=2)
    graph = argv[argv.index("-filter_complex") + 1]
    assert graph.startswith("[0:V:0][0:s:2]overlay") and "scale=640:360" in graph
    assert argv[argv.index("-map") + 1] == "[v]" and "-vf" not in argv


def test_copy_commands() -> None:
    argv = ffmpeg.video_command("ffmpeg", "u", COPY, 0, 4.0, "/o")
    assert argv[argv.index("-c:v") + 1] == "copy" and "-force_key_frames" not in argv
    seg = ffmpeg.copy_segment_command("ffmpeg", "u", 8.5, 12.021, "/o/2.ts.part")
    assert seg[seg.index("-ss") + 1] == "8.500" and seg[seg.index("-to") + 1] == "12.021"
    assert "-to" not in ffmpeg.copy_segment_command("ffmpeg", "u", 8.5, None, "/o/x")


def test_audio_and_webvtt_commands() -> None:
    argv = ffmpeg.audio_command("ffmpeg", "u", 1, 3, 4.0, "/o")
    assert argv[argv.index("-map") + 1] == "0:a:1" and argv[argv.index("-c:a") + 1] == "aac"
    assert ffmpeg.webvtt_command("ffmpeg", "u", 2)[-7:-5] == ["-map", "0:s:2"]


def test_run_until_done() -> None:
    ffmpeg.run_until_done(["true"], lambda: False, poll=0.05)
    with pytest.raises(TranscodeFailed, match="boom"):
        ffmpeg.run_until_done(["sh", "-c", "echo boom >&2; exit 3"], lambda: False, poll=0.05)
    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        ffmpeg.run_until_done(["sleep", "30"], lambda: True, poll=0.05)
    assert time.monotonic() - t0 < 5
