"""Films with a long GOP (a keyframe every 10 s) play over HLS as a player needs it:
every segment of every rendition begins where the playlist says (the sum of the
EXTINFs before it, on the file's clock plus the MPEG-TS muxer's offset) and lasts its
EXTINF, whichever segment a viewer asks for first (a seek starts an encoder there).

- Re-encoded renditions cut every ``hls_segment_seconds`` exactly: the encoder decodes
  from the keyframe before the segment and drops the frames before its start. An
  MPEG-TS recording has no keyframe index: ffmpeg's seek lands on any packet, and
  without help the decoder waited for the next keyframe, up to 10 s later (segment 3
  held 20-24 s).
- A recording cut mid-GOP has no picture until its first keyframe: the segments
  before it are black (each encoder made the first keyframe's segment and numbered
  it 0, 1, 2…).
- The copy rendition cannot cut between keyframes: its playlist lists keyframe spans.
  An MP4 with B-frames (every x264 preset but ultrafast) indexes its keyframes by
  decoding time, a few frames before their pictures: read as the pictures' times, the
  first keyframe (at -0.08 s) fell before the film's start, so the copy rendition began
  one GOP late (10 s gone, the video 10 s off its audio) and every span ended a few
  frames early.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hls_clips import hls_track, segment_times

from reelhouse.playback.hls.ffmpeg import TS_OFFSET

from helpers import scanned_local

pytestmark = [
    pytest.mark.requires_ffmpeg,
    pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is missing"),
]

CAPS = {"containers": ["webm"], "video": ["h264", "vp8", "vp9"], "audio": ["aac", "opus"]}
SECONDS = 4
FILES = {"ts": "Films/Long (2010)/Long.2010.ts", "mp4": "Films/Wide (2011)/Wide.2011.mp4",
         "mkv": "Films/Deep (2012)/Deep.2012.mkv", "cut": "Films/Midway (2013)/Midway.2013.ts",
         "bmp4": "Films/Bent (2014)/Bent.2014.mp4", "bmkv": "Films/Curl (2015)/Curl.2015.mkv"}
#: files encoded with B-frames (x264's "veryfast" preset: 3 of them, pictures reordered)
B_FRAMES = ("bmp4", "bmkv")
#: a frame at 25 fps; a segment may begin or end one frame off (the muxer's rounding)
FRAME = 0.04


def _make(out: Path, preset: str = "ultrafast") -> None:
    """33 s of H.264 + AAC at 25 fps with a keyframe every 250 frames (10 s) only
    (``ultrafast``: no B-frames)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=160x90:rate=25:duration=33", "-f", "lavfi", "-i",
                    "sine=frequency=440:sample_rate=48000:duration=33",
                    "-c:v", "libx264", "-preset", preset, "-g", "250", "-keyint_min", "250",
                    "-sc_threshold", "0", "-c:a", "aac", "-shortest", str(out)],
                   check=True, timeout=120)


def _start(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=start_time",
                          "-of", "csv=p=0", str(path)], capture_output=True, text=True, timeout=30)
    return float(out.stdout.strip())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, tuple[int, float]]]]:
    root = tmp_path_factory.mktemp("long-gop")
    for kind, rel in FILES.items():
        _make(root / rel, "veryfast" if kind in B_FRAMES else "ultrafast")
    # a recording that starts mid-GOP (cut from a longer one): its first 6 s have no
    # keyframe, so no picture can be decoded before 10 s
    data = (root / FILES["cut"]).read_bytes()
    (root / FILES["cut"]).write_bytes(data[len(data) // 5 // 188 * 188:])
    starts = {k: _start(root / rel) for k, rel in FILES.items()}
    with scanned_local(tmp_path_factory.mktemp("long-gop-data"), root, hls_preset="ultrafast",
                       hls_segment_seconds=SECONDS) as (_core, client, by_path):
        yield client, {k: (by_path[rel], starts[k]) for k, rel in FILES.items()}


def _playlist(client: TestClient, file_id: int, track: str) -> tuple[str, list[tuple[float, str]]]:
    """The track's base URL and its segments: (EXTINF seconds, URI)."""
    base, lines = hls_track(client, file_id, CAPS, track)
    return base, [(float(lines[i].split(":")[1].rstrip(",")), lines[i + 1])
                  for i in range(len(lines)) if lines[i].startswith("#EXTINF")]


def _check(client: TestClient, file_id: int, start: float, track: str, order: list[int],
           tmp: Path) -> None:
    base, segs = _playlist(client, file_id, track)
    begins = [sum(length for length, _ in segs[:n]) for n in range(len(segs))]
    for n in [n for n in order if n < len(segs)]:
        r = client.get(base + segs[n][1])
        assert r.status_code == 200, (track, n, r.text)
        first, _, length = segment_times(r.content, tmp)
        assert length == pytest.approx(segs[n][0], abs=FRAME + 0.03), (track, n, first, length, segs)
        want = start + TS_OFFSET + begins[n]
        assert first == pytest.approx(want, abs=FRAME + 0.01), (track, n, first, want, segs)


@pytest.mark.parametrize("kind", ["ts", "mp4", "mkv", "cut", "bmp4"])
def test_transcoded_segments_begin_where_the_playlist_says(
        world: tuple[TestClient, dict[str, tuple[int, float]]], kind: str, tmp_path: Path) -> None:
    client, ids = world
    file_id, start = ids[kind]
    _check(client, file_id, start, "90p", [3, 7, 0, 1, 5, 8, 2], tmp_path)


@pytest.mark.parametrize("kind", ["mp4", "mkv", "bmp4", "bmkv"])
def test_copy_segments_follow_the_keyframes(
        world: tuple[TestClient, dict[str, tuple[int, float]]], kind: str, tmp_path: Path) -> None:
    client, ids = world
    file_id, start = ids[kind]
    _, segs = _playlist(client, file_id, "copy")
    assert [round(length) for length, _ in segs] == [10, 10, 10, 3], segs
    _check(client, file_id, start, "copy", [2, 0, 3, 1], tmp_path)


@pytest.mark.parametrize("kind", ["ts", "mp4", "bmp4"])
def test_audio_segments_begin_where_the_playlist_says(
        world: tuple[TestClient, dict[str, tuple[int, float]]], kind: str, tmp_path: Path) -> None:
    client, ids = world
    file_id, start = ids[kind]
    _check(client, file_id, start, "audio0", [5, 0, 2], tmp_path)
