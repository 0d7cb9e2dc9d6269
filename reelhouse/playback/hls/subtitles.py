"""Subtitles as WebVTT: sidecar files next to the media file and embedded text tracks.

Sidecars share the media file's name up to the extension, with optional tags between:
``Film.2010.srt``, ``Film.2010.en.srt``, ``Film.2010.fr.forced.ass`` (the convention of
Plex, Jellyfin and Kodi), in any encoding (:mod:`.charsets`). :func:`find_sidecars` is
pure; :func:`to_webvtt` runs ffmpeg;
:class:`Subtitles` lists a file's tracks and serves them (playlist and WebVTT file,
cached under ``<data_dir>/hls/cache/<file key>/subs/``).
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
import subprocess
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from reelhouse.errors import InvalidInput, NotFound, ProbeFailed, ReelhouseError, TranscodeFailed
from reelhouse.playback.hls import ffmpeg
from reelhouse.playback.hls.cache import SegmentCache
from reelhouse.playback.hls.charsets import decode_subtitle
from reelhouse.playback.hls.feed import SourceFeed
from reelhouse.playback.hls.plans import SUB_KEY, Plans, display_name
from reelhouse.playback.hls.playlists import SubtitleEntry, subtitle_playlist
from reelhouse.playback.targets import StreamTarget
from reelhouse.sources.base import Source, parent_of
from reelhouse.sources.ftp.pool import pool_user

__all__ = ["SIDECAR_EXTENSIONS", "Sidecar", "SubtitleInfo", "Subtitles", "find_sidecars", "to_webvtt"]

log = logging.getLogger(__name__)

SIDECAR_EXTENSIONS = (".srt", ".ass", ".ssa", ".vtt")

#: Common full language names in file names → ISO 639-1.
_NAMES = {"english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it",
          "dutch": "nl", "portuguese": "pt", "russian": "ru", "japanese": "ja",
          "chinese": "zh", "korean": "ko", "swedish": "sv", "polish": "pl"}
_FLAGS = {"forced", "sdh", "cc", "hi", "default", "full"}
#: A BCP 47 tag (RFC 5646 §2.1: language, then a script of four letters or a region of
#: two letters or three digits), lower case, "_" as some tools write it
_BCP47 = re.compile(r"([a-z]{2,3})[-_]([a-z]{4}|[a-z]{2}|[0-9]{3})")


@dataclass(frozen=True, slots=True)
class Sidecar:
    """A subtitle file: source-relative ``path``, ``language`` (as in the name, lower
    case: ``en``, ``eng``, ``pt-br``; or None), ``forced`` flag, ``format`` (``srt``, ``ass``…)."""

    path: str
    language: str | None
    forced: bool
    format: str


def find_sidecars(media_path: str, names: list[str]) -> list[Sidecar]:
    """The sidecars of ``media_path`` among the file ``names`` of its folder, sorted by
    name. Matching is on the stem, case-insensitive and in NFC (a Mac names a file in
    NFD, ``e`` + U+0301; a subtitle made elsewhere is NFC, ``é``)."""
    folder, base = posixpath.split(media_path)
    stem = unicodedata.normalize("NFC", posixpath.splitext(base)[0]).lower()
    out = []
    for name in sorted(names):
        root, ext = posixpath.splitext(name)
        if ext.lower() not in SIDECAR_EXTENSIONS:
            continue
        low = unicodedata.normalize("NFC", root).lower()
        if low != stem and not low.startswith(stem + "."):
            continue
        tags = [t for t in low[len(stem):].split(".") if t]
        language = None
        for tag in tags:
            if tag in _NAMES:
                language = _NAMES[tag]
                break
            if tag.isalpha() and len(tag) in (2, 3) and tag not in _FLAGS:
                language = tag
                break
            if m := _BCP47.fullmatch(tag):  # "pt-BR", "zh-Hans", "en_US", "es-419"
                language = f"{m.group(1)}-{m.group(2)}"
                break
        out.append(Sidecar(posixpath.join(folder, name) if folder else name, language,
                           "forced" in tags, ext.lower()[1:]))
    return out


T = TypeVar("T")

#: Most bytes of a sidecar read (a feature film's .srt is ~100 KB, an .ass with styling
#: a few MB).
_MAX_SIDECAR = 32 << 20


def to_webvtt(argv: list[str], timeout: float = 300.0, stdin: bytes | None = None) -> bytes:
    """Run an ffmpeg WebVTT command (:func:`..ffmpeg.webvtt_command`), with ``stdin``
    as its input when it reads ``pipe:0``, and return the document. Raises
    TranscodeFailed when ffmpeg fails or prints no WEBVTT header."""
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=timeout, input=stdin,
                              stdin=None if stdin is not None else subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TranscodeFailed(f"subtitle conversion failed: {exc}") from exc
    if proc.returncode != 0 or not proc.stdout.startswith(b"WEBVTT"):
        tail = proc.stderr.decode(errors="replace").strip()[-300:]
        raise TranscodeFailed(f"subtitle conversion failed: {tail or 'no output'}")
    return proc.stdout


def _run(argv: list[str], what: str, timeout: float = 300.0) -> bytes:
    """The stdout of ffmpeg command ``argv``; TranscodeFailed (naming ``what``) when it
    fails or prints nothing."""
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TranscodeFailed(f"{what} failed: {exc}") from exc
    if proc.returncode != 0 or not proc.stdout.strip():
        tail = proc.stderr.decode(errors="replace").strip()[-300:]
        raise TranscodeFailed(f"{what} failed: {tail or 'no output'}")
    return proc.stdout


#: Embedded text subtitle codecs (FFmpeg names) whose packets, copied as they are,
#: make a subtitle file of this format (:meth:`Subtitles._recoded`).
_COPY_FORMATS = {"subrip": "srt", "srt": "srt", "ass": "ass", "ssa": "ass"}


@dataclass(frozen=True, slots=True)
class SubtitleInfo:
    """A subtitle track as the API lists it: ``key`` (``e0`` embedded, ``x0`` sidecar),
    language, display name, codec/format, ``text`` (served as WebVTT) or a picture
    format (PGS, VobSub: listed, not convertible), forced flag, sidecar path if any."""

    key: str
    language: str | None
    name: str
    codec: str
    text: bool
    forced: bool
    path: str | None = None


class Subtitles:
    """A file's subtitle tracks: listed (embedded and sidecars), as a playlist, as
    WebVTT. Blocking (run it in a worker thread)."""

    def __init__(self, plans: Plans, cache: SegmentCache, feed: SourceFeed) -> None:
        self.plans = plans
        self.cache = cache
        self.feed = feed
        self._lock = threading.Lock()
        self._lists: dict[str, tuple[float, list[SubtitleInfo]]] = {}
        self._locks: dict[str, threading.Lock] = {}

    def tracks(self, file_id: int) -> list[SubtitleInfo]:
        """Embedded subtitle tracks (``e<i>``) and sidecar files (``x<i>``); a failing
        folder listing yields the embedded ones only. Cached for a minute (a sidecar
        added later shows up after that)."""
        target, source = self.plans.target(file_id)
        key = self.plans.file_key(target)
        with self._lock:
            hit = self._lists.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        streams = self.plans.probed(file_id)  # a live recording's tracks, though HLS cannot cut it
        out = [SubtitleInfo(f"e{s.index}", s.language,
                            display_name(s.language, s.title, f"Subtitles {s.index + 1}"),
                            s.codec, s.text, s.forced)
               for s in streams.subtitles]
        out += self._sidecars(target.path, source)
        with self._lock:
            self._lists[key] = (time.monotonic() + 60.0, out)
        return out

    def sidecars(self, file_id: int) -> list[SubtitleInfo]:
        """The sidecar files alone (``x<i>``, numbered as :meth:`tracks` numbers them):
        one folder listing, no probe of the file; none when the listing fails."""
        target, source = self.plans.target(file_id)
        return self._sidecars(target.path, source)

    @staticmethod
    def _sidecars(path: str, source: Source) -> list[SubtitleInfo]:
        """The sidecars of ``path`` a player can be given: an empty one (no cue) or one
        past :data:`_MAX_SIDECAR` bytes is left out, not offered and then refused (the
        web player listed a 44 MB .srt, and choosing it showed nothing: a 422)."""
        try:
            names = [e.name for e in source.list(parent_of(path))
                     if not e.is_dir and (e.size is None or 0 < e.size <= _MAX_SIDECAR)]
        except ReelhouseError as exc:
            log.warning("listing sidecars of %s failed: %s", path, exc)
            names = []
        return [SubtitleInfo(f"x{i}", side.language,
                             display_name(side.language, None, posixpath.basename(side.path)),
                             side.format, True, side.forced, side.path)
                for i, side in enumerate(find_sidecars(path, names))]

    def entries(self, file_id: int) -> list[SubtitleEntry]:
        """The text tracks as entries of the master playlist's SUBTITLES group."""
        return [SubtitleEntry(s.key, s.language, s.name, s.forced) for s in self.tracks(file_id) if s.text]

    def playlist(self, file_id: int, key: str, token: str) -> str:
        """The playlist of text track ``key``: one WebVTT segment, the whole track."""
        self._text_track(file_id, key)
        return subtitle_playlist(key, self.plans.streams(file_id).duration, token)

    def _text_track(self, file_id: int, key: str) -> SubtitleInfo:
        if not SUB_KEY.fullmatch(key):
            raise NotFound(f"no subtitle track {key!r}")
        for info in self.tracks(file_id):
            if info.key == key:
                if not info.text:
                    raise InvalidInput(f"subtitle track {key} is a picture format "
                                       f"({info.codec}); it cannot be served as WebVTT")
                return info
        raise NotFound(f"no subtitle track {key!r} in this file")

    @staticmethod
    def _sidecar_bytes(source: Source, path: str) -> bytes:
        """The whole sidecar file; ProbeFailed past :data:`_MAX_SIDECAR` bytes."""
        size = source.stat(path).size or 0
        if size > _MAX_SIDECAR:
            raise ProbeFailed(f"the subtitle file is {size} bytes, more than the "
                              f"{_MAX_SIDECAR} a subtitle file may have")
        return b"".join(source.read_range(path, 0, size)) if size else b""

    def vtt(self, file_id: int, key: str, user: int | None = None) -> Path:
        """The track as a WebVTT file (converted once, then cached), its source read in
        ``user``'s share of the FTP pool (None: the server's own). Cue times are in
        source time; the ``X-TIMESTAMP-MAP`` header ties them to the segments' MPEG-TS
        clock (RFC 8216 §3.5)."""
        who = None if user is None else f"user:{user}"
        token = pool_user.set(who)
        try:
            return self._vtt(file_id, key, who)
        finally:
            pool_user.reset(token)

    def _copied(self, url: str, index: int, fmt: str, language: str | None) -> str:
        """An embedded text track's own bytes (``fmt``: ``srt`` or ``ass``, ffmpeg's
        stream copy, no decoding), as text decoded as a sidecar's (:mod:`.charsets`).
        Raises TranscodeFailed."""
        argv = ffmpeg.subtitle_copy_command(self.plans.ffmpeg_path(), url, index, fmt)
        return decode_subtitle(_run(argv, "subtitle conversion"), language)

    def _recoded(self, url: str, index: int, fmt: str, language: str | None) -> bytes:
        """WebVTT of an embedded text track whose text is not UTF-8 (a latin-1 SRT
        muxed as it was): its bytes as they are stored, decoded as a sidecar's
        (:mod:`.charsets`), then converted. Raises TranscodeFailed."""
        text = self._copied(url, index, fmt, language)
        return to_webvtt(ffmpeg.webvtt_command(self.plans.ffmpeg_path(), "pipe:0", None),
                         stdin=text.encode("utf-8"))

    def ass(self, file_id: int, key: str, user: int | None = None) -> Path:
        """The track as an ASS (SubStation Alpha v4+) file, made once, then cached: an
        ASS/SSA track as it is, its styles kept (an embedded one's packets copied by
        ffmpeg, a sidecar's own text); any other text track converted from its WebVTT
        (:meth:`vtt`) by ffmpeg's ``ass`` encoder — what Jellyfin's SubtitleEncoder
        answers ``Stream.ass`` with. Raises NotFound, InvalidInput (a picture track),
        TranscodeFailed."""
        who = None if user is None else f"user:{user}"

        def make(info: SubtitleInfo, target: StreamTarget, source: Source) -> bytes:
            if _COPY_FORMATS.get(info.codec) != "ass":
                vtt = self.vtt(file_id, key, user)
                return _run(ffmpeg.ass_command(self.plans.ffmpeg_path(), str(vtt)), "subtitle conversion")
            if info.path is not None:
                return decode_subtitle(self._sidecar_bytes(source, info.path), info.language).encode("utf-8")
            token = pool_user.set(who)
            try:
                url = self.feed.url(source, target.path, target.size, who)
                return self._through(url, lambda: self._copied(url, int(key[1:]), "ass", info.language)
                                     ).encode("utf-8")
            finally:
                pool_user.reset(token)

        return self._made_once(file_id, key, ".ass", make)

    def _made_once(self, file_id: int, key: str, suffix: str,
                   make: Callable[[SubtitleInfo, StreamTarget, Source], bytes]) -> Path:
        """Track ``key``'s file ``<key><suffix>`` in the file's cache folder: made by
        ``make(track, target, source)`` once (one maker at a time per file and track),
        then served from the cache."""
        info = self._text_track(file_id, key)
        target, source = self.plans.target(file_id)
        fkey = self.plans.file_key(target)
        path = self.cache.file_dir(fkey) / "subs" / f"{key}{suffix}"
        with self._lock:
            lock = self._locks.setdefault(f"{fkey}/{key}{suffix}", threading.Lock())
        with lock:
            if self.cache.hit(path):
                return path
            data = make(info, target, source)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return path

    def _through(self, url: str, make: Callable[[], T]) -> T:
        """``make()``, an ffmpeg run reading the film at ``url``; when it fails because
        the source failed under it, that failure is the answer (SourceUnavailable …),
        not "conversion failed"."""
        try:
            return make()
        except TranscodeFailed as exc:
            failure = self.feed.failure(url)
            if failure is not None:
                raise failure from exc
            raise

    def _vtt(self, file_id: int, key: str, who: str | None) -> Path:
        def make(info: SubtitleInfo, target: StreamTarget, source: Source) -> bytes:
            if info.path is not None:
                text = decode_subtitle(self._sidecar_bytes(source, info.path), info.language)
                argv = ffmpeg.webvtt_command(self.plans.ffmpeg_path(), "pipe:0", None)
                vtt = to_webvtt(argv, stdin=text.encode("utf-8"))
            else:
                url = self.feed.url(source, target.path, target.size, who)
                argv = ffmpeg.webvtt_command(self.plans.ffmpeg_path(), url, int(key[1:]))

                def convert() -> bytes:
                    try:
                        return to_webvtt(argv)
                    except TranscodeFailed as exc:
                        fmt = _COPY_FORMATS.get(info.codec)
                        if fmt is None or "Invalid UTF-8" not in str(exc):
                            raise
                        return self._recoded(url, int(key[1:]), fmt, info.language)

                vtt = self._through(url, convert)
            offset = self.plans.streams(file_id).start_time if info.path is None else 0.0
            mpegts = round((offset + ffmpeg.TS_OFFSET) * 90_000)
            body = vtt.split(b"\n", 1)[1] if b"\n" in vtt else b"\n"
            header = f"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:00:00:00.000\n".encode()
            return header + body

        return self._made_once(file_id, key, ".vtt", make)
