"""The library: grid, movies, shows, media files, playback URLs and the stream itself."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from reelhouse.api.convert import grid_item_public, media_file_detail, media_file_public, movie_public, show_public
from reelhouse.api.deps import (
    CoreDep,
    CurrentUser,
    DbSession,
    RowId,
    RowIdQuery,
    VisibleFile,
    check_playback_token,
    playback_token_for,
    user_from_request,
)
from reelhouse.api.schemas import (
    GridItemPublic,
    MediaFileDetail,
    MediaFilePublic,
    MoviePublic,
    Page,
    PlaybackOut,
    ProgressIn,
    ProgressPublic,
    ResumePublic,
    ShowPublic,
    WatchedIn,
)
from reelhouse.api.visibility import visible_grid, visible_movie, visible_show
from reelhouse.core import Core
from reelhouse.errors import NotFound
from reelhouse.library import queries
from reelhouse.playback.direct import RangeStreamResponse, content_type_for, entity_tag
from reelhouse.playback.fallback import FallbackSource

router = APIRouter(prefix="/api/library", tags=["library"])

PageNo = Annotated[int, Query(ge=1, le=1_000_000)]
PerPage = Annotated[int, Query(ge=1, le=500)]


def _page(items: list[object], page: int, per_page: int) -> dict[str, object]:
    start = (page - 1) * per_page
    return {"items": items[start : start + per_page], "total": len(items), "page": page,
            "per_page": per_page}


@router.get("/items", response_model=Page[GridItemPublic])
def library_items(
    db: DbSession,
    core: CoreDep,
    user: CurrentUser,
    q: Annotated[str | None, Query(max_length=200)] = None,
    type: Literal["movie", "show"] | None = None,
    source_id: RowIdQuery = None,
    source_kind: Literal["ftp", "local"] | None = None,
    page: PageNo = 1,
    per_page: PerPage = 60,
) -> dict[str, object]:
    """The grid: movies and shows, searchable by title, filterable by type and source."""
    items = queries.grid(db, type, q, source_id, source_kind)
    allowed = core.access.allowed(user)
    return _page(list(visible_grid([grid_item_public(i) for i in items], allowed)), page, per_page)


@router.get("/movies", response_model=Page[MoviePublic])
def movies(db: DbSession, core: CoreDep, user: CurrentUser, page: PageNo = 1,
           per_page: PerPage = 50) -> dict[str, object]:
    allowed = core.access.allowed(user)
    items = [m for m in (visible_movie(movie_public(m), allowed) for m in queries.list_movies(db))
             if m is not None and m.files]
    return _page(list(items), page, per_page)


@router.get("/movies/{movie_id}", response_model=MoviePublic)
def movie(movie_id: RowId, db: DbSession, core: CoreDep, user: CurrentUser) -> MoviePublic:
    found = visible_movie(movie_public(queries.get_movie(db, movie_id)), core.access.allowed(user))
    if found is None:
        raise NotFound(f"no movie with id {movie_id}")
    return found


@router.get("/shows", response_model=Page[ShowPublic])
def shows(db: DbSession, core: CoreDep, user: CurrentUser, page: PageNo = 1,
          per_page: PerPage = 50) -> dict[str, object]:
    """Shows with their seasons and episodes."""
    allowed = core.access.allowed(user)
    items = [s for s in (visible_show(show_public(s), allowed) for s in queries.list_shows(db))
             if s is not None and s.seasons]
    return _page(list(items), page, per_page)


@router.get("/shows/{show_id}", response_model=ShowPublic)
def show(show_id: RowId, db: DbSession, core: CoreDep, user: CurrentUser) -> ShowPublic:
    found = visible_show(show_public(queries.get_show(db, show_id)), core.access.allowed(user))
    if found is None:
        raise NotFound(f"no show with id {show_id}")
    return found


@router.get("/media-files", response_model=Page[MediaFilePublic])
def media_files(
    db: DbSession,
    core: CoreDep,
    user: CurrentUser,
    source_id: RowIdQuery = None,
    include_missing: bool = False,
    page: PageNo = 1,
    per_page: PerPage = 100,
) -> dict[str, object]:
    """Media files by source and path (a user with source grants: one granted source
    at a time, ``source_id`` required)."""
    allowed = core.access.allowed(user)
    if allowed is not None:
        if source_id is None and len(allowed) == 1:
            source_id = next(iter(allowed))
        if source_id is None or source_id not in allowed:
            return {"items": [], "total": 0, "page": page, "per_page": per_page}
    rows, total = queries.list_media_files(db, source_id, include_missing, (page - 1) * per_page, per_page)
    return {"items": [media_file_public(r) for r in rows], "total": total, "page": page,
            "per_page": per_page}


@router.get("/media-files/{file_id}", response_model=MediaFileDetail)
def media_file(file_id: RowId, db: DbSession, _: VisibleFile) -> MediaFileDetail:
    """One file with its technical metadata: container, duration, bitrate and a row
    per stream (video, audio, subtitle …)."""
    return media_file_detail(queries.get_media_file(db, file_id))


@router.get("/continue", response_model=list[ResumePublic])
def continue_watching(core: CoreDep, user: CurrentUser) -> list[ResumePublic]:
    """What the current user stopped in the middle of, most recent first."""
    return [ResumePublic(media_file_id=i.media_file_id, title=i.title, subtitle=i.subtitle,
                         position=i.position, duration=i.duration, percent=i.percent)
            for i in core.progress.continue_watching(user.id)]


@router.get("/media-files/{file_id}/progress", response_model=ProgressPublic)
def get_progress(file_id: RowId, core: CoreDep, user: CurrentUser, _: VisibleFile) -> ProgressPublic:
    """The current user's resume point in a file (position 0 if never played)."""
    row = core.progress.get(user.id, file_id)
    if row is None:
        with core.sessions() as s:
            queries.get_media_file(s, file_id)  # 404 for unknown files
        return ProgressPublic(media_file_id=file_id, position=0.0, duration=None, watched=False,
                              updated_at=None)
    return ProgressPublic.model_validate(row)


