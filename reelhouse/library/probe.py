"""Basic technical metadata with PyAV, read through a :class:`SourceReader` so an FTP
file is read by ranges, never downloaded whole."""

from __future__ import annotations

from dataclasses import dataclass

import av

from reelhouse.errors import ProbeFailed, ReelhouseError
from reelhouse.sources.base import Source
from reelhouse.sources.reader import SourceReader

__all__ = ["ProbeResult", "probe"]

# Demuxer names (FFmpeg's comma lists) → the container name users know.
_CONTAINERS = {
    "mov,mp4,m4a,3gp,3g2,mj2": "mp4",
    "matroska,webm": "mkv",
}


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """Container, duration (seconds), codecs, video size (pixels), bitrate (bits/s)."""

    container: str | None
    duration: float | None
    video_codec: str | None
    audio_codec: str | None
    width: int | None
    height: int | None
    bitrate: int | None
    bytes_read: int


def _container(name: str, path: str) -> str:
    if name == "matroska,webm":
        return "webm" if path.lower().endswith(".webm") else "mkv"
    return _CONTAINERS.get(name, name.split(",")[0])


def probe(source: Source, path: str, size: int, budget: int = 32 * 1024 * 1024) -> ProbeResult:
    """Read the container header of ``path`` and return its technical metadata.

    Raises :class:`ProbeFailed` for damaged or non-media files and when more than
    ``budget`` bytes would be read; source errors (``SourceUnavailable`` …) pass through.
    """
    reader = SourceReader(source, path, size, budget=budget)
    try:
        with av.open(reader, mode="r", options={"probesize": "2000000"}) as container:
            video = next(iter(container.streams.video), None)
            audio = next(iter(container.streams.audio), None)
            if video is None and audio is None:
                raise ProbeFailed("no audio or video stream found (damaged or not media)")
            duration = container.duration / 1_000_000 if container.duration else None
            return ProbeResult(
                container=_container(container.format.name, path),
                duration=duration,
                video_codec=video.codec_context.name if video is not None else None,
                audio_codec=audio.codec_context.name if audio is not None else None,
                width=(video.codec_context.width or None) if video is not None else None,
                height=(video.codec_context.height or None) if video is not None else None,
                bitrate=container.bit_rate or None,
                bytes_read=reader.bytes_read,
            )
    except ReelhouseError:
        raise
    except av.FFmpegError as exc:
        raise ProbeFailed(f"not a readable media file: {exc}") from exc
    except (OSError, ValueError, EOFError) as exc:
        raise ProbeFailed(f"could not read media header: {exc}") from exc
