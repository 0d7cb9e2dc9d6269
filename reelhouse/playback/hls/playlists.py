"""HLS playlists as text (RFC 8216). Pure.

Media playlists are complete VOD playlists from the first request: every segment of
``segment_seconds`` is listed from the duration (the last one shorter), with
``#EXT-X-ENDLIST``, so a player knows the whole timeline before any segment exists.
Every URI carries ``?token=…`` because players do not pass a playlist's query on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import quote

from reelhouse.playback.hls.ladder import AUDIO_BITRATE, AUDIO_CODECS, Rendition

__all__ = ["AudioEntry", "SubtitleEntry", "keyframe_spans", "master_playlist", "media_playlist",
           "segment_count", "subtitle_playlist"]


@dataclass(frozen=True, slots=True)
class AudioEntry:
    """One alternate audio track: ``track`` name in URLs (``audio0``), language (ISO 639
    or ``None``), display name, default flag."""

    track: str
    language: str | None
    name: str
    default: bool


@dataclass(frozen=True, slots=True)
class SubtitleEntry:
    """One subtitle track: ``key`` in URLs (``e0`` embedded, ``x0`` sidecar), language,
    display name, forced flag."""

    key: str
    language: str | None
    name: str
    forced: bool = False


def _q(text: str) -> str:
    """A quoted-string attribute value (RFC 8216 §4.2: no double quote, CR or LF)."""
    return '"' + text.replace('"', "'").replace("\r", " ").replace("\n", " ") + '"'


def _uri(path: str, token: str) -> str:
    return f"{path}?token={quote(token, safe='')}"


#: A tail shorter than this (seconds) joins the last segment: container durations often
#: run a few milliseconds past the last frame, and an encoder makes no segment for them.
_MIN_TAIL = 0.25


def segment_count(duration: float, segment_seconds: float) -> int:
    """Segments of ``segment_seconds`` covering ``duration`` seconds (at least one; a
    tail under 0.25 s belongs to the last segment)."""
    return max(1, math.ceil((duration - _MIN_TAIL) / segment_seconds))


def keyframe_spans(keyframes: tuple[float, ...], start: float, duration: float,
                   segment_seconds: float) -> list[tuple[float, float]]:
    """Segments of a stream copy: ``(begin, end)`` in the file's clock (seconds), each
    beginning at a keyframe — the first keyframe at or after every ``segment_seconds``
    mark (a long GOP makes fewer, longer segments). Empty when ``keyframes`` is."""
    marks = [start + i * segment_seconds for i in range(segment_count(duration, segment_seconds))]
    begins: list[float] = []
    i = 0
    for mark in marks:
        while i < len(keyframes) and keyframes[i] < mark - 0.01:
            i += 1
        if i == len(keyframes):
            break
        if not begins or keyframes[i] > begins[-1]:
            begins.append(keyframes[i])
    end = start + duration
    begins = [b for b in begins if b < end - 0.05]
    return [(b, begins[j + 1] if j + 1 < len(begins) else end) for j, b in enumerate(begins)]


def master_playlist(renditions: list[Rendition], audio: list[AudioEntry],
                    subtitles: list[SubtitleEntry], token: str) -> str:
    """The master playlist: one ``EXT-X-STREAM-INF`` per rendition (BANDWIDTH, RESOLUTION,
    CODECS), an ``AUDIO`` group with one entry per audio track and a ``SUBTITLES`` group.
    Video renditions hold no audio; audio tracks are their own playlists. Without
    renditions (an audio-only file) the one variant is the default audio track's
    playlist (RFC 8216 §4.3.4.2: CODECS without RESOLUTION)."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if not renditions:
        return "\n".join(lines + _audio_only_variant(audio, subtitles, token)) + "\n"
    for a in audio:
        attrs = [f'TYPE=AUDIO,GROUP-ID="aud",NAME={_q(a.name)}']
        if a.language:
            attrs.append(f"LANGUAGE={_q(a.language)}")
        attrs.append(f"DEFAULT={'YES' if a.default else 'NO'},AUTOSELECT=YES,CHANNELS=\"2\"")
        attrs.append(f"URI={_q(_uri(a.track + '.m3u8', token))}")
        lines.append("#EXT-X-MEDIA:" + ",".join(attrs))
    lines += _subtitle_media(subtitles, token)
    for r in renditions:
        bandwidth = int((r.bitrate + (AUDIO_BITRATE if audio else 0)) * 1.1)
        codecs = r.codecs + (f",{AUDIO_CODECS}" if audio else "")
        attrs = [f"BANDWIDTH={bandwidth}", f"AVERAGE-BANDWIDTH={r.bitrate + (AUDIO_BITRATE if audio else 0)}",
                 f"RESOLUTION={r.width}x{r.height}", f"CODECS={_q(codecs)}"]
        if audio:
            attrs.append('AUDIO="aud"')
        if subtitles:
            attrs.append('SUBTITLES="subs"')
        attrs.append(f"NAME={_q(r.name)}")
        lines.append("#EXT-X-STREAM-INF:" + ",".join(attrs))
        lines.append(_uri(r.name + ".m3u8", token))
    return "\n".join(lines) + "\n"


