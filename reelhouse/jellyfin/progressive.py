"""``Videos/{id}/stream.{container}?static=false``: a stream made for the client.

Jellyfin (VideosController.GetVideoStream) answers ``static=false`` with ffmpeg's output
in the container the URL names (``stream.mp4``, ``Container=``), its video and audio in
the codecs the client lists (``VideoCodec``, ``AudioCodec``: copied when the file's
are among them, else H.264 and AAC), from ``StartTimeTicks``, with ``AudioStreamIndex``'s
track and at most ``MaxWidth`` x ``MaxHeight``. reelhouse does the same
(playback/hls: ``HlsService.progressive``; a video transcode counts against the HLS
encoder limits, the user's included: 503 past them). A request the file already meets
(its container and codecs, no seek, no smaller size) gets the file as it is, with
Range, as before; so does ``static=true``. The stream has no length and no Range
(``Accept-Ranges: none``): a seek is a new request with ``StartTimeTicks``. A client
that reads nothing for ``stream_send_timeout`` seconds (it stopped reading but keeps
the connection: a paused TV app, a hostile friend) is cut off as a direct stream is
(playback/direct.py), so its ffmpeg and encoder slot go back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import anyio
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Message, Send

from reelhouse.core import Core
from reelhouse.db.models import MediaFile, MediaStream
from reelhouse.errors import InvalidInput, TranscodeFailed
from reelhouse.jellyfin.media import container_of
from reelhouse.jellyfin.params import Args
from reelhouse.playback import ended

__all__ = ["Progressive", "plan", "respond"]

#: Container names → the family ffmpeg writes (``PROGRESSIVE_FORMATS``' keys).
_FAMILY = {"mp4": "mp4", "m4v": "mp4", "mov": "mp4", "mkv": "mkv", "matroska": "mkv", "ts": "ts",
           "mpegts": "ts", "m2ts": "ts", "mts": "ts"}
#: Codecs each family holds as they are (others are transcoded); None: any.
_VIDEO_IN = {"mp4": {"h264", "hevc", "av1", "mpeg4"}, "ts": {"h264", "hevc", "mpeg2video"}, "mkv": None}
_AUDIO_IN = {"mp4": {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"}, "ts": {"aac", "mp3", "ac3", "eac3"},
             "mkv": None}
_MEDIA_TYPES = {"mp4": "video/mp4", "mkv": "video/x-matroska", "ts": "video/mp2t"}
_CHUNK = 64 * 1024

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Progressive:
    """What to write: ``container`` (mp4 | mkv | ts), the streams (ffmpeg ``-map``
    specifiers), whether each is copied, from ``seek`` s, at most ``max_width`` x
    ``max_height``, ``video_kbit`` kbit/s."""

    container: str
    video_map: str
    audio_map: str | None
    copy_video: bool
    copy_audio: bool
    seek: float = 0.0
    max_width: int | None = None
    max_height: int | None = None
    video_kbit: int | None = None


def _codecs(args: Args, name: str) -> set[str]:
    return {c.strip().lower() for v in args.values(name, 20) for c in v.split(",") if c.strip()}


def plan(mf: MediaFile, ext: str | None, args: Args) -> Progressive | None:
    """The stream to make for a ``stream[.ext]`` request of ``mf``, or None to send the
    file as it is (``static=true``; no container asked for; or the file already is
    what was asked). Pure. Raises InvalidInput for a container reelhouse does not
    write (mp4, mkv and ts) or codec lists without H.264 / AAC when a transcode is
    needed."""
    if args.flag("static", False):
        return None
    asked = (args.text("container", 64) or ext or "").split(",")[0].strip().lower()
    if not asked:
        return None
    video = next((s for s in mf.streams if s.type == "video"), None)
    audios = [s for s in mf.streams if s.type == "audio"]
    index = args.number("audiostreamindex", None, -1, 9999)
    audio = next((s for s in audios if s.index == index), None) or \
        next((s for s in audios if s.is_default), audios[0] if audios else None)
    vcodecs, acodecs = _codecs(args, "videocodec"), _codecs(args, "audiocodec")
    seek = (args.number("starttimeticks", None, 0, 2**62) or 0) / 10_000_000
    max_w = _least(args.number("maxwidth", None, 1, 16384), args.number("width", None, 1, 16384))
    max_h = _least(args.number("maxheight", None, 1, 16384), args.number("height", None, 1, 16384))
    kbit = (args.number("videobitrate", None, 1, 10**10) or 0) // 1000 or None
    smaller = video is not None and ((max_w is not None and (video.width or 0) > max_w)
                                     or (max_h is not None and (video.height or 0) > max_h))
    video_ok = video is None or not vcodecs or (video.codec or "") in vcodecs
    audio_ok = audio is None or not acodecs or (audio.codec or "") in acodecs
    family = _FAMILY.get(asked, asked)
    default_audio = audio is None or audio is next((s for s in audios if s.is_default), audios[0])
    if family == _FAMILY.get(container_of(mf), "") and video_ok and audio_ok and not smaller \
            and not seek and default_audio:
        return None
    if family not in _MEDIA_TYPES:
        raise InvalidInput(f"reelhouse streams a transcode as mp4, mkv or ts, not {asked[:16]!r}")
    if video is None:
        raise InvalidInput("this file has no video to stream")
    copy_video = video_ok and not smaller and _holds(_VIDEO_IN[family], video)
    if not copy_video and vcodecs and "h264" not in vcodecs:
        raise InvalidInput("reelhouse transcodes video to H.264 only: VideoCodec must include h264")
    copy_audio = audio is not None and audio_ok and _holds(_AUDIO_IN[family], audio)
    if audio is not None and not copy_audio and acodecs and "aac" not in acodecs:
        raise InvalidInput("reelhouse transcodes audio to AAC only: AudioCodec must include aac")
    return Progressive(family, f"0:{video.index}", None if audio is None else f"0:{audio.index}",
                       copy_video, copy_audio, seek, max_w, max_h, None if copy_video else kbit)


def _least(*values: int | None) -> int | None:
    given = [v for v in values if v]
    return min(given) if given else None


def _holds(codecs: set[str] | None, stream: MediaStream) -> bool:
    return codecs is None or (stream.codec or "") in codecs


async def respond(core: Core, request: Request, file_id: int, user_id: int | None, what: Progressive) -> Response:
    """The stream ``what`` of the file as ffmpeg writes it (HEAD: its headers only).
    ffmpeg is killed and the encoder slot given back when the stream ends or the
    client leaves. Raises ServiceBusy (an encoder limit), TranscodeFailed (ffmpeg
    wrote nothing), NotFound."""
    headers = {"accept-ranges": "none", "cache-control": "no-store"}
    media_type = _MEDIA_TYPES[what.container]
    if request.method == "HEAD":
        return Response(media_type=media_type, headers=headers)
    argv, release = await run_in_threadpool(
        core.hls.progressive, file_id, user_id, what.container, video_map=what.video_map,
        audio_map=what.audio_map, copy_video=what.copy_video, copy_audio=what.copy_audio, seek=what.seek,
        max_width=what.max_width, max_height=what.max_height, video_kbit=what.video_kbit)
    try:
        proc = await asyncio.create_subprocess_exec(*argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                    stderr=subprocess.DEVNULL)
    except OSError as exc:
        release()
        raise TranscodeFailed(f"could not start ffmpeg: {exc}") from exc
    stop = _stopper(proc, release)
    assert proc.stdout is not None
    try:
        first = await proc.stdout.read(_CHUNK)
    except BaseException:
        stop()
        raise
    if not first:
        stop()
        raise TranscodeFailed("ffmpeg wrote nothing for this stream")
    return _TimedStream(_body(proc.stdout, first, stop), media_type=media_type, headers=headers,
                        background=BackgroundTask(stop), send_timeout=core.settings.stream_send_timeout,
                        file_id=file_id)


class _Stalled(Exception):
    """The client took no data for the send timeout."""


class _TimedStream(StreamingResponse):
    """A :class:`StreamingResponse` whose every send must complete within
    ``send_timeout`` seconds; past it the response ends short (logged once at INFO,
    :mod:`reelhouse.playback.ended`) and its background task (killing ffmpeg, giving the
    slot back) runs."""

    def __init__(self, *args: object, send_timeout: float, file_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.send_timeout = send_timeout
        self.file_id = file_id

    async def stream_response(self, send: Send) -> None:
        async def timed(message: Message) -> None:
            with anyio.move_on_after(self.send_timeout) as scope:
                await send(message)
            if scope.cancelled_caught:
                raise _Stalled

        try:
            await super().stream_response(timed)
        except _Stalled:
            ended.mark()  # its line below, not uvicorn's "without completing response" ERROR
            log.info("transcoded stream of media file %d ended: the client read nothing for %s s",
                     self.file_id, self.send_timeout)


def _stopper(proc: asyncio.subprocess.Process, release: Callable[[], None]) -> Callable[[], None]:
    """Kill ``proc`` (if still running) and give its slot back; safe to call twice."""
    def stop() -> None:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        release()
    return stop


async def _body(out: asyncio.StreamReader, first: bytes, stop: Callable[[], None]) -> AsyncIterator[bytes]:
    try:
        yield first
        while chunk := await out.read(_CHUNK):
            yield chunk
    finally:
        stop()
