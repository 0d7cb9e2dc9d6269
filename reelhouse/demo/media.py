"""Make short real video clips with ffmpeg (sample library, tests, benchmarks).

ffmpeg is the one on PATH, else the binary inside the imageio-ffmpeg wheel, so no
system package is needed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from reelhouse.playback.hls.ffmpeg import locate

__all__ = ["ffmpeg_exe", "make_clip"]


def ffmpeg_exe() -> str:
    """Path of an ffmpeg binary (on PATH, else the imageio-ffmpeg wheel's); raises
    ConfigError when there is none."""
    return locate(None)


def make_clip(
    path: str | Path,
    seconds: float = 10.0,
    width: int = 640,
    height: int = 360,
    fps: int = 24,
    faststart: bool = True,
    pattern: str = "testsrc2",
    tone_hz: int = 440,
) -> Path:
    """Write an H.264 (yuv420p, keyframe every second) + AAC stereo clip to ``path``.

    The container follows the extension (.mp4 / .mkv / .mov …). ``faststart`` puts an
    MP4's ``moov`` atom first (as a browser-friendly release would). Raises ConfigError
    when ffmpeg is missing, RuntimeError when it fails.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        ffmpeg_exe(), "-v", "error", "-y",
        "-f", "lavfi", "-i", f"{pattern}=size={width}x{height}:rate={fps}",
        "-f", "lavfi", "-i", f"sine=frequency={tone_hz}:sample_rate=48000",
        "-t", f"{seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", str(fps),
        "-c:a", "aac", "-b:a", "96k", "-ac", "2",
        "-shortest",
    ]
    if out.suffix.lower() in (".mp4", ".m4v", ".mov") and faststart:
        cmd += ["-movflags", "+faststart"]
    cmd.append(str(out))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed for {out.name}: {proc.stderr.strip()[-500:]}")
    return out
