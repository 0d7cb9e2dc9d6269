"""Opening a playback (``/api/library/media-files/{id}``): the playback URL with its
signed token, the playback plan (direct | remux | transcode, and why), and the stream
itself (HTTP Range)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from reelhouse.api.deps import CoreDep, CurrentUser, DbSession, RowId, user_from_request
from reelhouse.api.schemas import ClientCapsIn, PlanOut, PlaybackOut, TrackOut
from reelhouse.core import Core
from reelhouse.errors import NotFound
from reelhouse.library import queries
from reelhouse.playback.direct import RangeStreamResponse, content_type_for, entity_tag
from reelhouse.playback.fallback import FallbackSource
from reelhouse.playback.hls.decision import ClientCaps

__all__ = ["router"]

router = APIRouter(prefix="/api/library/media-files", tags=["library"])

_M3U8 = "application/vnd.apple.mpegurl"


@router.post("/{file_id}/playback", response_model=PlaybackOut)
def playback(file_id: RowId, db: DbSession, core: CoreDep, user: CurrentUser, request: Request) -> PlaybackOut:
    """A stream URL with a short-lived signed token bound to this file (for ``<video>``,
    mpv, VLC, ffprobe: no cookie needed)."""
    mf = queries.get_media_file(db, file_id)
    token = core.signer.playback(user.id, mf.id)
    url = str(request.url_for("stream", file_id=mf.id).include_query_params(token=token))
    return PlaybackOut(url=url, token=token, expires_in=core.settings.playback_token_ttl,
                       content_type=content_type_for(mf.path))


@router.get("/{file_id}/stream", name="stream")
async def stream(
    file_id: RowId,
    request: Request,
    token: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    """The file's bytes with HTTP Range support (RFC 9110 §14): 200 or 206, 416 for a
    range outside the file. Authenticated by ``?token=`` (a playback token) or by the
    session cookie / bearer token. For an FTP file each range becomes REST + RETR.

    Async and, on the hot path (a playback token, a cached target, a live source), free
    of thread hops and database reads: a seek costs what the source costs
    (benchmarks/seek_latency.py)."""
    core: Core = request.app.state.core
    if token:
        core.signer.check_playback(token, file_id)
    else:
        await run_in_threadpool(user_from_request, request, core)
    target = core.stream_targets.cached(file_id)
    if target is None:
        target = await run_in_threadpool(core.stream_targets.get, file_id)
    if target.missing:
        raise NotFound("this file is no longer on its source")
    source = core.sources.live(target.source_id)
    if source is None:
        source = await run_in_threadpool(core.sources.source, target.source_id)
    copy = core.offline.ready_copy(file_id)
    if copy is not None and copy.size == target.size and copy.mtime == target.mtime:
        sid = target.source_id
        source = FallbackSource(source, core.offline.local, copy.path,
                                is_down=lambda: core.offline.source_down(sid),
                                mark_down=lambda: core.offline.mark_down(sid))
    return RangeStreamResponse(
        source,
        target.path,
        target.size,
        method=request.method,
        range_header=request.headers.get("range"),
        if_range=request.headers.get("if-range"),
        etag=entity_tag(target.source_id, target.path, target.size, target.mtime),
        mtime=target.mtime,
        observer=request.app.state.metrics.stream_observer(
            source.primary.kind if isinstance(source, FallbackSource) else source.kind),
    )


@router.head("/{file_id}/stream", name="stream_head")
async def stream_head(
    file_id: RowId,
    request: Request,
    token: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    """The same headers as ``GET …/stream`` (status, Content-Length, Content-Range,
    Accept-Ranges, ETag), no body."""
    return await stream(file_id, request, token)


@router.post("/{file_id}/playback/plan", response_model=PlanOut, tags=["hls"])
def plan(file_id: RowId, caps: ClientCapsIn, core: CoreDep, user: CurrentUser,
         request: Request) -> PlanOut:
    """Decide how this client plays the file — **direct** (the file as it is), **remux**
    (video copied into HLS) or **transcode** (H.264 renditions) — and say why; returns
    the URL to load with a fresh playback token, and the audio and subtitle tracks."""
    with core.sessions() as s:
        mf = queries.get_media_file(s, file_id)
        path = mf.path
    decision, streams = core.hls.plan(file_id, ClientCaps(
        frozenset(caps.containers), frozenset(caps.video), frozenset(caps.audio), caps.hls))
    token = core.signer.playback(user.id, file_id)
    stream_url = str(request.url_for("stream", file_id=file_id).include_query_params(token=token))
    master_url = str(request.url_for("hls_master", file_id=file_id).include_query_params(token=token))
    direct = decision.mode == "direct"
    return PlanOut(
        mode=decision.mode, reason=decision.reason,
        url=stream_url if direct else master_url, stream_url=stream_url, master_url=master_url,
        token=token, expires_in=core.settings.playback_token_ttl,
        content_type=content_type_for(path) if direct else _M3U8,
        duration=streams.duration,
        renditions=[r.name for r in core.hls.renditions(streams)],
        audio=[TrackOut(key=a.track, language=a.language, name=a.name, codec=codec)
               for a, codec in zip(core.hls.audio_entries(streams),
                                   (t.codec for t in streams.audio), strict=True)],
        subtitles=[TrackOut.model_validate(t) for t in core.hls.subtitles(file_id)],
        prepared=core.hls.prepared(file_id),
    )
