"""Clips for the HLS tests, made with ffmpeg at test time (small and short so the whole
HLS test set stays fast): an HEVC + AC3 MKV with two audio languages and a text
subtitle, an H.264/AAC MP4, a VP9/Opus WebM and a 4K H.264 clip; and what the tests
read back: a track's playlist, a segment's duration and times (ffprobe)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from fastapi.testclient import TestClient

from reelhouse.demo.media import ffmpeg_exe

SRT = """1
00:00:00,500 --> 00:00:10,000
Embedded cue one

2
00:00:10,500 --> 00:00:20,000
Embedded cue two
"""

SIDECAR_SRT = """1
00:00:00,200 --> 00:00:20,000
Sidecar cue
"""


def _run(args: list[str]) -> None:
    proc = subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], capture_output=True,
                          text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-800:])


def _lavfi(seconds: float, width: int, height: int, fps: int) -> list[str]:
    return ["-f", "lavfi", "-t", f"{seconds}", "-i", f"testsrc2=size={width}x{height}:rate={fps}"]


def _tone(seconds: float, hz: int) -> list[str]:
    return ["-f", "lavfi", "-t", f"{seconds}", "-i", f"sine=frequency={hz}:sample_rate=48000"]


def hevc_mkv(path: Path, seconds: float = 24, width: int = 1280, height: int = 720,
             fps: int = 12) -> Path:
    """HEVC video (720p: two renditions, 360p and 720p), two AC3 audio tracks (eng, fra)
    and an SRT subtitle track (eng)."""
    srt = path.with_suffix(".src.srt")
    srt.write_text(SRT)
    _run([*_lavfi(seconds, width, height, fps), *_tone(seconds, 440), *_tone(seconds, 880),
          "-i", str(srt), "-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:s",
          "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", f"log-level=error:keyint={2 * fps}",
          "-b:v", "300k", "-pix_fmt", "yuv420p", "-c:a", "ac3", "-b:a", "64k", "-c:s", "srt",
          "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra",
          "-metadata:s:s:0", "language=eng", str(path)])
    srt.unlink()
    return path


def looped(src: Path, dest: Path, times: int) -> Path:
    """``src``'s video and first audio track played ``times`` times over into ``dest``
    (stream copy: a long film made in a moment, whose transcode takes long)."""
    _run(["-stream_loop", str(times - 1), "-i", str(src), "-map", "0:v", "-map", "0:a:0", "-c", "copy",
          str(dest)])
    return dest


def h264_mp4(path: Path, seconds: float = 8, width: int = 320, height: int = 180,
             fps: int = 24) -> Path:
    """H.264 + AAC, moov first (direct play in every browser)."""
    _run([*_lavfi(seconds, width, height, fps), *_tone(seconds, 440),
          "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", str(fps),
          "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", str(path)])
    return path


def vp9_webm(path: Path, seconds: float = 4, width: int = 320, height: int = 180) -> Path:
    """VP9 + Opus WebM."""
    _run([*_lavfi(seconds, width, height, 12), *_tone(seconds, 440),
          "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k",
          "-c:a", "libopus", "-b:a", "48k", str(path)])
    return path


def uhd_h264(path: Path) -> Path:
    """A 1 s 3840x2160 H.264 clip at a tiny bitrate (renditions capped at 1080p)."""
    _run([*_lavfi(1, 3840, 2160, 8), "-c:v", "libx264", "-preset", "ultrafast",
          "-pix_fmt", "yuv420p", "-b:v", "300k", "-g", "8", str(path)])
    return path


def ffmpeg_children() -> list[int]:
    """Pids of ffmpeg processes whose parent is this test process (Linux /proc)."""
    me, out = os.getpid(), []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        state_ppid = stat[stat.rindex(")") + 2 :].split()
        if comm == "ffmpeg" and int(state_ppid[1]) == me and state_ppid[0] != "Z":
            out.append(int(pid))
    return out


def _spu(width: int, height: int, x: int, y: int, seconds: float) -> bytes:
    """One DVD subpicture unit (DVD-Video SPU): a ``width``×``height`` box at (x, y) in
    pattern colour, shown at once and hidden after ``seconds``."""
    import struct

    line = bytes([0x00, 0x01])  # RLE "fill to the end of the line" with colour 1
    fields = line * (height // 2)
    top, bottom = 4, 4 + len(fields)
    ctrl = bottom + len(fields)
    x2, y2 = x + width - 1, y + height - 1
    cmds = bytes([0x01, 0x03, 0x32, 0x10, 0x04, 0xFF, 0xF0, 0x05,
                  x >> 4, ((x & 0xF) << 4) | (x2 >> 8), x2 & 0xFF,
                  y >> 4, ((y & 0xF) << 4) | (y2 >> 8), y2 & 0xFF])
    cmds += struct.pack(">BHH", 0x06, top, bottom) + b"\xff"
    stop = ctrl + 4 + len(cmds)
    seq = struct.pack(">HH", 0, stop) + cmds + struct.pack(">HH", int(seconds * 90000 / 1024), stop) + b"\x02\xff"
    body = fields + fields + seq
    return struct.pack(">HH", 4 + len(body), ctrl) + body


def vobsub_mkv(path: Path, seconds: float = 8) -> Path:
    """A DVD rip: H.264 (black, 320x180), AC3 audio and a picture subtitle track (DVD
    subtitles): a 64x16 box at (10, 10) from 0.5 to 2.5 s and from 5.0 to 7.0 s."""
    from fractions import Fraction

    import av

    subs = path.with_suffix(".subs.mkv")
    with av.open(str(subs), "w") as out:
        stream = out.add_stream("dvd_subtitle")
        stream.time_base = Fraction(1, 1000)
        for start in (500, 5000):
            packet = av.Packet(_spu(64, 16, 10, 10, 2.0))
            packet.stream, packet.pts, packet.dts = stream, start, start
            packet.time_base, packet.duration = stream.time_base, 2000
            out.mux(packet)
    _run(["-f", "lavfi", "-t", f"{seconds}", "-i", "color=c=black:size=320x180:rate=12",
          *_tone(seconds, 440), "-i", str(subs), "-map", "0:v", "-map", "1:a", "-map", "2:s",
          "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "12",
          "-c:a", "ac3", "-b:a", "64k", "-c:s", "copy", "-metadata:s:s:0", "language=ger",
          str(path)])
    subs.unlink()
    return path


def hls_track(client: TestClient, file_id: int, caps: Mapping[str, list[str]], track: str) -> tuple[str, list[str]]:
    """The playback plan of ``file_id`` for a browser of ``caps`` (which must be 200),
    then ``track``'s playlist (``90p``, ``audio0``, ``copy``): its base URL and lines."""
    r = client.post(f"/api/library/media-files/{file_id}/playback/plan", json=caps)
    assert r.status_code == 200, r.text
    master = str(r.json()["master_url"]).split("testserver", 1)[1]
    base = master.split("?")[0].rsplit("/", 1)[0] + "/"
    playlist = client.get(f"{base}{track}.m3u8?token={master.split('token=')[1]}")
    assert playlist.status_code == 200, playlist.text
    return base, playlist.text.splitlines()


