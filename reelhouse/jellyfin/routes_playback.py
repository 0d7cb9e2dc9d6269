"""Playing: ``Items/{id}/PlaybackInfo`` (GET and POST with a DeviceProfile; its
MediaStreams add the subtitle files beside the film, listed by the HLS service),
``Videos/{id}/stream`` and ``stream.{ext}`` (the file as it is, HTTP Range; with
``static=false``, a stream made in the container the extension names when the file is
not in it: :mod:`.progressive`), ``Items/{id}/Download`` (the same, to keep, named),
``Videos/{id}/master.m3u8`` and ``main.m3u8`` with their renditions and segments
(reelhouse's HLS) and its WebVTT subtitle renditions. Jellyfin's subtitle URLs are
:mod:`.routes_subtitles`'."""

from __future__ import annotations

from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.concurrency import run_in_threadpool

from reelhouse.api.files import file_response
from reelhouse.core import Core
from reelhouse.db.models import MediaFile, WatchProgress
from reelhouse.errors import AuthenticationFailed, NotFound
from reelhouse.jellyfin import ids, progressive
from reelhouse.jellyfin.browse import sidecars
from reelhouse.jellyfin.deps import ArgsDep, Caller, CallerDep, CoreDep, authorize, read_json
from reelhouse.jellyfin.media import choose_streams, media_source, offered, sidecar_streams
from reelhouse.jellyfin.params import Args, body_args
from reelhouse.jellyfin.playback import (
    apply_decision,
    audio_index_of,
    burn_in,
    caps_from_profile,
    limit_of,
    limit_query,
    max_bitrate_of,
    new_play_session,
    subtitle_index_of,
)
from reelhouse.jellyfin.streams import (
    audio_position,
    burn_key,
    check_visible,
    chosen_file,
    file_for,
    playlist,
    range_response,
)
from reelhouse.jellyfin.visible import granted_files
from reelhouse.playback.hls.ladder import Limit, capped

__all__ = ["router"]

router = APIRouter()

Track = Annotated[str, Path(max_length=16, pattern=r"^[a-z0-9]+(-e[0-9]{1,3})?$")]  # 720p, copy, audio0, 720p-e0
SubKey = Annotated[str, Path(max_length=8, pattern=r"^[ex][0-9]{1,3}$")]
Segment = Annotated[int, Path(ge=0, le=1_000_000)]


