"""Media files as Jellyfin ``MediaSourceInfo`` with ``MediaStreams`` (pure mapping).

Ticks are Jellyfin's time unit: 100 ns, so seconds × 10^7 as an integer. Codec names
are FFmpeg's, lowercase, as Jellyfin reports them. Every non-nullable field is written
(``IsTextSubtitleStream`` on a video stream too): the server always writes them, and
the Kotlin SDK of the Android apps fails on an answer without one. A subtitle stream's ``Index`` is
the stream's index in the file; sidecar subtitle files follow the last embedded stream.
"""

from __future__ import annotations

import math
import posixpath
from typing import Any

from reelhouse.db.models import MediaFile, MediaStream
from reelhouse.jellyfin import ids
from reelhouse.playback.hls.subtitles import SubtitleInfo

__all__ = ["PICTURE_SUBTITLES", "anamorphic", "aspect_ratio", "choose_streams", "container_of", "media_source",
           "media_streams",
           "offered", "readable", "sidecar_streams", "ticks"]

_TYPES = {"video": "Video", "audio": "Audio", "subtitle": "Subtitle"}  # MediaStreamType
_TEXT_SUBS = {"subrip", "srt", "ass", "ssa", "webvtt", "mov_text", "text"}


def ticks(seconds: float | None) -> int | None:
    """Seconds → Jellyfin ticks (100 ns units)."""
    return None if seconds is None else round(seconds * 10_000_000)


#: Jellyfin's named display aspect ratios: (ratio, tolerance, name), tried in this order
#: (MediaBrowser.MediaEncoding/Probing/ProbeResultNormalizer.cs, GetAspectRatio, IsClose).
_NAMED_RATIOS = ((16 / 9, 0.03, "16:9"), (4 / 3, 0.05, "4:3"), (1.41, 0.005, "1.41:1"),
                 (1.5, 0.005, "1.5:1"), (1.6, 0.005, "1.6:1"), (5 / 3, 0.005, "5:3"),
                 (1.85, 0.02, "1.85:1"), (2.35, 0.025, "2.35:1"), (2.4, 0.025, "2.40:1"))


def _sar(text: str | None) -> tuple[int, int] | None:
    num, _, den = (text or "").partition(":")
    if num.isdigit() and den.isdigit() and int(num) > 0 and int(den) > 0:
        return int(num), int(den)
    return None


def aspect_ratio(width: int | None, height: int | None, sar: str | None = None) -> str | None:
    """A video stream's ``AspectRatio`` as Jellyfin writes it, from its display aspect
    ratio: the pixel size scaled by the sample aspect ratio ``sar`` (``"64:45"``: a
    720x576 DVD shown 16:9; None: square pixels), as ffprobe's ``display_aspect_ratio``;
    the nearest of Jellyfin's named ratios (``16:9``, ``4:3``, ``2.40:1`` …), else that
    reduced fraction (``5:4`` for 720x576 with square pixels). None without a size
    (ProbeResultNormalizer.cs, GetAspectRatio)."""
    if not width or not height or width < 0 or height < 0:
        return None
    num, den = _sar(sar) or (1, 1)
    width, height = width * num, height * den
    ratio = width / height
    for target, tolerance, name in _NAMED_RATIOS:
        if abs(ratio - target) <= tolerance:
            return name
    common = math.gcd(width, height)
    return f"{width // common}:{height // common}"


def anamorphic(sar: str | None) -> bool | None:
    """Jellyfin's ``IsAnamorphic``: the pixels are not square (a sample aspect ratio
    more than 1 % from 1:1, its IsNearSquarePixelSar); None when the probe kept none."""
    ratio = _sar(sar)
    return None if ratio is None else abs(ratio[0] / ratio[1] - 1) > 0.01


#: The probe's containers (library/probe.py) → the extensions such a file may carry.
_EXTENSIONS = {
    "mp4": frozenset({"mp4", "m4v", "mov", "3gp", "3g2", "m4a"}),
    "mkv": frozenset({"mkv", "mk3d", "mka", "webm"}),
    "webm": frozenset({"webm", "mkv", "mka"}),
    "mpegts": frozenset({"ts", "m2ts", "mts", "m2t", "tp", "trp"}),
    "avi": frozenset({"avi", "divx"}),
}


def container_of(mf: MediaFile) -> str:
    """The container as Jellyfin names it: the file's extension (``mkv``, ``mp4``),
    unless its probe read another container (an MP4 named ``.mkv`` is ``mp4``: a
    client's DirectPlayProfile must match what the bytes are)."""
    ext = posixpath.splitext(mf.path)[1].lower().lstrip(".")
    probed = (mf.container or "").split(",")[0]
    if ext and ext not in _EXTENSIONS.get(probed, frozenset({ext})):
        return "ts" if probed == "mpegts" else probed
    return ext or probed


