"""The ffmpeg binary and the commands reelhouse runs with it.

:func:`locate` finds ffmpeg (a configured path, else the one on ``PATH``, else the
imageio-ffmpeg wheel's binary); :func:`check` asks it for its encoders and says clearly
when libx264 or aac is missing. The command builders are pure.

Segments are MPEG-TS from FFmpeg's ``hls`` muxer. An encoder started for segment ``n``
seeks the input to ``n·L`` (``-ss`` before ``-i``: accurate, it decodes from the previous
keyframe and drops what comes before; in a file without a keyframe index it seeks to a
keyframe found first and trims to ``n·L``, see :mod:`.keyframes`) and keeps the
source's timestamps (``-copyts``),
forcing a keyframe every ``L`` seconds, so segment ``n`` covers the same span and begins
with a keyframe in every rendition, whichever run made it. FFmpeg's MPEG-TS muxer starts
timestamps 1.4 s after the source's (its default ``muxdelay``/preload), hence
:data:`TS_OFFSET`.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from reelhouse.errors import Cancelled, ConfigError, TranscodeFailed
from reelhouse.playback.hls.ladder import AUDIO_BITRATE, Rendition

__all__ = ["PROGRESSIVE_FORMATS", "TS_OFFSET", "FfmpegInfo", "audio_command", "check", "copy_segment_command",
           "locate", "progressive_command", "run_until_done", "video_command", "webvtt_command"]

#: Seconds FFmpeg's MPEG-TS muxer adds to the first timestamp (measured: a source
#: starting at 0 gives segments whose first PTS is 1.400 s).
TS_OFFSET = 1.4

REQUIRED_ENCODERS = ("libx264", "aac")

#: Seconds without a picture at a segment's start from which the segment is padded with
#: black (a video starting a few frames after the audio is not).
_PAD_AFTER = 0.5


@dataclass(frozen=True, slots=True)
class FfmpegInfo:
    """The binary's path, its version line, and the required encoders it lacks."""

    path: str
    version: str
    missing: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.missing

    def problem(self) -> str | None:
        """A message for the user when HLS cannot work with this ffmpeg, else None."""
        if not self.missing:
            return None
        return (f"{self.path} ({self.version}) lacks the encoder(s) {', '.join(self.missing)} "
                "needed for HLS; install a full ffmpeg (Debian: apt install ffmpeg) or set "
                "REELHOUSE_HLS_FFMPEG to one that has them")


def locate(configured: str | None = None) -> str:
    """The ffmpeg to use: ``configured``, else ``ffmpeg`` on PATH, else imageio-ffmpeg's.

    Raises :class:`ConfigError` when there is none."""
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise ConfigError(f"hls_ffmpeg: {configured!r} is not an executable")
        return found
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError) as exc:
        raise ConfigError("no ffmpeg found: install ffmpeg (on PATH) or the imageio-ffmpeg "
                          "wheel; HLS playback needs it") from exc


@functools.lru_cache(maxsize=8)
def check(path: str) -> FfmpegInfo:
    """Run ``ffmpeg -encoders`` once per path and report what is missing.

    Raises :class:`ConfigError` when the binary does not run."""
    try:
        version = subprocess.run([path, "-hide_banner", "-version"], capture_output=True,
                                 text=True, timeout=20).stdout.splitlines()
        out = subprocess.run([path, "-hide_banner", "-encoders"], capture_output=True,
                             text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"ffmpeg at {path} does not run: {exc}") from exc
    names = {line.split()[1] for line in out.splitlines()
             if len(line.split()) > 1 and len(line.split()[0]) == 6}
    missing = tuple(e for e in REQUIRED_ENCODERS if e not in names)
    return FfmpegInfo(path, version[0] if version else "unknown version", missing)


def run_until_done(argv: list[str], should_stop: Callable[[], bool], poll: float = 0.5) -> None:
    """Run an ffmpeg command to its end, killing it when ``should_stop()`` turns true.

    Raises Cancelled (stopped) or TranscodeFailed (ffmpeg failed, with its message)."""
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err)
        except OSError as exc:
            raise TranscodeFailed(f"could not start ffmpeg: {exc}") from exc
        while True:
            try:
                proc.wait(poll)
                break
            except subprocess.TimeoutExpired:
                if should_stop():
                    proc.kill()
                    proc.wait()
                    raise Cancelled("stopped before ffmpeg finished") from None
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace").strip()[-300:]
            raise TranscodeFailed(f"ffmpeg failed: {tail or f'exit status {proc.returncode}'}")


def _hls_output(out_dir: str, start: int, segment_seconds: float) -> list[str]:
    return [
        "-f", "hls", "-hls_time", f"{segment_seconds:g}", "-hls_segment_type", "mpegts",
        "-start_number", str(start), "-hls_list_size", "0", "-hls_flags", "temp_file",
        "-hls_segment_filename", f"{out_dir}/%d.ts", f"{out_dir}/run.m3u8",
    ]


