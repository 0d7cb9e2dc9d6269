"""Technical metadata with PyAV, read through a :class:`SourceReader` so an FTP file is
read by ranges, never downloaded whole.

What a probe costs (bytes and range reads, measured by benchmarks/probe_bytes.py):
FFmpeg's demuxers read the container header, seek where it points (an MP4 ``moov`` at
the end, Matroska ``SeekHead`` targets) and then ``avformat_find_stream_info`` reads
packets until every stream's parameters are known. ``probesize`` caps those packet
bytes (1 MB here, FFmpeg's default is 5 MB) and ``analyzeduration`` their duration
(2 s instead of 5 s); parameters that the header already carries (MP4 ``avcC``/
``hvcC``, Matroska ``CodecPrivate``) need no packets at all. The reader fetches 64 KiB
after a seek and doubles its read-ahead while reading in a row, so a moov-at-end MP4
costs a few small range reads at both ends of the file.

After FFmpeg, a cheap integrity check looks at the container's own sizes (MP4 top-level
boxes, the Matroska ``Segment`` size): a file shorter than its container says is
reported as truncated, which FFmpeg alone accepts silently.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from typing import Any

import av
from av.audio.stream import AudioStream
from av.stream import Stream
from av.video.stream import VideoStream

from reelhouse.errors import ProbeFailed, ReelhouseError
from reelhouse.library.durations import media_duration
from reelhouse.library.mkv_tail import tail_duration, vint
from reelhouse.library.probe_normalise import (
    DISPOSITION_ATTACHED_PIC,
    StreamFacts,
    StreamInfo,
    dolby_vision_in,
    normalise_streams,
    still_covers,
)
from reelhouse.sources.base import Source
from reelhouse.sources.reader import FirstErrorOnly, SourceReader

__all__ = ["MEDIA_READ_ERRORS", "METADATA_ERRORS", "PROBE_OPTIONS", "PROBE_SLOW_START", "ProbeResult", "probe",
           "probe_failed"]

log = logging.getLogger(__name__)

# Demuxer names (FFmpeg's comma lists) → the container name users know.
_CONTAINERS = {
    "mov,mp4,m4a,3gp,3g2,mj2": "mp4",
    "matroska,webm": "mkv",
}

#: How PyAV decodes tags that are not UTF-8 (an old AVI's latin-1 title, a track named
#: by a Windows tool): with U+FFFD, as Python's "replace" does. PyAV's default,
#: "strict", raised UnicodeDecodeError from ``av.open`` and a film that plays was
#: "cannot be played".
METADATA_ERRORS = "replace"

#: FFmpeg format options of every probe: ``probesize`` in bytes, ``analyzeduration``
#: in microseconds (libavformat/options_table.h).
PROBE_OPTIONS = {"probesize": "1000000", "analyzeduration": "2000000"}

#: The reader's slow start for probes (bytes; sources/reader.py): FFmpeg usually needs a
#: few hundred KiB of packets after the header, so read-ahead grows past two blocks only
#: after a run this long (a big MP4 ``moov``). Took a 15 s 720p MKV's probe from 448 to
#: 320 KiB at the same 3 range reads (benchmarks/scan_bytes.py).
PROBE_SLOW_START = 1024 * 1024

_EBML = b"\x1a\x45\xdf\xa3"
# Top-level ISO BMFF box types (ISO/IEC 14496-12 Table 1): anything else is junk
# appended to the file, which the size check ignores.
_MP4_BOXES = {b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid",
              b"moof", b"mfra", b"meta", b"pdin", b"sidx", b"ssix", b"emsg", b"prft",
              b"jP  ", b"pnot", b"PICT"}
_SEGMENT = b"\x18\x53\x80\x67"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """Container, duration (seconds), overall bitrate (bits/s), the streams, and the
    first video/audio stream's codecs (FFmpeg's canonical names: ``av1``, not the
    decoder's ``libdav1d``) and size (pixels) as a summary. ``bytes_read`` and
    ``range_reads`` are what the probe cost."""

    container: str | None
    duration: float | None
    video_codec: str | None
    audio_codec: str | None
    width: int | None
    height: int | None
    bitrate: int | None
    bytes_read: int
    streams: tuple[StreamInfo, ...] = ()
    range_reads: int = 0


#: FFmpeg's raw elementary-stream demuxers: they have no header to check, so their probes
#: accept loose patterns (random bytes read as ``h263`` in 7 of 300 tries of 300 KB).
_RAW_STREAMS = frozenset({"h261", "h263", "h264", "hevc", "vvc", "mjpeg", "mpegvideo", "m4v",
                          "cavsvideo", "dirac", "vc1", "avs2", "avs3", "ingenient", "obu"})
#: Extensions of containers with a header of their own: a file so named that FFmpeg can
#: only read as a raw stream is not a film (MPEG-PS/TS and ``.m4v`` are left out: raw
#: elementary streams are really sold under those names).
_HEADED = frozenset({".mkv", ".mk3d", ".webm", ".mp4", ".mov", ".avi", ".wmv", ".asf",
                     ".flv", ".ogv", ".3gp"})


def _guessed_raw(name: str, path: str) -> bool:
    """True when FFmpeg read ``path`` only as a raw elementary stream though its name
    says it has a container header (then it is random data, not a film)."""
    return name in _RAW_STREAMS and os.path.splitext(path)[1].lower() in _HEADED


def _container(name: str, path: str) -> str:
    if name == "matroska,webm":
        return "webm" if path.lower().endswith(".webm") else "mkv"
    return _CONTAINERS.get(name, name.split(",")[0])


def _rate(stream: Stream) -> float | None:
    for rate in (stream.average_rate, stream.guessed_rate):
        if rate is not None and rate > 0:
            return float(rate)
    return None


def _attr(obj: object, name: str) -> Any:
    """``obj.name``, or None where PyAV has no such attribute for this kind of stream
    (attachments have no codec context, data streams no decoder …)."""
    try:
        return getattr(obj, name, None)
    except (ValueError, TypeError, AttributeError):
        return None


def _ratio(value: object) -> tuple[int, int] | None:
    """A PyAV ``Fraction`` as (numerator, denominator), None for none."""
    num, den = getattr(value, "numerator", None), getattr(value, "denominator", None)
    return (num, den) if isinstance(num, int) and isinstance(den, int) else None


def _facts(stream: Stream, dolby_vision: bool) -> StreamFacts:
    """Copy what PyAV says about ``stream`` (see :class:`StreamFacts`)."""
    cc = _attr(stream, "codec_context")
    codec = _attr(cc, "codec")
    tag = _attr(stream, "codec_tag")
    facts = StreamFacts(
        index=stream.index,
        type=str(_attr(stream, "type") or "data"),
        codec=_attr(codec, "canonical_name") or _attr(cc, "name"),
        profile=_attr(stream, "profile"),
        codec_tag=tag.strip("\x00 ") or None if isinstance(tag, str) else None,
        language=_attr(stream, "language"),
        metadata=dict(_attr(stream, "metadata") or {}),
        disposition=int(_attr(stream, "disposition") or 0),
        text_sub=_attr(codec, "text_sub"),
        bitmap_sub=_attr(codec, "bitmap_sub"),
    )
    if isinstance(stream, VideoStream):
        vc = stream.codec_context
        fmt = vc.format
        return replace(
            facts,
            level=_attr(vc, "level"),
            width=vc.width,
            height=vc.height,
            fps=_rate(stream),
            pix_fmt=fmt.name if fmt is not None else None,
            bit_depth=fmt.components[0].bits if fmt is not None and fmt.components else None,
            color_primaries=int(vc.color_primaries),
            color_trc=int(vc.color_trc),
            dolby_vision=dolby_vision,
            sar=_ratio(_attr(stream, "sample_aspect_ratio") or _attr(vc, "sample_aspect_ratio")),
        )
    if isinstance(stream, AudioStream):
        ac = stream.codec_context
        return replace(
            facts,
            channels=ac.channels,
            channel_layout=ac.layout.name if ac.layout is not None else None,
            sample_rate=ac.sample_rate,
        )
    return facts


def _safe_facts(stream: Stream, dolby_vision: bool) -> StreamFacts:
    """:func:`_facts`, or only index and type when PyAV cannot describe the stream."""
    try:
        return _facts(stream, dolby_vision)
    except (AttributeError, TypeError, ValueError):
        return StreamFacts(index=stream.index, type=str(_attr(stream, "type") or "data"))


def _with_rotation(facts: list[StreamFacts], container: av.container.InputContainer, video: VideoStream,
                   file: FirstErrorOnly) -> list[StreamFacts]:
    """``facts`` with the video's display rotation (MP4/MOV, where phones write a
    display matrix): PyAV reads it from the first decoded frame only. A decode that
    fails (a damaged packet, the budget) leaves the rotation unknown (0), never fails
    the probe: a read error it met is forgotten."""
    before = file.error
    try:
        frame = next(container.decode(video), None)
        degrees = int(frame.rotation) if frame is not None else 0
    except (av.FFmpegError, OSError, ValueError, ReelhouseError):
        degrees = 0
    if before is None:
        file.error = None
    if not degrees:
        return facts
    return [replace(f, rotation=degrees) if f.index == video.index else f for f in facts]


def _mp4_truncated(reader: SourceReader) -> int | None:
    """The size the top-level MP4 boxes need when it is more than the file's, else None
    (ISO/IEC 14496-12 §4.2: 32-bit size, 1 → 64-bit size follows, 0 → to the end)."""
    offset = 0
    for _ in range(256):
        if offset + 8 > reader.size:
            return None
        reader.seek(offset)
        head = reader.read(16)
        size = int.from_bytes(head[:4], "big")
        if size == 1 and len(head) == 16:
            size = int.from_bytes(head[8:16], "big")
        if size == 0:
            return None
        if size < 8 or head[4:8] not in _MP4_BOXES:
            return None  # not a box: trailing junk, leave it to FFmpeg
        if offset + size > reader.size:
            return offset + size
        offset += size
    return None


def _mkv_truncated(reader: SourceReader) -> int | None:
    """The end of the Matroska ``Segment`` when it lies past the file's end, else None
    (RFC 8794 §4 for EBML sizes; RFC 9559 §5.1 for the Segment)."""
    reader.seek(0)
    head = reader.read(256)
    if not head.startswith(_EBML):
        return None
    size = vint(head, 4)
    if size is None:
        return None
    pos = 4 + size[1] + size[0]
    if head[pos : pos + 4] != _SEGMENT:
        return None
    seg = vint(head, pos + 4)
    if seg is None or seg[2]:  # unknown size (live streams): nothing to check
        return None
    end = pos + 4 + seg[1] + seg[0]
    return end if end > reader.size else None


def _check_truncation(reader: SourceReader, container: str | None) -> None:
    """Raise :class:`ProbeFailed` ("damaged: the file is truncated …") when the file of
    ``reader`` is shorter than its ``container`` (``mp4``, ``mkv``, ``webm``; others are
    not checked) says: its top-level MP4 boxes or Matroska ``Segment`` end past the
    file's end. FFmpeg reads such a file without a word."""
    check = {"mp4": _mp4_truncated, "mkv": _mkv_truncated, "webm": _mkv_truncated}.get(container or "")
    needed = check(reader) if check is not None else None
    if needed is not None:
        raise ProbeFailed(f"damaged: the file is truncated ({reader.size} bytes, its container needs {needed})")


