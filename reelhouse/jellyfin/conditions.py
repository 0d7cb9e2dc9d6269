"""A DeviceProfile's ``CodecProfiles`` and ``TranscodingProfiles``, judged against a
file's probed streams (pure: no I/O).

A ``CodecProfile`` (``Type`` Video or VideoAudio, ``Codec`` and ``Container`` lists,
empty meaning any) whose ``ApplyConditions`` all hold must have all its
``Conditions`` hold, or the file is not played directly. The rules are Jellyfin's
(MediaBrowser.Model/Dlna/ConditionProcessor.cs): ``Equals``, ``NotEquals``,
``LessThanEqual``, ``GreaterThanEqual``, ``EqualsAny`` (values split on ``|``); a value
the file does not tell passes unless the condition ``IsRequired``; a condition value
that is not a number where one is compared fails. Properties: Width, Height,
VideoBitDepth, VideoLevel (FFmpeg's scale: H.264 4.1 is 41), VideoProfile,
VideoFramerate, VideoBitrate (the file's overall bitrate: an upper bound),
VideoRangeType (SDR, HDR10, HLG, DOVI), IsAvc, NumVideoStreams, NumAudioStreams,
and for the VideoAudio type AudioChannels, AudioSampleRate, AudioProfile,
IsSecondaryAudio; the rest (RefFrames, IsAnamorphic, IsInterlaced, VideoCodecTag …)
are unknown here. Each refusal is named as Jellyfin's ``TranscodeReason``.

``TranscodingProfiles`` say what the client takes when it cannot play the file: a
list with no video profile over ``hls`` means reelhouse's HLS is no use to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reelhouse.db.models import MediaFile, MediaStream

__all__ = ["Refusal", "codec_refusals", "has_codec_profiles", "holds", "takes_hls", "video_limits"]

_MAX_PROFILES = 100
_MAX_CONDITIONS = 50
#: Property → the TranscodeReason Jellyfin gives when it fails.
_REASONS = {"width": "VideoResolutionNotSupported", "height": "VideoResolutionNotSupported",
            "videobitdepth": "VideoBitDepthNotSupported", "videolevel": "VideoLevelNotSupported",
            "videoprofile": "VideoProfileNotSupported", "videoframerate": "VideoFramerateNotSupported",
            "videobitrate": "VideoBitrateNotSupported", "videorangetype": "VideoRangeTypeNotSupported",
            "isavc": "VideoCodecNotSupported", "numvideostreams": "VideoCodecNotSupported",
            "numaudiostreams": "AudioCodecNotSupported", "audiochannels": "AudioChannelsNotSupported",
            "audiosamplerate": "AudioSampleRateNotSupported", "audioprofile": "AudioProfileNotSupported",
            "issecondaryaudio": "SecondaryAudioNotSupported"}
_RANGES = {None: "SDR", "HDR10": "HDR10", "HLG": "HLG", "Dolby Vision": "DOVI"}
_CONTAINERS = {"m4v": "mp4", "mpegts": "ts", "matroska": "mkv", "webm": "webm"}


@dataclass(frozen=True, slots=True)
class Refusal:
    """A condition the file fails: Jellyfin's ``TranscodeReason`` and a sentence."""

    reason: str
    detail: str


