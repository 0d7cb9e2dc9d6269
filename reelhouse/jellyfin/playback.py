"""PlaybackInfo: which media source, and whether the client plays it as it is (direct
play over our Range path) or through our HLS (``TranscodingUrl``).

The client's ``DeviceProfile.DirectPlayProfiles`` (containers, video and audio codecs
per profile; an empty codec list means any) becomes reelhouse's ClientCaps and the
decision is reelhouse's own (playback/hls/decision.py), made from the library's
probed facts — no I/O on the source; its ``CodecProfiles`` and ``TranscodingProfiles``
are judged by :mod:`.conditions`.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

from reelhouse.db.models import MediaFile
from reelhouse.jellyfin import ids
from reelhouse.jellyfin.conditions import codec_refusals, has_codec_profiles, takes_hls, video_limits
from reelhouse.jellyfin.media import PICTURE_SUBTITLES, container_of
from reelhouse.jellyfin.params import Args, body_args
from reelhouse.library.streams import unprobed
from reelhouse.playback.hls.decision import ClientCaps, Decision, MediaFacts, decide
from reelhouse.playback.hls.ladder import Limit

__all__ = ["ANY_CONTAINER", "apply_decision", "audio_index_of", "burn_in", "caps_from_profile", "limit_of",
           "limit_query", "max_bitrate_of", "new_play_session", "subtitle_index_of", "unsegmentable"]

#: Codec names used when a profile accepts "any" codec in a container.
_ANY_VIDEO = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mpeg2video", "vc1", "msmpeg4v3"})
_ANY_AUDIO = frozenset({"aac", "mp3", "ac3", "eac3", "dts", "truehd", "flac", "opus", "vorbis",
                        "pcm_s16le", "pcm_s24le", "mp2", "alac"})
_CONTAINERS = {"m4v": "mp4", "mpegts": "ts", "matroska": "mkv"}
#: In ClientCaps.containers: a DirectPlayProfile without a Container, which matches
#: every container (Jellyfin's ContainerHelper: an empty list contains anything).
ANY_CONTAINER = "*"


def _split(value: Any) -> set[str]:
    if not isinstance(value, str):
        return set()
    return {v.strip().lower() for v in value.split(",") if v.strip()}


def caps_from_profile(profile: Any) -> ClientCaps | None:
    """ClientCaps from a DeviceProfile object, or None when there is none (then the
    client is trusted to play the file as it is, as Jellyfin does). A video profile
    without ``Container`` (Kodi's add-on, jellyfin-mpv-shim: ``{"Type": "Video"}``)
    plays every container: :data:`ANY_CONTAINER`."""
    if not isinstance(profile, dict):
        return None
    found = next((v for k, v in profile.items() if k.lower() == "directplayprofiles"), None)
    if not isinstance(found, list):
        return None
    containers: set[str] = set()
    video: set[str] = set()
    audio: set[str] = set()
    for entry in found[:100]:
        if not isinstance(entry, dict):
            continue
        low = {k.lower(): v for k, v in entry.items()}
        if str(low.get("type", "Video")).lower() != "video":
            continue
        containers |= {_CONTAINERS.get(c, c) for c in _split(low.get("container"))} or {ANY_CONTAINER}
        vc, ac = _split(low.get("videocodec")), _split(low.get("audiocodec"))
        video |= vc or set(_ANY_VIDEO)
        audio |= ac or set(_ANY_AUDIO)
    return ClientCaps(frozenset(containers), frozenset(video), frozenset(audio), True)


def _facts(mf: MediaFile, own_limits: bool = False) -> MediaFacts:
    """The decision's facts of ``mf``, with its video's pixel format (a browser decodes
    8-bit 4:2:0 only: H.264 4:4:4 or 10-bit goes to HLS, as the web player's plan) —
    unless the client states its own limits (``own_limits``: it sent CodecProfiles,
    judged by :mod:`.conditions`, as a TV with a 10-bit HEVC decoder does)."""
    container = _CONTAINERS.get(container_of(mf), container_of(mf))
    pix_fmt = None if own_limits else next((s.pixel_format for s in mf.streams if s.type == "video"), None)
    return MediaFacts(container, mf.video_codec, (mf.audio_codec,) if mf.audio_codec else (),
                      mf.width, mf.height, pix_fmt)


def max_bitrate_of(query: Args, body: Args, profile: Any) -> int | None:
    """The client's ``MaxStreamingBitrate`` (bits/s): the query's, else the body's, else
    the DeviceProfile's (Jellyfin's MediaInfoController reads them in that order);
    None when none is given. A value that is not a number from 1 to 2**53 - 1 is
    InvalidInput."""
    name = "MaxStreamingBitrate"
    args = query if query.has(name) else body
    if not args.has(name) and isinstance(profile, dict):
        found = next((v for k, v in profile.items() if k.lower() == name.lower()), None)
        args = body_args({name: found}) if isinstance(found, int | float) and not isinstance(found, bool) else args
    return args.number(name, None, 1, 2**53 - 1, decimal=True)


def _dimension(args: Args, *names: str) -> int | None:
    """The first of ``names`` given in ``args``, a number from 1 to 2**53 - 1 (pixels
    or bits/s; its integer part); InvalidInput for anything else."""
    for name in names:
        if args.has(name):
            return args.number(name, None, 1, 2**53 - 1, decimal=True)
    return None


def _least(*values: int | None) -> int | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def limit_of(query: Args, body: Args, profile: Any, max_bitrate: int | None) -> Limit:
    """What the client takes over HLS: ``MaxWidth``/``MaxHeight`` of the query (or the
    body), else the DeviceProfile's ``CodecProfiles`` bounds on H.264 width, height and
    bitrate (:func:`.conditions.video_limits`), and ``max_bitrate`` (MaxStreamingBitrate,
    bits/s). Raises InvalidInput for a bound that is not a positive number."""
    bounds = video_limits(profile)
    return Limit(_least(_dimension(query, "maxwidth") or _dimension(body, "maxwidth"), bounds.get("width")),
                 _least(_dimension(query, "maxheight") or _dimension(body, "maxheight"), bounds.get("height")),
                 max_bitrate, bounds.get("videobitrate"))


def limit_query(args: Args) -> Limit:
    """The Limit of an HLS URL's query: ``MaxWidth``/``Width``, ``MaxHeight``/``Height``,
    ``MaxStreamingBitrate``, ``VideoBitrate`` (Jellyfin's master.m3u8 arguments)."""
    return Limit(_least(_dimension(args, "maxwidth"), _dimension(args, "width")),
                 _least(_dimension(args, "maxheight"), _dimension(args, "height")),
                 _dimension(args, "maxstreamingbitrate"), _dimension(args, "videobitrate"))


def audio_index_of(query: Args, body: Args) -> int | None:
    """The client's ``AudioStreamIndex`` (a MediaStream ``Index``): the query's, else
    the body's (PlaybackInfoDto); None when neither says. InvalidInput when not an
    integer in -1..9999 (-1, as clients send for "none", is None)."""
    args = query if query.has("audiostreamindex") else body
    index = args.number("audiostreamindex", None, -1, 9999)
    return None if index is None or index < 0 else index


def subtitle_index_of(query: Args, body: Args) -> int | None:
    """The client's ``SubtitleStreamIndex`` (a MediaStream ``Index``), as
    :func:`audio_index_of` reads ``AudioStreamIndex`` (-1, "no subtitles", is None)."""
    args = query if query.has("subtitlestreamindex") else body
    index = args.number("subtitlestreamindex", None, -1, 9999)
    return None if index is None or index < 0 else index


#: FFmpeg's picture subtitle codecs → the names DeviceProfiles' SubtitleProfiles use
_PICTURE_SUBTITLES = PICTURE_SUBTITLES


def burn_in(profile: Any, mf: MediaFile, index: int | None) -> int | None:
    """``index`` (the client's SubtitleStreamIndex) when it names a picture subtitle
    stream of ``mf`` (VobSub, PGS, DVB) that the DeviceProfile's ``SubtitleProfiles``
    do not draw (no ``Method: Embed`` for its format): Jellyfin burns such a track into
    the picture (``SubtitleMethod=Encode``), which takes HLS. None otherwise, and
    without a DeviceProfile (a client that sends none plays the file as it is)."""
    if index is None or not isinstance(profile, dict):
        return None
    stream = next((s for s in mf.streams if s.type == "subtitle" and s.index == index), None)
    codec = ((stream.codec if stream is not None else None) or "").lower()
    if codec not in _PICTURE_SUBTITLES:
        return None
    found = next((v for k, v in profile.items() if k.lower() == "subtitleprofiles"), None)
    for entry in found[:100] if isinstance(found, list) else []:
        if not isinstance(entry, dict):
            continue
        low = {k.lower(): v for k, v in entry.items()}
        if str(low.get("method", "")).lower() == "embed" and \
                _split(low.get("format")) & {codec, _PICTURE_SUBTITLES[codec]}:
            return None
    return index


def _limit_params(limit: Limit | None) -> str:
    if limit is None:
        return ""
    pairs = (("MaxWidth", limit.max_width), ("MaxHeight", limit.max_height),
             ("MaxStreamingBitrate", limit.max_bitrate), ("VideoBitrate", limit.max_video_bitrate))
    return "".join(f"&{name}={value}" for name, value in pairs if value is not None)


def _for_file(caps: ClientCaps | None, container: str) -> ClientCaps | None:
    """``caps`` with :data:`ANY_CONTAINER` read as the file's ``container``."""
    if caps is None or ANY_CONTAINER not in caps.containers:
        return caps
    return dataclasses.replace(caps, containers=caps.containers | {container})


def new_play_session() -> str:
    return secrets.token_hex(16)


def unsegmentable(mf: MediaFile) -> str | None:
    """Why ``mf`` cannot play over HLS (segments are cut from a known duration:
    playback/hls/plans.py answers its playlists 422 otherwise), or None when it can: an
    empty file, a failed probe, or a probe that found no duration. A file not probed
    yet is probed when played, so it may."""
    if not mf.size:
        return "empty file (0 bytes)"
    if mf.probe_error is not None:
        return f"the file cannot be read as media: {mf.probe_error}"
    if not unprobed(mf) and not (mf.duration or 0) > 0:
        return "the file's duration is unknown; it cannot be segmented"
    return None


def apply_decision(source: dict[str, Any], mf: MediaFile, caps: ClientCaps | None, *,
                   allow_direct: bool, play_session: str, token: str,
                   max_bitrate: int | None = None, profile: Any = None,
                   limit: Limit | None = None, audio_index: int | None = None,
                   burn: int | None = None) -> Decision | None:
    """Set the SupportsDirect*/Transcoding* fields of a MediaSourceInfo for ``caps``.
    A file HLS cannot cut (:func:`unsegmentable`) gets no ``TranscodingUrl`` (it would
    only answer errors) and ``SupportsTranscoding`` false; nor direct play when it is
    empty or its probe failed: what FFmpeg cannot read (random bytes, an MP4 cut off
    before its ``moov`` index) no player reads either; one whose probe found no
    duration keeps direct play when the client plays its container. A file whose
    bitrate is over ``max_bitrate`` (bits/s) goes to HLS, whose ladder has lower
    renditions. The DeviceProfile's ``CodecProfiles`` (:mod:`.conditions`) refuse
    direct play too: the TranscodingUrl then names Jellyfin's ``TranscodeReasons``
    and, when the video itself is refused (or the client's HLS TranscodingProfile does
    not list its codec), ``AllowVideoStreamCopy=false``: transcoded renditions only.
    A client whose ``TranscodingProfiles`` have no video over HLS gets no
    TranscodingUrl. ``limit`` (:func:`limit_of`) goes into the TranscodingUrl: its
    master playlist offers only the renditions within it; so does ``audio_index``
    (the client's ``AudioStreamIndex``, the audio track the user chose): its master
    playlist marks that track DEFAULT; and ``burn`` (:func:`burn_in`), a picture
    subtitle stream to burn in: no direct play then, and the TranscodingUrl says
    ``SubtitleStreamIndex`` with ``SubtitleMethod=Encode``."""
    container = _CONTAINERS.get(container_of(mf), container_of(mf))
    caps = _for_file(caps, container)
    if unsegmentable(mf) is not None:
        readable = bool(mf.size) and mf.probe_error is None
        direct = (allow_direct and readable and (caps is None or container in caps.containers)
                  and not codec_refusals(profile, mf, container))
        source["SupportsDirectPlay"] = direct
        source["SupportsDirectStream"] = direct
        source["SupportsTranscoding"] = False
        return None
    decision = decide(_facts(mf, has_codec_profiles(profile)), caps) if caps is not None else None
    too_big = max_bitrate is not None and (mf.bitrate or 0) > max_bitrate
    refusals = codec_refusals(profile, mf, container)
    hls, copy_ok = takes_hls(profile, mf.video_codec)
    direct = (allow_direct and not too_big and not refusals and burn is None
              and (decision is None or decision.mode == "direct"))
    source["SupportsDirectPlay"] = direct
    source["SupportsDirectStream"] = direct
    source["SupportsTranscoding"] = hls
    if not direct and hls:
        file_id = ids.encode("file", mf.id)
        reasons = sorted({r.reason for r in refusals} | ({"ContainerBitrateExceedsLimit"} if too_big else set()))
        copy = copy_ok and not any(r.reason.startswith("Video") for r in refusals)
        source["TranscodingUrl"] = (f"/videos/{file_id}/master.m3u8?MediaSourceId={file_id}"
                                    f"&PlaySessionId={play_session}&api_key={token}"
                                    + ("" if copy else "&AllowVideoStreamCopy=false")
                                    + (f"&TranscodeReasons={','.join(reasons)}" if reasons else "")
                                    + _limit_params(limit)
                                    + ("" if audio_index is None else f"&AudioStreamIndex={audio_index}")
                                    + ("" if burn is None else f"&SubtitleStreamIndex={burn}&SubtitleMethod=Encode"))
        source["TranscodingSubProtocol"] = "hls"
        source["TranscodingContainer"] = "ts"
    return decision
