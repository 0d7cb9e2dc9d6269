"""Files this server made (HLS segments, WebVTT, resized artwork) as conditional HTTP
responses: an ETag and Last-Modified from the file's size and mtime (its stable
validator: the segment cache marks use in the atime, :mod:`reelhouse.playback.hls.cache`),
304 for a matching If-None-Match / If-Modified-Since, 412 for a false If-Match /
If-Unmodified-Since (RFC 9110 §13.2.2), and Range with If-Range as Starlette's
FileResponse serves it (a mismatching If-Range gets the whole file, §13.1.5)."""

from __future__ import annotations

import os
from email.utils import formatdate
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from reelhouse.errors import ServiceBusy
from reelhouse.playback.preconditions import entity_tag, precondition

__all__ = ["file_response"]


def file_response(request: Request, path: Path, media_type: str, cache_control: str) -> Response:
    """``path`` as the answer to ``request``: 200/206, 304, or 412 (raises
    :class:`PreconditionFailed`); :class:`ServiceBusy` (503: players ask again, and the
    segment is made again) when the file went away before it was sent (a segment the
    cache's trim took meanwhile; Starlette's FileResponse answered that with a 500)."""
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise ServiceBusy("the file went away (trimmed from the cache) before it could be "
                          "sent; request it again") from exc
    headers = {
        "etag": entity_tag(path, st.st_size, st.st_mtime_ns),
        "last-modified": formatdate(st.st_mtime, usegmt=True),
        "cache-control": cache_control,
    }
    if not precondition(request.headers, request.method, headers["etag"], st.st_mtime):
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type=media_type, headers=headers, stat_result=st)
