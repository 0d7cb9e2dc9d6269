"""Which file a video URL means, and its bytes over reelhouse's Range path
(playback/direct.py) from the playback service (playback/service.py)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from reelhouse.api.streams import stream_response
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, MediaStream, User
from reelhouse.errors import NotFound
from reelhouse.jellyfin import ids
from reelhouse.playback.hls.facts import TEXT_SUBTITLES

__all__ = [
    "M3U8", "audio_position", "burn_key", "check_visible", "chosen_file", "file_for", "playlist", "range_response",
]

#: HLS playlists' media type (RFC 8216 §4).
M3U8 = "application/vnd.apple.mpegurl"


def chosen_file(ref: ids.Ref, media_source_id: str | None) -> int | None:
    """The media file id a ``MediaSourceId`` picks for item ``ref``; None for none, or
    for the item's own id: a Jellyfin server gives an item's first media source the
    item's id, so apps send it as the MediaSourceId (Kodi's add-ons, reports of a
    playback begun from a cached item). Raises InvalidInput for a malformed id, NotFound
    for the id of anything else."""
    if not media_source_id:
        return None
    source = ids.decode(media_source_id, "file", "movie", "episode")
    if source.kind == "file":
        return source.id
    if source != ref:
        raise NotFound(f"no media source {media_source_id} of item {ids.encode(ref.kind, ref.id)}")
    return None


def file_for(core: Core, item_id: str, media_source_id: str | None) -> int:
    """The media file id of ``Videos/{item_id}`` (an item or a media source id), with
    ``MediaSourceId`` choosing among an item's files (:func:`chosen_file`). Raises
    InvalidInput/NotFound."""
    ref = ids.decode(item_id, "movie", "episode", "file")
    chosen = chosen_file(ref, media_source_id)
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
        # a version that can be played first (jellyfin/media.py offered), then parts in order
        found = s.scalar(stmt.order_by(MediaFile.part.nulls_first(), MediaFile.probe_error.is_not(None),
                                       MediaFile.id).limit(1))
    if found is None:
        raise NotFound(f"no playable file for {item_id}")
    return int(found)


def audio_position(core: Core, file_id: int, stream_index: int | None) -> int | None:
    """Which of ``file_id``'s audio streams (0-based among them, as HLS numbers its
    ``audioN`` tracks) is Jellyfin's ``AudioStreamIndex`` ``stream_index`` (a
    MediaStream ``Index``: among all the file's streams); None when it is None or no
    audio stream of the file."""
    return _position(core, file_id, "audio", stream_index)[0]


def burn_key(core: Core, file_id: int, stream_index: int | None) -> str | None:
    """HLS's key (``e<i>``, :meth:`Plans.burnable`) of the picture subtitle stream
    that is Jellyfin's ``SubtitleStreamIndex`` ``stream_index``; None when it is None,
    no subtitle stream of the file, or a text one (served as WebVTT instead)."""
    position, codec = _position(core, file_id, "subtitle", stream_index)
    if position is None or (codec or "").lower() in TEXT_SUBTITLES:
        return None
    return f"e{position}"


def _position(core: Core, file_id: int, kind: str, stream_index: int | None) -> tuple[int | None, str | None]:
    if stream_index is None:
        return None, None
    with core.sessions() as s:
        rows = list(s.execute(select(MediaStream.index, MediaStream.codec).where(
            MediaStream.media_file_id == file_id, MediaStream.type == kind).order_by(MediaStream.index)))
    found = next((i for i, row in enumerate(rows) if row[0] == stream_index), None)
    return (found, rows[found][1]) if found is not None else (None, None)


def check_visible(core: Core, user: User, file_id: int, item_id: str) -> None:
    """NotFound unless ``user`` may see media file ``file_id`` (source grants), worded
    as :func:`file_for`'s for an unknown item: the answer tells nothing of which hidden
    ids exist."""
    try:
        core.access.check_file(user, file_id)
    except NotFound:
        raise NotFound(f"no playable file for {item_id}") from None


async def range_response(core: Core, request: Request, file_id: int, user_id: int | None,
                         *, download: bool = False) -> Response:
    """The file's bytes through the playback service (its source, or the offline copy
    when the source fails): 200/206 with an exact Content-Range, 416 outside the file;
    ``download``: with a Content-Disposition that saves it under its file name."""
    return await stream_response(core, request, file_id, user_id, download=download)


def playlist(text: str) -> Response:
    """An HLS playlist response: ``text`` as :data:`M3U8`, never cached by a shared
    cache and asked again each time (its URIs carry the caller's token)."""
    return Response(text, media_type=M3U8, headers={"cache-control": "private, no-cache"})
