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
from reelhouse.library.durations import media_duration
from reelhouse.library.mkv_tail import tail_duration
from reelhouse.library.probe import MEDIA_READ_ERRORS, probe_failed
from reelhouse.playback.hls.codecs import audio_codec_string, video_codec_string
from reelhouse.playback.hls.decision import MediaFacts
from reelhouse.playback.hls.keyframes import film_video, first_keyframe
from reelhouse.sources.base import Source
from reelhouse.sources.reader import FirstErrorOnly, SourceReader

__all__ = ["TEXT_SUBTITLES", "AudioTrack", "FileStreams", "SubtitleTrack", "facts_from_row",
           "probe_streams"]

#: Subtitle codecs (FFmpeg names) that convert to WebVTT; the rest (PGS, VobSub, DVB)
#: are pictures.
TEXT_SUBTITLES = frozenset({"subrip", "srt", "ass", "ssa", "mov_text", "webvtt", "text"})


@dataclass(frozen=True, slots=True)
class AudioTrack:
    """Audio stream ``index`` (0-based among audio streams), codec, language, title,
    channels, the RFC 6381 string of the track as stored (:mod:`.codecs`; HLS
    re-encodes audio to AAC-LC), and the container's default flag."""

    index: int
    codec: str
    language: str | None
    title: str | None
    channels: int | None
    codecs: str | None = None
    default: bool = False


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
    (pixels, as stored), pixel format and bitrate (bits/s), the audio and subtitle
    tracks, the keyframes' times, the display rotation (degrees, a multiple of 90), in
    a file without a keyframe index the first keyframe's time (the file's clock: a
    recording cut mid-GOP shows nothing before it), and how long before its picture a
    keyframe is decoded (seconds; 0 without B-frames), and the RFC 6381 string of the
    video stream as stored (``avc1.4d401f``, ``hvc1.2.4.L120.90``; :mod:`.codecs`) or
    None when it cannot be read; ``duration_from_end``: the container names no duration,
    it was read from the file's last cluster (a live recording cut off); ``video_stream``
    the film video's stream index (:func:`.keyframes.film_video`)."""

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
    rotation: int = 0
    first_picture: float | None = None
    decode_lead: float = 0.0
    video_codecs: str | None = None
    duration_from_end: bool = False
    video_stream: int | None = None

    @property
    def video_map(self) -> str:
        """ffmpeg's ``-map`` of the film's video stream: its index (a cover picture kept
        as a track may come before it, and ``0:V:0`` skips only flagged covers)."""
        return f"0:{self.video_stream}" if self.video_stream is not None else "0:V:0"

    @property
    def upright_size(self) -> tuple[int | None, int | None]:
        """(width, height) as shown: swapped when the display matrix turns the picture
        by 90° or 270° (a phone's portrait video), as ffmpeg's transcode turns it."""
        if self.rotation % 180:
            return self.height, self.width
        return self.width, self.height

    def facts(self) -> MediaFacts:
        return MediaFacts(self.container, self.video_codec, tuple(a.codec for a in self.audio),
                          self.width, self.height, self.pix_fmt, self.duration_from_end)


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


#: FFmpeg's AV_DISPOSITION_DEFAULT (libavformat/avformat.h).
_DEFAULT = 0x1

#: Most keyframes kept (a 3-hour film with a keyframe every 2 s has 5,400).
_MAX_KEYFRAMES = 100_000

#: Demuxers (FFmpeg names) whose files carry a keyframe index: MP4's sync-sample table,
#: Matroska's Cues, AVI's idx1. Others (MPEG-TS, MPEG-PS, FLV, Ogg) have none; the
#: "index" PyAV builds for them while seeking lists random packets as keyframes, and a
#: copy segment cut there came out empty.
_INDEXED = ("mov", "matroska", "avi")