def _playback_info(core: Core, request: Request, caller: Caller, item_id: str, args: Args,
                   body: Any) -> dict[str, Any]:
    ref = ids.decode(item_id, "movie", "episode", "file")
    bargs = body_args(body if isinstance(body, dict) else {})
    wanted = args.text("mediasourceid", 64) or bargs.text("mediasourceid", 64)
    chosen = chosen_file(ref, wanted)
    allow_direct = bool(args.flag("enabledirectplay", True)) and bool(bargs.flag("enabledirectplay", True))
    profile = next((v for k, v in (body or {}).items() if k.lower() == "deviceprofile"), None) \
        if isinstance(body, dict) else None
    caps = caps_from_profile(profile)
    max_bitrate = max_bitrate_of(args, bargs, profile)
    limit = limit_of(args, bargs, profile, max_bitrate)
    audio_index = audio_index_of(args, bargs)
    subtitle_index = subtitle_index_of(args, bargs)
    asked = (args if args.has("subtitlestreamindex") else bargs).number("subtitlestreamindex", None, -1, 9999)
    shown = -1 if asked == -1 else subtitle_index  # -1: the client turned subtitles off
    play_session = new_play_session()
    with core.sessions() as s:
        stmt = select(MediaFile).where(MediaFile.missing_since.is_(None)).options(
            selectinload(MediaFile.streams))
        col = {"movie": MediaFile.movie_id, "episode": MediaFile.episode_id, "file": MediaFile.id}[ref.kind]
        stmt = stmt.where(col == ref.id)
        if chosen is not None:
            stmt = stmt.where(MediaFile.id == chosen)
        allowed = core.access.allowed(caller.user)
        if allowed is not None:
            stmt = stmt.where(granted_files(frozenset(allowed)))
        files = offered(list(s.scalars(stmt.order_by(MediaFile.part.nulls_first(), MediaFile.id))))
        if not files:
            raise NotFound(f"no playable file for {item_id}")
        remembered = {wp.media_file_id: wp for wp in s.scalars(select(WatchProgress).where(
            WatchProgress.user_id == caller.user.id, WatchProgress.media_file_id.in_([mf.id for mf in files])))}
        sources = []
        for mf in files:
            src = media_source(mf, ids.encode(ref.kind, ref.id), caller.token)
            src["MediaStreams"] += sidecar_streams(mf, sidecars(core, mf.id), ids.encode(ref.kind, ref.id),
                                                   caller.token)
            # no choice in the request: the tracks the user last played this file with
            # (Jellyfin's MediaSourceManager.SetDefaultAudioAndSubtitleStreamIndices)
            last = remembered.get(mf.id)
            audio = audio_index if audio_index is not None or last is None else last.audio_stream_index
            sub = shown if asked is not None or last is None else last.subtitle_stream_index
            apply_decision(src, mf, caps, allow_direct=allow_direct, play_session=play_session,
                           token=caller.token, max_bitrate=max_bitrate, profile=profile, limit=limit,
                           audio_index=audio_index if audio_index is not None else _has(src, "Audio", audio),
                           burn=burn_in(profile, mf, None if sub is None or sub < 0 else sub))
            choose_streams(src, audio, sub)
            sources.append(src)
    out: dict[str, Any] = {"MediaSources": sources, "PlaySessionId": play_session}
    if not any(src["SupportsDirectPlay"] or "TranscodingUrl" in src for src in sources):
        # as Jellyfin says it (PlaybackInfoResponse.ErrorCode, a PlaybackErrorCode):
        # clients show "no compatible stream" instead of trying a URL that cannot work
        out["ErrorCode"] = "NoCompatibleStream"
    return out


def _has(source: dict[str, Any], kind: str, index: int | None) -> int | None:
    """``index`` if ``source`` has a ``kind`` stream of that index (a remembered track
    of a file since probed again may be gone), else None."""
    streams = source.get("MediaStreams", [])
    return index if any(st["Type"] == kind and st["Index"] == index for st in streams) else None


@router.get("/items/{item_id}/playbackinfo")
def playback_info(item_id: str, request: Request, caller: CallerDep, core: CoreDep,
                  args: ArgsDep) -> dict[str, Any]:
    """Media sources to play (direct play: no DeviceProfile to judge by)."""
    return _playback_info(core, request, caller, item_id, args, None)


@router.post("/items/{item_id}/playbackinfo")
async def playback_info_post(item_id: str, request: Request, caller: CallerDep, core: CoreDep,
                             args: ArgsDep) -> dict[str, Any]:
    """Media sources judged against the body's DeviceProfile: direct play when it plays
    the container and codecs, else a ``TranscodingUrl`` to our HLS."""
    body = await read_json(request, "PlaybackInfoDto")
    return await run_in_threadpool(_playback_info, core, request, caller, item_id, args, body)


# -- direct ----------------------------------------------------------------------------------
@router.api_route("/videos/{item_id}/stream", methods=["GET", "HEAD"])
@router.api_route("/videos/{item_id}/stream.{ext}", methods=["GET", "HEAD"])
async def stream(item_id: str, request: Request, core: CoreDep) -> Response:
    """The file as it is, with HTTP Range (RFC 9110 §14): 206 + exact Content-Range,
    416 outside the file; or, for ``static=false`` asking for a container or codecs
    the file is not in, a transcode written as one stream (:mod:`.progressive`)."""
    caller = await authorize(request, core)
    q = request.query_params
    file_id = await run_in_threadpool(file_for, core, item_id, q.get("mediasourceid"))
    if caller is not None:
        await run_in_threadpool(check_visible, core, caller.user, file_id, item_id)
    args = Args(q.multi_items())
    ext = request.path_params.get("ext")
    user_id = caller.user.id if caller else None
    if not args.flag("static", False) and (ext or args.has("container")):
        def planned() -> progressive.Progressive | None:
            with core.sessions() as s:
                mf = s.scalar(select(MediaFile).where(MediaFile.id == file_id)
                              .options(selectinload(MediaFile.streams)))
                if mf is None:
                    raise NotFound(f"no media file {item_id}")
                return progressive.plan(mf, ext, args)
        what = await run_in_threadpool(planned)
        if what is not None:
            return await progressive.respond(core, request, file_id, user_id, what)
    return await range_response(core, request, file_id, user_id)


