"""The video keyframe at or before a time, in a file without a keyframe index.

An encoder that starts at segment ``n`` seeks the input to ``n·L`` seconds. In MP4,
Matroska or AVI ffmpeg's seek uses the file's index and lands on the keyframe before.
MPEG-TS, MPEG-PS, FLV and Ogg have no index: FFmpeg's generic seek (a binary search on
packet timestamps, ``ff_gen_search``) lands on *any* packet near the target, the
decoder drops everything up to the next keyframe, and with a long GOP (a keyframe every
10 s, OBS's and many encoders' default of 250 frames) the segment began up to a GOP
late: segment 3 held 20–24 s instead of 12–16 s, and the player's timeline broke.

:func:`keyframe_before` reads the packets (no decoding) of a short window before the
target, and of longer ones while it finds no keyframe; the encoder then decodes from
there and drops the frames before ``n·L`` (see :func:`.ffmpeg.video_command`).
"""

from __future__ import annotations

import io
import logging
from typing import BinaryIO

import av

from reelhouse.errors import ReelhouseError
from reelhouse.library.probe_normalise import still_covers
from reelhouse.sources.reader import FirstErrorOnly

__all__ = ["WINDOWS", "film_video", "first_keyframe", "keyframe_before"]

log = logging.getLogger(__name__)

#: Seconds looked back from the target, one window after the other until a keyframe
#: turns up (a GOP longer than the last is not looked for: the seek stays as it was).
WINDOWS = (6.0, 24.0, 64.0)

#: FFmpeg's AV_DISPOSITION_ATTACHED_PIC (libavformat/avformat.h).
_ATTACHED_PIC = 0x400


def film_video(c: av.container.InputContainer) -> av.VideoStream | None:
    """The first video stream that is not a cover picture (``attached_pic``: an MP4's
    ``covr``, a Matroska cover attachment; or a still image beside a moving video, a
    cover kept as a Matroska track: library/probe_normalise.py ``still_covers``), or
    None. A cover may come first: an MP4 whose tags precede its tracks numbers it
    stream 0."""
    flagged = [v for v in c.streams.video if not int(v.disposition) & _ATTACHED_PIC]
    covers = still_covers([(v.index, v.codec_context.name if v.codec_context is not None else None)
                           for v in flagged])
    return next((v for v in flagged if v.index not in covers), None)


def keyframe_before(file: str | BinaryIO | io.RawIOBase, at: float,
                    windows: tuple[float, ...] = WINDOWS) -> float | None:
    """The presentation time (seconds, the file's own clock, as ``at``) of the last
    video keyframe at or before ``at`` in ``file`` (a path, or a seekable reader such as
    :class:`~reelhouse.sources.reader.SourceReader`), or ``None`` when there is none
    within the last window or the file cannot be read (the caller then seeks as
    before). Reads the header and the packets of the windows only."""
    if not isinstance(file, str):  # a failed read is one error, not one printed per retry
        file = FirstErrorOnly(file)  # type: ignore[arg-type]
    try:
        with av.open(file, mode="r", options={"probesize": "1000000", "analyzeduration": "1000000"},
                     metadata_errors="replace") as c:  # tags that are not UTF-8 (library/probe.py)
            video = film_video(c)
            if video is None or video.time_base is None:
                return None
            base = video.time_base
            first = max(0.0, (c.start_time or 0) / 1_000_000)
            for back in windows:
                begin = max(0.0, at - back)
                c.seek(int(begin / base), stream=video, backward=True)
                found: float | None = None
                for packet in c.demux(video):
                    if packet.dts is None and packet.pts is None:
                        continue  # the demuxer's flush packet at the end
                    dts = packet.dts if packet.dts is not None else packet.pts
                    if dts is not None and float(dts * base) > at:
                        break
                    if packet.is_keyframe and packet.pts is not None and float(packet.pts * base) <= at + 1e-3:
                        found = float(packet.pts * base)
                if found is not None:
                    return found
                if begin <= first:
                    return None
    except (av.FFmpegError, OSError, ValueError, ReelhouseError) as exc:
        log.debug("keyframe search at %.3f s failed: %s", at, exc)
    return None


def first_keyframe(c: av.container.InputContainer, video: av.VideoStream,
                   within: float = 64.0) -> float | None:
    """The presentation time (seconds, the file's clock) of the first keyframe of
    ``video`` in the open container ``c`` (read from where it is: the start, right
    after opening), looking at most ``within`` seconds past the first packet; None
    when there is none or the packets cannot be read. A recording cut mid-GOP has no
    decodable picture before it."""
    base = video.time_base
    if base is None:
        return None
    first: float | None = None
    try:
        for packet in c.demux(video):
            stamp = packet.pts if packet.pts is not None else packet.dts
            if stamp is None:
                continue
            seconds = float(stamp * base)
            first = seconds if first is None else min(first, seconds)
            if packet.is_keyframe:
                return seconds
            if seconds - first > within:
                return None
    except (av.FFmpegError, OSError, ValueError, ReelhouseError):
        return None
    return None
