"""A media file's bytes as a range response, for the API's ``…/stream`` and the
Jellyfin API's ``Videos/{id}/stream`` alike: the playback service's stream (its
source, or the offline copy when the source fails) in a
:class:`~reelhouse.playback.direct.RangeStreamResponse`, which reads the file's row
again once when the source says the file is not there (another process's scan moved
it: :meth:`~reelhouse.playback.service.PlaybackService.restream`)."""

from __future__ import annotations

import posixpath

from starlette.requests import Request
from starlette.responses import Response

from reelhouse.core import Core
from reelhouse.playback.direct import RangeStreamResponse, attachment
from reelhouse.playback.service import Stream

__all__ = ["stream_response"]


async def stream_response(core: Core, request: Request, file_id: int, user_id: int | None,
                          *, download: bool = False) -> Response:
    """The file's bytes: 200/206 with an exact Content-Range, 416 outside the file,
    304/412 for the conditional headers; ``download``: with a Content-Disposition that
    saves it under its file name; ``user_id``: whose share of the FTP pool it reads in
    (None: the server's own). Raises NotFound and what the source raises."""
    metrics = getattr(request.app.state, "metrics", None)

    def respond(opened: Stream, again: bool) -> Response:
        target = opened.target
        disposition = {"content-disposition": attachment(posixpath.basename(target.path))}
        return RangeStreamResponse(
            opened.source, target.path, target.size, method=request.method, media_type=opened.content_type,
            range_header=request.headers.get("range"), if_range=request.headers.get("if-range"),
            etag=opened.etag, mtime=target.mtime,
            observer=metrics.stream_observer(opened.kind) if metrics is not None else None,
            user_key=f"user:{user_id}" if user_id is not None else None,
            send_timeout=core.settings.stream_send_timeout,
            open_streams=(core.playback.open_streams, target.source_id),
            conditions=request.headers,
            extra_headers=disposition if download else None,
            reopen=(lambda: reopen(opened)) if again else None,
        )

    async def reopen(stale: Stream) -> Response | None:  # not on its source: moved by another process's scan?
        fresh = await core.playback.restream(file_id, stale.target)
        return None if fresh is None else respond(fresh, False)

    return respond(await core.playback.stream(file_id), True)
