"""HLS segments of a media file: served from the prepared renditions, the on-disk
cache, or made now (an encoder for the renditions and audio tracks, one short stream
copy per segment for the copy rendition); and "prepare for streaming", which makes
every track ahead of time. Blocking (run it in a worker thread).

Under ``<data_dir>/hls/``: ``cache/<file key>/<track>/<n>.ts`` (made on demand,
LRU-bounded by ``hls_cache_bytes``) and ``prepared/<file key>/<track>/<n>.ts`` (never
evicted).
"""

from __future__ import annotations

import bisect
import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from reelhouse.errors import Cancelled, NotFound, ReelhouseError, TranscodeFailed
from reelhouse.playback.hls import ffmpeg
from reelhouse.playback.hls.cache import SegmentCache
from reelhouse.playback.hls.encoders import EncoderPool
from reelhouse.playback.hls.facts import FileStreams
from reelhouse.playback.hls.feed import SourceFeed
from reelhouse.playback.hls.plans import AUDIO_TRACK, Plans
from reelhouse.playback.hls.playlists import segment_count

__all__ = ["Segments"]

#: The copy rendition's folder in the caches. Its segments are keyframe spans, and the
#: spans of an MP4 with B-frames moved when keyframes were first read as the pictures'
#: times (not the index's decoding times, :func:`.facts._decode_lead`): segments cut
#: before that, cached or prepared, are not served as the new ones.
_COPY_FOLDER = "copy-pts"


def _folder(track: str) -> str:
    """The folder of ``track``'s segments under a file's cache and prepared folders."""
    return _COPY_FOLDER if track == "copy" else track


def _has_data(path: Path) -> bool:
    """True when ``path`` is a non-empty file. ffmpeg can finish with status 0 and
    write no packet at all: an encoder started after the last keyframe of a file
    without a keyframe index (MPEG-TS: the seek lands on a packet, the decoder waits
    for the next keyframe, and there is none), or past the data of a truncated file.
    Such a file is no segment."""
    try:
        return path.stat().st_size > 0
    except FileNotFoundError:
        return False


def _no_data(path: Path, n: int) -> NotFound:
    """Delete the empty ``path`` (never served nor cached) and say why: a 404, which
    hls.js does not retry (a 5xx would be asked again up to its retry limit)."""
    with contextlib.suppress(OSError):
        path.unlink()
    return NotFound(f"segment {n} has no media data (the file ends before it or is damaged there)")


def _publish(work: Path, final: Path) -> None:
    """Move a finished track into place. If another prepare of the same file got there
    first, its copy stays (and ours goes); if the file's prepared folder was deleted
    meanwhile (``DELETE …/prepare``), raises Cancelled."""
    try:
        work.rename(final)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        if not final.is_dir():
            raise Cancelled("prepare for streaming: the prepared renditions were deleted meanwhile") from exc