@router.api_route("/items/{item_id}/download", methods=["GET", "HEAD"])
async def download(item_id: str, request: Request, core: CoreDep) -> Response:
    """The item's file to keep (the apps' "Download"; items say ``CanDownload``): its
    bytes as ``Videos/{id}/stream`` sends them, Range included, with a
    Content-Disposition naming the file (RFC 6266, a UTF-8 ``filename*``)."""
    caller = await authorize(request, core)
    assert caller is not None  # no playback token here: a user's token or a 401
    file_id = await run_in_threadpool(file_for, core, item_id, request.query_params.get("mediasourceid"))
    await run_in_threadpool(check_visible, core, caller.user, file_id, item_id)
    return await range_response(core, request, file_id, caller.user.id, download=True)


# -- HLS -------------------------------------------------------------------------------------
async def _hls_file(request: Request, core: Core, item_id: str) -> tuple[int, str]:
    """The file and a playback token for the URIs inside the playlists. The URIs of
    ``main.m3u8`` asked under a movie's or an episode's id resolve under that id with
    only the token (bound to a file): the item is mapped to its file first, and an
    unknown item with a token is 401, as a wrong token is (no hint of which ids exist)."""
    source_id = request.query_params.get("mediasourceid")
    hint = _file_hint(item_id)
    if hint is None and request.query_params.get("token"):
        try:
            hint = await run_in_threadpool(file_for, core, item_id, source_id)
        except NotFound as exc:
            raise AuthenticationFailed("the playback token is not for this item") from exc
    caller = await authorize(request, core, hint)
    file_id = hint if caller is None and hint is not None else \
        await run_in_threadpool(file_for, core, item_id, source_id)
    token = request.query_params.get("token")
    if caller is not None:
        await run_in_threadpool(check_visible, core, caller.user, file_id, item_id)
        token = core.playback.token_for(caller.user.id, file_id, caller.grant)
    if token is None:
        raise AuthenticationFailed("no access token")
    return file_id, token


def _file_hint(item_id: str) -> int | None:
    ref = ids.try_decode(item_id, "file")
    return ref.id if ref else None


@router.get("/videos/{item_id}/master.m3u8")
async def master(item_id: str, request: Request, core: CoreDep) -> Response:
    """reelhouse's master playlist: renditions, audio and subtitle groups; without the
    copied video with ``AllowVideoStreamCopy=false`` (PlaybackInfo's TranscodingUrl
    says so when the client's CodecProfiles refuse the file's video); only the
    renditions within ``MaxWidth``, ``MaxHeight``, ``MaxStreamingBitrate`` and
    ``VideoBitrate`` (the TranscodingUrl carries the DeviceProfile's), or the lowest;
    ``AudioStreamIndex`` (the track the user chose) is the DEFAULT audio track; a
    picture ``SubtitleStreamIndex`` with ``SubtitleMethod=Encode`` is burned into
    every rendition (no copy)."""
    args, limit, chosen, copy, file_id, token = await _master_ask(request, core, item_id)

    def build() -> str:
        audio = audio_position(core, file_id, chosen)
        return core.hls.master(file_id, token, _burn(core, file_id, args), copy, limit, audio)
    return playlist(await run_in_threadpool(build))


def _burn(core: Core, file_id: int, args: Args) -> str | None:
    """The picture subtitle track to burn in (``e<i>``) of a URL that asks for it."""
    if (args.text("subtitlemethod", 16) or "").lower() != "encode":
        return None
    return burn_key(core, file_id, subtitle_index_of(args, Args([])))


def _allow_copy(args: Args) -> bool:
    return args.flag("allowvideostreamcopy", True) is not False


