"""The renditions of a file: 360p, 720p and 1080p H.264 no taller than the source, and a
"copy" rendition when the video stream can be copied. Pure.

Bitrates follow Apple's HLS authoring specification ladder (recommended average video
bitrates: 360p ≈ 0.8 Mbit/s, 720p ≈ 3 Mbit/s, 1080p ≈ 5 Mbit/s); audio is AAC-LC stereo
at 128 kbit/s.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AUDIO_BITRATE", "AUDIO_CODECS", "Limit", "Rendition", "capped", "ladder"]

AUDIO_BITRATE = 128_000
#: RFC 6381 codec string of AAC-LC.
AUDIO_CODECS = "mp4a.40.2"

#: (height, video bits/s, RFC 6381 codec: H.264 High profile, level for that size)
_STEPS = ((360, 800_000, "avc1.64001e"), (720, 2_800_000, "avc1.64001f"),
          (1080, 5_000_000, "avc1.640028"))

#: The copy rendition's codecs when the stream's own could not be read: the highest
#: profile and level a browser commonly takes (H.264 High 4.0, HEVC Main 4.0).
_COPY_CODECS = {"h264": "avc1.640028", "hevc": "hvc1.1.6.L120.90"}


@dataclass(frozen=True, slots=True)
class Rendition:
    """One video rendition: ``name`` (``"720p"``, ``"copy"``), size in pixels, video
    bits/s (the source's for copy, an estimate), RFC 6381 codecs, ``copy`` flag."""

    name: str
    width: int
    height: int
    bitrate: int
    codecs: str
    copy: bool = False


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def ladder(width: int | None, height: int | None, video_codec: str | None,
           copy_video: bool, source_bitrate: int | None = None,
           copy_codecs: str | None = None) -> list[Rendition]:
    """The renditions, lowest first. Steps taller than the source are left out; a source
    smaller than 360p gets one rendition at its own size. Unknown sizes count as 1080p
    16:9. With ``copy_video`` the copy rendition comes last (best quality), its CODECS
    ``copy_codecs`` (the stream's own RFC 6381 string, :mod:`.codecs`) or, unknown, a
    common profile of its codec."""
    src_w, src_h = (width or 1920), (height or 1080)
    out: list[Rendition] = []
    for step_h, rate, codecs in _STEPS:
        if step_h > src_h:
            continue
        out.append(Rendition(f"{step_h}p", _even(src_w * step_h / src_h), step_h, rate, codecs))
    if not out:
        h = _even(src_h)
        out.append(Rendition(f"{h}p", _even(src_w), h, _STEPS[0][1], _STEPS[0][2]))
    if copy_video and video_codec in _COPY_CODECS:
        out.append(Rendition("copy", src_w, src_h, source_bitrate or _STEPS[-1][1],
                             copy_codecs or _COPY_CODECS[video_codec], copy=True))
    return out


@dataclass(frozen=True, slots=True)
class Limit:
    """What a client says it takes (None: no limit): frame size in pixels, and bits/s
    for the whole stream (``max_bitrate``: video and audio, as Jellyfin's
    MaxStreamingBitrate) or its video alone (``max_video_bitrate``: VideoBitrate)."""

    max_width: int | None = None
    max_height: int | None = None
    max_bitrate: int | None = None
    max_video_bitrate: int | None = None

    def takes(self, r: Rendition) -> bool:
        """Whether rendition ``r`` is within every limit."""
        return ((self.max_width is None or r.width <= self.max_width)
                and (self.max_height is None or r.height <= self.max_height)
                and (self.max_bitrate is None or r.bitrate + AUDIO_BITRATE <= self.max_bitrate)
                and (self.max_video_bitrate is None or r.bitrate <= self.max_video_bitrate))


def capped(renditions: list[Rendition], limit: Limit | None) -> list[Rendition]:
    """The renditions within ``limit`` (in order); when none is, the lowest transcoded
    one (the ladder's steps are fixed sizes: the smallest is the best offer for a
    client below them all, as a Jellyfin server lowers a transcode to its floor)."""
    if limit is None:
        return renditions
    kept = [r for r in renditions if limit.takes(r)]
    if kept or not renditions:
        return kept
    lowest = [r for r in renditions if not r.copy]
    return lowest[:1] or renditions[:1]