class Segments:
    """Segments and prepared renditions (see the module doc); ``plans`` knows the
    file's tracks and ffmpeg commands."""

    def __init__(self, plans: Plans, cache: SegmentCache, feed: SourceFeed, encoders: EncoderPool,
                 prepared_root: Path) -> None:
        self.plans = plans
        self.cache = cache
        self.feed = feed
        self.encoders = encoders
        self.prepared_root = prepared_root
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def segment(self, file_id: int, track: str, n: int, viewer: str | None = None,
                user: int | None = None) -> Path:
        """Path of segment ``n`` of ``track`` (prepared, cached, or made now) for
        ``viewer`` (its playback token) of ``user``. Raises NotFound, ServiceBusy (an
        encoder limit), TranscodeFailed, SourceUnavailable."""
        plans = self.plans
        target, source = plans.target(file_id)
        streams = plans.streams(file_id)
        build = plans.command_for(streams, track, file_id)
        count = len(plans.copy_spans(streams)) if track == "copy" else \
            segment_count(streams.duration, plans.settings.hls_segment_seconds)
        if n < 0 or n >= count:
            raise NotFound(f"segment {n} is past the end of the media")
        key = plans.file_key(target)
        prepared = self.prepared_root / key / _folder(track) / f"{n}.ts"
        if _has_data(prepared):
            return prepared
        out_dir = self.cache.track_dir(key, _folder(track))
        url = self.feed.url(source, target.path, target.size, None if user is None else f"user:{user}")
        try:
            if track == "copy":
                return self.copy_segment(url, streams, n, out_dir / f"{n}.ts")
            heavy = not AUDIO_TRACK.fullmatch(track)
            path = self.encoders.segment((key, track), n, out_dir,
                                         lambda start: build(url, start, str(out_dir)), heavy=heavy,
                                         viewer=viewer, user=None if user is None else f"user:{user}",
                                         group=target.source_id)
        except TranscodeFailed as exc:  # because the source failed? then that is the answer (502, 504 …)
            failure = self.feed.failure(url)
            if failure is not None:
                raise failure from exc
            raise
        if not _has_data(path):
            raise _no_data(path, n)
        self.cache.hit(path)  # the newest now: the LRU trim takes older ones first
        return path

    def copy_segment(self, url: str, streams: FileStreams, n: int, out: Path) -> Path:
        """Write copy segment ``n`` to ``out`` (one short ffmpeg run: a stream copy of
        one keyframe span is fast) unless it is there. Raises TranscodeFailed, and
        NotFound when the span holds no media data (never an empty segment)."""
        spans = self.plans.copy_spans(streams)
        begin, end = spans[n]
        with self._lock:
            lock = self._locks.setdefault(str(out), threading.Lock())
        with lock:
            if _has_data(out) and self.cache.hit(out):
                return out
            # seek halfway to the next keyframe: ffmpeg lands on the keyframe before its
            # target, and a few frames' reordering delay must not take it one GOP back
            after = bisect.bisect_right(streams.keyframes, begin)
            target = (begin + streams.keyframes[after]) / 2 if after < len(streams.keyframes) \
                else begin + 0.5
            tmp = out.with_name(out.name + ".part")
            # a stream copy stops in decoding order: with B-frames the next keyframe is
            # decoded ``decode_lead`` before its picture, and cut at the picture's time
            # it came along with the frames decoded next (the next segment's first ones)
            argv = ffmpeg.copy_segment_command(
                self.plans.ffmpeg_path(), url, target - streams.start_time,
                end - streams.decode_lead if n + 1 < len(spans) else None, str(tmp), streams.video_map)
            try:
                proc = subprocess.run(argv, capture_output=True, timeout=120,
                                      stdin=subprocess.DEVNULL)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise TranscodeFailed(f"copying segment {n} failed: {exc}") from exc
            if proc.returncode != 0 or not tmp.exists():
                tail = proc.stderr.decode(errors="replace").strip()[-300:]
                raise TranscodeFailed(f"copying segment {n} failed: {tail}")
            os.replace(tmp, out)
            if not _has_data(out):
                raise _no_data(out, n)
        return out

    # -- prepare for streaming ----------------------------------------------------------
    def prepare(self, file_id: int, progress: Callable[[dict[str, int], str], None],
                should_stop: Callable[[], bool] = lambda: False) -> dict[str, int]:
        """Make every rendition and audio track of ``file_id`` ahead of time into
        ``prepared/`` (segments served from there first). Progress counts tracks.
        Raises TranscodeFailed, Cancelled, and what :meth:`Plans.streams` raises."""
        plans = self.plans
        target, source = plans.target(file_id)
        streams = plans.streams(file_id)
        tracks = [r.name for r in plans.renditions(streams)]
        tracks += [f"audio{a.index}" for a in streams.audio]
        key = plans.file_key(target)
        url = self.feed.url(source, target.path, target.size)
        counts = {"tracks": len(tracks), "done": 0}
        for track in tracks:
            final = self.prepared_root / key / _folder(track)
            if final.is_dir():
                counts["done"] += 1
                continue
            # a work folder of this run's own: two prepares of one file (or a worker of
            # another process) never write into, rename or delete each other's
            (self.prepared_root / key).mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=f".{track}.", suffix=".partial", dir=self.prepared_root / key))
            progress(counts, f"encoding {track}")
            if track == "copy":
                for n in range(len(plans.copy_spans(streams))):
                    if should_stop():
                        shutil.rmtree(work, ignore_errors=True)
                        raise Cancelled("prepare for streaming was cancelled")
                    self.copy_segment(url, streams, n, work / f"{n}.ts")
                _publish(work, final)
                counts["done"] += 1
                progress(counts, f"{track} ready")
                continue
            argv = plans.command_for(streams, track)(url, 0, str(work))
            try:
                ffmpeg.run_until_done(argv, should_stop)
            except ReelhouseError:
                shutil.rmtree(work, ignore_errors=True)
                raise
            _publish(work, final)
            counts["done"] += 1
            progress(counts, f"{track} ready")
        return counts

    def unprepare(self, file_id: int) -> None:
        """Delete the prepared renditions of ``file_id`` (segments are made on demand again)."""
        target, _ = self.plans.target(file_id)
        shutil.rmtree(self.prepared_root / self.plans.file_key(target), ignore_errors=True)

    def prepared(self, file_id: int) -> bool:
        """True when every track of the file has been prepared."""
        plans = self.plans
        target, _ = plans.target(file_id)
        streams = plans.streams(file_id)
        root = self.prepared_root / plans.file_key(target)
        names = [r.name for r in plans.renditions(streams)] + [f"audio{a.index}" for a in streams.audio]
        return all((root / _folder(n)).is_dir() for n in names)
