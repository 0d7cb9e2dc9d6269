"""Adaptive HLS: the playback plan (direct | remux | transcode, and why), the master
playlist, rendition and audio playlists, segments made on demand, and subtitles as
WebVTT.

Playlist, segment and subtitle URLs authenticate by ``?token=`` (a playback token bound
to the file, as ``/stream``), so hls.js, mpv, VLC and ffplay can open the master URL
without a cookie; every URI inside a playlist carries the same token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from reelhouse.api.deps import (
    AdminUser,
    CoreDep,
    CurrentUser,
    RowId,
    VisibleFile,
    check_playback_token,
    playback_token_for,
    user_from_request,
)
from reelhouse.api.schemas import JobPublic
from reelhouse.core import Core
from reelhouse.library import queries
from reelhouse.playback.direct import content_type_for
from reelhouse.playback.hls.decision import ClientCaps

__all__ = ["router"]

router = APIRouter(prefix="/api/library/media-files", tags=["hls"])

Token = Annotated[str | None, Query(max_length=2048)]
# Track names and subtitle keys are checked by the service (404), after authentication.
Track = Annotated[str, Path(max_length=16, description="360p, 720p, 1080p, copy, audio0 …")]
SubKey = Annotated[str, Path(max_length=8, description="e0 (embedded), x0 (sidecar) …")]
Segment = Annotated[int, Path(ge=0, le=1_000_000)]

_M3U8 = "application/vnd.apple.mpegurl"
_NAME = Field(max_length=32, pattern=r"^[a-z0-9_.-]+$")


class ClientCapsIn(BaseModel):
    """What the browser can decode, in FFmpeg names (the web player maps
    ``canPlayType`` / ``MediaSource.isTypeSupported`` answers to them)."""

    containers: list[Annotated[str, _NAME]] = Field(default_factory=list, max_length=32,
                                                   examples=[["mp4", "webm"]])
    video: list[Annotated[str, _NAME]] = Field(default_factory=list, max_length=32,
                                              examples=[["h264", "vp9", "av1"]])
    audio: list[Annotated[str, _NAME]] = Field(default_factory=list, max_length=32,
                                              examples=[["aac", "mp3", "opus"]])
    hls: bool = Field(default=True, description="the client plays HLS (hls.js or natively)")


class TrackOut(BaseModel):
    key: str
    language: str | None
    name: str
    codec: str
    text: bool = True
    forced: bool = False


class PlanOut(BaseModel):
    mode: Literal["direct", "remux", "transcode"]
    reason: str = Field(description="why this mode, in a sentence")
    url: str = Field(description="what to load: the stream URL (direct) or the HLS master")
    stream_url: str
    master_url: str
    token: str
    expires_in: int = Field(description="seconds")
    content_type: str = Field(description="of ``url``")
    duration: float | None = Field(description="seconds")
    renditions: list[str]
    audio: list[TrackOut]
    subtitles: list[TrackOut]
    prepared: bool = Field(description="every rendition was made ahead of time")


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


def _playlist(text: str) -> Response:
    return Response(text, media_type=_M3U8, headers={"cache-control": "private, no-cache"})


@router.post("/{file_id}/playback/plan", response_model=PlanOut)
def plan(file_id: RowId, caps: ClientCapsIn, core: CoreDep, user: CurrentUser, _: VisibleFile,
         request: Request) -> PlanOut:
    """Decide how this client plays the file — **direct** (the file as it is), **remux**
    (video copied into HLS) or **transcode** (H.264 renditions) — and say why; returns
    the URL to load with a fresh playback token, and the audio and subtitle tracks."""
    with core.sessions() as s:
        mf = queries.get_media_file(s, file_id)
        path = mf.path
    decision, streams = core.hls.plan(file_id, ClientCaps(
        frozenset(caps.containers), frozenset(caps.video), frozenset(caps.audio), caps.hls))
    token = playback_token_for(request, core, file_id)
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
        subtitles=[TrackOut(key=t.key, language=t.language, name=t.name, codec=t.codec,
                            text=t.text, forced=t.forced) for t in core.hls.subtitles(file_id)],
        prepared=core.hls.prepared(file_id),
    )


@router.get("/{file_id}/hls/master.m3u8", name="hls_master")
async def master(file_id: RowId, request: Request, token: Token = None,
                 burn: Annotated[str | None, Query(max_length=8)] = None) -> Response:
    """The master playlist: 360p/720p/1080p H.264 renditions no taller than the source
    (and a copy rendition for H.264/HEVC sources), an AUDIO group with one entry per
    audio track and a SUBTITLES group (WebVTT). ``?burn=e2`` burns the picture subtitle
    track e2 (PGS, VobSub) into every rendition instead (no copy rendition)."""
    tok = await _token(request, file_id, token)
    return _playlist(await run_in_threadpool(_core(request).hls.master, file_id, tok, burn))


@router.get("/{file_id}/hls/{track}.m3u8", name="hls_media")
async def media(file_id: RowId, track: Track, request: Request, token: Token = None) -> Response:
    """A rendition's (``720p``, ``copy``) or audio track's (``audio1``) complete VOD
    playlist: every segment listed from the duration."""
    tok = await _token(request, file_id, token)
    return _playlist(await run_in_threadpool(_core(request).hls.media, file_id, track, tok))


@router.get("/{file_id}/hls/{track}/{n}.ts", name="hls_segment")
async def segment(file_id: RowId, track: Track, n: Segment, request: Request,
                  token: Token = None) -> Response:
    """Segment ``n`` (MPEG-TS) of a track: from the prepared renditions or the cache, or
    made now by ffmpeg reading the file through its source. 503 with a message when the
    server runs its maximum of encoders."""
    await _token(request, file_id, token)
    path = await run_in_threadpool(_core(request).hls.segment, file_id, track, n)
    return FileResponse(path, media_type="video/mp2t",
                        headers={"cache-control": "private, max-age=3600"})


@router.get("/{file_id}/hls/subs/{key}.m3u8", name="hls_subtitle_playlist")
async def subtitle_playlist(file_id: RowId, key: SubKey, request: Request,
                            token: Token = None) -> Response:
    """A subtitle track's playlist (one WebVTT segment: the whole track)."""
    tok = await _token(request, file_id, token)
    return _playlist(await run_in_threadpool(_core(request).hls.subtitle_playlist, file_id, key, tok))


