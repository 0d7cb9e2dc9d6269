"""RFC 6381 codec strings (HLS ``CODECS``, ``MediaSource.isTypeSupported``) of a file's
own streams, from what the demuxer read: the decoder configuration record (``avcC``,
``hvcC``, an AAC AudioSpecificConfig) or, in MPEG-TS, the in-band parameter sets. Pure.

- H.264: ``avc1.PPCCLL`` — profile_idc, the constraint-flags byte and level_idc in hex
  (RFC 6381 §3.3, ISO/IEC 14496-15 §5.3.3.1: the three bytes after the avcC version,
  the same three as after an SPS's NAL header).
- HEVC: ``hvc1.[A-C]P.C.TL.B…`` (ISO/IEC 14496-15 Annex E.3; RFC 8216 §4.3.4.2 asks
  for the RFC 6381 form): profile space letter and general_profile_idc, the 32
  compatibility flags in reverse bit order in hex, tier ``L``/``H`` with
  general_level_idc, and the six constraint-indicator bytes in hex without the trailing
  zero bytes. From ``hvcC`` bytes 1–12 or the profile_tier_level of an in-band SPS.
- Audio: AAC ``mp4a.40.<object type>`` (RFC 6381 §3.3; the object type from the
  AudioSpecificConfig, ISO/IEC 14496-3 §1.6.2.1: 2 LC, 5 HE-AAC, 29 HE-AACv2), MP3
  ``mp4a.40.34``, AC-3 ``ac-3``, E-AC-3 ``ec-3`` (ETSI TS 102 366 Annex F), Opus
  ``opus``, FLAC ``fLaC``, DTS ``dtsc``, TrueHD ``mlpa``, ALAC ``alac``, Vorbis
  ``vorbis`` (the MP4 registration authority's sample-entry names).

Every function returns ``None`` when the stream says too little to name it honestly.
"""

from __future__ import annotations

__all__ = ["audio_codec_string", "avc_string", "hevc_string", "video_codec_string"]

#: H.264 profile names (FFmpeg's) → profile_idc (ITU-T H.264 Annex A.2), for a stream
#: whose parameter sets could not be read.
_AVC_PROFILES = {"Baseline": 66, "Constrained Baseline": 66, "Main": 77, "Extended": 88,
                 "High": 100, "High 10": 110, "High 4:2:2": 122, "High 4:4:4 Predictive": 244}
#: constraint_set1_flag for Constrained Baseline (ITU-T H.264 A.2.1.1).
_CONSTRAINED = 0x40


def _unescape(nal: bytes) -> bytes:
    """A NAL unit's payload without emulation-prevention bytes (``00 00 03`` → ``00 00``,
    ITU-T H.264 §7.4.1, H.265 §7.4.2)."""
    out = bytearray()
    zeros = 0
    for b in nal:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def _annexb_nals(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (start codes ``00 00 01``/``00 00 00 01``)."""
    starts = []
    i = data.find(b"\x00\x00\x01")
    while i != -1:
        starts.append(i + 3)
        i = data.find(b"\x00\x00\x01", i + 3)
    nals = []
    for k, s in enumerate(starts):
        end = starts[k + 1] - 3 if k + 1 < len(starts) else len(data)
        nals.append(data[s:end].rstrip(b"\x00"))
    return nals


def avc_string(extradata: bytes | None, profile: str | None = None,
               level: int | None = None) -> str | None:
    """``avc1.PPCCLL`` from an avcC record or an Annex B SPS in ``extradata``; else from
    FFmpeg's ``profile`` name and ``level`` (level_idc: 31 for 3.1), or None."""
    data = extradata or b""
    if len(data) >= 4 and data[0] == 1:  # AVCDecoderConfigurationRecord, version 1
        return f"avc1.{data[1]:02x}{data[2]:02x}{data[3]:02x}"
    for nal in _annexb_nals(data):
        if nal and nal[0] & 0x1F == 7 and len(nal) >= 4:  # sequence parameter set
            sps = _unescape(nal[1:4 + 4])
            return f"avc1.{sps[0]:02x}{sps[1]:02x}{sps[2]:02x}"
    idc = _AVC_PROFILES.get(profile or "")
    if idc is None or not level or level <= 0:
        return None
    flags = _CONSTRAINED if profile == "Constrained Baseline" else 0
    return f"avc1.{idc:02x}{flags:02x}{level:02x}"


def _hevc_from_ptl(ptl: bytes, entry: str) -> str:
    """The Annex E string from the 12 bytes general_profile_space … general_level_idc."""
    space, tier, idc = ptl[0] >> 6, (ptl[0] >> 5) & 1, ptl[0] & 0x1F
    compat = int.from_bytes(ptl[1:5], "big")
    reversed_compat = int(f"{compat:032b}"[::-1], 2)
    constraints = list(ptl[5:11])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    parts = [entry, f"{('', 'A', 'B', 'C')[space]}{idc}", f"{reversed_compat:X}",
             f"{'HL'[tier == 0]}{ptl[11]}", *(f"{b:X}" for b in constraints)]
    return ".".join(parts)


def hevc_string(extradata: bytes | None, entry: str = "hvc1") -> str | None:
    """``hvc1.…`` (or ``entry``: ``hev1``) from an hvcC record or the SPS of an Annex B
    ``extradata``; None when neither is there."""
    data = extradata or b""
    if len(data) >= 13 and data[0] == 1:  # HEVCDecoderConfigurationRecord, version 1
        return _hevc_from_ptl(data[1:13], entry)
    for nal in _annexb_nals(data):
        if len(nal) >= 3 and (nal[0] >> 1) & 0x3F == 33:  # SPS
            body = _unescape(nal[2:])  # after the two-byte NAL header
            if len(body) >= 13:  # vps id, max sub layers, nesting: one byte; then PTL
                return _hevc_from_ptl(body[1:13], entry)
    return None


def video_codec_string(codec: str | None, extradata: bytes | None, profile: str | None = None,
                       level: int | None = None, entry: str = "hvc1") -> str | None:
    """The RFC 6381 string of a video stream (``codec``: FFmpeg's name), or None."""
    if codec == "h264":
        return avc_string(extradata, profile, level)
    if codec == "hevc":
        return hevc_string(extradata, entry)
    return None


#: AAC profile names (FFmpeg's) → audio object type (ISO/IEC 14496-3 Table 1.1).
_AAC_TYPES = {"Main": 1, "LC": 2, "SSR": 3, "LTP": 4, "HE-AAC": 5, "HE-AACv2": 29}
_AUDIO = {"mp3": "mp4a.40.34", "ac3": "ac-3", "eac3": "ec-3", "opus": "opus", "flac": "fLaC",
          "dts": "dtsc", "truehd": "mlpa", "alac": "alac", "vorbis": "vorbis"}


def audio_codec_string(codec: str | None, extradata: bytes | None = None,
                       profile: str | None = None) -> str | None:
    """The RFC 6381 string of an audio stream (``codec``: FFmpeg's name; for AAC the
    object type from the AudioSpecificConfig in ``extradata``, else from ``profile``),
    or None."""
    if codec == "aac":
        data = extradata or b""
        if data:
            aot = data[0] >> 3
            if aot == 31 and len(data) >= 2:  # escape: 32 + the next six bits
                aot = 32 + (((data[0] & 7) << 3) | (data[1] >> 5))
            if aot:
                return f"mp4a.40.{aot}"
        named = _AAC_TYPES.get(profile or "")
        return f"mp4a.40.{named}" if named else None
    return _AUDIO.get(codec or "")
