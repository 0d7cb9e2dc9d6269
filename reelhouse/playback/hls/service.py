"""``HlsService``: what the API and the playback service call for adaptive HLS — one
object per process that joins its three parts (blocking: run it in a worker thread):

- :class:`~.plans.Plans`: a file's streams, the ffmpeg check, the playback plan,
  renditions and audio tracks, the master and media playlists
- :class:`~.segments.Segments`: segments (prepared, cached or made now) and "prepare
  for streaming"
- :class:`~.subtitles.Subtitles`: subtitle tracks, their playlists and WebVTT files

Where things live under ``<data_dir>/hls/``: ``cache/<file key>/<track>/<n>.ts``
(segments made on demand, LRU-bounded by ``hls_cache_bytes``), ``cache/<file
key>/subs/<key>.vtt`` and ``prepared/<file key>/<track>/<n>.ts`` (renditions made ahead
by "prepare for streaming"; never evicted). The file key changes when the file's size
or mtime or the segment length changes, so stale segments are never served.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from reelhouse.config import Settings
from reelhouse.errors import NotFound
from reelhouse.leased_slots import LeasedSlots
from reelhouse.playback.hls import ffmpeg
from reelhouse.playback.hls.cache import SegmentCache
from reelhouse.playback.hls.decision import ClientCaps, Decision
from reelhouse.playback.hls.encoders import EncoderPool
from reelhouse.playback.hls.facts import FileStreams
from reelhouse.playback.hls.feed import SourceFeed
from reelhouse.playback.hls.ladder import Limit, Rendition
from reelhouse.playback.hls.lane import FairLane
from reelhouse.playback.hls.plans import Plans
from reelhouse.playback.hls.playlists import AudioEntry
from reelhouse.playback.hls.segments import Segments
from reelhouse.playback.hls.subtitles import SubtitleInfo, Subtitles
from reelhouse.playback.targets import StreamTargets
from reelhouse.sources.registry import SourceService

__all__ = ["HlsService", "SubtitleInfo"]

_T = TypeVar("_T")


class HlsService:
    """The HLS side of playback for one process (see the module doc)."""

    def __init__(self, settings: Settings, sources: SourceService, targets: StreamTargets) -> None:
        self.settings = settings
        root = settings.ensure_data_dir() / "hls"
        self.cache = SegmentCache(root / "cache", settings.hls_cache_bytes)
        self.prepared_root = root / "prepared"
        self.feed = SourceFeed()
        self.encoders = EncoderPool(
            settings.hls_max_encoders, settings.hls_idle_timeout, settings.hls_restart_gap,
            settings.hls_ahead_segments, on_tick=self.cache.trim,
            max_per_user=settings.hls_max_encoders_per_user or None,
            max_per_track=settings.hls_encoders_per_track,
            # a cap set per user holds for the whole cluster; 0 leaves each node's own
            shared=LeasedSlots(settings.redis_url, settings.party_presence_ttl)
            if settings.redis_url and settings.hls_max_encoders_per_user else None,
        )
        self.executor = ThreadPoolExecutor(max_workers=max(8, 4 * settings.hls_max_encoders),
                                           thread_name_prefix="hls-wait")
        #: WebVTT conversions (ffmpeg reads a whole film for an embedded track): threads
        #: of their own, ``hls_max_encoders + 1`` (an ffmpeg each, mostly waiting on the
        #: source), fair between users, never the shared thread pool (issue 14)
        self.subtitle_lane = FairLane(settings.hls_max_encoders + 1, "hls-subs")
        self.plans = Plans(settings, sources, targets)
        self.segments = Segments(self.plans, self.cache, self.feed, self.encoders, self.prepared_root)
        self.subs = Subtitles(self.plans, self.cache, self.feed)

    # -- plans ----------------------------------------------------------------------------
    def check_ffmpeg(self) -> ffmpeg.FfmpegInfo:
        return self.plans.check_ffmpeg()

    def ffmpeg_path(self) -> str:
        return self.plans.ffmpeg_path()

    def startup_problem(self) -> str | None:
        return self.plans.startup_problem()

    def streams(self, file_id: int) -> FileStreams:
        return self.plans.streams(file_id)

    def plan(self, file_id: int, caps: ClientCaps) -> tuple[Decision, FileStreams]:
        return self.plans.plan(file_id, caps)

    def renditions(self, streams: FileStreams, burn: str | None = None) -> list[Rendition]:
        return self.plans.renditions(streams, burn)

    def audio_entries(self, streams: FileStreams, default: int | None = None) -> list[AudioEntry]:
        return self.plans.audio_entries(streams, default)

    def copy_spans(self, streams: FileStreams) -> list[tuple[float, float]]:
        return self.plans.copy_spans(streams)

    def master(self, file_id: int, token: str, burn: str | None = None, copy: bool = True,
               limit: Limit | None = None, audio: int | None = None) -> str:
        """The master playlist (:meth:`Plans.master`) with the file's text subtitles;
        ``audio``: the default audio stream (0-based among audio streams)."""
        return self._moved(file_id, lambda: self.plans.master(file_id, token, self.subs.entries(file_id), burn,
                                                              copy, limit, audio))

    def media(self, file_id: int, track: str, token: str) -> str:
        return self._moved(file_id, lambda: self.plans.media(file_id, track, token))

    # -- segments -------------------------------------------------------------------------
    def segment(self, file_id: int, track: str, n: int, viewer: str | None = None,
                user: int | None = None) -> Path:
        return self._moved(file_id, lambda: self.segments.segment(file_id, track, n, viewer, user))

    def progressive(self, file_id: int, user: int | None, container: str, *, video_map: str,
                    audio_map: str | None, copy_video: bool, copy_audio: bool, seek: float = 0.0,
                    max_width: int | None = None, max_height: int | None = None,
                    video_kbit: int | None = None) -> tuple[list[str], Callable[[], None]]:
        """The ffmpeg argv of a progressive stream of the file (ffmpeg.progressive_command:
        its source read on ``user``'s behalf) and the release of its encoder slot: a
        video transcode counts against ``hls_max_encoders`` and the user's
        ``hls_max_encoders_per_user`` while it runs (the caller releases it when the
        stream ends; a copy holds none). Raises NotFound, ServiceBusy (a limit)."""
        target, source = self.plans.target(file_id)
        who = None if user is None else f"user:{user}"
        release = _nothing if copy_video else self.encoders.hold(who)
        try:
            url = self.feed.url(source, target.path, target.size, who)
            argv = ffmpeg.progressive_command(
                self.ffmpeg_path(), url, container, video_map=video_map, audio_map=audio_map,
                copy_video=copy_video, copy_audio=copy_audio, seek=seek, max_width=max_width,
                max_height=max_height, video_kbit=video_kbit, preset=self.settings.hls_preset)
        except BaseException:
            release()
            raise
        return argv, release

    def prepare(self, file_id: int, progress: Callable[[dict[str, int], str], None],
                should_stop: Callable[[], bool] = lambda: False) -> dict[str, int]:
        return self.segments.prepare(file_id, progress, should_stop)

    def unprepare(self, file_id: int) -> None:
        self.segments.unprepare(file_id)

    def prepared(self, file_id: int) -> bool:
        return self.segments.prepared(file_id)

    # -- subtitles ------------------------------------------------------------------------
    def subtitles(self, file_id: int) -> list[SubtitleInfo]:
        return self.subs.tracks(file_id)

    def sidecar_subtitles(self, file_id: int) -> list[SubtitleInfo]:
        return self.subs.sidecars(file_id)

    def subtitle_playlist(self, file_id: int, key: str, token: str) -> str:
        return self.subs.playlist(file_id, key, token)

    def subtitle_vtt(self, file_id: int, key: str, user: int | None = None) -> Path:
        return self._moved(file_id, lambda: self.subs.vtt(file_id, key, user))

    def subtitle_ass(self, file_id: int, key: str, user: int | None = None) -> Path:
        return self._moved(file_id, lambda: self.subs.ass(file_id, key, user))

    async def asubtitle_vtt(self, file_id: int, key: str, user: int | None = None) -> Path:
        """:meth:`subtitle_vtt` for the event loop, in :attr:`subtitle_lane` on behalf
        of ``user`` (a user id, None for none): a conversion that reads a big film for
        minutes holds one of the lane's threads, never one of the pool that logins,
        health checks and other users' streams use; one user's conversions take at most
        all but one of the lane's threads. Cancelling the caller drops a conversion not
        started yet."""
        return await self.subtitle_lane.run(user, self.subtitle_vtt, file_id, key, user)

    async def asubtitle_ass(self, file_id: int, key: str, user: int | None = None) -> Path:
        """The track as ASS (:meth:`Subtitles.ass`), in :attr:`subtitle_lane` as
        :meth:`asubtitle_vtt`."""
        return await self.subtitle_lane.run(user, self.subtitle_ass, file_id, key, user)

    async def asegment(self, file_id: int, track: str, n: int, viewer: str | None = None,
                       user: int | None = None) -> Path:
        """:meth:`segment` for the event loop, in HLS's own bounded executor: requests
        waiting for ffmpeg (up to a minute each) never fill the thread pool that logins,
        health checks and the rest of the API use (issue 14)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self.segment, file_id, track, n, viewer, user)

    def _moved(self, file_id: int, call: Callable[[], _T]) -> _T:
        """``call()``; once more when it raised NotFound and the file's row, read again
        now, names another path, size or source than the cached target it was made from
        (another process's scan moved the file: ``reelhouse scan`` from the CLI, another
        node; the cache, playback/targets.py, keeps a target 10 s). A file really gone
        keeps its NotFound."""
        before = self.plans.targets.get(file_id)
        try:
            return call()
        except NotFound:
            if self.plans.targets.fresh(file_id) == before:
                raise
        return call()

    def stop_source(self, source_id: int) -> None:
        """A source was removed: kill the encoders reading its files."""
        self.encoders.stop_group(source_id)

    def close(self) -> None:
        self.encoders.close()
        if self.encoders.shared is not None:
            self.encoders.shared.close()
        self.feed.close()
        self.executor.shutdown(wait=False)
        self.subtitle_lane.close()


def _nothing() -> None:
    """The release of a stream that holds no encoder slot."""
