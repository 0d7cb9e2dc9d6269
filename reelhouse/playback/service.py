"""Opening a playback: the one place that decides how a media file reaches a client.

:meth:`PlaybackService.open` answers "how does this user play this file on this
client": **direct** (the file's bytes over HTTP Range), **remux** or **transcode**
(adaptive HLS; the pure rule is :func:`reelhouse.playback.hls.decision.decide`), with a
signed playback token for the URLs. :meth:`PlaybackService.stream` hands the stream
endpoint the bytes of a file: from its source, or — when the file has a ready offline
copy of the same version — through a :class:`~reelhouse.playback.fallback.FallbackSource`
that carries on from the copy when the source fails. The HTTP edge only translates
(URLs, headers, status codes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from anyio import to_thread

from reelhouse.auth.identity import Authenticator
from reelhouse.errors import NotFound
from reelhouse.playback.direct import OpenStreams, content_type_for
from reelhouse.playback.fallback import FallbackSource
from reelhouse.playback.hls.decision import ClientCaps, Mode
from reelhouse.playback.hls.service import HlsService
from reelhouse.playback.preconditions import entity_tag
from reelhouse.playback.targets import StreamTarget, StreamTargets
from reelhouse.sources.base import Source
from reelhouse.sources.registry import SourceService

__all__ = ["HLS_CONTENT_TYPE", "OfflineCopy", "OfflineStore", "Playback", "PlaybackService", "Stream", "Track"]

#: The media type of HLS playlists (RFC 8216 §4).
HLS_CONTENT_TYPE = "application/vnd.apple.mpegurl"


class OfflineCopy(Protocol):
    """A ready offline copy: ``path`` in the store, the source file's ``size`` (bytes)
    and ``mtime`` (epoch s) when it was copied."""

    @property
    def path(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def mtime(self) -> float | None: ...


class OfflineStore(Protocol):
    """What playback needs of the offline copies (``transfers/offline.py``)."""

    @property
    def local(self) -> Source: ...
    def ready_copy(self, media_file_id: int) -> OfflineCopy | None: ...
    def source_down(self, source_id: int) -> bool: ...
    def mark_down(self, source_id: int) -> None: ...
    def copy_gone(self, media_file_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Track:
    """An audio or subtitle track: ``key`` names it in HLS URLs (``audio1``, ``e0``, ``x0``)."""

    key: str
    language: str | None
    name: str
    codec: str
    text: bool = True
    forced: bool = False


@dataclass(frozen=True, slots=True)
class Playback:
    """An opened playback. ``mode``: direct | remux | transcode, ``reason`` says why;
    ``token`` authorises the file's stream and HLS URLs for ``expires_in`` seconds;
    ``content_type`` is that of what to load (the file, or the HLS master playlist).
    The HLS fields (``duration`` s, ``renditions``, ``audio``, ``subtitles``,
    ``prepared``) are filled when the client's capabilities were given."""

    file_id: int
    mode: Mode
    reason: str
    token: str
    expires_in: int
    content_type: str
    duration: float | None = None
    renditions: tuple[str, ...] = ()
    audio: tuple[Track, ...] = ()
    subtitles: tuple[Track, ...] = ()
    prepared: bool = False

    @property
    def direct(self) -> bool:
        return self.mode == "direct"


@dataclass(frozen=True, slots=True)
class Stream:
    """The bytes of one media file as the stream endpoint serves them: ``source`` (a
    FallbackSource when an offline copy backs it), the file's ``target`` (path, size,
    mtime), ``kind`` of the real source ("ftp", "local") and the entity tag."""

    source: Source
    target: StreamTarget
    kind: str

    @property
    def etag(self) -> str:
        t = self.target
        return entity_tag(t.source_id, t.path, t.size, t.mtime)

    @property
    def content_type(self) -> str:
        """The file's MIME type: by its probed container where its extension lies."""
        return content_type_for(self.target.path, self.target.container)


