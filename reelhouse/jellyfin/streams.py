"""Which file a video URL means, and its bytes over reelhouse's Range path
(playback/direct.py; the offline-copy fallback as in the web player's stream)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from reelhouse.core import Core
from reelhouse.db.models import MediaFile
from reelhouse.errors import NotFound
from reelhouse.jellyfin import ids
from reelhouse.playback.direct import RangeStreamResponse, entity_tag
from reelhouse.playback.fallback import FallbackSource

__all__ = ["file_for", "range_response"]


def file_for(core: Core, item_id: str, media_source_id: str | None) -> int:
    """The media file id of ``Videos/{item_id}`` (an item or a media source id), with
    ``MediaSourceId`` choosing among an item's files. Raises InvalidInput/NotFound."""
    ref = ids.decode(item_id, "movie", "episode", "file")
    chosen = ids.decode(media_source_id, "file").id if media_source_id else None
    with core.sessions() as s:
        stmt = select(MediaFile.id).where(MediaFile.missing_since.is_(None))
        if ref.kind == "file":
            stmt = stmt.where(MediaFile.id == (chosen if chosen is not None else ref.id))
        elif ref.kind == "movie":
            stmt = stmt.where(MediaFile.movie_id == ref.id)
        else:
            stmt = stmt.where(MediaFile.episode_id == ref.id)
        if chosen is not None:
            stmt = stmt.where(MediaFile.id == chosen)
        found = s.scalar(stmt.order_by(MediaFile.part.nulls_first(), MediaFile.id).limit(1))
    if found is None:
        raise NotFound(f"no playable file for {item_id}")
    return int(found)


async def range_response(core: Core, request: Request, file_id: int) -> Response:
    """The file's bytes: 200/206 with exact Content-Range, 416 outside the file."""
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
    metrics = getattr(request.app.state, "metrics", None)
    kind = source.primary.kind if isinstance(source, FallbackSource) else source.kind
    return RangeStreamResponse(
        source, target.path, target.size, method=request.method,
        range_header=request.headers.get("range"), if_range=request.headers.get("if-range"),
        etag=entity_tag(target.source_id, target.path, target.size, target.mtime),
        mtime=target.mtime, observer=metrics.stream_observer(kind) if metrics else None,
    )
