"""Opening a playback (``/api/library/media-files/{id}``): the playback URL with its
signed token, the playback plan (direct | remux | transcode, and why), and the stream
itself (HTTP Range). The decisions are the playback service's
(:mod:`reelhouse.playback.service`); this module turns them into URLs and responses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from reelhouse.api.deps import (
    CoreDep,
    CurrentIdentity,
    RowId,
    VisibleFile,
    check_playback_token,
    user_from_request,
)
from reelhouse.api.schemas import ClientCapsIn, PlanOut, PlaybackOut, TrackOut
from reelhouse.api.streams import stream_response
from reelhouse.core import Core
from reelhouse.playback.hls.decision import ClientCaps
from reelhouse.playback.service import Playback

__all__ = ["router"]

router = APIRouter(prefix="/api/library/media-files", tags=["library"])


def _urls(request: Request, playback: Playback) -> tuple[str, str]:
    """The stream URL and the HLS master URL of a playback, both with its token."""
    stream = request.url_for("stream", file_id=playback.file_id)
    master = request.url_for("hls_master", file_id=playback.file_id)
    return (str(stream.include_query_params(token=playback.token)),
            str(master.include_query_params(token=playback.token)))


@router.post("/{file_id}/playback", response_model=PlaybackOut)
def playback(file_id: RowId, core: CoreDep, identity: CurrentIdentity, _: VisibleFile,
             request: Request) -> PlaybackOut:
    """A stream URL with a short-lived signed token bound to this file and to this
    session (for ``<video>``, mpv, VLC, ffprobe: no cookie needed); it stops working
    when the session ends."""
    opened = core.playback.open(file_id, identity.user.id, grant=identity.grant)
    stream_url = _urls(request, opened)[0]
    return PlaybackOut(url=stream_url, token=opened.token, expires_in=opened.expires_in,
                       content_type=opened.content_type)


#: What the OpenAPI document says ``…/stream`` answers: the file's own media type.
_STREAM: dict[str, object] = {"content": {"video/*": {}, "audio/*": {}, "application/octet-stream": {}}}
_STREAM_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {**_STREAM, "description": "the whole file"},
    206: {**_STREAM, "description": "the requested range (Content-Range)"},
    304: {"description": "If-None-Match / If-Modified-Since: the client's copy is current (no body)"},
    412: {"description": "If-Match / If-Unmodified-Since name another version of the file"},
    416: {"description": "a range outside the file (Content-Range: bytes */SIZE)"},
}


@router.get("/{file_id}/stream", name="stream", response_class=Response, responses=_STREAM_RESPONSES)
async def stream(
    file_id: RowId,
    request: Request,
    token: Annotated[str | None, Query(max_length=2048)] = None,
    download: Annotated[bool, Query(description="save as the file's name (Content-Disposition)")] = False,
) -> Response:
    """The file's bytes with HTTP Range support (RFC 9110 §14): 200 or 206, 416 for a
    range outside the file; conditional requests (§13): 304 for a current ETag or date,
    412 for a failed If-Match / If-Unmodified-Since. Authenticated by ``?token=`` (a playback token) or by the
    session cookie / bearer token. For an FTP file each range becomes REST + RETR; a
    file with an offline copy carries on from the copy when its source fails.

    Async and, on the hot path (a playback token, a cached target, a live source), free
    of thread hops and database reads: a seek costs what the source costs
    (benchmarks/seek_latency.py)."""
    core: Core = request.app.state.core
    if token:
        user_id = await check_playback_token(core, token, file_id)
    else:
        user = await run_in_threadpool(user_from_request, request, core)
        await run_in_threadpool(core.access.check_file, user, file_id)
        user_id = user.id
    return await stream_response(core, request, file_id, user_id, download=download)


@router.head("/{file_id}/stream", name="stream_head", response_class=Response, responses=_STREAM_RESPONSES)
async def stream_head(
    file_id: RowId,
    request: Request,
    token: Annotated[str | None, Query(max_length=2048)] = None,
    download: bool = False,
) -> Response:
    """The same headers as ``GET …/stream`` (status, Content-Length, Content-Range,
    Accept-Ranges, ETag), no body."""
    return await stream(file_id, request, token, download)


@router.post("/{file_id}/playback/plan", response_model=PlanOut, tags=["hls"])
def plan(file_id: RowId, caps: ClientCapsIn, core: CoreDep, identity: CurrentIdentity,
         _: VisibleFile, request: Request) -> PlanOut:
    """Decide how this client plays the file — **direct** (the file as it is), **remux**
    (video copied into HLS) or **transcode** (H.264 renditions) — and say why; returns
    the URL to load with a fresh playback token, and the audio and subtitle tracks."""
    opened = core.playback.open(file_id, identity.user.id, ClientCaps(
        frozenset(caps.containers), frozenset(caps.video), frozenset(caps.audio), caps.hls,
        frozenset(caps.video_10bit)),
        grant=identity.grant)
    stream_url, master_url = _urls(request, opened)
    return PlanOut(
        mode=opened.mode, reason=opened.reason,
        url=stream_url if opened.direct else master_url, stream_url=stream_url, master_url=master_url,
        token=opened.token, expires_in=opened.expires_in, content_type=opened.content_type,
        duration=opened.duration, renditions=list(opened.renditions),
        audio=[TrackOut.model_validate(t) for t in opened.audio],
        subtitles=[TrackOut.model_validate(t) for t in opened.subtitles],
        prepared=opened.prepared,
    )