def _audio_only_variant(audio: list[AudioEntry], subtitles: list[SubtitleEntry],
                        token: str) -> list[str]:
    main = next((a for a in audio if a.default), audio[0] if audio else None)
    if main is None:
        return []
    lines = _subtitle_media(subtitles, token)
    attrs = [f"BANDWIDTH={int(AUDIO_BITRATE * 1.1)}", f"AVERAGE-BANDWIDTH={AUDIO_BITRATE}",
             f"CODECS={_q(AUDIO_CODECS)}"]
    if subtitles:
        attrs.append('SUBTITLES="subs"')
    return [*lines, "#EXT-X-STREAM-INF:" + ",".join(attrs), _uri(main.track + ".m3u8", token)]


def _subtitle_media(subtitles: list[SubtitleEntry], token: str) -> list[str]:
    lines = []
    for s in subtitles:
        attrs = [f'TYPE=SUBTITLES,GROUP-ID="subs",NAME={_q(s.name)}']
        if s.language:
            attrs.append(f"LANGUAGE={_q(s.language)}")
        attrs.append(f"DEFAULT=NO,AUTOSELECT={'YES' if s.forced else 'NO'},"
                     f"FORCED={'YES' if s.forced else 'NO'}")
        attrs.append(f"URI={_q(_uri('subs/' + s.key + '.m3u8', token))}")
        lines.append("#EXT-X-MEDIA:" + ",".join(attrs))
    return lines


def media_playlist(track: str, duration: float, segment_seconds: float, token: str,
                   lengths: list[float] | None = None) -> str:
    """A complete VOD media playlist for ``track``: segment ``n`` is ``{track}/{n}.ts``
    and covers ``[n·segment_seconds, (n+1)·segment_seconds)`` of the source, or, with
    ``lengths`` (a stream copy cut at keyframes), those durations in seconds."""
    if lengths:
        return _playlist_of(track, lengths, token)
    count = segment_count(duration, segment_seconds)
    target = math.ceil(max(segment_seconds, duration - (count - 1) * segment_seconds))
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", f"#EXT-X-TARGETDURATION:{target}",
             "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for n in range(count):
        length = min(segment_seconds, duration - n * segment_seconds)
        if n == count - 1:
            length = duration - n * segment_seconds
        lines.append(f"#EXTINF:{max(length, 0.001):.3f},")
        lines.append(_uri(f"{track}/{n}.ts", token))
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def _playlist_of(track: str, lengths: list[float], token: str) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", f"#EXT-X-TARGETDURATION:{math.ceil(max(lengths))}",
             "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for n, length in enumerate(lengths):
        lines.append(f"#EXTINF:{max(length, 0.001):.3f},")
        lines.append(_uri(f"{track}/{n}.ts", token))
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def subtitle_playlist(key: str, duration: float, token: str) -> str:
    """A one-segment WebVTT playlist (the whole track as ``{key}.vtt``)."""
    target = max(1, math.ceil(duration))
    return "\n".join([
        "#EXTM3U", "#EXT-X-VERSION:6", f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD",
        f"#EXTINF:{max(duration, 0.001):.3f},", _uri(f"{key}.vtt", token), "#EXT-X-ENDLIST",
    ]) + "\n"
