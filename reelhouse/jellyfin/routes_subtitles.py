"""Jellyfin's subtitle URLs: ``Videos/{id}/{mediaSourceId}/Subtitles/{index}/Stream.{ext}``
(also with a start position: ``…/{index}/{start}/Stream.{ext}``) as WebVTT, SubRip or
ASS, and ``…/{index}/subtitles.m3u8``, an HLS playlist of the WebVTT. ``index`` is a
MediaStream ``Index``: the file's embedded subtitle streams, then the subtitle files
beside it (media.sidecar_streams)."""

from __future__ import annotations

import math
from pathlib import Path as PathLib
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from reelhouse.core import Core
from reelhouse.db.models import MediaFile, MediaStream
from reelhouse.errors import InvalidInput, NotFound
from reelhouse.jellyfin.browse import sidecars
from reelhouse.jellyfin.deps import CoreDep, authorize, caller_of
from reelhouse.jellyfin.streams import check_visible, file_for, playlist
from reelhouse.jellyfin.subrip import vtt_to_srt

__all__ = ["router"]

router = APIRouter()


def _subtitle_key(core: Core, file_id: int, index: int) -> str:
    """The HLS service's key of the file's subtitle stream ``index``: Jellyfin numbers
    streams across the file; reelhouse's keys count subtitle streams (e0, e1 …) and
    then sidecar files (x0 …) after the last stream. NotFound for another stream."""
    with core.sessions() as s:
        rows = list(s.execute(select(MediaStream.index, MediaStream.type)
                              .where(MediaStream.media_file_id == file_id)
                              .order_by(MediaStream.index)))
    subs = [i for i, kind in rows if kind == "subtitle"]
    last = max((i for i, _ in rows), default=-1)
    if index not in subs and index <= last:
        raise NotFound(f"stream {index} is not a subtitle stream")
    return f"e{subs.index(index)}" if index in subs else f"x{index - last - 1}"


@router.get("/videos/{item_id}/{source_id}/subtitles/{index}/subtitles.m3u8")
async def subtitle_hls(item_id: str, source_id: str, index: Annotated[int, Path(ge=0, le=999)],
                       request: Request, core: CoreDep) -> Response:
    """An HLS playlist of subtitle stream ``index``, as Jellyfin's
    SubtitleController.GetSubtitlePlaylist answers (for players that take subtitles as
    an HLS rendition): VOD, one WebVTT segment, the whole track (``stream.vtt`` beside
    it, with the caller's ``api_key``), as long as the film.
    404 for a stream that is not a subtitle."""
    caller = await run_in_threadpool(caller_of, request)
    file_id = await run_in_threadpool(file_for, core, item_id, source_id)
    await run_in_threadpool(check_visible, core, caller.user, file_id, item_id)
    key = await run_in_threadpool(_subtitle_key, core, file_id, index)
    if key.startswith("x") and not any(t.key == key for t in await run_in_threadpool(sidecars, core, file_id)):
        raise NotFound(f"media source {source_id} has no subtitle stream {index}")

    def duration() -> float:
        with core.sessions() as s:
            return float(s.scalar(select(MediaFile.duration).where(MediaFile.id == file_id)) or 0.0)
    seconds = await run_in_threadpool(duration)
    return playlist("\n".join([
        "#EXTM3U", f"#EXT-X-TARGETDURATION:{max(1, math.ceil(seconds))}", "#EXT-X-VERSION:3",
        "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD",
        f"#EXTINF:{max(seconds, 0.001):.3f},", f"stream.vtt?api_key={quote(caller.token)}", "#EXT-X-ENDLIST"]) + "\n")


#: The subtitle formats answered, by the extension asked for → (format, media type).
_SUB_FORMATS = {"vtt": ("vtt", "text/vtt; charset=utf-8"), "webvtt": ("vtt", "text/vtt; charset=utf-8"),
                "srt": ("srt", "application/x-subrip; charset=utf-8"),
                "subrip": ("srt", "application/x-subrip; charset=utf-8"),
                "ass": ("ass", "text/x-ssa; charset=utf-8"), "ssa": ("ass", "text/x-ssa; charset=utf-8")}


@router.get("/videos/{item_id}/{source_id}/subtitles/{index}/stream.{ext}")
@router.get("/videos/{item_id}/{source_id}/subtitles/{index}/{start}/stream.{ext}")
async def subtitle(item_id: str, source_id: str, index: Annotated[int, Path(ge=0, le=999)],
                   ext: str, request: Request, core: CoreDep) -> Response:
    """Subtitle stream ``index`` of a media source in the format of the extension:
    ``vtt`` WebVTT, ``srt`` SubRip (``webvtt``/``subrip``, a stream's Codec, too),
    ``ass``/``ssa`` ASS (an ASS track as it is, another text track converted: as
    Jellyfin's SubtitleEncoder; ``text/x-ssa``, Jellyfin's MimeTypes); another format
    is InvalidInput (400), not WebVTT under its name."""
    fmt, media_type = _SUB_FORMATS.get(ext.lower(), ("", ""))
    if not fmt:
        raise InvalidInput(f"subtitles are served as .vtt, .srt or .ass, not .{ext[:16]}")
    caller = await authorize(request, core)
    file_id = await run_in_threadpool(file_for, core, item_id, source_id)
    if caller is not None:
        await run_in_threadpool(check_visible, core, caller.user, file_id, item_id)

    key = await run_in_threadpool(_subtitle_key, core, file_id, index)
    if fmt == "ass":
        return FileResponse(await core.hls.asubtitle_ass(file_id, key, caller.user.id if caller else None),
                            media_type=media_type)
    path = str(await core.hls.asubtitle_vtt(file_id, key, caller.user.id if caller else None))
    if fmt == "srt":
        text = await run_in_threadpool(lambda: vtt_to_srt(PathLib(path).read_text(encoding="utf-8")))
        return Response(text, media_type=media_type)
    return FileResponse(path, media_type=media_type)