@router.put("/media-files/{file_id}/progress", response_model=ProgressPublic)
def put_progress(file_id: RowId, body: ProgressIn, core: CoreDep, user: CurrentUser,
                 _: VisibleFile) -> ProgressPublic:
    """Report the playing position (the player does every 10 s and on pause); under 5 %
    is stored as 0, past 90 % marks the file watched (Jellyfin's rule)."""
    return ProgressPublic.model_validate(core.progress.save(user.id, file_id, body.position, body.duration))


@router.put("/media-files/{file_id}/watched", response_model=ProgressPublic)
def put_watched(file_id: RowId, body: WatchedIn, core: CoreDep, user: CurrentUser,
                _: VisibleFile) -> ProgressPublic:
    """Mark a file watched or unwatched by hand."""
    return ProgressPublic.model_validate(core.progress.save(user.id, file_id, 0.0, None, body.watched))


@router.post("/media-files/{file_id}/playback", response_model=PlaybackOut)
def playback(file_id: RowId, db: DbSession, core: CoreDep, _: VisibleFile, request: Request) -> PlaybackOut:
    """A stream URL with a short-lived signed token bound to this file (for ``<video>``,
    mpv, VLC, ffprobe: no cookie needed)."""
    mf = queries.get_media_file(db, file_id)
    token = playback_token_for(request, core, mf.id)
    url = str(request.url_for("stream", file_id=mf.id).include_query_params(token=token))
    return PlaybackOut(url=url, token=token, expires_in=core.settings.playback_token_ttl,
                       content_type=content_type_for(mf.path))


@router.get("/media-files/{file_id}/stream", name="stream")
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
        await check_playback_token(core, token, file_id)
    else:
        user = await run_in_threadpool(user_from_request, request, core)
        await run_in_threadpool(core.access.check_file, user, file_id)
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


@router.head("/media-files/{file_id}/stream", name="stream_head")
async def stream_head(
    file_id: RowId,
    request: Request,
    token: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    """The same headers as ``GET …/stream`` (status, Content-Length, Content-Range,
    Accept-Ranges, ETag), no body."""
    return await stream(file_id, request, token)