#: What reading a file as media raises when the file is not (or not wholly) media:
#: PyAV's errors, and the reader's end of data or bad values (:func:`probe_failed`).
MEDIA_READ_ERRORS = (av.FFmpegError, OSError, ValueError, EOFError)


def probe_failed(exc: BaseException) -> ProbeFailed:
    """One of :data:`MEDIA_READ_ERRORS` as :class:`ProbeFailed`, in words: FFmpeg's
    reason (its strerror, without errno and file name: "not a readable media file:
    Invalid data found when processing input"), else "could not read media header:
    …". The one wording of :func:`probe` and of HLS's ``probe_streams``
    (playback/hls/facts.py)."""
    if isinstance(exc, av.FFmpegError):
        reason = getattr(exc, "strerror", None) or str(exc)
        return ProbeFailed(f"not a readable media file: {reason}")
    return ProbeFailed(f"could not read media header: {exc}")


def probe(source: Source, path: str, size: int, budget: int = 32 * 1024 * 1024,
          reader: SourceReader | None = None) -> ProbeResult:
    """Read the container header of ``path`` (``size`` bytes) and return its technical
    metadata, reading at most ``budget`` bytes. ``reader``: a SourceReader of that file
    to read through (the scan shares one with the fingerprint, so no block is fetched
    twice); ``bytes_read`` then counts only what this probe fetched.

    Raises :class:`ProbeFailed` for damaged (truncated) or non-media files and when more
    than ``budget`` bytes would be read; source errors (``SourceUnavailable`` …) pass
    through.
    """
    dolby = False

    def look(offset: int, data: bytes) -> None:
        nonlocal dolby
        dolby = dolby or dolby_vision_in(data)

    if reader is None:
        reader = SourceReader(source, path, size, slow_start=PROBE_SLOW_START)
    start_bytes, start_reads = reader.bytes_read, reader.range_reads
    reader.budget, reader.on_fetch = start_bytes + budget, look
    file = FirstErrorOnly(reader)  # a failed read is one error, not one printed per retry
    try:
        with av.open(file, mode="r", options=PROBE_OPTIONS, metadata_errors=METADATA_ERRORS) as container:
            flagged = [s for s in container.streams.video if not int(s.disposition) & DISPOSITION_ATTACHED_PIC]
            covers = still_covers([(s.index, _attr(_attr(_attr(s, "codec_context"), "codec"), "canonical_name"))
                                   for s in flagged])
            video = next((s for s in flagged if s.index not in covers), None)
            facts = [_safe_facts(s, dolby and s is video) for s in container.streams]
            if video is not None and container.format.name.startswith("mov"):
                facts = _with_rotation(facts, container, video, file)
            streams = tuple(normalise_streams(facts))
            first_video = next((s for s in streams if s.type == "video"), None)
            first_audio = next((s for s in streams if s.type == "audio"), None)
            if first_video is None and first_audio is None:
                raise ProbeFailed("no audio or video stream found (damaged or not media)")
            if _guessed_raw(container.format.name, path):
                raise ProbeFailed(f"no {os.path.splitext(path)[1]} container header found "
                                  f"(damaged or not media)")
            name = _container(container.format.name, path)
            timed = next((s for s in container.streams if s.time_base), None)
            tick = float(timed.time_base) if timed is not None and timed.time_base else 0.001
            start = (container.start_time or 0) / 1_000_000
            result = ProbeResult(
                container=name,
                duration=media_duration(container) or None,
                video_codec=first_video.codec if first_video is not None else None,
                audio_codec=first_audio.codec if first_audio is not None else None,
                width=first_video.width if first_video is not None else None,
                height=first_video.height if first_video is not None else None,
                bitrate=container.bit_rate or None,
                bytes_read=0,
                streams=streams,
            )
        if file.error is not None:  # FFmpeg took the failed read for the file's end
            raise file.error
        _check_truncation(reader, name)
        if result.duration is None and name in ("mkv", "webm"):
            seconds = tail_duration(reader, tick, start)
            if seconds is not None:
                result = replace(result, duration=seconds,
                                 bitrate=result.bitrate or round(size * 8 / seconds))
    except ReelhouseError:
        raise
    except MEDIA_READ_ERRORS as exc:
        raise probe_failed(exc) from exc
    except Exception as exc:  # a damaged file must never stop a scan
        log.warning("unexpected error probing %r", path, exc_info=True)
        raise ProbeFailed(f"could not read media header: {type(exc).__name__}: {exc}") from exc
    finally:
        reader.budget, reader.on_fetch = None, None
    return replace(result, bytes_read=reader.bytes_read - start_bytes,
                   range_reads=reader.range_reads - start_reads)
