"""What a media file holds and how it plays over HLS: its streams (probed through its
source, cached), the ffmpeg check, the playback plan for a client, the renditions and
audio tracks, and the playlists that list them. Blocking (run it in a worker thread).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable

from reelhouse.config import Settings
from reelhouse.errors import InvalidInput, NotFound, ProbeFailed, ReelhouseError, TranscodeFailed
from reelhouse.playback.hls import ffmpeg
from reelhouse.playback.hls.decision import ClientCaps, Decision, decide
from reelhouse.playback.hls.facts import FileStreams, probe_streams
from reelhouse.playback.hls.keyframes import keyframe_before
from reelhouse.playback.hls.ladder import Limit, Rendition, capped, ladder
from reelhouse.playback.hls.playlists import (
    AudioEntry,
    SubtitleEntry,
    keyframe_spans,
    master_playlist,
    media_playlist,
)
from reelhouse.playback.targets import StreamTarget, StreamTargets
from reelhouse.sources.base import Source
from reelhouse.sources.reader import SourceReader
from reelhouse.sources.registry import SourceService

__all__ = ["AUDIO_TRACK", "SUB_KEY", "CommandBuilder", "Plans", "display_name"]

log = logging.getLogger(__name__)

AUDIO_TRACK = re.compile(r"audio(\d{1,2})")
_BURNED = re.compile(r"(\d{3,4}p)-(e\d{1,3})")  # a rendition with a picture subtitle burned in
SUB_KEY = re.compile(r"[ex]\d{1,3}")

#: Seconds an encoder seeks before the keyframe it decodes from: FFmpeg's seek compares
#: decoding times, and a keyframe's packet comes a few frames before its picture's time.
_SEEK_MARGIN = 1.0

#: ``(input url, start segment, out dir) → ffmpeg argv`` for one track.
CommandBuilder = Callable[[str, int, str], list[str]]

#: ISO 639 codes → names shown in the player's menus (unknown codes show as they are).
_LANGS = {"en": "English", "eng": "English", "fr": "Français", "fra": "Français",
          "fre": "Français", "de": "Deutsch", "deu": "Deutsch", "ger": "Deutsch",
          "es": "Español", "spa": "Español", "it": "Italiano", "ita": "Italiano",
          "ja": "日本語", "jpn": "日本語", "nl": "Nederlands", "nld": "Nederlands",
          "dut": "Nederlands", "pt": "Português", "por": "Português"}


def display_name(language: str | None, title: str | None, fallback: str) -> str:
    """A track's name in the player's menus: language name and title, or ``fallback``."""
    code = (language or "").lower()
    name = _LANGS.get(code, language or "")
    if code not in _LANGS and (m := re.fullmatch(r"([a-z]{2,3})-(\w+)", code)) and m.group(1) in _LANGS:
        name = f"{_LANGS[m.group(1)]} ({m.group(2).upper() if len(m.group(2)) != 4 else m.group(2).title()})"
    if title and name:
        return f"{name} ({title})"
    return title or name or fallback


class Plans:
    """The file side of HLS for one process (see the module doc)."""

    def __init__(self, settings: Settings, sources: SourceService, targets: StreamTargets) -> None:
        self.settings = settings
        self.sources = sources
        self.targets = targets
        self._streams: OrderedDict[tuple[int, int, float | None], FileStreams] = OrderedDict()
        self._lock = threading.Lock()
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

    def startup_problem(self) -> str | None:
        """Why HLS cannot work with this machine's ffmpeg (the start-up check), or None."""
        try:
            info = self.check_ffmpeg()
        except ReelhouseError as exc:
            return exc.message
        if info.ok:
            log.info("HLS: %s (%s)", info.path, info.version)
        return info.problem()

    # -- facts --------------------------------------------------------------------------
    def target(self, file_id: int) -> tuple[StreamTarget, Source]:
        """The file's target and its source; NotFound if it is gone from its source."""
        target = self.targets.get(file_id)
        if target.missing:
            raise NotFound("this file is no longer on its source")
        return target, self.sources.source(target.source_id)

    def file_key(self, target: StreamTarget) -> str:
        """The file's folder name in the caches: changes with its size, mtime or the
        segment length, so stale segments are never served."""
        ident = f"{target.source_id}\0{target.path}\0{target.size}\0{target.mtime}\0" \
                f"{self.settings.hls_segment_seconds}"
        return f"{target.file_id}-{hashlib.sha1(ident.encode()).hexdigest()[:12]}"

    def streams(self, file_id: int) -> FileStreams:
        """The file's streams (PyAV over the source, header only); cached per size+mtime.
        Raises NotFound, ProbeFailed (also for a file whose duration is unknown: HLS
        cuts segments from it), SourceUnavailable."""
        found = self.probed(file_id)
        if found.duration <= 0:
            raise ProbeFailed("the file's duration is unknown; it cannot be segmented")
        return found

    def probed(self, file_id: int) -> FileStreams:
        """:meth:`streams`, also of a file whose duration is unknown (its ``duration``
        is then 0): what lists its tracks and decides direct play needs."""
        target, source = self.target(file_id)
        ident = (file_id, target.size, target.mtime)
        with self._lock:
            hit = self._streams.get(ident)
            if hit is not None:
                self._streams.move_to_end(ident)
                return hit
        found = probe_streams(source, target.path, target.size, self.settings.probe_budget_bytes)
        with self._lock:
            self._streams[ident] = found
            while len(self._streams) > 512:
                self._streams.popitem(last=False)
        return found

    def plan(self, file_id: int, caps: ClientCaps) -> tuple[Decision, FileStreams]:
        """How ``file_id`` should play on a client with ``caps``, and its streams. When
        ffmpeg is missing or unfit, HLS is off: the answer is direct play, and the
        reason says why. A file whose duration is unknown (a WebM recorded live) plays
        only directly: ProbeFailed for a client that would need HLS."""
        streams = self.probed(file_id)
        decision = decide(streams.facts(), caps)
        if decision.mode != "direct" and streams.duration <= 0:
            self.streams(file_id)  # raises ProbeFailed: HLS cuts segments from the duration
        if decision.mode != "direct":
            try:
                self.ffmpeg_path()
            except TranscodeFailed as exc:
                return Decision("direct", f"{decision.reason}, but HLS is off: {exc.message}",
                                False), streams
        return decision, streams

    # -- tracks -------------------------------------------------------------------------
    def renditions(self, streams: FileStreams, burn: str | None = None) -> list[Rendition]:
        """The video renditions; with ``burn`` (a picture subtitle key, ``e2``) the
        transcoded ones with that track burned in, named ``720p-e2`` (no copy)."""
        if not streams.video_codec:
            return []
        facts = streams.facts()
        # MPEG-TS has no display matrix: a turned picture is only right transcoded. HEVC
        # Main 10 is copied too when its CODECS string is known (a client picks the copy
        # only if it decodes that profile: hls.js asks MediaSource.isTypeSupported,
        # Safari and ExoPlayer match CODECS); a guessed Main string would mislead them
        copy = (burn is None and not streams.rotation and bool(self.copy_spans(streams))
                and decide(facts, ClientCaps(video=frozenset({"h264", "hevc"}),
                                             video_10bit=frozenset({"hevc"} if streams.video_codecs else ())),
                           ).copy_video)
        width, height = streams.upright_size
        out = ladder(width, height, streams.video_codec, copy, streams.bitrate,
                     streams.video_codecs)
        if burn is not None:
            out = [dataclasses.replace(r, name=f"{r.name}-{burn}") for r in out]
        return out

    def burnable(self, streams: FileStreams, key: str) -> int:
        """The subtitle stream index of picture track ``key`` (``e<i>``); NotFound or
        InvalidInput (a text track: choose it as WebVTT instead)."""
        index = int(key[1:]) if SUB_KEY.fullmatch(key) and key[0] == "e" else -1
        track = next((t for t in streams.subtitles if t.index == index), None)
        if track is None:
            raise NotFound(f"no embedded subtitle track {key!r} to burn in")
        if track.text:
            raise InvalidInput(f"subtitle track {key} is text; it is served as WebVTT, "
                               "not burned in")
        return index

    @staticmethod
    def audio_entries(streams: FileStreams, default: int | None = None) -> list[AudioEntry]:
        """One entry per audio stream, with display names; the default is audio stream
        ``default`` (0-based among audio streams: the track a client chose), or when
        ``default`` is None or names no audio stream of the file, the first the
        container flags as default (a release's original language), else the first."""
        if default is None or not 0 <= default < len(streams.audio):
            default = next((a.index for a in streams.audio if a.default), 0)
        return [AudioEntry(f"audio{a.index}", a.language,
                           display_name(a.language, a.title, f"Track {a.index + 1}"), a.index == default)
                for a in streams.audio]

    def copy_spans(self, streams: FileStreams) -> list[tuple[float, float]]:
        """The copy rendition's segments, ``(begin, end)`` seconds in the file's clock,
        each starting at a keyframe (:func:`keyframe_spans`)."""
        return keyframe_spans(streams.keyframes, streams.start_time, streams.duration,
                              self.settings.hls_segment_seconds)

    def command_for(self, streams: FileStreams, track: str, file_id: int | None = None) -> CommandBuilder:
        """The ffmpeg command builder of ``track``; NotFound for an unknown track. With
        ``file_id``, a video encoder started past the first segment of a file without a
        keyframe index first finds the keyframe it decodes from (:meth:`decode_from`)."""
        seg = self.settings.hls_segment_seconds
        m = AUDIO_TRACK.fullmatch(track)
        if m:
            index = int(m.group(1))
            if index >= len(streams.audio):
                raise NotFound(f"no audio track {index} in this file")
            return lambda url, start, out: ffmpeg.audio_command(
                self.ffmpeg_path(), url, index, start, seg, out)
        burned = _BURNED.fullmatch(track)
        burn = burned.group(2) if burned else None
        burn_index = self.burnable(streams, burn) if burn is not None else None
        for r in self.renditions(streams, burn):
            if r.name == track:
                return lambda url, start, out: ffmpeg.video_command(
                    self.ffmpeg_path(), url, r, start, seg, out, self.settings.hls_preset,
                    self.settings.hls_threads, burn_index,
                    None if file_id is None else self.decode_from(file_id, streams, start),
                    streams.start_time, streams.first_picture, streams.video_map)
        raise NotFound(f"no HLS track {track!r} for this file")

    def decode_from(self, file_id: int, streams: FileStreams, start: int) -> float | None:
        """Where an encoder of a video rendition starting at segment ``start`` seeks
        (seconds after the file's start): a second before the keyframe before the
        segment when the file has no keyframe index (:mod:`.keyframes`; reads at most
        ``probe_budget_bytes`` of the source), else ``None`` (ffmpeg's own seek finds
        it, or it could not be found: ffmpeg seeks as it would)."""
        if start == 0 or streams.keyframes or not streams.video_codec:
            return None
        target, source = self.target(file_id)
        at = streams.start_time + start * self.settings.hls_segment_seconds
        if streams.first_picture is not None and at < streams.first_picture:
            return None  # before the first picture: padded (ffmpeg.video_command)
        reader = SourceReader(source, target.path, target.size,
                              budget=self.settings.probe_budget_bytes)
        key = keyframe_before(reader, at)
        if key is None:
            return None
        return max(0.0, key - _SEEK_MARGIN - streams.start_time)

    # -- playlists ----------------------------------------------------------------------
    def master(self, file_id: int, token: str, subtitles: list[SubtitleEntry],
               burn: str | None = None, copy: bool = True, limit: Limit | None = None,
               audio: int | None = None) -> str:
        """The master playlist text (RFC 8216 §4.3.4) with the text ``subtitles``;
        ``audio``: the audio stream (0-based among audio streams) marked DEFAULT, the
        one a player starts with (the first when None or not an audio stream);
        ``burn``: a picture subtitle track (``e2``) burned into every rendition;
        ``copy=False``: without the copied video (a client that cannot decode the
        file's own video, e.g. its H.264 level, gets transcoded renditions only);
        ``limit``: only the renditions a client takes (:func:`ladder.capped`)."""
        streams = self.streams(file_id)
        if burn is not None:
            self.burnable(streams, burn)
        renditions = capped([r for r in self.renditions(streams, burn) if copy or r.name != "copy"], limit)
        if not renditions and not streams.audio:
            raise ProbeFailed("the file has no video or audio stream to stream over HLS")
        return master_playlist(renditions, self.audio_entries(streams, audio), subtitles, token)

    def media(self, file_id: int, track: str, token: str) -> str:
        """A rendition's or audio track's complete VOD playlist; NotFound for an
        unknown track."""
        streams = self.streams(file_id)
        self.command_for(streams, track)  # validates the track
        lengths = [end - begin for begin, end in self.copy_spans(streams)] if track == "copy" else None
        return media_playlist(track, streams.duration, self.settings.hls_segment_seconds, token,
                              lengths)
