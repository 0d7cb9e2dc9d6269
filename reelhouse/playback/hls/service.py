"""``HlsService``: playlists, segments and subtitles of a media file, and the playback
plan (direct | remux | transcode) for a client. What the API calls; blocking (run it in
a worker thread).

Where things live under ``<data_dir>/hls/``: ``cache/<file key>/<track>/<n>.ts``
(segments made on demand, LRU-bounded by ``hls_cache_bytes``), ``cache/<file
key>/subs/<key>.vtt`` and ``prepared/<file key>/<track>/<n>.ts`` (renditions made ahead
by "prepare for streaming"; never evicted). The file key changes when the file's size
or mtime or the segment length changes, so stale segments are never served.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import logging
import os
import posixpath
import re
import shutil
import subprocess
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reelhouse.config import Settings
from reelhouse.errors import Cancelled, InvalidInput, NotFound, ProbeFailed, ReelhouseError, TranscodeFailed
from reelhouse.playback.hls import ffmpeg
from reelhouse.playback.hls.cache import SegmentCache
from reelhouse.playback.hls.decision import ClientCaps, Decision, decide
from reelhouse.playback.hls.encoders import EncoderPool
from reelhouse.playback.hls.facts import FileStreams, probe_streams
from reelhouse.playback.hls.feed import SourceFeed
from reelhouse.playback.hls.ladder import Rendition, ladder
from reelhouse.playback.hls.playlists import (
    AudioEntry,
    SubtitleEntry,
    keyframe_spans,
    master_playlist,
    media_playlist,
    segment_count,
    subtitle_playlist,
)
from reelhouse.playback.hls.subtitles import find_sidecars, to_webvtt
from reelhouse.playback.targets import StreamTarget, StreamTargets
from reelhouse.sources.base import Source, parent_of
from reelhouse.sources.registry import SourceService

__all__ = ["HlsService", "SubtitleInfo"]

log = logging.getLogger(__name__)

_AUDIO_TRACK = re.compile(r"audio(\d{1,2})")
_BURNED = re.compile(r"(\d{3,4}p)-(e\d{1,3})")  # a rendition with a picture subtitle burned in
_SUB_KEY = re.compile(r"[ex]\d{1,3}")

#: ISO 639 codes → names shown in the player's menus (unknown codes show as they are).
_LANGS = {"en": "English", "eng": "English", "fr": "Français", "fra": "Français",
          "fre": "Français", "de": "Deutsch", "deu": "Deutsch", "ger": "Deutsch",
          "es": "Español", "spa": "Español", "it": "Italiano", "ita": "Italiano",
          "ja": "日本語", "jpn": "日本語", "nl": "Nederlands", "nld": "Nederlands",
          "dut": "Nederlands", "pt": "Português", "por": "Português"}


@dataclass(frozen=True, slots=True)
class SubtitleInfo:
    """A subtitle track as the API lists it: ``key`` (``e0`` embedded, ``x0`` sidecar),
    language, display name, codec/format, ``text`` (served as WebVTT) or a picture
    format (PGS, VobSub: listed, not convertible), forced flag, sidecar path if any."""

    key: str
    language: str | None
    name: str
    codec: str
    text: bool
    forced: bool
    path: str | None = None


def _display(language: str | None, title: str | None, fallback: str) -> str:
    name = _LANGS.get((language or "").lower(), language or "")
    if title and name:
        return f"{name} ({title})"
    return title or name or fallback


class HlsService:
    """The HLS side of playback for one process (see the module doc)."""

    def __init__(self, settings: Settings, sources: SourceService, targets: StreamTargets) -> None:
        self.settings = settings
        self.sources = sources
        self.targets = targets
        root = settings.ensure_data_dir() / "hls"
        self.cache = SegmentCache(root / "cache", settings.hls_cache_bytes)
        self.prepared_root = root / "prepared"
        self.feed = SourceFeed()
        self.encoders = EncoderPool(
            settings.hls_max_encoders, settings.hls_idle_timeout, settings.hls_restart_gap,
            settings.hls_ahead_segments, on_tick=self.cache.trim,
        )
        self._streams: OrderedDict[tuple[int, int, float | None], FileStreams] = OrderedDict()
        self._subs: dict[str, tuple[float, list[SubtitleInfo]]] = {}
        self._lock = threading.Lock()
        self._vtt_locks: dict[str, threading.Lock] = {}
        self._ffmpeg: str | None = None

    # -- ffmpeg -------------------------------------------------------------------------
    def check_ffmpeg(self) -> ffmpeg.FfmpegInfo:
        """Locate and check ffmpeg (start-up check); raises ConfigError if there is none."""
        return ffmpeg.check(ffmpeg.locate(self.settings.hls_ffmpeg))

    def ffmpeg_path(self) -> str:
        """The checked ffmpeg; raises TranscodeFailed with the reason when it is unfit."""
        if self._ffmpeg is None:
            try:
                info = self.check_ffmpeg()
            except ReelhouseError as exc:
                raise TranscodeFailed(exc.message) from exc
            problem = info.problem()
            if problem:
                raise TranscodeFailed(problem)
            self._ffmpeg = info.path
        return self._ffmpeg

    # -- facts --------------------------------------------------------------------------
    def _target(self, file_id: int) -> tuple[StreamTarget, Source]:
        target = self.targets.get(file_id)
        if target.missing:
            raise NotFound("this file is no longer on its source")
        return target, self.sources.source(target.source_id)

    def _file_key(self, target: StreamTarget) -> str:
        ident = f"{target.source_id}\0{target.path}\0{target.size}\0{target.mtime}\0" \
                f"{self.settings.hls_segment_seconds}"
        return f"{target.file_id}-{hashlib.sha1(ident.encode()).hexdigest()[:12]}"

    def streams(self, file_id: int) -> FileStreams:
        """The file's streams (PyAV over the source, header only); cached per size+mtime.
        Raises NotFound, ProbeFailed, SourceUnavailable."""
        target, source = self._target(file_id)
        ident = (file_id, target.size, target.mtime)
        with self._lock:
            hit = self._streams.get(ident)
            if hit is not None:
                self._streams.move_to_end(ident)
                return hit
        found = probe_streams(source, target.path, target.size, self.settings.probe_budget_bytes)
        if found.duration <= 0:
            raise ProbeFailed("the file's duration is unknown; it cannot be segmented")
        with self._lock:
            self._streams[ident] = found
            while len(self._streams) > 512:
                self._streams.popitem(last=False)
        return found

    def plan(self, file_id: int, caps: ClientCaps) -> tuple[Decision, FileStreams]:
        """How ``file_id`` should play on a client with ``caps``, and its streams. When
        ffmpeg is missing or unfit, HLS is off: the answer is direct play, and the
        reason says why."""
        streams = self.streams(file_id)
        decision = decide(streams.facts(), caps)
        if decision.mode != "direct":
            try:
                self.ffmpeg_path()
            except TranscodeFailed as exc:
                return Decision("direct", f"{decision.reason}, but HLS is off: {exc.message}",
                                False), streams
        return decision, streams

    def renditions(self, streams: FileStreams, burn: str | None = None) -> list[Rendition]:
        """The video renditions; with ``burn`` (a picture subtitle key, ``e2``) the
        transcoded ones with that track burned in, named ``720p-e2`` (no copy)."""
        if not streams.video_codec:
            return []
        facts = streams.facts()
        copy = (burn is None and bool(self.copy_spans(streams))
                and decide(facts, ClientCaps(video=frozenset({"h264", "hevc"}))).copy_video)
        out = ladder(streams.width, streams.height, streams.video_codec, copy, streams.bitrate)
        if burn is not None:
            out = [dataclasses.replace(r, name=f"{r.name}-{burn}") for r in out]
        return out

    def _burnable(self, streams: FileStreams, key: str) -> int:
        """The subtitle stream index of picture track ``key`` (``e<i>``); NotFound or
        InvalidInput (a text track: choose it as WebVTT instead)."""
        index = int(key[1:]) if _SUB_KEY.fullmatch(key) and key[0] == "e" else -1
        track = next((t for t in streams.subtitles if t.index == index), None)
        if track is None:
            raise NotFound(f"no embedded subtitle track {key!r} to burn in")
        if track.text:
            raise InvalidInput(f"subtitle track {key} is text; it is served as WebVTT, "
                               "not burned in")
        return index

    @staticmethod
    def audio_entries(streams: FileStreams) -> list[AudioEntry]:
        """One entry per audio stream, the first the default, with display names."""
        return [AudioEntry(f"audio{a.index}", a.language,
                           _display(a.language, a.title, f"Track {a.index + 1}"), a.index == 0)
                for a in streams.audio]

    def startup_problem(self) -> str | None:
        """Why HLS cannot work with this machine's ffmpeg (the start-up check), or None."""
        try:
            info = self.check_ffmpeg()
        except ReelhouseError as exc:
            return exc.message
        if info.ok:
            log.info("HLS: %s (%s)", info.path, info.version)
        return info.problem()

    # -- playlists ----------------------------------------------------------------------
    def master(self, file_id: int, token: str, burn: str | None = None) -> str:
        """The master playlist text (RFC 8216 §4.3.4); ``burn``: a picture subtitle
        track (``e2``) burned into every rendition."""
        streams = self.streams(file_id)
        if burn is not None:
            self._burnable(streams, burn)
        audio = self.audio_entries(streams)
        subs = [SubtitleEntry(s.key, s.language, s.name, s.forced)
                for s in self.subtitles(file_id) if s.text]
        renditions = self.renditions(streams, burn)
        if not renditions:
            raise ProbeFailed("the file has no video stream to stream over HLS")
        return master_playlist(renditions, audio, subs, token)

    def media(self, file_id: int, track: str, token: str) -> str:
        """A rendition's or audio track's complete VOD playlist; NotFound for an
        unknown track."""
        streams = self.streams(file_id)
        self._command_for(streams, track)  # validates the track
        lengths = [end - begin for begin, end in self.copy_spans(streams)] if track == "copy" else None
        return media_playlist(track, streams.duration, self.settings.hls_segment_seconds, token,
                              lengths)

    def copy_spans(self, streams: FileStreams) -> list[tuple[float, float]]:
        """The copy rendition's segments, ``(begin, end)`` seconds in the file's clock,
        each starting at a keyframe (:func:`keyframe_spans`)."""
        return keyframe_spans(streams.keyframes, streams.start_time, streams.duration,
                              self.settings.hls_segment_seconds)

    def _copy_segment(self, url: str, streams: FileStreams, n: int, out: Path) -> Path:
        """Write copy segment ``n`` to ``out`` (one short ffmpeg run: a stream copy of
        one keyframe span is fast) unless it is there; raises TranscodeFailed."""
        spans = self.copy_spans(streams)
        begin, end = spans[n]
        with self._lock:
            lock = self._vtt_locks.setdefault(str(out), threading.Lock())
        with lock:
            if self.cache.hit(out):
                return out
            tmp = out.with_name(out.name + ".part")
            # seek halfway to the next keyframe: ffmpeg lands on the keyframe before its
            # target, and a few frames' reordering delay must not take it one GOP back
            after = bisect.bisect_right(streams.keyframes, begin)
            target = (begin + streams.keyframes[after]) / 2 if after < len(streams.keyframes) \
                else begin + 0.5
            argv = ffmpeg.copy_segment_command(
                self.ffmpeg_path(), url, target - streams.start_time,
                end if n + 1 < len(spans) else None, str(tmp))
            try:
                proc = subprocess.run(argv, capture_output=True, timeout=120,
                                      stdin=subprocess.DEVNULL)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise TranscodeFailed(f"copying segment {n} failed: {exc}") from exc
            if proc.returncode != 0 or not tmp.exists():
                tail = proc.stderr.decode(errors="replace").strip()[-300:]
                raise TranscodeFailed(f"copying segment {n} failed: {tail}")
            os.replace(tmp, out)
        return out

    def _command_for(self, streams: FileStreams, track: str) -> Callable[[str, int, str], list[str]]:
        """A builder ``(input url, start segment, out dir) → argv`` for ``track``."""
        seg = self.settings.hls_segment_seconds
        m = _AUDIO_TRACK.fullmatch(track)
        if m:
            index = int(m.group(1))
            if index >= len(streams.audio):
                raise NotFound(f"no audio track {index} in this file")
            return lambda url, start, out: ffmpeg.audio_command(
                self.ffmpeg_path(), url, index, start, seg, out)
        burned = _BURNED.fullmatch(track)
        burn = burned.group(2) if burned else None
        burn_index = self._burnable(streams, burn) if burn is not None else None
        for r in self.renditions(streams, burn):
            if r.name == track:
                return lambda url, start, out: ffmpeg.video_command(
                    self.ffmpeg_path(), url, r, start, seg, out, self.settings.hls_preset,
                    self.settings.hls_threads, burn_index)
        raise NotFound(f"no HLS track {track!r} for this file")

    # -- segments -----------------------------------------------------------------------
    def segment(self, file_id: int, track: str, n: int) -> Path:
        """Path of segment ``n`` of ``track`` (prepared, cached, or made now). Raises
        NotFound, ServiceBusy (encoder limit), TranscodeFailed, SourceUnavailable."""
        target, source = self._target(file_id)
        streams = self.streams(file_id)
        build = self._command_for(streams, track)
        count = len(self.copy_spans(streams)) if track == "copy" else \
            segment_count(streams.duration, self.settings.hls_segment_seconds)
        if n < 0 or n >= count:
            raise NotFound(f"segment {n} is past the end of the media")
        key = self._file_key(target)
        prepared = self.prepared_root / key / track / f"{n}.ts"
        if prepared.exists():
            return prepared
        out_dir = self.cache.track_dir(key, track)
        url = self.feed.url(source, target.path, target.size)
        if track == "copy":
            return self._copy_segment(url, streams, n, out_dir / f"{n}.ts")
        heavy = not _AUDIO_TRACK.fullmatch(track)
        path = self.encoders.segment((key, track), n, out_dir,
                                     lambda start: build(url, start, str(out_dir)), heavy=heavy)
        self.cache.hit(path)  # the newest now: the LRU trim takes older ones first
        return path

    # -- subtitles ----------------------------------------------------------------------
    def subtitles(self, file_id: int) -> list[SubtitleInfo]:
        """Embedded subtitle tracks (``e<i>``) and sidecar files (``x<i>``); a failing
        folder listing yields the embedded ones only. Cached for a minute (a sidecar
        added later shows up after that)."""
        target, source = self._target(file_id)
        key = self._file_key(target)
        with self._lock:
            hit = self._subs.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        streams = self.streams(file_id)
        out = [SubtitleInfo(f"e{s.index}", s.language,
                            _display(s.language, s.title, f"Subtitles {s.index + 1}"),
                            s.codec, s.text, s.forced)
               for s in streams.subtitles]
        try:
            names = [e.name for e in source.list(parent_of(target.path)) if not e.is_dir]
        except ReelhouseError as exc:
            log.warning("listing sidecars of %s failed: %s", target.path, exc)
            names = []
        for i, side in enumerate(find_sidecars(target.path, names)):
            out.append(SubtitleInfo(f"x{i}", side.language,
                                    _display(side.language, None, posixpath.basename(side.path)),
                                    side.format, True, side.forced, side.path))
        with self._lock:
            self._subs[key] = (time.monotonic() + 60.0, out)
        return out

    def subtitle_playlist(self, file_id: int, key: str, token: str) -> str:
        self._subtitle(file_id, key)
        return subtitle_playlist(key, self.streams(file_id).duration, token)

    def _subtitle(self, file_id: int, key: str) -> SubtitleInfo:
        if not _SUB_KEY.fullmatch(key):
            raise NotFound(f"no subtitle track {key!r}")
        for info in self.subtitles(file_id):
            if info.key == key:
                if not info.text:
                    raise InvalidInput(f"subtitle track {key} is a picture format "
                                       f"({info.codec}); it cannot be served as WebVTT")
                return info
        raise NotFound(f"no subtitle track {key!r} in this file")

    def subtitle_vtt(self, file_id: int, key: str) -> Path:
        """The track as a WebVTT file (converted once, then cached). Cue times are in
        source time; the ``X-TIMESTAMP-MAP`` header ties them to the segments' MPEG-TS
        clock (RFC 8216 §3.5)."""
        info = self._subtitle(file_id, key)
        target, source = self._target(file_id)
        fkey = self._file_key(target)
        path = self.cache.file_dir(fkey) / "subs" / f"{key}.vtt"
        with self._lock:
            lock = self._vtt_locks.setdefault(f"{fkey}/{key}", threading.Lock())
        with lock:
            if self.cache.hit(path):
                return path
            if info.path is not None:
                size = source.stat(info.path).size or 0
                url = self.feed.url(source, info.path, size)
                argv = ffmpeg.webvtt_command(self.ffmpeg_path(), url, None)
            else:
                url = self.feed.url(source, target.path, target.size)
                argv = ffmpeg.webvtt_command(self.ffmpeg_path(), url, int(key[1:]))
            vtt = to_webvtt(argv)
            offset = self.streams(file_id).start_time if info.path is None else 0.0
            mpegts = round((offset + ffmpeg.TS_OFFSET) * 90_000)
            body = vtt.split(b"\n", 1)[1] if b"\n" in vtt else b"\n"
            header = f"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:00:00:00.000\n".encode()
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(header + body)
            os.replace(tmp, path)
        return path

    # -- prepare for streaming ----------------------------------------------------------
    def prepare(self, file_id: int, progress: Callable[[dict[str, int], str], None],
                should_stop: Callable[[], bool] = lambda: False) -> dict[str, int]:
        """Make every rendition and audio track of ``file_id`` ahead of time into
        ``prepared/`` (segments served from there first). Progress counts tracks.
        Raises TranscodeFailed, Cancelled, and what :meth:`streams` raises."""
        target, source = self._target(file_id)
        streams = self.streams(file_id)
        tracks = [r.name for r in self.renditions(streams)]
        tracks += [f"audio{a.index}" for a in streams.audio]
        key = self._file_key(target)
        url = self.feed.url(source, target.path, target.size)
        counts = {"tracks": len(tracks), "done": 0}
        for track in tracks:
            final = self.prepared_root / key / track
            if final.is_dir():
                counts["done"] += 1
                continue
            work = self.prepared_root / key / f".{track}.partial"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            progress(counts, f"encoding {track}")
            if track == "copy":
                for n in range(len(self.copy_spans(streams))):
                    if should_stop():
                        shutil.rmtree(work, ignore_errors=True)
                        raise Cancelled("prepare for streaming was cancelled")
                    self._copy_segment(url, streams, n, work / f"{n}.ts")
                work.rename(final)
                counts["done"] += 1
                progress(counts, f"{track} ready")
                continue
            argv = self._command_for(streams, track)(url, 0, str(work))
            try:
                ffmpeg.run_until_done(argv, should_stop)
            except ReelhouseError:
                shutil.rmtree(work, ignore_errors=True)
                raise
            work.rename(final)
            counts["done"] += 1
            progress(counts, f"{track} ready")
        return counts

    def unprepare(self, file_id: int) -> None:
        """Delete the prepared renditions of ``file_id`` (segments are made on demand again)."""
        target, _ = self._target(file_id)
        shutil.rmtree(self.prepared_root / self._file_key(target), ignore_errors=True)

    def prepared(self, file_id: int) -> bool:
        """True when every track of the file has been prepared."""
        target, _ = self._target(file_id)
        streams = self.streams(file_id)
        root = self.prepared_root / self._file_key(target)
        names = [r.name for r in self.renditions(streams)] + [f"audio{a.index}" for a in streams.audio]
        return all((root / n).is_dir() for n in names)

    def close(self) -> None:
        self.encoders.close()
        self.feed.close()