def _input(ffmpeg: str, url: str, seek: float) -> list[str]:
    cmd = [ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y"]
    if seek > 0:
        cmd += ["-ss", f"{seek:.3f}"]
    return [*cmd, "-copyts", "-i", url]


def video_command(ffmpeg: str, url: str, rendition: Rendition, start: int,
                  segment_seconds: float, out_dir: str, preset: str = "superfast",
                  threads: int = 0, burn: int | None = None, decode_from: float | None = None,
                  start_time: float = 0.0, first_picture: float | None = None,
                  video_map: str = "0:V:0") -> list[str]:
    """ffmpeg argv writing video-only segments ``start, start+1, …`` of ``rendition`` to
    ``out_dir/{n}.ts`` (H.264 with a keyframe at every segment start, or a stream copy).
    ``burn``: the subtitle stream (0-based among subtitle streams, a picture format: PGS,
    VobSub) drawn into the picture before scaling.

    ``decode_from`` (seconds after the file's start, at or before a keyframe before
    segment ``start``): seek the input there rather than to the segment, and drop the
    frames before the segment (a ``trim`` at ``start_time``, the file's first timestamp,
    plus ``start·segment_seconds``: ``-copyts`` keeps the file's clock). For files
    without a keyframe index, whose seek lands on any packet (:mod:`.keyframes`).

    ``first_picture`` (the file's clock): the first decodable picture of a recording
    cut mid-GOP; segments before it are black (``tpad``), so they begin where the
    playlist says rather than all at that picture.

    ``video_map``: the film's video stream (``0:3``; FileStreams.video_map)."""
    seek = start * segment_seconds
    begin = start_time + start * segment_seconds
    trim = ""
    if decode_from is not None and start and not rendition.copy:
        seek = min(seek, decode_from)
        trim = f"trim=start={begin:.3f},"
    elif first_picture is not None and first_picture - begin > _PAD_AFTER and not rendition.copy:
        trim = (f"setpts=PTS-{first_picture:.6f}/TB,tpad=start_duration={first_picture - begin:.6f}"
                f":color=black,setpts=PTS+{begin:.6f}/TB,")
    cmd = _input(ffmpeg, url, seek)
    scale = f"scale={rendition.width}:{rendition.height}:flags=bicubic,format=yuv420p"
    if rendition.copy:
        cmd += ["-map", video_map, "-an", "-sn", "-dn", "-c:v", "copy"]
    else:
        kbit = rendition.bitrate // 1000
        if burn is None:
            cmd += ["-map", video_map, "-an", "-sn", "-dn", "-vf", trim + scale]
        else:
            video = f"[{video_map}]{trim.rstrip(',')}[in];[in]" if trim else f"[{video_map}]"
            cmd += ["-filter_complex", f"{video}[0:s:{burn}]overlay=eof_action=pass,{scale}[v]",
                    "-map", "[v]", "-an", "-sn", "-dn"]
        cmd += [
            "-c:v", "libx264", "-preset", preset, "-profile:v", "high",
            "-b:v", f"{kbit}k", "-maxrate", f"{kbit * 3 // 2}k", "-bufsize", f"{kbit * 2}k",
            "-force_key_frames", f"expr:gte(t,n_forced*{segment_seconds:g})",
            "-sc_threshold", "0",
        ]
        if threads:
            cmd += ["-threads", str(threads)]
    return cmd + _hls_output(out_dir, start, segment_seconds)


def copy_segment_command(ffmpeg: str, url: str, seek: float, end: float | None,
                         out_path: str, video_map: str = "0:V:0") -> list[str]:
    """ffmpeg argv writing one stream-copy segment (video only) to ``out_path`` as
    MPEG-TS: from the keyframe before ``seek`` seconds after the file's start to the
    packet decoded at ``end`` (the next segment's keyframe's decoding time, in the file's
    clock; ``None``: to the end). The
    source's timestamps are kept, so copy segments sit on the same clock as the rest.
    A packet the file holds only in part (a download cut short, its MP4 index listing
    samples past the end) is dropped (``-fflags +discardcorrupt``): copied, it stopped
    the run ("Invalid NAL unit size") and lost the segment's every other frame."""
    cmd = [ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y", "-fflags", "+discardcorrupt",
           "-ss", f"{seek:.3f}", "-copyts", "-i", url, "-map", video_map, "-an", "-sn", "-dn", "-c:v", "copy"]
    if end is not None:
        cmd += ["-to", f"{end:.3f}"]
    # keep negative decoding times (B-frames before the first keyframe): shifting them
    # would move segment 0 off the clock the other segments keep
    return [*cmd, "-avoid_negative_ts", "disabled", "-f", "mpegts", out_path]


def audio_command(ffmpeg: str, url: str, audio_index: int, start: int,
                  segment_seconds: float, out_dir: str) -> list[str]:
    """ffmpeg argv writing audio-only AAC stereo segments of the file's audio stream
    ``audio_index`` (0-based among audio streams) to ``out_dir/{n}.ts``."""
    cmd = _input(ffmpeg, url, start * segment_seconds)
    cmd += ["-map", f"0:a:{audio_index}", "-vn", "-sn", "-dn",
            "-c:a", "aac", "-b:a", f"{AUDIO_BITRATE // 1000}k", "-ac", "2", "-ar", "48000"]
    return cmd + _hls_output(out_dir, start, segment_seconds)


def subtitle_copy_command(ffmpeg: str, url: str, subtitle_index: int, fmt: str) -> list[str]:
    """ffmpeg argv printing the file's text subtitle stream ``subtitle_index`` (0-based
    among subtitle streams) on stdout as its own bytes, undecoded, in subtitle format
    ``fmt`` (``srt`` for SubRip, ``ass`` for ASS/SSA): for a track whose text is not
    UTF-8, which ffmpeg's decoders refuse ("Invalid UTF-8 in decoded subtitles text")."""
    return [ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-i", url, "-map", f"0:s:{subtitle_index}",
            "-c:s", "copy", "-f", fmt, "-"]


def webvtt_command(ffmpeg: str, url: str, subtitle_index: int | None) -> list[str]:
    """ffmpeg argv printing a subtitle track as WebVTT on stdout: the file's subtitle
    stream ``subtitle_index`` (0-based among subtitle streams), or with ``None`` the
    first stream of a subtitle file (a sidecar; ``url`` ``pipe:0`` reads it from stdin,
    as UTF-8: :mod:`.charsets` decodes it first)."""
    cmd = [ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-i", url]
    cmd += ["-map", f"0:s:{subtitle_index}" if subtitle_index is not None else "0:s:0"]
    return [*cmd, "-c:s", "webvtt", "-f", "webvtt", "-"]


def ass_command(ffmpeg: str, vtt_path: str) -> list[str]:
    """ffmpeg argv printing the WebVTT file ``vtt_path`` as ASS (SubStation Alpha v4+,
    ffmpeg's ``ass`` encoder and muxer: a default style, the cues as Dialogue lines,
    italics and bold as override tags) on stdout."""
    return [ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-i", vtt_path, "-map", "0:s:0",
            "-c:s", "ass", "-f", "ass", "-"]


#: Progressive outputs: container → ffmpeg's muxer and its options (an MP4 written as
#: fragments after an empty ``moov``: a pipe cannot be seeked back to write the index).
PROGRESSIVE_FORMATS = {
    "mp4": ["-f", "mp4", "-movflags", "frag_keyframe+empty_moov+default_base_moof"],
    "mkv": ["-f", "matroska"],
    "ts": ["-f", "mpegts"],
}


def progressive_command(ffmpeg: str, url: str, container: str, *, video_map: str, audio_map: str | None,
                        copy_video: bool, copy_audio: bool, seek: float = 0.0, max_width: int | None = None,
                        max_height: int | None = None, video_kbit: int | None = None,
                        preset: str = "superfast") -> list[str]:
    """ffmpeg argv writing the file at ``url`` as one stream to stdout in ``container``
    (a key of :data:`PROGRESSIVE_FORMATS`), from ``seek`` s: its video (``video_map``)
    copied or H.264 (at most ``max_width`` x ``max_height``, ``video_kbit`` kbit/s),
    and one audio track (``audio_map``; None: none) copied or AAC stereo."""
    cmd = [ffmpeg, "-nostdin", "-hide_banner", "-v", "error"]
    if seek > 0:
        cmd += ["-ss", f"{seek:.3f}"]
    cmd += ["-i", url, "-map", video_map, *(["-map", audio_map] if audio_map else []), "-sn", "-dn"]
    if copy_video:
        cmd += ["-c:v", "copy"]
    else:
        width, height = max_width or 4096, max_height or 2160
        cmd += ["-vf", f"scale=w='min({width},iw)':h='min({height},ih)':force_original_aspect_ratio=decrease"
                       ":force_divisible_by=2,format=yuv420p",
                "-c:v", "libx264", "-preset", preset, "-profile:v", "high"]
        if video_kbit:
            cmd += ["-b:v", f"{video_kbit}k", "-maxrate", f"{video_kbit * 3 // 2}k", "-bufsize", f"{video_kbit * 2}k"]
    cmd += ["-c:a", "copy"] if copy_audio else ["-c:a", "aac", "-ac", "2", "-b:a", "192k"]
    return [*cmd, *PROGRESSIVE_FORMATS[container], "pipe:1"]

