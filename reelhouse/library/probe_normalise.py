"""Pure normaliser: raw stream facts from PyAV → the rows of ``media_streams``.

:mod:`reelhouse.library.probe` reads a container with PyAV and copies what each
stream says into a :class:`StreamFacts` (numbers and names as FFmpeg gives them);
:func:`normalise_streams` turns those into :class:`StreamInfo` with the names users and
players know. No I/O here, so the rules are tested with tables (tests/library/
test_probe_normalise.py).

Sources of the rules:

- colour names are FFmpeg's ``av_color_primaries_name`` / ``av_color_transfer_name``
  for the ISO/IEC 23091-2 (H.273) code points that ``AVCodecParameters`` carries;
- HDR kind: transfer ``smpte2084`` (PQ, SMPTE ST 2084) is HDR10, ``arib-std-b67``
  (ARIB STD-B67) is HLG; a Dolby Vision configuration record (the ``dvcC``/``dvvC``/
  ``dvwC`` box or Matroska block-addition mapping) or a ``dvh1``/``dvhe``/``dav1``/
  ``dva1``/``dvav`` sample entry makes it Dolby Vision (HDR10 or HLG base layers are
  still reported through ``color_transfer``);
- disposition flags are FFmpeg's ``AV_DISPOSITION_*`` (default 0x1, forced 0x40,
  attached_pic 0x400): an MP4 cover image is a "video" stream with attached_pic, so it
  becomes an ``attachment`` here and never the file's video stream;
- subtitle format: text (subrip, ass, mov_text, webvtt …) or image (hdmv_pgs_subtitle,
  dvd_subtitle, dvb_subtitle, xsub), from FFmpeg's codec properties when known, else
  from the table below.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

__all__ = [
    "DISPOSITION_ATTACHED_PIC",
    "DISPOSITION_DEFAULT",
    "DISPOSITION_FORCED",
    "STILL_IMAGE_CODECS",
    "StreamFacts",
    "StreamInfo",
    "dolby_vision_in",
    "hdr_kind",
    "normalise_stream",
    "normalise_streams",
    "still_covers",
]

DISPOSITION_DEFAULT = 0x0001
DISPOSITION_FORCED = 0x0040
DISPOSITION_ATTACHED_PIC = 0x0400
#: Codecs of still pictures (FFmpeg names). A video stream of one of them beside a
#: moving video is a cover even without the attached_pic flag: Matroska has no such
#: flag for tracks, so a cover kept as a track (a tagger's, a remux of an MP4's
#: ``covr``) is a one-frame PNG or JPEG video, and it may come first.
STILL_IMAGE_CODECS = frozenset({"png", "mjpeg", "bmp", "tiff", "webp", "gif", "jpeg2000", "jpegls", "qoi"})

# AVColorPrimaries → av_color_primaries_name (2 "unspecified" and reserved values → None)
_PRIMARIES = {
    1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film",
    9: "bt2020", 10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "ebu3213",
}
# AVColorTransferCharacteristic → av_color_transfer_name
_TRANSFERS = {
    1: "bt709", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear",
    9: "log100", 10: "log316", 11: "iec61966-2-4", 12: "bt1361e", 13: "iec61966-2-1",
    14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 17: "smpte428", 18: "arib-std-b67",
}
_HDR_TRANSFERS = {"smpte2084": "HDR10", "arib-std-b67": "HLG"}
_DOLBY_VISION_TAGS = {"dvh1", "dvhe", "dav1", "dva1", "dvav"}
_TEXT_SUBS = {"subrip", "ass", "ssa", "mov_text", "webvtt", "text", "microdvd", "subviewer",
              "subviewer1", "sami", "realtext", "jacosub", "mpl2", "pjs", "vplayer", "stl",
              "eia_608", "ttml", "arib_caption"}
_IMAGE_SUBS = {"hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle", "xsub",
               "dvb_teletext"}
_TYPES = {"video", "audio", "subtitle", "attachment", "data"}
# Matroska BlockAddIDType (ID 0x41E7, 4-byte uint) holding a DV fourcc, and the ISO BMFF
# box header of a DV configuration box (size 24 = 0x18 bytes). Patterns this long do not
# turn up by chance in a few MiB of compressed data.
_DV_MARKERS = re.compile(rb"\x41\xe7\x84dv[cvw]C|\x00\x00\x00\x18dv[cvw]C")


@dataclass(frozen=True, slots=True)
class StreamFacts:
    """One stream as the demuxer reports it (PyAV attribute in brackets).

    ``type`` is PyAV's stream type; ``codec`` FFmpeg's canonical codec name
    (``codec.canonical_name``: ``subrip``, not the decoder's ``srt``); ``fps`` the
    average frame rate (``average_rate``, frames/s), else ``guessed_rate``;
    ``bit_depth`` the bits of the first component of ``pix_fmt``; ``level`` the video
    codec's level (``codec_context.level``: H.264 4.1 is 41, FFmpeg's -99 is unknown);
    ``color_primaries`` and ``color_trc`` the H.273 code points; ``disposition`` the ``AV_DISPOSITION_*``
    bit set; ``text_sub``/``bitmap_sub`` the codec properties (None: unknown);
    ``dolby_vision`` whether a DV configuration was found for this stream; ``rotation``
    the degrees its display matrix turns the picture (``frame.rotation`` of the first
    decoded frame: what ffprobe's ``side_data_list`` says, -90 for a phone held upright;
    0 for none); ``sar`` the sample (pixel) aspect ratio as (num, den) (the stream's,
    else the codec's: what ffprobe's ``sample_aspect_ratio`` says; None: unknown).
    """

    index: int
    type: str
    codec: str | None = None
    profile: str | None = None
    level: int | None = None
    codec_tag: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    pix_fmt: str | None = None
    bit_depth: int | None = None
    color_primaries: int | None = None
    color_trc: int | None = None
    dolby_vision: bool = False
    channels: int | None = None
    channel_layout: str | None = None
    sample_rate: int | None = None
    language: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    disposition: int = 0
    text_sub: bool | None = None
    bitmap_sub: bool | None = None
    rotation: int = 0
    sar: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """One row of ``media_streams``: see :class:`reelhouse.db.models.MediaStream`.

    Units: ``width``/``height`` pixels, ``fps`` frames per second (3 decimals),
    ``bit_depth`` bits per sample, ``sample_rate`` Hz. Fields that do not apply to
    the stream's type are None.
    """

    index: int
    type: str
    codec: str | None = None
    profile: str | None = None
    level: int | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    pixel_format: str | None = None
    bit_depth: int | None = None
    color_transfer: str | None = None
    color_primaries: str | None = None
    hdr: str | None = None
    channels: int | None = None
    channel_layout: str | None = None
    sample_rate: int | None = None
    language: str | None = None
    title: str | None = None
    is_default: bool = False
    is_forced: bool = False
    subtitle_format: str | None = None
    rotation: int | None = None
    sample_aspect_ratio: str | None = None


def dolby_vision_in(header: bytes) -> bool:
    """True if ``header`` (container header bytes) holds a Dolby Vision configuration:
    an ISO BMFF ``dvcC``/``dvvC``/``dvwC`` box (Dolby's "Dolby Vision Streams Within
    the ISO Base Media File Format" §2.2) or a Matroska BlockAddIDType with that fourcc
    (Matroska spec, BlockAdditionMapping). FFmpeg keeps this in stream side data, which
    PyAV does not expose, so the probe looks at the bytes it read."""
    return _DV_MARKERS.search(header) is not None


def hdr_kind(transfer: str | None, dolby_vision: bool = False) -> str | None:
    """``"Dolby Vision"``, ``"HDR10"`` (PQ), ``"HLG"`` or None (SDR / unknown)."""
    if dolby_vision:
        return "Dolby Vision"
    return _HDR_TRANSFERS.get(transfer or "")


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _language(facts: StreamFacts) -> str | None:
    lang = _clean(facts.language or facts.metadata.get("language"))
    if lang is None or lang.lower() in ("und", "unk", "zxx", "mis"):
        return None
    return lang.lower()


def _tag(facts: StreamFacts, name: str) -> str | None:
    for key, value in facts.metadata.items():
        if key.lower() == name:
            return _clean(value)
    return None


def _title(facts: StreamFacts) -> str | None:
    title = _tag(facts, "title")
    if title is None and facts.type == "attachment":
        return _tag(facts, "filename")  # Matroska attachments: fonts, covers
    return title


def _subtitle_format(facts: StreamFacts) -> str | None:
    if facts.text_sub:
        return "text"
    if facts.bitmap_sub:
        return "image"
    if facts.codec in _TEXT_SUBS:
        return "text"
    if facts.codec in _IMAGE_SUBS:
        return "image"
    return None


def _rotation(degrees: int) -> int | None:
    """A display rotation as Jellyfin's ``Rotation`` (a multiple of 90 in -270…270, as
    ffprobe reports it: its ProbeResultNormalizer copies the side data's), None for
    none or an odd value."""
    turned = round(degrees / 90) * 90 if -360 < degrees < 360 else 0
    return turned or None


def _sar(ratio: tuple[int, int] | None) -> str | None:
    """A sample aspect ratio as ffprobe writes it (``"64:45"``, reduced), None for an
    unknown one (FFmpeg's ``0:1``) or one past 1000:1 either way (a broken header)."""
    if ratio is None:
        return None
    num, den = ratio
    if num <= 0 or den <= 0 or num > 1000 * den or den > 1000 * num:
        return None
    common = math.gcd(num, den)
    return f"{num // common}:{den // common}"


def _positive(value: int | None) -> int | None:
    return value if value is not None and value > 0 else None


def normalise_stream(facts: StreamFacts) -> StreamInfo:
    """One stream's facts → its row. Never raises on odd values: unknown or zero
    numbers become None, unknown types become ``data``."""
    kind = facts.type if facts.type in _TYPES else "data"
    if kind == "video" and facts.disposition & DISPOSITION_ATTACHED_PIC:
        kind = "attachment"  # cover art
    common = StreamInfo(
        index=facts.index,
        type=kind,
        codec=_clean(facts.codec),
        profile=_clean(facts.profile),
        language=_language(facts),
        title=_title(facts),
        is_default=bool(facts.disposition & DISPOSITION_DEFAULT),
        is_forced=bool(facts.disposition & DISPOSITION_FORCED),
    )
    if kind == "video":
        transfer = _TRANSFERS.get(facts.color_trc or 0)
        dolby = facts.dolby_vision or (facts.codec_tag or "").strip() in _DOLBY_VISION_TAGS
        fps = round(facts.fps, 3) if facts.fps and 0 < facts.fps < 1000 else None
        fps = fps or None  # a rate that rounds to 0 is unknown
        return replace(
            common,
            level=_positive(facts.level),
            width=_positive(facts.width),
            height=_positive(facts.height),
            fps=fps,
            pixel_format=_clean(facts.pix_fmt),
            bit_depth=_positive(facts.bit_depth),
            color_transfer=transfer,
            color_primaries=_PRIMARIES.get(facts.color_primaries or 0),
            hdr=hdr_kind(transfer, dolby),
            rotation=_rotation(facts.rotation),
            sample_aspect_ratio=_sar(facts.sar),
        )
    if kind == "audio":
        return replace(
            common,
            channels=_positive(facts.channels),
            channel_layout=_clean(facts.channel_layout),
            sample_rate=_positive(facts.sample_rate),
        )
    if kind == "subtitle":
        return replace(common, subtitle_format=_subtitle_format(facts))
    return common


def still_covers(codecs: list[tuple[int, str | None]]) -> set[int]:
    """The indexes of the cover pictures among a file's video streams ``codecs``
    ((index, FFmpeg codec name) of each video stream not flagged attached_pic): the
    still-image ones (:data:`STILL_IMAGE_CODECS`) when another is moving video; none
    when every one is a still (an MJPEG film is a film)."""
    stills = {i for i, codec in codecs if codec in STILL_IMAGE_CODECS}
    return stills if len(stills) < len(codecs) else set()


def normalise_streams(facts: list[StreamFacts]) -> list[StreamInfo]:
    """All streams of a file, in index order; a still picture beside a moving video
    (:func:`still_covers`) becomes an attachment, as a flagged cover."""
    covers = still_covers([(f.index, f.codec) for f in facts
                           if f.type == "video" and not f.disposition & DISPOSITION_ATTACHED_PIC])
    return [normalise_stream(replace(f, disposition=f.disposition | DISPOSITION_ATTACHED_PIC)
                             if f.index in covers else f) for f in sorted(facts, key=lambda f: f.index)]
