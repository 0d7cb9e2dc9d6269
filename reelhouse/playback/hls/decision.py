"""The playback decision: direct play, remux into HLS, or transcode — a pure function.

Inputs are two small value objects: :class:`MediaFacts` (what the file holds: container
and codecs as FFmpeg names, built from a ``media_files`` row or from per-stream rows)
and :class:`ClientCaps` (what the browser said it can decode: ``canPlayType`` for whole
files, ``MediaSource.isTypeSupported`` for HLS through hls.js). No I/O, no clock.

Rules, first match wins:

1. **direct** — the client plays the container and every codec in it: the file's bytes
   go out as they are (HTTP Range). Not with several audio tracks when the video can be
   copied into HLS: ``<video>`` plays only the first (Chromium and Firefox offer no
   ``audioTracks``), HLS lets the viewer switch — a remux. Nor when the file names no
   duration (:attr:`MediaFacts.duration_from_end`: a live recording cut off, or a WebM
   a browser's MediaRecorder or OBS wrote, whose length only its last cluster tells)
   and the client has HLS: Chromium plays it with an endless timeline (no seek bar)
   and a seek ends in a decode error, HLS seeks — a remux when the video can be copied
   (or there is none), else a transcode (VP9, AV1: MPEG-TS does not carry them; a
   seek bar is worth the encode for a file the viewer could not move in at all).
2. **remux** — the client can decode the video codec inside HLS (MPEG-TS carries H.264
   and HEVC, RFC 8216 §3.2), but not the container, or not the audio: the video is copied
   into HLS segments, the audio becomes AAC (cheap).
3. **transcode** — anything else: the video is re-encoded to H.264 renditions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["HLS_COPY_VIDEO", "PIX_10BIT", "ClientCaps", "Decision", "MediaFacts", "Mode", "decide"]

Mode = Literal["direct", "remux", "transcode"]

#: Video codecs that may be copied into MPEG-TS HLS segments (RFC 8216 §3.2; HEVC in TS
#: is what Apple's HLS authoring spec allows besides H.264).
HLS_COPY_VIDEO = frozenset({"h264", "hevc"})

#: Pixel formats a browser decodes (8-bit 4:2:0); 10-bit H.264 (High 10) is not.
_PLAYABLE_PIX = frozenset({"yuv420p", "yuvj420p", "nv12"})
#: 10-bit 4:2:0 (HEVC Main 10, VP9 profile 2, AV1 Main 10-bit): played by the clients
#: that say so for the codec (:attr:`ClientCaps.video_10bit`: Safari and Apple TV,
#: Android TV boxes and TVs with HEVC Main 10 decoders).
PIX_10BIT = frozenset({"yuv420p10le", "yuv420p10be", "p010le"})


@dataclass(frozen=True, slots=True)
class MediaFacts:
    """What a file holds. Codec and container names are FFmpeg's (``h264``, ``hevc``,
    ``aac``, ``ac3``; ``mp4``, ``mkv``, ``webm``); ``height`` in pixels; ``pix_fmt``
    ``None`` when unknown (then assumed playable); ``duration_from_end``: the container
    names no duration, it was read from the file's end (library/mkv_tail.py)."""

    container: str | None
    video_codec: str | None
    audio_codecs: tuple[str, ...] = ()
    width: int | None = None
    height: int | None = None
    pix_fmt: str | None = None
    duration_from_end: bool = False


@dataclass(frozen=True, slots=True)
class ClientCaps:
    """What the client can decode, in FFmpeg names: ``containers`` it plays as whole
    files (``<video src>``), ``video``/``audio`` codecs it decodes (in those containers
    and, with ``hls``, in HLS through Media Source Extensions or natively) at 8 bits
    4:2:0, and ``video_10bit`` those of them it decodes at 10 bits 4:2:0 too
    (:data:`PIX_10BIT`; ``hevc``: HEVC Main 10)."""

    containers: frozenset[str] = field(default_factory=frozenset)
    video: frozenset[str] = field(default_factory=frozenset)
    audio: frozenset[str] = field(default_factory=frozenset)
    hls: bool = True
    video_10bit: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Decision:
    """``mode`` and a sentence saying why; ``copy_video`` when the video stream can be
    copied into HLS (a "copy" rendition besides the transcoded ones)."""

    mode: Mode
    reason: str
    copy_video: bool


def _names(values: tuple[str, ...] | frozenset[str]) -> str:
    return ", ".join(sorted(set(values))) or "none"


def decide(facts: MediaFacts, caps: ClientCaps) -> Decision:
    """Choose how ``facts`` plays on a client with ``caps`` (rules in the module doc)."""
    video = facts.video_codec
    pix_ok = (facts.pix_fmt is None or facts.pix_fmt in _PLAYABLE_PIX
              or (facts.pix_fmt in PIX_10BIT and video in caps.video_10bit))
    video_ok = video is None or (video in caps.video and pix_ok)
    bad_audio = tuple(a for a in facts.audio_codecs if a not in caps.audio)
    container_ok = facts.container is not None and facts.container in caps.containers
    copy_video = video is not None and video in HLS_COPY_VIDEO and video_ok and caps.hls
    if video is None and not facts.audio_codecs:
        return Decision("transcode" if caps.hls else "direct",
                        "the file's streams are unknown (not probed yet)", False)
    if container_ok and video_ok and not bad_audio:
        if len(facts.audio_codecs) > 1 and copy_video:
            return Decision("remux", f"{len(facts.audio_codecs)} audio tracks: a browser plays "
                            f"only a file's first; the {video} video is copied into HLS, where "
                            "the viewer chooses the track", True)
        if facts.duration_from_end and caps.hls:
            live = f"the {facts.container} file names no duration (a live recording): a browser cannot seek in it"
            if copy_video:
                return Decision("remux", f"{live}; the {video} video is copied into HLS", True)
            if video is None:
                return Decision("remux", f"{live}; audio only, converted to AAC in HLS", False)
            return Decision("transcode", f"{live}, and {video} video cannot be carried in HLS segments: "
                            "re-encoded to H.264 in HLS, where it seeks", False)
        return Decision("direct", f"the client plays {facts.container} with "
                        f"{_names(tuple(filter(None, (video,))) + facts.audio_codecs)}", copy_video)
    if not caps.hls:
        what = (f"container {facts.container}" if not container_ok else
                f"video {video}" if not video_ok else f"audio {_names(bad_audio)}")
        return Decision("direct", f"the client cannot play {what} and has no HLS; "
                        "trying the file as it is", False)
    if copy_video:
        if not container_ok and not bad_audio:
            why = f"the client cannot play the {facts.container or 'unknown'} container"
        elif bad_audio:
            why = f"the client cannot decode audio {_names(bad_audio)} (converted to AAC)"
        else:
            why = "the client plays the codecs but not this file as a whole"
        return Decision("remux", f"{why}; the {video} video is copied into HLS", True)
    if video is None:
        return Decision("remux", f"audio only; the client cannot play it as it is "
                        f"({facts.container}, {_names(facts.audio_codecs)}): converted to AAC", False)
    if not pix_ok:
        why = f"the client cannot decode {video} in {facts.pix_fmt}"
    elif video not in caps.video:
        why = f"the client cannot decode {video} video"
    else:
        why = f"{video} video cannot be carried in HLS segments"
    return Decision("transcode", f"{why}; re-encoded to H.264", False)