def _low(entry: dict[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in entry.items()}


def _split(value: Any) -> set[str]:
    if not isinstance(value, str):
        return set()
    return {_CONTAINERS.get(v, v) for v in (p.strip().lower() for p in value.split(",")) if v}


def _entries(profile: Any, name: str) -> Iterator[dict[str, Any]]:
    if not isinstance(profile, dict):
        return
    found = next((v for k, v in profile.items() if str(k).lower() == name), None)
    if isinstance(found, list):
        for entry in found[:_MAX_PROFILES]:
            if isinstance(entry, dict):
                yield _low(entry)


def _bit_depth(st: MediaStream) -> int | None:
    if st.bit_depth:
        return st.bit_depth
    fmt = st.pixel_format or ""
    if not fmt:
        return None
    return 12 if "12" in fmt else 10 if "10" in fmt else 8


def _video_values(mf: MediaFile, st: MediaStream) -> dict[str, Any]:
    return {"width": st.width, "height": st.height, "videobitdepth": _bit_depth(st),
            "videolevel": st.level, "videoprofile": st.profile, "videoframerate": st.fps,
            "videobitrate": mf.bitrate, "videorangetype": _RANGES.get(st.hdr, st.hdr),
            "isavc": st.codec == "h264",
            "numvideostreams": sum(1 for s in mf.streams if s.type == "video"),
            "numaudiostreams": sum(1 for s in mf.streams if s.type == "audio")}


def _audio_values(st: MediaStream, first_audio: int | None) -> dict[str, Any]:
    return {"audiochannels": st.channels, "audiosamplerate": st.sample_rate,
            "audioprofile": st.profile, "issecondaryaudio": st.index != first_audio}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def holds(condition: dict[str, Any], values: dict[str, Any]) -> bool:
    """One ``ProfileCondition`` (lowercase keys) against the file's ``values``."""
    prop = str(condition.get("property", "")).lower()
    if prop not in values:
        return True  # a property reelhouse does not know: Jellyfin's default for video
    current = values[prop]
    if current is None or current == "":
        return not bool(condition.get("isrequired", False))
    kind = str(condition.get("condition", "")).lower()
    expected = str(condition.get("value") if condition.get("value") is not None else "")
    if isinstance(current, bool):
        want = expected.strip().lower()
        if want not in ("true", "false"):
            return False
        same = current == (want == "true")
        return same if kind in ("equals", "equalsany") else not same if kind == "notequals" else False
    if isinstance(current, str):
        options = [v.strip().lower() for v in expected.split("|")] if kind == "equalsany" else [expected.lower()]
        if kind in ("equals", "equalsany"):
            return current.lower() in options
        return current.lower() != expected.lower() if kind == "notequals" else False
    if kind == "equalsany":
        return any(_number(v) == current for v in expected.split("|"))
    number = _number(expected)
    if number is None:
        return False
    value = float(current)
    return {"equals": value == number, "notequals": value != number,
            "lessthanequal": value <= number, "greaterthanequal": value >= number}.get(kind, False)


def _applies(entry: dict[str, Any], codec: str | None, container: str) -> bool:
    codecs = _split(entry.get("codec"))
    containers = _split(entry.get("container"))
    return (not codecs or (codec or "") in codecs) and (not containers or container in containers)


def _conditions(entry: dict[str, Any], name: str) -> list[dict[str, Any]]:
    found = entry.get(name)
    return [_low(c) for c in found[:_MAX_CONDITIONS] if isinstance(c, dict)] if isinstance(found, list) else []


def has_codec_profiles(profile: Any) -> bool:
    """Whether the DeviceProfile states video limits (a ``CodecProfiles`` entry of type
    Video): then they, not a browser's, decide which videos it decodes."""
    return any(str(e.get("type", "")).lower() == "video" for e in _entries(profile, "codecprofiles"))


def codec_refusals(profile: Any, mf: MediaFile, container: str) -> list[Refusal]:
    """The ``CodecProfiles`` conditions ``mf`` fails (its first video stream; its
    default audio stream for ``VideoAudio``), in the profile's order; empty when it may
    play directly. ``container`` as reelhouse names it (``mp4``, ``mkv``)."""
    video = next((s for s in mf.streams if s.type == "video"), None)
    audios = [s for s in mf.streams if s.type == "audio"]
    audio = next((s for s in audios if s.is_default), audios[0] if audios else None)
    out: list[Refusal] = []
    for entry in _entries(profile, "codecprofiles"):
        kind = str(entry.get("type", "")).lower()
        if kind == "video" and video is not None:
            stream, values = video, _video_values(mf, video)
        elif kind == "videoaudio" and audio is not None:
            stream, values = audio, _audio_values(audio, audios[0].index)
        else:
            continue
        if not _applies(entry, stream.codec, container):
            continue
        if not all(holds(c, values) for c in _conditions(entry, "applyconditions")):
            continue
        for c in _conditions(entry, "conditions"):
            if not holds(c, values):
                prop = str(c.get("property", ""))
                out.append(Refusal(_REASONS.get(prop.lower(), "DirectPlayError"),
                                   f"{stream.codec} {prop} {values.get(prop.lower())} fails "
                                   f"{c.get('condition')} {c.get('value')}"))
    return out


def takes_hls(profile: Any, video_codec: str | None) -> tuple[bool, bool]:
    """Whether the client takes reelhouse's HLS (a video ``TranscodingProfile`` over
    ``hls``, or no ``TranscodingProfiles`` list at all) and whether that HLS may carry
    ``video_codec`` copied (the profile's ``VideoCodec`` lists it, or lists nothing)."""
    if not isinstance(profile, dict) or not any(str(k).lower() == "transcodingprofiles" for k in profile):
        return True, True
    for entry in _entries(profile, "transcodingprofiles"):
        if str(entry.get("type", "Video")).lower() != "video":
            continue
        if str(entry.get("protocol", "")).lower() != "hls":
            continue
        if str(entry.get("context", "Streaming")).lower() != "streaming":
            continue
        codecs = _split(entry.get("videocodec"))
        return True, not codecs or (video_codec or "") in codecs
    return False, False


def video_limits(profile: Any, codec: str = "h264") -> dict[str, int]:
    """The upper bounds the ``CodecProfiles`` put on a ``codec`` video the client would
    be sent (reelhouse's renditions are H.264): ``{"width", "height", "videobitrate"}``
    from ``LessThanEqual`` conditions of Video profiles for that codec (any container),
    the lowest of each; a bound that is not a positive number is left out."""
    out: dict[str, int] = {}
    for entry in _entries(profile, "codecprofiles"):
        if str(entry.get("type", "")).lower() != "video":
            continue
        codecs = _split(entry.get("codec"))
        if codecs and codec not in codecs:
            continue
        for c in _conditions(entry, "conditions"):
            prop = str(c.get("property", "")).lower()
            kind = str(c.get("condition", "")).lower()
            if prop not in ("width", "height", "videobitrate") or kind != "lessthanequal":
                continue
            value = _number(str(c.get("value", "")))
            if value is not None and 0 < value < 2**53:
                out[prop] = min(out.get(prop, int(value)), int(value))
    return out
