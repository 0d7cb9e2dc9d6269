"""How long a film lasts, from what its container and streams say (PyAV); shared by the
library's probe and HLS's, so the library, Jellyfin's ``RunTimeTicks``, the resume rule
and the HLS playlists agree.

The length is that of the audio and video, not of a subtitle track running past them
(an embedded .srt of another cut, 66 minutes on a 6-second film, made the library say
66 minutes while HLS listed 6 s), nor of a cover picture.
"""

from __future__ import annotations

import av

__all__ = ["media_duration"]

#: FFmpeg's AV_DISPOSITION_ATTACHED_PIC (libavformat/avformat.h).
_ATTACHED_PIC = 0x400


def _picture(stream: av.stream.Stream) -> bool:
    """A cover image (``attached_pic``: an MP4's poster, a Matroska cover attachment)."""
    return bool(int(stream.disposition) & _ATTACHED_PIC)


def media_duration(c: av.container.InputContainer) -> float:
    """Seconds of audio and video from the file's first timestamp (the longest stream's
    own duration); the container's when no stream says. A subtitle track running past
    the film no longer adds segments that hold nothing.

    Matroska's Segment Duration and the DURATION tags FFmpeg's muxer writes are end
    times on the segment's timeline, which starts at 0 (a recording that kept its
    broadcast clock begins 10 h in: read as lengths, its 8 s lasted 10 h); they count
    from the first timestamp when they lie past it (:func:`_from_start`)."""
    ends = []
    first = (c.start_time or 0) / 1_000_000
    matroska = c.format.name.startswith("matroska")
    for s in (*c.streams.video, *c.streams.audio):
        if _picture(s) or s.time_base is None:
            continue
        start = float((s.start_time or 0) * s.time_base) - first
        if s.duration:
            ends.append(start + float(s.duration * s.time_base))
        elif (tag := _tag_seconds(s.metadata.get("DURATION"))) is not None:
            # Matroska: the muxer's per-track DURATION tag
            ends.append(_from_start(tag, first) if matroska else start + tag)
    container = (c.duration or 0) / 1_000_000
    if matroska:
        container = _from_start(container, first)
    return min(container, max(ends)) if ends and container else container


def _from_start(end: float, first: float) -> float:
    """A Matroska end time (seconds on the segment's timeline) as seconds after the
    first timestamp ``first``; as it is when it does not lie past it (then it was a
    length: a muxer that writes lengths)."""
    return end - first if 0 < first < end else end


def _tag_seconds(value: str | None) -> float | None:
    """Seconds of a Matroska ``DURATION`` tag (``00:00:06.021000000``), or None."""
    try:
        h, m, sec = (value or "").split(":")
        return int(h) * 3600 + int(m) * 60 + float(sec)
    except ValueError:
        return None