def _ffprobe_segment(data: bytes, tmp: Path, *args: str) -> str:
    """ffprobe's output (``-v error`` and ``args``) on a segment's bytes, written to ``tmp/seg.ts``."""
    path = tmp / "seg.ts"
    path.write_bytes(data)
    return subprocess.run(["ffprobe", "-v", "error", *args, str(path)], capture_output=True, text=True,
                          timeout=30).stdout


def segment_duration(data: bytes, tmp: Path) -> float:
    """The duration (seconds, as ffprobe reads it; 0 for none) of an MPEG-TS segment's
    bytes, written to ``tmp/seg.ts`` first."""
    return float(_ffprobe_segment(data, tmp, "-show_entries", "format=duration", "-of", "csv=p=0").strip() or 0)


def segment_times(data: bytes, tmp: Path) -> tuple[float, float, float]:
    """(first pts, last pts, duration), seconds, of an MPEG-TS segment's first stream's
    packets (its video; an audio rendition's audio), as ffprobe reads them."""
    packets = json.loads(_ffprobe_segment(data, tmp, "-show_entries", "packet=pts_time,duration_time",
                                          "-select_streams", "0", "-of", "json"))["packets"]
    pts = sorted(float(p["pts_time"]) for p in packets)
    last = max(packets, key=lambda p: float(p["pts_time"]))
    return pts[0], pts[-1], pts[-1] + float(last.get("duration_time") or 0) - pts[0]
