"""probe_streams' keyframes: the pictures' times, whatever the container's index holds.

MP4's index (the sync-sample table) gives each keyframe's decoding time. With B-frames
(x264's every preset but ultrafast) a keyframe is decoded a few frames before it is
shown: the first at -0.08 s for a picture at 0. Read as picture times, the copy
rendition's first span began at the second keyframe (the start of the film missing)
and every span ended a few frames early. Matroska's Cues hold the pictures' times.
A stream copy stops in decoding order: it must stop ``decode_lead`` before the next
keyframe's picture, or the next segment's first frames came along.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reelhouse.playback.hls.facts import probe_streams
from reelhouse.sources.local import LocalSource

pytestmark = pytest.mark.requires_ffmpeg


def _clip(out: Path, preset: str) -> Path:
    """11 s of 25 fps H.264 + AAC, a keyframe every 2 s (50 frames) exactly."""
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=96x54:rate=25:duration=11", "-f", "lavfi", "-i",
                    "sine=duration=11", "-c:v", "libx264", "-preset", preset, "-g", "50",
                    "-keyint_min", "50", "-sc_threshold", "0", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest", str(out)], check=True, timeout=120)
    return out


@pytest.mark.parametrize("name", ["film.mp4", "film.mkv", "film.mov"])
@pytest.mark.parametrize("preset", ["ultrafast", "veryfast", "medium"])
def test_keyframes_are_the_pictures_times(tmp_path: Path, name: str, preset: str) -> None:
    path = _clip(tmp_path / name, preset)
    streams = probe_streams(LocalSource(tmp_path), name, path.stat().st_size, 50_000_000)
    # Matroska starts its clock where the audio's priming ends (up to 0.025 s in)
    offset = streams.keyframes[0] if name.endswith(".mkv") else 0.0
    assert offset < 0.05
    assert streams.keyframes == pytest.approx([offset + 2.0 * k for k in range(6)], abs=0.002)
    # x264 reorders pictures by two frames (0.08 s at 25 fps) with B-frames: a stream copy
    # cut at a keyframe stops that long before its picture's time
    assert streams.decode_lead == pytest.approx(0.0 if preset == "ultrafast" else 0.08, abs=0.002)