#: FFmpeg's picture subtitle codecs → Jellyfin's names (its ProbeResultNormalizer), which
#: the apps' SubtitleProfiles and players match.
PICTURE_SUBTITLES = {"dvd_subtitle": "dvdsub", "hdmv_pgs_subtitle": "pgssub", "dvb_subtitle": "dvbsub",
                     "xsub": "xsub"}


def _stream(st: MediaStream, default_audio: int | None) -> dict[str, Any]:
    kind = _TYPES.get(st.type, "Data")
    codec = (st.codec or "").lower()
    out: dict[str, Any] = {
        "Codec": (PICTURE_SUBTITLES.get(codec, codec) if kind == "Subtitle" else codec) or None,
        "Language": st.language,
        "Title": st.title,
        "Type": kind,
        "Index": st.index,
        "IsDefault": bool(st.is_default) or (kind == "Audio" and st.index == default_audio),
        "IsForced": bool(st.is_forced),
        "IsExternal": False,
        "IsInterlaced": False,
        "IsHearingImpaired": False,
        "IsTextSubtitleStream": False,
        "SupportsExternalStream": False,
        "Level": 0,
    }
    name = " ".join(x for x in ((st.language or "").upper(), (st.codec or "").upper()) if x)
    out["DisplayTitle"] = (f"{st.title} - {name}" if st.title else name) or kind
    if kind == "Video":
        out.update({"Level": st.level or 0, "Width": st.width, "Height": st.height, "Profile": st.profile,
                    "AverageFrameRate": st.fps, "RealFrameRate": st.fps,
                    "PixelFormat": st.pixel_format, "BitDepth": st.bit_depth,
                    "ColorTransfer": st.color_transfer, "ColorPrimaries": st.color_primaries,
                    "VideoRange": "HDR" if st.hdr else "SDR", "IsAVC": st.codec == "h264",
                    "AspectRatio": aspect_ratio(st.width, st.height, st.sample_aspect_ratio),
                    "IsAnamorphic": anamorphic(st.sample_aspect_ratio),
                    "Rotation": st.rotation})  # the display matrix's degrees (10.9+), absent: none
    elif kind == "Audio":
        out.update({"Channels": st.channels, "ChannelLayout": st.channel_layout,
                    "SampleRate": st.sample_rate, "Profile": st.profile})
    elif kind == "Subtitle":
        text = st.subtitle_format == "text" or (st.codec or "") in _TEXT_SUBS
        out.update({"IsTextSubtitleStream": text, "SupportsExternalStream": text})
    return {k: v for k, v in out.items() if v is not None}


def media_streams(mf: MediaFile, item_id: str, token: str | None) -> list[dict[str, Any]]:
    """The file's probed streams; text subtitles get an external ``DeliveryUrl``
    (WebVTT, with ``api_key`` so a player can fetch it without headers)."""
    audio = [s.index for s in mf.streams if s.type == "audio"]
    default_audio = next((s.index for s in mf.streams if s.type == "audio" and s.is_default),
                         audio[0] if audio else None)
    out = []
    for st in mf.streams:
        if st.type not in _TYPES:
            continue
        dto = _stream(st, default_audio)
        if dto["Type"] == "Subtitle" and dto.get("IsTextSubtitleStream"):
            dto.update({"DeliveryMethod": "External", "DeliveryUrl": _delivery_url(item_id, mf, st.index, token),
                        "IsExternalUrl": False})
        out.append(dto)
    return out


def _delivery_url(item_id: str, mf: MediaFile, index: int, token: str | None) -> str:
    url = f"/Videos/{item_id}/{ids.encode('file', mf.id)}/Subtitles/{index}/0/Stream.vtt"
    return f"{url}?api_key={token}" if token else url


def sidecar_streams(mf: MediaFile, tracks: list[SubtitleInfo], item_id: str,
                    token: str | None) -> list[dict[str, Any]]:
    """MediaStreams of the subtitle files beside ``mf`` (``tracks``: the HLS service's
    list, sidecars keyed ``x0``, ``x1`` …): external text tracks numbered after the
    file's last stream (sidecar ``xN`` is ``Index`` last + 1 + N, as the Subtitles
    route reads it back), delivered as WebVTT like the embedded ones."""
    last = max((st.index for st in mf.streams), default=-1)
    out = []
    for track in tracks:
        if not track.key.startswith("x") or not track.text:
            continue
        index = last + 1 + int(track.key[1:])
        codec = track.codec.lower()
        out.append({"Codec": codec, "Language": track.language, "Title": track.name,
                    "DisplayTitle": f"{track.name} - {codec.upper()} - External", "Type": "Subtitle",
                    "Index": index, "IsDefault": False, "IsForced": track.forced, "IsExternal": True,
                    "IsInterlaced": False, "IsHearingImpaired": False, "IsTextSubtitleStream": True,
                    "SupportsExternalStream": True, "Level": 0, "DeliveryMethod": "External",
                    "DeliveryUrl": _delivery_url(item_id, mf, index, token), "IsExternalUrl": False})
    return [{k: v for k, v in s.items() if v is not None} for s in out]