def _keyframes(c: av.container.InputContainer, video: av.VideoStream) -> tuple[tuple[float, ...], float]:
    """The video keyframes' times (seconds, the file's own clock: when their pictures
    are shown) from the container's index: MP4's sync-sample table, Matroska's Cues
    (read by one seek, a few range reads at the end of the file); and how long before
    its picture a keyframe is decoded (:func:`_decode_lead`). Empty and 0 when the
    container has no index."""
    if c.format.name.split(",")[0] not in _INDEXED:
        return (), 0.0
    try:
        if not len(video.index_entries) > 1 and c.duration:
            c.seek(c.duration // 2)  # Matroska loads its Cues on the first seek
        base = video.time_base
        if base is None:
            return (), 0.0
        stamps = sorted({e.timestamp for e in video.index_entries
                         if e.is_keyframe and e.timestamp is not None})
        if not stamps:
            return (), 0.0
        lead, decoding_times = _decode_lead(c, video, stamps[0])
        shift = lead if decoding_times else 0
        times = [float((t + shift) * base) for t in stamps]
    except (av.FFmpegError, OSError, ValueError):
        return (), 0.0
    return tuple(times)[:_MAX_KEYFRAMES], float(lead * base)


#: Packets read after the first keyframe to find the first decoding time (Matroska
#: leaves it out of the packets reordered before it: two or three with B-frames).
_LEAD_PACKETS = 16


def _decode_lead(c: av.container.InputContainer, video: av.VideoStream, first: int) -> tuple[int, bool]:
    """How long (``video``'s time base) a keyframe is decoded before its picture is
    shown, and whether the index's ``first`` keyframe time is a decoding time.

    With B-frames (x264's every preset but ultrafast) pictures are reordered: the first
    keyframe is decoded at -0.08 s and shown at 0, and so is every keyframe of a closed
    GOP, by the same reordering delay. MP4's index holds decoding times (so keyframe
    times must be shifted by it); Matroska's Cues hold the pictures' times. A stream
    copy cut at a keyframe stops in decoding order, so it must stop that long before
    the keyframe's picture (:meth:`.segments.Segments.copy_segment`). Read from the
    packets from the first keyframe: its decoding time, or (Matroska stores none for
    the packets reordered before a later one) the first packet's that has one, one
    frame per packet; 0 when that cannot be read."""
    c.seek(first, stream=video, backward=True)
    key: int | None = None
    frame = 0
    for i, packet in enumerate(c.demux(video)):
        if i >= _LEAD_PACKETS:
            break
        if packet.pts is None and packet.dts is None:
            continue  # the demuxer's flush packet at the end
        if key is None:
            if not packet.is_keyframe or packet.pts is None:
                return 0, False
            key = packet.pts
            frame = packet.duration or _frame_ticks(video)
            if packet.dts is not None:
                return max(0, key - packet.dts), packet.dts == first
            continue
        if packet.dts is not None:
            lead = key + i * frame - packet.dts
            return (lead, False) if frame and 0 <= lead else (0, False)
    return 0, False


def _frame_ticks(video: av.VideoStream) -> int:
    """One frame's duration in ``video``'s time base (0 when the rate is unknown)."""
    rate, base = video.average_rate or video.guessed_rate, video.time_base
    if not rate or base is None:
        return 0
    return round(1 / (rate * base))


def _codec(stream: av.stream.Stream) -> str:
    """FFmpeg's canonical codec name (``av1``, ``dts``, ``subrip``), not the decoder's
    (``libdav1d``, ``dca``, ``srt``): the names the decision and the clients use."""
    cc = stream.codec_context
    if cc is None:
        return "unknown"
    codec = getattr(cc, "codec", None)
    return str(getattr(codec, "canonical_name", None) or cc.name)


def _extradata(stream: av.stream.Stream) -> bytes | None:
    """The stream's codec configuration (avcC, hvcC, AudioSpecificConfig, or Annex B
    parameter sets), or None."""
    cc = stream.codec_context
    data = getattr(cc, "extradata", None) if cc is not None else None
    return bytes(data) if data else None


def _profile(stream: av.stream.Stream) -> str | None:
    """FFmpeg's profile name (``High``, ``LC``), or None."""
    try:
        profile = stream.profile
    except (AttributeError, ValueError):
        return None
    return str(profile) if profile else None


def _rotation(c: av.container.InputContainer, video: av.VideoStream) -> int:
    """The degrees the display matrix turns the picture (MP4/MOV, where phones write
    it), read from the first decoded frame; 0 elsewhere or when it cannot be read."""
    if not c.format.name.startswith("mov"):
        return 0
    try:
        frame = next(c.decode(video), None)
    except (av.FFmpegError, OSError, ValueError, ReelhouseError):
        return 0
    return round(frame.rotation / 90) * 90 % 360 if frame is not None else 0


def _duration_at_end(c: av.container.InputContainer, reader: SourceReader) -> float:
    """Seconds of a Matroska file whose header names no duration (a live recording cut
    off), from its last cluster (library/mkv_tail.py); 0 for other containers or when
    the tail does not tell."""
    if not c.format.name.startswith("matroska"):
        return 0.0
    timed = next((s for s in c.streams if s.time_base), None)
    tick = float(timed.time_base) if timed is not None and timed.time_base else 0.001
    return tail_duration(reader, tick, (c.start_time or 0) / 1_000_000) or 0.0


def probe_streams(source: Source, path: str, size: int, budget: int) -> FileStreams:
    """Read the header of ``path`` on ``source`` (at most ``budget`` bytes).

    Raises :class:`ProbeFailed` for damaged or non-media files, in words (``empty file
    (0 bytes)``, FFmpeg's reason without its errno and file name); source errors pass."""
    if size == 0:
        raise ProbeFailed("empty file (0 bytes)")
    raw = SourceReader(source, path, size, budget=budget)
    reader = FirstErrorOnly(raw)  # one error, not one per retry
    try:
        with av.open(reader, mode="r", options={"probesize": "5000000"}, metadata_errors="replace") as c:
            video = film_video(c)
            audio = tuple(
                AudioTrack(i, _codec(s), _lang(dict(s.metadata)),
                           s.metadata.get("title"), s.codec_context.channels or None,
                           audio_codec_string(_codec(s), _extradata(s), _profile(s)),
                           bool(int(s.disposition) & _DEFAULT))
                for i, s in enumerate(c.streams.audio))
            subs = []
            for i, s in enumerate(c.streams.subtitles):
                codec = _codec(s)
                forced = bool(s.disposition & av.stream.Disposition.forced) if hasattr(
                    av.stream, "Disposition") else False
                subs.append(SubtitleTrack(i, codec, _lang(dict(s.metadata)),
                                          s.metadata.get("title"), forced, codec in TEXT_SUBTITLES))
            if video is None and not audio:
                raise ProbeFailed("no audio or video stream found (damaged or not media)")
            vcc = video.codec_context if video is not None else None
            rotation = _rotation(c, video) if video is not None else 0
            keyframes, lead = _keyframes(c, video) if video is not None else ((), 0.0)
            first_picture = first_keyframe(c, video) if video is not None and not keyframes else None
            if reader.error is not None:  # FFmpeg took the failed read for the file's end
                raise reader.error
            container = _container(c.format.name, path)
            named = media_duration(c)
            at_end = 0.0 if named else _duration_at_end(c, raw)
            return FileStreams(
                container=container,
                duration=named or at_end,
                duration_from_end=at_end > 0,
                video_stream=video.index if video is not None else None,
                start_time=max(0.0, (c.start_time or 0) / 1_000_000),
                video_codec=_codec(video) if video is not None else None,
                width=(vcc.width or None) if vcc is not None else None,
                height=(vcc.height or None) if vcc is not None else None,
                pix_fmt=vcc.pix_fmt if vcc is not None else None,
                bitrate=(video.bit_rate or c.bit_rate or None) if video is not None else None,
                audio=audio, subtitles=tuple(subs), keyframes=keyframes, rotation=rotation,
                first_picture=first_picture, decode_lead=lead,
                video_codecs=video_codec_string(
                    _codec(video), _extradata(video), _profile(video),
                    getattr(vcc, "level", None)) if video is not None else None,
            )
    except ReelhouseError:
        raise
    except MEDIA_READ_ERRORS as exc:
        raise probe_failed(exc) from exc