class PlaybackService:
    """Open playbacks and hand out streams. ``token_ttl``: seconds a playback token
    lives (the signer enforces it; it is reported as ``expires_in``)."""

    def __init__(self, token_ttl: int, auth: Authenticator, targets: StreamTargets,
                 sources: SourceService, offline: OfflineStore, hls: HlsService) -> None:
        self.token_ttl = token_ttl
        self.auth = auth
        self.targets = targets
        self.sources = sources
        self.offline = offline
        self.hls = hls
        #: the direct streams being sent (a removed source's are cut: :meth:`stop_source`)
        self.open_streams = OpenStreams()

    # -- tokens ---------------------------------------------------------------------------
    def token_for(self, user_id: int, file_id: int, grant: str) -> str:
        """A fresh playback token of ``user_id`` bound to ``file_id`` and to ``grant``,
        the session (``s:<id>``) or API key (``k:<id>``) it dies with."""
        return self.auth.signer.playback(user_id, file_id, grant)

    def check_token(self, token: str, file_id: int) -> int:
        """The user id of a playback token valid for ``file_id`` whose session or key
        still lives; raises AuthenticationFailed (may read the database)."""
        return self.auth.check_playback(token, file_id)

    # -- opening --------------------------------------------------------------------------
    def open(self, file_id: int, user_id: int, caps: ClientCaps | None = None, *,
             grant: str) -> Playback:
        """How ``user_id`` plays ``file_id``: without ``caps`` the file as it is (direct);
        with the client's capabilities the playback plan — direct, remux or transcode —
        with its renditions and tracks. When ffmpeg is missing or unfit the plan is
        direct and the reason says why. The token dies with ``grant`` (see
        :meth:`token_for`). Raises NotFound (no such file)."""
        target = self.targets.get(file_id)
        token = self.token_for(user_id, file_id, grant)
        file_type = content_type_for(target.path, target.container)
        if caps is None:
            return Playback(file_id, "direct", "the file as it is", token, self.token_ttl, file_type)
        decision, streams = self.hls.plan(file_id, caps)
        direct = decision.mode == "direct"
        audio = tuple(Track(a.track, a.language, a.name, t.codec)
                      for a, t in zip(self.hls.audio_entries(streams), streams.audio, strict=True))
        subtitles = tuple(Track(t.key, t.language, t.name, t.codec, t.text, t.forced)
                          for t in self.hls.subtitles(file_id))
        return Playback(
            file_id, decision.mode, decision.reason, token, self.token_ttl,
            file_type if direct else HLS_CONTENT_TYPE, duration=streams.duration or None,
            renditions=tuple(r.name for r in self.hls.renditions(streams)) if streams.duration > 0 else (),
            audio=audio, subtitles=subtitles, prepared=streams.duration > 0 and self.hls.prepared(file_id),
        )

    def stop_source(self, source_id: int) -> None:
        """A source was removed: end its direct streams and HLS encoders now."""
        self.open_streams.stop_source(source_id)
        self.hls.stop_source(source_id)

    # -- streaming ------------------------------------------------------------------------
    async def stream(self, file_id: int) -> Stream:
        """The bytes of ``file_id`` for a range response. On the hot path (a cached
        target, a live source) no thread hop and no database read. A target cached as
        missing is read again (another process's scan may have found the file since).
        Raises NotFound (no such file, or no longer on its source) and what building
        its source raises."""
        target = self.targets.cached(file_id)
        if target is None:
            target = await to_thread.run_sync(self.targets.get, file_id)
        elif target.missing:
            target = await to_thread.run_sync(self.targets.fresh, file_id)
        return await self._open(file_id, target)

    async def restream(self, file_id: int, stale: StreamTarget) -> Stream | None:
        """After the source said NotFound for ``stale``: the target read again from the
        database (another process's scan — the CLI's ``reelhouse scan``, another node —
        may have moved or renamed the file; this process's cache keeps targets 10 s),
        and its stream; None when the database still says ``stale`` (the file is gone
        from its source and no scan has said so yet). Raises NotFound."""
        target = await to_thread.run_sync(self.targets.fresh, file_id)
        if target == stale:
            return None
        return await self._open(file_id, target)

    async def _open(self, file_id: int, target: StreamTarget) -> Stream:
        if target.missing:
            raise NotFound("this file is no longer on its source")
        source = self.sources.live(target.source_id)
        if source is None:
            source = await to_thread.run_sync(self.sources.source, target.source_id)
        kind = source.kind
        copy = self.offline.ready_copy(file_id)
        if copy is not None and copy.size == target.size and copy.mtime == target.mtime:
            sid = target.source_id
            source = FallbackSource(source, self.offline.local, copy.path,
                                    is_down=lambda: self.offline.source_down(sid),
                                    mark_down=lambda: self.offline.mark_down(sid),
                                    copy_gone=lambda: self.offline.copy_gone(file_id))
        return Stream(source, target, kind)