@router.get("/{file_id}/hls/subs/{key}.vtt", name="hls_subtitle")
async def subtitle(file_id: RowId, key: SubKey, request: Request, token: Token = None) -> Response:
    """A text subtitle track (embedded SRT/ASS/mov_text, or a sidecar .srt/.ass/.vtt)
    as WebVTT; 400 for a picture track (PGS, VobSub)."""
    await _token(request, file_id, token)
    path = await run_in_threadpool(_core(request).hls.subtitle_vtt, file_id, key)
    return FileResponse(path, media_type="text/vtt; charset=utf-8",
                        headers={"cache-control": "private, max-age=3600"})


@router.post("/{file_id}/prepare", response_model=JobPublic, status_code=202)
def prepare(file_id: RowId, core: CoreDep, _: AdminUser) -> JobPublic:
    """"Prepare for streaming": a background job (follow it at ``/api/jobs/{id}``) that
    makes every rendition and audio track ahead of time; playback then serves them
    without an encoder. Admins only (it costs CPU and disk)."""
    with core.sessions() as s:
        queries.get_media_file(s, file_id)  # 404 before queueing

    def work(progress: Callable[[dict[str, int], str], None],
             should_stop: Callable[[], bool]) -> dict[str, int]:
        return core.hls.prepare(file_id, progress, should_stop)

    return JobPublic.model_validate(core.jobs.submit_task("hls_prepare", work))


@router.delete("/{file_id}/prepare", status_code=204)
def unprepare(file_id: RowId, core: CoreDep, _: AdminUser) -> Response:
    """Delete the renditions made ahead of time (they take disk space; playback makes
    segments on demand again)."""
    core.hls.unprepare(file_id)
    return Response(status_code=204)


@router.get("/{file_id}/subtitles", response_model=list[TrackOut])
def subtitles(file_id: RowId, core: CoreDep, _: VisibleFile) -> list[TrackOut]:
    """Every subtitle track: embedded (text and picture) and sidecar files."""
    return [TrackOut(key=t.key, language=t.language, name=t.name, codec=t.codec, text=t.text,
                     forced=t.forced) for t in core.hls.subtitles(file_id)]
