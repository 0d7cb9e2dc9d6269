"""The clips of the probe tests and of benchmarks/probe_bytes.py, made with ffmpeg.

Each is short and small but shaped like a real release where it matters to a probe:

- ``moov_at_end.mp4``: H.264/AAC MP4 without faststart (the ``moov`` atom after
  ``mdat``, as a camera or a plain ``ffmpeg`` run writes it), ~3 MiB;
- ``two_audio_subs.mkv``: H.264 + AAC 5.1 (eng, default, titled) + AAC stereo (ger,
  titled) + a forced SubRip track (eng); Cues at the end (Matroska muxer default), ~3 MiB;
- ``hevc_hdr10.mkv``: HEVC Main 10 (yuv420p10le) tagged BT.2020 / SMPTE ST 2084 with
  mastering-display and content-light metadata (libx265);
- ``truncated.mkv``: the first half of ``two_audio_subs.mkv`` (an interrupted download);
- ``not_media.mkv``: a text file with a film's extension.

Raises ConfigError without ffmpeg, RuntimeError when ffmpeg fails.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from reelhouse.demo.media import ffmpeg_exe

__all__ = ["CLIPS", "make_probe_clip", "make_probe_clips"]

CLIPS = ("moov_at_end.mp4", "two_audio_subs.mkv", "hevc_hdr10.mkv", "truncated.mkv",
         "not_media.mkv")

_SRT = """1
00:00:00,500 --> 00:00:02,000
Hello.

2
00:00:02,500 --> 00:00:04,000
Hallo.
"""

_X265_HDR10 = (
    "colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:"
    "master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):"
    "max-cll=1000,400:log-level=error"
)


def _run(args: list[str], out: Path) -> Path:
    cmd = [ffmpeg_exe(), "-v", "error", "-y", *args, str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed for {out.name}: {proc.stderr.strip()[-500:]}")
    return out


def _video(size: str, rate: int) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}"]


def _tone(hz: int, rate: int) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency={hz}:sample_rate={rate}"]


def make_probe_clip(name: str, folder: Path) -> Path:
    """Write clip ``name`` (one of :data:`CLIPS`) into ``folder`` and return its path
    (made once: an existing file is kept)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / name
    if out.exists():
        return out
    if name == "moov_at_end.mp4":
        return _run([*_video("640x360", 24), *_tone(440, 48000), "-t", "6",
                     "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "3M", "-g", "48",
                     "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-ac", "2",
                     "-movflags", "-faststart"], out)
    if name == "two_audio_subs.mkv":
        srt = folder / "two_audio_subs.srt"
        srt.write_text(_SRT, encoding="utf-8")
        return _run([*_video("640x360", 25), *_tone(440, 48000), *_tone(660, 44100),
                     "-i", str(srt), "-t", "6",
                     "-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:s",
                     "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "3M",
                     "-pix_fmt", "yuv420p",
                     "-c:a:0", "aac", "-ac:a:0", "6", "-c:a:1", "aac", "-ac:a:1", "2",
                     "-c:s", "srt",
                     "-metadata:s:a:0", "language=eng", "-metadata:s:a:0", "title=English 5.1",
                     "-metadata:s:a:1", "language=ger", "-metadata:s:a:1", "title=Deutsch Stereo",
                     "-metadata:s:s:0", "language=eng", "-metadata:s:s:0", "title=Signs",
                     "-disposition:v:0", "default", "-disposition:a:0", "default",
                     "-disposition:a:1", "0", "-disposition:s:0", "forced"], out)
    if name == "hevc_hdr10.mkv":
        return _run([*_video("320x240", 24), "-t", "2",
                     "-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le",
                     "-x265-params", _X265_HDR10, "-color_primaries", "bt2020",
                     "-color_trc", "smpte2084", "-colorspace", "bt2020nc"], out)
    if name == "truncated.mkv":
        whole = make_probe_clip("two_audio_subs.mkv", folder).read_bytes()
        out.write_bytes(whole[: len(whole) // 2])
        return out
    if name == "not_media.mkv":
        out.write_text("These are my notes about the film, not the film.\n" * 200,
                       encoding="utf-8")
        return out
    raise ValueError(f"unknown probe clip {name!r}")


def make_probe_clips(folder: Path) -> dict[str, Path]:
    """Every clip of :data:`CLIPS` in ``folder``, by name."""
    return {name: make_probe_clip(name, folder) for name in CLIPS}
