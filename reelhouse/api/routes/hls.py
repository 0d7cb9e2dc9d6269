"""Adaptive HLS: the master playlist, rendition and audio playlists, segments made on
demand, subtitles as WebVTT, and "prepare for streaming" (the playback plan that picks
direct | remux | transcode is in :mod:`.playback`).

Playlist, segment and subtitle URLs authenticate by ``?token=`` (a playback token bound
to the file, as ``/stream``), so hls.js, mpv, VLC and ffplay can open the master URL
without a cookie; every URI inside a playlist carries the same token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from reelhouse.api.deps import (
    AdminUser,
    CoreDep,
    RowId,
    VisibleFile,
    check_playback_token,
    playback_token_for,
    user_from_request,
)
from reelhouse.api.files import file_response
from reelhouse.api.schemas import JobPublic, TrackOut
from reelhouse.core import Core
from reelhouse.library import queries

__all__ = ["router"]

router = APIRouter(prefix="/api/library/media-files", tags=["hls"])

Token = Annotated[str | None, Query(max_length=2048)]
# Track names and subtitle keys are checked by the service (404), after authentication.
Track = Annotated[str, Path(max_length=16, description="360p, 720p, 1080p, copy, audio0 …")]
SubKey = Annotated[str, Path(max_length=8, description="e0 (embedded), x0 (sidecar) …")]
Segment = Annotated[int, Path(ge=0, le=1_000_000)]

_M3U8 = "application/vnd.apple.mpegurl"


def _core(request: Request) -> Core:
    core: Core = request.app.state.core
    return core


async def _token(request: Request, file_id: int, token: str | None) -> str:
    """The playback token to use (checked), or a fresh one for a logged-in user."""
    core = _core(request)
    if token:
        await check_playback_token(core, token, file_id)
        return token
    user = await run_in_threadpool(user_from_request, request, core)
    await run_in_threadpool(core.access.check_file, user, file_id)
    return playback_token_for(request, core, file_id)


#: The OpenAPI answer of the playlist routes (not JSON).
_PLAYLIST: dict[int | str, dict[str, object]] = {200: {"content": {_M3U8: {}}}}


def _playlist(text: str) -> Response:
    return Response(text, media_type=_M3U8, headers={"cache-control": "private, no-cache"})


@router.get("/{file_id}/hls/master.m3u8", name="hls_master", response_class=Response, responses=_PLAYLIST)
async def master(file_id: RowId, request: Request, token: Token = None,
                 burn: Annotated[str | None, Query(max_length=8)] = None) -> Response:
    """The master playlist: 360p/720p/1080p H.264 renditions no taller than the source
    (and a copy rendition for H.264/HEVC sources), an AUDIO group with one entry per
    audio track and a SUBTITLES group (WebVTT). ``?burn=e2`` burns the picture subtitle
    track e2 (PGS, VobSub) into every rendition instead (no copy rendition)."""
    tok = await _token(request, file_id, token)
    return _playlist(await run_in_threadpool(_core(request).hls.master, file_id, tok, burn))


@router.get("/{file_id}/hls/{track}.m3u8", name="hls_media", response_class=Response, responses=_PLAYLIST)
async def media(file_id: RowId, track: Track, request: Request, token: Token = None) -> Response:
    """A rendition's (``720p``, ``copy``) or audio track's (``audio1``) complete VOD
    playlist: every segment listed from the duration."""
    tok = await _token(request, file_id, token)
    return _playlist(await run_in_threadpool(_core(request).hls.media, file_id, track, tok))


@router.get("/{file_id}/hls/{track}/{n}.ts", name="hls_segment", response_class=FileResponse,
            responses={200: {"content": {"video/mp2t": {}}}})
async def segment(file_id: RowId, track: Track, n: Segment, request: Request,
                  token: Token = None) -> Response:
    """Segment ``n`` (MPEG-TS) of a track: from the prepared renditions or the cache, or
    made now by ffmpeg reading the file through its source. 503 with a message when the
    server runs its maximum of encoders; 404 for a segment with no media data (a
    truncated file), never an empty 200. ETag / Last-Modified: 304 and If-Range as
    :func:`~reelhouse.api.files.file_response` answers them."""
    tok = await _token(request, file_id, token)
    user = _core(request).signer.check_playback(tok, file_id).user_id
    path = await _core(request).hls.asegment(file_id, track, n, tok, user)
    return file_response(request, path, "video/mp2t", "private, max-age=3600")


@router.get("/{file_id}/hls/subs/{key}.m3u8", name="hls_subtitle_playlist", response_class=Response,
            responses=_PLAYLIST)
async def subtitle_playlist(file_id: RowId, key: SubKey, request: Request,
                            token: Token = None) -> Response:
    """A subtitle track's playlist (one WebVTT segment: the whole track)."""
    tok = await _token(request, file_id, token)
    return _playlist(await run_in_threadpool(_core(request).hls.subtitle_playlist, file_id, key, tok))


@router.get("/{file_id}/hls/subs/{key}.vtt", name="hls_subtitle", response_class=FileResponse,
            responses={200: {"content": {"text/vtt": {}}}})
async def subtitle(file_id: RowId, key: SubKey, request: Request, token: Token = None) -> Response:
    """A text subtitle track (embedded SRT/ASS/mov_text, or a sidecar .srt/.ass/.vtt)
    as WebVTT; 400 for a picture track (PGS, VobSub)."""
    tok = await _token(request, file_id, token)
    user = _core(request).signer.check_playback(tok, file_id).user_id
    path = await _core(request).hls.asubtitle_vtt(file_id, key, user)  # threads of its own
    return file_response(request, path, "text/vtt; charset=utf-8", "private, max-age=3600")


@router.post("/{file_id}/prepare", response_model=JobPublic, status_code=202)
def prepare(file_id: RowId, core: CoreDep, _: AdminUser) -> JobPublic:
    """"Prepare for streaming": a background job (follow it at ``/api/jobs/{id}``) that
    makes every rendition and audio track ahead of time; playback then serves them
    without an encoder. Admins only (it costs CPU and disk)."""
    with core.sessions() as s:
        queries.get_media_file(s, file_id)  # 404 before queueing
    return JobPublic.model_validate(core.jobs.submit("hls_prepare", payload={"file_id": file_id}))


@router.delete("/{file_id}/prepare", status_code=204)
def unprepare(file_id: RowId, core: CoreDep, _: AdminUser) -> Response:
    """Delete the renditions made ahead of time (they take disk space; playback makes
    segments on demand again)."""
    core.hls.unprepare(file_id)
    return Response(status_code=204)


@router.get("/{file_id}/subtitles", response_model=list[TrackOut])
def subtitles(file_id: RowId, core: CoreDep, _: VisibleFile) -> list[TrackOut]:
    """Every subtitle track: embedded (text and picture) and sidecar files."""
    return [TrackOut.model_validate(t) for t in core.hls.subtitles(file_id)]
