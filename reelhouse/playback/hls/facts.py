"""The streams of a media file, as HLS needs them: every audio track (language, codec),
every subtitle track (text or image), the video's size and pixel format, the duration.

Read with PyAV through :class:`~reelhouse.sources.reader.SourceReader` (an FTP file is
read by ranges: the container header only). :func:`facts_from_row` builds the
decision's :class:`MediaFacts` from a ``media_files`` row without I/O; a per-stream
table can feed :class:`FileStreams` the same way later.
"""

from __future__ import annotations

from dataclasses import dataclass

import av

from reelhouse.db.models import MediaFile
from reelhouse.errors import ProbeFailed, ReelhouseError
from reelhouse.playback.hls.decision import MediaFacts
from reelhouse.sources.base import Source
from reelhouse.sources.reader import SourceReader

__all__ = ["TEXT_SUBTITLES", "AudioTrack", "FileStreams", "SubtitleTrack", "facts_from_row",
           "probe_streams"]

#: Subtitle codecs (FFmpeg names) that convert to WebVTT; the rest (PGS, VobSub, DVB)
#: are pictures.
TEXT_SUBTITLES = frozenset({"subrip", "srt", "ass", "ssa", "mov_text", "webvtt", "text"})


@dataclass(frozen=True, slots=True)
class AudioTrack:
    """Audio stream ``index`` (0-based among audio streams), codec, language, title,
    channels."""

    index: int
    codec: str
    language: str | None
    title: str | None
    channels: int | None


@dataclass(frozen=True, slots=True)
class SubtitleTrack:
    """Subtitle stream ``index`` (0-based among subtitle streams), codec, language,
    title, forced flag, ``text`` (convertible to WebVTT) or a picture format."""

    index: int
    codec: str
    language: str | None
    title: str | None
    forced: bool
    text: bool


@dataclass(frozen=True, slots=True)
class FileStreams:
    """Container, duration and start time (seconds), the video stream's codec, size
    (pixels), pixel format and bitrate (bits/s), and the audio and subtitle tracks."""

    container: str | None
    duration: float
    start_time: float
    video_codec: str | None
    width: int | None
    height: int | None
    pix_fmt: str | None
    bitrate: int | None
    audio: tuple[AudioTrack, ...]
    subtitles: tuple[SubtitleTrack, ...]
    keyframes: tuple[float, ...] = ()

    def facts(self) -> MediaFacts:
        return MediaFacts(self.container, self.video_codec, tuple(a.codec for a in self.audio),
                          self.width, self.height, self.pix_fmt)


def facts_from_row(row: MediaFile) -> MediaFacts:
    """The decision's facts from a ``media_files`` row (first audio codec only)."""
    return MediaFacts(row.container, row.video_codec,
                      (row.audio_codec,) if row.audio_codec else (), row.width, row.height)


def _container(name: str, path: str) -> str:
    if name == "matroska,webm":
        return "webm" if path.lower().endswith(".webm") else "mkv"
    if name.startswith("mov,mp4"):
        return "mov" if path.lower().endswith(".mov") else "mp4"
    return name.split(",")[0]


def _lang(meta: dict[str, str]) -> str | None:
    lang = meta.get("language") or meta.get("LANGUAGE")
    return None if not lang or lang.lower() in ("und", "unknown") else lang


#: Most keyframes kept (a 3-hour film with a keyframe every 2 s has 5,400).
_MAX_KEYFRAMES = 100_000

#: Demuxers (FFmpeg names) whose files carry a keyframe index: MP4's sync-sample table,
#: Matroska's Cues, AVI's idx1. Others (MPEG-TS, MPEG-PS, FLV, Ogg) have none; the
#: "index" PyAV builds for them while seeking lists random packets as keyframes, and a
#: copy segment cut there came out empty.
_INDEXED = ("mov", "matroska", "avi")


def _keyframes(c: av.container.InputContainer, video: av.VideoStream) -> tuple[float, ...]:
    """The video keyframes' times (seconds, the file's own clock) from the container's
    index: MP4's sync-sample table, Matroska's Cues (read by one seek, a few range reads
    at the end of the file). Empty when the container has no index."""
    if c.format.name.split(",")[0] not in _INDEXED:
        return ()
    try:
        if not len(video.index_entries) > 1 and c.duration:
            c.seek(c.duration // 2)  # Matroska loads its Cues on the first seek
        base = video.time_base
        if base is None:
            return ()
        times = [float(e.timestamp * base) for e in video.index_entries
                 if e.is_keyframe and e.timestamp is not None]
    except (av.FFmpegError, OSError, ValueError):
        return ()
    return tuple(sorted(set(times)))[:_MAX_KEYFRAMES]


def probe_streams(source: Source, path: str, size: int, budget: int) -> FileStreams:
    """Read the header of ``path`` on ``source`` (at most ``budget`` bytes).

    Raises :class:`ProbeFailed` for damaged or non-media files; source errors pass."""
    reader = SourceReader(source, path, size, budget=budget)
    try:
        with av.open(reader, mode="r", options={"probesize": "5000000"}) as c:
            video = next(iter(c.streams.video), None)
            audio = tuple(
                AudioTrack(i, s.codec_context.name, _lang(dict(s.metadata)),
                           s.metadata.get("title"), s.codec_context.channels or None)
                for i, s in enumerate(c.streams.audio))
            subs = []
            for i, s in enumerate(c.streams.subtitles):
                codec = s.codec_context.name if s.codec_context is not None else "unknown"
                forced = bool(s.disposition & av.stream.Disposition.forced) if hasattr(
                    av.stream, "Disposition") else False
                subs.append(SubtitleTrack(i, codec, _lang(dict(s.metadata)),
                                          s.metadata.get("title"), forced, codec in TEXT_SUBTITLES))
            if video is None and not audio:
                raise ProbeFailed("no audio or video stream found (damaged or not media)")
            vcc = video.codec_context if video is not None else None
            keyframes = _keyframes(c, video) if video is not None else ()
            return FileStreams(
                container=_container(c.format.name, path),
                duration=(c.duration or 0) / 1_000_000,
                start_time=max(0.0, (c.start_time or 0) / 1_000_000),
                video_codec=vcc.name if vcc is not None else None,
                width=(vcc.width or None) if vcc is not None else None,
                height=(vcc.height or None) if vcc is not None else None,
                pix_fmt=vcc.pix_fmt if vcc is not None else None,
                bitrate=(video.bit_rate or c.bit_rate or None) if video is not None else None,
                audio=audio, subtitles=tuple(subs), keyframes=keyframes,
            )
    except ReelhouseError:
        raise
    except av.FFmpegError as exc:
        raise ProbeFailed(f"not a readable media file: {exc}") from exc
    except (OSError, ValueError, EOFError) as exc:
        raise ProbeFailed(f"could not read media header: {exc}") from exc