def readable(mf: MediaFile) -> bool:
    """Whether ``mf`` can be played at all: not empty, and its probe did not fail."""
    return bool(mf.size) and mf.probe_error is None


def offered(files: list[MediaFile]) -> list[MediaFile]:
    """The files an item offers as MediaSources: those that can be played
    (:func:`readable`); all of them when none can (PlaybackInfo then answers
    NoCompatibleStream for them, as Jellyfin does). Jellyfin lists the versions it can
    play; apps show MediaSources as a version picker and failed on a broken one."""
    good = [mf for mf in files if readable(mf)]
    return good or files


def media_source(mf: MediaFile, item_id: str, token: str | None, with_streams: bool = True) -> dict[str, Any]:
    """A ``MediaSourceInfo`` for direct play of ``mf`` (PlaybackInfo adds the decision);
    an empty file or one whose probe failed plays in no way (playback.apply_decision)."""
    playable = readable(mf)
    streams = media_streams(mf, item_id, token) if with_streams else []
    audio = [s["Index"] for s in streams if s["Type"] == "Audio"]
    default_audio = next((s["Index"] for s in streams if s["Type"] == "Audio" and s["IsDefault"]),
                         audio[0] if audio else None)
    out: dict[str, Any] = {
        "Protocol": "File",
        "Id": ids.encode("file", mf.id),
        "Path": posixpath.basename(mf.path),
        "Type": "Default",
        "Container": container_of(mf),
        "Size": mf.size,
        "Name": posixpath.splitext(posixpath.basename(mf.path))[0],
        "IsRemote": False,
        "ETag": f"{mf.size:x}{int(mf.mtime or 0):x}",
        "RunTimeTicks": ticks(mf.duration),
        "ReadAtNativeFramerate": False,
        "IgnoreDts": False,
        "IgnoreIndex": False,
        "GenPtsInput": False,
        "SupportsTranscoding": playable,
        "SupportsDirectStream": playable,
        "SupportsDirectPlay": playable,
        "IsInfiniteStream": False,
        "RequiresOpening": False,
        "RequiresClosing": False,
        "RequiresLooping": False,
        "SupportsProbing": True,
        "UseMostCompatibleTranscodingProfile": False,
        "HasSegments": False,
        "VideoType": "VideoFile",
        "MediaStreams": streams,
        "MediaAttachments": [],
        "Formats": [],
        "Bitrate": mf.bitrate,
        "RequiredHttpHeaders": {},
        "DefaultAudioStreamIndex": default_audio,
    }
    return {k: v for k, v in out.items() if v is not None}


def choose_streams(source: dict[str, Any], audio: int | None = None, subtitle: int | None = None) -> None:
    """Set a MediaSourceInfo's ``DefaultAudioStreamIndex`` and
    ``DefaultSubtitleStreamIndex`` (after its sidecar subtitles are added).

    ``audio``/``subtitle``: the indexes the client asked for (PlaybackInfo's
    ``AudioStreamIndex``/``SubtitleStreamIndex``; ``subtitle`` -1: none); a client's
    choice of a stream the source has is echoed, as Jellyfin's MediaInfoHelper does
    (apps start playback with the tracks these name). Otherwise the subtitle is
    Jellyfin's pick in its default mode (MediaStreamSelector.GetDefaultSubtitleStreamIndex,
    ``SubtitlePlaybackMode.Default``): an external, default or forced track, in that
    order of preference; none when there is no such track."""
    streams = source.get("MediaStreams", [])
    if audio is not None and any(st["Type"] == "Audio" and st["Index"] == audio for st in streams):
        source["DefaultAudioStreamIndex"] = audio
    if subtitle is not None and (subtitle == -1 or any(st["Type"] == "Subtitle" and st["Index"] == subtitle
                                                        for st in streams)):
        source["DefaultSubtitleStreamIndex"] = subtitle
        return
    subs = [st for st in streams if st["Type"] == "Subtitle"
            and (st["IsExternal"] or st["IsDefault"] or st["IsForced"])]
    subs.sort(key=lambda st: (not st["IsExternal"], not st["IsDefault"],
                              not (st["IsForced"] and st.get("Language") in (None, "und")), not st["IsForced"]))
    source.pop("DefaultSubtitleStreamIndex", None)
    if subs:
        source["DefaultSubtitleStreamIndex"] = subs[0]["Index"]