class _MasterAsk(NamedTuple):
    """What ``master.m3u8`` and ``main.m3u8`` read from a request alike."""

    args: Args  # the query (its burn-in arguments: :func:`_burn`)
    limit: Limit  # MaxWidth, MaxHeight, MaxStreamingBitrate, VideoBitrate
    chosen: int | None  # AudioStreamIndex
    copy: bool  # AllowVideoStreamCopy
    file_id: int
    token: str  # the playback token of the playlists' URIs


async def _master_ask(request: Request, core: Core, item_id: str) -> _MasterAsk:
    """The query's arguments (InvalidInput for a malformed one, before any access
    check, as before), then the file and token (:func:`_hls_file`)."""
    args = Args(request.query_params.multi_items())
    limit, chosen, copy = limit_query(args), audio_index_of(args, Args([])), _allow_copy(args)
    file_id, token = await _hls_file(request, core, item_id)
    return _MasterAsk(args, limit, chosen, copy, file_id, token)


@router.get("/videos/{item_id}/main.m3u8")
async def main(item_id: str, request: Request, core: CoreDep) -> Response:
    """For clients that ask for main.m3u8: of a film with sound, the master playlist
    (as master.m3u8 answers it: reelhouse's renditions hold no audio, which is a track
    of its own, so one rendition's playlist played the film silent; HLS players tell a
    master playlist from a media playlist by its tags, RFC 8216 §4.1); of a film
    without sound, its best rendition's playlist within the URL's limits; of an
    audio-only file, its default audio track's (the ``AudioStreamIndex`` chosen, else
    the flagged or first one)."""
    args, limit, chosen, copy, file_id, token = await _master_ask(request, core, item_id)

    def build() -> str:
        streams = core.hls.streams(file_id)
        renditions = core.hls.renditions(streams)
        audio = audio_position(core, file_id, chosen)
        burn = _burn(core, file_id, args)
        if renditions and (streams.audio or burn):
            return core.hls.master(file_id, token, burn, copy, limit, audio)
        if not renditions:
            if not streams.audio:
                raise NotFound("the file has no video or audio stream to stream over HLS")
            entries = core.hls.audio_entries(streams, audio)
            return core.hls.media(file_id, next(a.track for a in entries if a.default), token)
        if not copy:
            renditions = [r for r in renditions if r.name != "copy"] or renditions
        renditions = capped(renditions, limit)
        best = renditions[-1].name  # lowest first: the copy, when there and allowed, is last
        return core.hls.media(file_id, best, token)  # its URIs resolve to videos/{id}/{best}/n.ts
    return playlist(await run_in_threadpool(build))


@router.get("/videos/{item_id}/{track}.m3u8")
async def media(item_id: str, track: Track, request: Request, core: CoreDep) -> Response:
    file_id, token = await _hls_file(request, core, item_id)
    return playlist(await run_in_threadpool(core.hls.media, file_id, track, token))


@router.get("/videos/{item_id}/{track}/{n}.ts")
async def segment(item_id: str, track: Track, n: Segment, request: Request, core: CoreDep) -> Response:
    file_id, _ = await _hls_file(request, core, item_id)
    path = await core.hls.asegment(file_id, track, n)  # HLS's own executor, not the shared pool
    return file_response(request, path, "video/mp2t", "private, max-age=3600")


@router.get("/videos/{item_id}/subs/{key}.m3u8")
async def subtitleplaylist(item_id: str, key: SubKey, request: Request, core: CoreDep) -> Response:
    file_id, token = await _hls_file(request, core, item_id)
    return playlist(await run_in_threadpool(core.hls.subtitle_playlist, file_id, key, token))


@router.get("/videos/{item_id}/subs/{key}.vtt")
async def subtitle_vtt(item_id: str, key: SubKey, request: Request, core: CoreDep) -> Response:
    file_id, token = await _hls_file(request, core, item_id)
    user = core.signer.check_playback(token, file_id).user_id
    path = await core.hls.asubtitle_vtt(file_id, key, user)  # threads of its own
    return file_response(request, path, "text/vtt; charset=utf-8", "private, max-age=3600")
